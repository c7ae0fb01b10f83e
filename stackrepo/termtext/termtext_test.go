package termtext

import (
	"strings"
	"testing"
)

func TestCheckLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://example.com/app.git", ""},
		{"a\tb", `ref "a\tb" has the control character U+0009 at position 2`},
		{"été", ""},
		{"", ""},
		{"a\nb", `ref "a\nb" has the control character U+000A at position 2`},
		{"\x00", `ref "\x00" has the control character U+0000 at position 1`},
		{"a\rb", `ref "a\rb" has the control character U+000D at position 2`},
		{"a\x7f", `ref "a\x7f" has the control character U+007F at position 2`},
		{"a\u0085", `ref "a\u0085" has the non-ASCII character '\u0085' (U+0085) at position 2`},
		{"https://x/\u202egpj.exe", `ref "https://x/\u202egpj.exe" has the non-ASCII character '\u202e' (U+202E) at position 11`},
		{"a\u2028b", `ref "a\u2028b" has the non-ASCII character '\u2028' (U+2028) at position 2`},
		{"a\xffb", `ref "a\xffb" is not valid UTF-8`},
		{strings.Repeat("a", 300) + "\n", `ref "` + strings.Repeat("a", 256) + `…" has the control character U+000A at position 301`},
	} {
		err := CheckLine("ref", c.in)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckLine(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"tab\tkept", "tab\tkept"},
		{"\x1b]0;title\x07", `\e]0;title\x07`},
		{"over\rwrite", `over\rwrite`},
		{"\u202eexe", `\u202eexe`},
		{"\xff", `\xff`},
		{"\u0085", `\u0085`},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got, want := EscapeLines("a\x1b\nb\rc\n"), "a\\e\nb\\rc\n"; got != want {
		t.Errorf("EscapeLines = %q, want %q", got, want)
	}
}

func TestShortenTo(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 40, "short"},
		{"abcdef", 3, "abc…"},
		{"aéb", 2, "a…"}, // never cuts a rune in two
		{strings.Repeat("x", 41), 40, strings.Repeat("x", 40) + "…"},
	} {
		if got := ShortenTo(c.in, c.n); got != c.want {
			t.Errorf("ShortenTo(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	if got := Shorten(strings.Repeat("y", 50)); got != strings.Repeat("y", 40)+"…" {
		t.Errorf("Shorten cuts at %d bytes", len(got))
	}
}
