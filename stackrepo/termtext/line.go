package termtext

import (
	"fmt"
	"unicode/utf8"
)

// Shorten cuts a value to be quoted in a message to its first 40 bytes
// (on a rune boundary), marking the cut with "…".
func Shorten(s string) string { return ShortenTo(s, 40) }

// ShortenTo cuts s to its first n bytes (on a rune boundary), marking the
// cut with "…".
func ShortenTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// CheckLine refuses what has no place in a one-line value bound for a
// shell, a stanza or a message: bytes that are not UTF-8, C0 (tab too) and C1
// control characters (newline, NUL, ESC…) and DEL, bidirectional
// controls (which make a value read as another: https://x/\u202egpj.exe)
// and the line and paragraph separators. what names the value in the
// message. The value is quoted whole up to 256 bytes, so that the
// character refused is in the message.
func CheckLine(what, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s %q is not valid UTF-8", what, ShortenTo(s, 256))
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f || IsTerminalControl(r) {
			return fmt.Errorf("%s %q has %s at position %d", what, ShortenTo(s, 256), DescribeRune(r), i+1)
		}
	}
	return nil
}

// DescribeRune names a character for a message so that a control
// character, a space or a look-alike is visible.
func DescribeRune(r rune) string {
	switch {
	case r == utf8.RuneError:
		return "an invalid UTF-8 byte"
	case r < 0x20 || r == 0x7f:
		return fmt.Sprintf("the control character %U", r)
	case r == ' ':
		return "a space"
	case r > 0x7f:
		return fmt.Sprintf("the non-ASCII character %q (%U)", r, r)
	}
	return fmt.Sprintf("the character %q", r)
}
