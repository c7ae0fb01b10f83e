// Package termtext holds the rules for text that comes from elsewhere and
// goes to a terminal, a shell or a stanza: escaping what a terminal would
// obey, refusing it in one-line values, and shortening values quoted in
// messages.
package termtext

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// AppendEscaped appends line to out with what a terminal would obey
// written out instead: C0 and C1 control characters but tab (ESC as \e,
// CR as \r, the others as \xNN or \uNNNN), bidirectional controls (which
// reorder what is shown) and the Unicode line and paragraph separators as
// \uNNNN, and bytes that are not UTF-8 as \xNN. Data from elsewhere
// (builder output, a remote's names, messages and stanzas) then cannot set
// the terminal's title, erase or rewrite what was printed, or pass for
// git-gachette's own messages.
func AppendEscaped(out, line []byte) []byte {
	for len(line) > 0 {
		r, n := utf8.DecodeRune(line)
		switch {
		case r == utf8.RuneError && n == 1:
			out = fmt.Appendf(out, `\x%02x`, line[0])
		case r == '\t':
			out = append(out, '\t')
		case r == 0x1b:
			out = append(out, `\e`...)
		case r == '\r':
			out = append(out, `\r`...)
		case r < 0x20 || r == 0x7f:
			out = fmt.Appendf(out, `\x%02x`, r)
		case IsTerminalControl(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, line[:n]...)
		}
		line = line[n:]
	}
	return out
}

// IsTerminalControl reports whether r is a character above ASCII that a
// terminal obeys or that reorders what it shows: a C1 control, a
// bidirectional control, or the line or paragraph separator.
func IsTerminalControl(r rune) bool {
	return r >= 0x80 && r <= 0x9f || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

// Escape is AppendEscaped for a string: s unchanged when it has nothing
// to escape.
func Escape(s string) string {
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f || r == utf8.RuneError || r >= 0x80 && IsTerminalControl(r) {
			return string(AppendEscaped(nil, []byte(s)))
		}
	}
	return s
}

// EscapeLines is Escape for a message of several lines: each line is
// escaped, the line ends are kept.
func EscapeLines(s string) string {
	if Escape(s) == s {
		return s
	}
	out := make([]byte, 0, len(s)+16)
	for i := 0; ; {
		j := i
		for j < len(s) && s[j] != '\n' {
			j++
		}
		out = AppendEscaped(out, []byte(s[i:j]))
		if j == len(s) {
			return string(out)
		}
		out = append(out, '\n')
		i = j + 1
	}
}
