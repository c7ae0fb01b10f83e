package remote

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// BuiltLine is one "Built: {...}" line of trebuchet build.
type BuiltLine struct {
	Name     string
	Version  string
	FileName string
}

// builtPrefix starts the line trebuchet build prints for each package.
const builtPrefix = "Built: "

// ParseBuilt reads a "Built: {...}" line: a Python 2 dict repr, keys in
// any order, with single- or double-quoted strings (u'…' or b'…' too),
// escapes allowed; a final "\r" is ignored. ok is false for any other
// line (build chatter). The version may be empty: trebuchet reports an
// empty string when the --*-version flag of the package's kind was not
// given.
func ParseBuilt(line string) (b BuiltLine, ok bool, err error) {
	rest, found := strings.CutPrefix(strings.TrimRight(line, "\r"), builtPrefix)
	if !found {
		return b, false, nil
	}
	d, err := parsePyDict(rest)
	if err != nil {
		return b, true, fmt.Errorf("trebuchet printed %q: %v", line, err)
	}
	b = BuiltLine{Name: d["name"], Version: d["version"], FileName: d["file_name"]}
	_, hasVersion := d["version"]
	if b.Name == "" || !hasVersion || b.FileName == "" {
		return b, true, fmt.Errorf("trebuchet printed %q: name, version or file_name is missing", line)
	}
	return b, true, nil
}

// ParseLint reads "Packages to be built: a,b,c" from trebuchet lint output.
func ParseLint(output string) ([]string, error) {
	for _, line := range strings.Split(output, "\n") {
		if names, ok := parseLintLine(line); ok {
			return names, nil
		}
	}
	return nil, fmt.Errorf("trebuchet lint printed no \"Packages to be built:\" line")
}

// parseLintLine reads one line of trebuchet lint's output.
func parseLintLine(line string) ([]string, bool) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r"), "Packages to be built:")
	if !ok {
		return nil, false
	}
	var names []string
	for _, n := range strings.Split(rest, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names, true
}

// parsePyDict parses a Python dict literal whose keys are strings and
// whose values are strings (other values are kept as their source text).
func parsePyDict(s string) (map[string]string, error) {
	p := &pyParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, p.errorf("expected '{'")
	}
	out := map[string]string{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.space()
		if !p.eat(':') {
			return nil, p.errorf("expected ':'")
		}
		p.space()
		var v string
		if p.peekQuote() {
			if v, err = p.str(); err != nil {
				return nil, err
			}
		} else {
			v = p.bare()
		}
		out[k] = v
		p.space()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return nil, p.errorf("expected ',' or '}'")
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected text after the dict")
	}
	return out, nil
}

type pyParser struct {
	s string
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) peekQuote() bool {
	j := p.i
	if j < len(p.s) && (p.s[j] == 'u' || p.s[j] == 'b') {
		j++
	}
	return j < len(p.s) && (p.s[j] == '\'' || p.s[j] == '"')
}

// bare reads an unquoted value (a number, None, True…) up to ',' or '}'.
func (p *pyParser) bare() string {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ',' && p.s[p.i] != '}' {
		p.i++
	}
	return strings.TrimSpace(p.s[start:p.i])
}

// str reads a Python string literal ('…' or "…", optionally u/b-prefixed)
// with its backslash escapes.
func (p *pyParser) str() (string, error) {
	if p.i < len(p.s) && (p.s[p.i] == 'u' || p.s[p.i] == 'b') {
		p.i++
	}
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.errorf("expected a quoted string")
	}
	q := p.s[p.i]
	p.i++
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.errorf("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", p.errorf("unterminated escape")
			}
			e := p.s[p.i+1]
			p.i += 2
			switch e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if p.i+n > len(p.s) {
					return "", p.errorf("short \\%c escape", e)
				}
				v, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
				if err != nil || !utf8.ValidRune(rune(v)) {
					return "", p.errorf("bad \\%c escape", e)
				}
				b.WriteRune(rune(v))
				p.i += n
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
}
