package debian

import (
	"errors"
	"strings"
	"testing"
)

func readAll(t *testing.T, text string) ([]*Paragraph, error) {
	t.Helper()
	var out []*Paragraph
	err := ReadParagraphs(strings.NewReader(text), func(p *Paragraph) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

func TestReadParagraphs(t *testing.T) {
	text := "\n" +
		"Package: dh-app\n" +
		"Version:1.0  \n" +
		"Description: one\n" +
		" two\n" +
		" .\n" +
		"\t three  \n" +
		"  \t\n" +
		"\n" +
		"package: dh-web\r\n" +
		"Filename: pool/main/d/dh-web/dh-web_2.0_all.deb\r\n" +
		"Empty:\n" +
		"Version: 2.0" // no final newline
	ps, err := readAll(t, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d paragraphs, want 2: %+v", len(ps), ps)
	}
	if ps[0].Line != 2 || ps[1].Line != 10 {
		t.Errorf("paragraphs start at lines %d and %d, want 2 and 10", ps[0].Line, ps[1].Line)
	}
	for _, c := range []struct {
		p           *Paragraph
		name, value string
		ok          bool
	}{
		{ps[0], "Package", "dh-app", true},
		{ps[0], "version", "1.0", true},
		{ps[0], "Description", "one\ntwo\n.\n three", true},
		{ps[0], "Filename", "", false},
		{ps[1], "Package", "dh-web", true},
		{ps[1], "Filename", "pool/main/d/dh-web/dh-web_2.0_all.deb", true},
		{ps[1], "Empty", "", true},
		{ps[1], "Version", "2.0", true},
	} {
		v, ok := c.p.Value(c.name)
		if v != c.value || ok != c.ok {
			t.Errorf("paragraph at line %d, %s: %q %v, want %q %v", c.p.Line, c.name, v, ok, c.value, c.ok)
		}
	}
	if f := ps[1].Fields[3]; f.Name != "Version" || f.Line != 13 {
		t.Errorf("last field %+v, want Version at line 13", f)
	}

	if ps, err := readAll(t, "\n \n"); err != nil || len(ps) != 0 {
		t.Errorf("blank input: %v %v", ps, err)
	}
}

func TestReadParagraphsRefuses(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"Package: a\nno colon here\n", `line 2: "no colon here" is not "Field: value"`},
		{" continued\n", "line 1: a continuation line"},
		{"Package: a\n\n continued\n", "line 3: a continuation line"},
		{"Package: a\nVersion: 1\npackage: b\n", "line 3: field package is given twice in one paragraph (first at line 1)"},
		{"# comment\nPackage: a\n", "line 1: a comment line"},
		{": value\n", "line 1: a field without a name"},
		{"Pack age: a\n", `line 1: field name "Pack age" has the character U+0020`},
		{"Pack\x01: a\n", "line 1: field name \"Pack\\x01\" has the character U+0001"},
		{"-Package: a\n", "line 1: field name \"-Package\" starts with '-'"},
		{"Package: a\nDescription: " + strings.Repeat("x", maxParagraphLine) + "\n", "line 2: longer than"},
	} {
		_, err := readAll(t, c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", shorten(c.text), err, c.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := ReadParagraphs(strings.NewReader("A: 1\n\nA: 2\n"), func(*Paragraph) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("fn's error: %v after %d calls, want it after 1", err, n)
	}
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

func TestFileNameArch(t *testing.T) {
	for _, c := range []struct {
		file, name, version, arch string
		ok                        bool
	}{
		{"dh-app_1.0_amd64.deb", "dh-app", "1.0", "amd64", true},
		{"dh-app_2.0-1_all.deb", "dh-app", "1:2.0-1", "all", true},
		{"dh-app_1.0_all.deb", "dh-app", "1.1", "", false},
		{"dh-app_1.0_all.deb", "dh-ap", "1.0", "", false},
		{"dh-app-1.0-all.deb", "dh-app", "1.0", "", false},
		{"dh-app_1.0_.deb", "dh-app", "1.0", "", false},
		{"dh-app_1.0_AMD64.deb", "dh-app", "1.0", "", false},
		{"dh-app_1.0_all.udeb", "dh-app", "1.0", "", false},
		{"dh-app_1.0_all_x.deb", "dh-app", "1.0", "", false},
	} {
		arch, ok := FileNameArch(c.file, c.name, c.version)
		if arch != c.arch || ok != c.ok {
			t.Errorf("FileNameArch(%q, %q, %q) = %q %v, want %q %v", c.file, c.name, c.version, arch, ok, c.arch, c.ok)
		}
	}
}
