package debian

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Field is one field of a paragraph: its name as written, its value
// (continuation lines joined with "\n") and the line it starts on.
type Field struct {
	Name  string
	Value string
	Line  int
}

// Paragraph is one stanza of a Debian control file (deb822(5)): a .deb's
// control file, or one package of a Packages index.
type Paragraph struct {
	// Line is the number of the paragraph's first line in its file.
	Line   int
	Fields []Field
}

// Value returns the value of the field name; field names are
// case-insensitive, as deb822(5) says.
func (p *Paragraph) Value(name string) (string, bool) {
	for _, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value, true
		}
	}
	return "", false
}

// maxParagraphLine bounds a line: a Packages or control file line longer
// than this is not one dpkg wrote.
const maxParagraphLine = 1 << 20

// ReadParagraphs reads r as deb822(5) paragraphs, calling fn for each in
// order. It refuses, naming the line, what dpkg refuses too: a field
// without a name or a colon, a continuation line before any field, a
// field given twice in a paragraph, a comment line. Paragraphs are
// separated by lines that are empty or hold only spaces and tabs; a
// trailing CR (a file edited on Windows) is dropped from each line.
func ReadParagraphs(r io.Reader, fn func(*Paragraph) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var cur *Paragraph
	flush := func() error {
		if cur == nil {
			return nil
		}
		p := cur
		cur = nil
		return fn(p)
	}
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == io.EOF {
			return flush()
		}
		if err != nil {
			if errors.Is(err, errLongLine) {
				return fmt.Errorf("line %d: %w", n, err)
			}
			return err
		}
		if strings.Trim(line, " \t") == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur == nil {
				return fmt.Errorf("line %d: a continuation line (starting with a space) with no field before it", n)
			}
			f := &cur.Fields[len(cur.Fields)-1]
			f.Value += "\n" + strings.TrimRight(line[1:], " \t")
			continue
		}
		if line[0] == '#' {
			return fmt.Errorf("line %d: a comment line ('#'), which neither a binary package's control file nor a Packages file has", n)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("line %d: %q is not \"Field: value\" (no ':')", n, termtext.ShortenTo(line, 60))
		}
		if err := checkFieldName(name); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if cur == nil {
			cur = &Paragraph{Line: n}
		}
		for _, f := range cur.Fields {
			if strings.EqualFold(f.Name, name) {
				return fmt.Errorf("line %d: field %s is given twice in one paragraph (first at line %d)", n, name, f.Line)
			}
		}
		cur.Fields = append(cur.Fields, Field{Name: name, Value: strings.Trim(value, " \t"), Line: n})
	}
}

var errLongLine = fmt.Errorf("longer than %d bytes", maxParagraphLine)

// readLine reads one line without its LF (and a CR before it), io.EOF
// after the last.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && buf != nil {
				break
			}
			return "", err
		}
		buf = append(buf, chunk...)
		if len(buf) > maxParagraphLine {
			return "", errLongLine
		}
		if !isPrefix {
			break
		}
	}
	return string(bytes.TrimSuffix(buf, []byte("\r"))), nil
}

// checkFieldName applies deb822(5): printable ASCII without space or
// colon, not starting with '#' or '-'.
func checkFieldName(name string) error {
	if name == "" {
		return errors.New("a field without a name (the line starts with ':')")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("field name %q has %s; field names are printable ASCII without spaces", termtext.ShortenTo(name, 60), describeByte(name, i))
		}
	}
	if name[0] == '-' {
		return fmt.Errorf("field name %q starts with '-'", termtext.ShortenTo(name, 60))
	}
	return nil
}
