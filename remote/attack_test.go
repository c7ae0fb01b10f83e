package remote

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// The findings of an outside attack on the build side (issue 11, second
// round), each a test on this machine and over a real sshd.

// Builder output reaches the terminal with its control characters shown,
// not obeyed: no title change, no erased prefix, no reordered text.
func TestBuilderOutputEscaped(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\ttabbed", "plain\ttabbed"},
		{"\x1b]0;PWNED\x07title", `\e]0;PWNED\x07title`},
		{"\x1b[2K\rgit-gachette: all good", `\e[2K\rgit-gachette: all good`},
		{"a\u202etxt.exe", `a\u202etxt.exe`},
		{"\u2066x\u2069 \u200f", `\u2066x\u2069 \u200f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"raw \x9b31m", `raw \x9b31m`},
		{"del\x7f nul\x00", `del\x7f nul\x00`},
		{"héllo wörld ✓", "héllo wörld ✓"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		showTo(&out)([]byte(c.in), 0)
		if got := strings.TrimSuffix(out.String(), "\n"); got != c.want {
			t.Errorf("%q shown as %q, want %q", c.in, got, c.want)
		}
	}
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, `printf '\033]0;PWNED\007\033[2K\rgit-gachette: all good\n\342\200\256txt.exe\n'`+"\n"+makeDeb)
		co := p.prepare("main")
		var log bytes.Buffer
		if _, err := p.build(context.Background(), p.request(co), &log); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(log.String(), "\x1b\r\x07\u202e") {
			t.Errorf("control characters reached the log: %q", log.String())
		}
		if !strings.Contains(log.String(), `\e]0;PWNED\x07\e[2K\rgit-gachette: all good`+"\n"+`\u202etxt.exe`+"\n") {
			t.Errorf("log: %q", log.String())
		}
	})
}

// A password in a URL is never shown: the user name stays.
func TestRedactPassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://deploy:s3cret@git.example.com/x.git":        "https://deploy@git.example.com/x.git",
		"https://deploy@git.example.com/x.git":               "https://deploy@git.example.com/x.git",
		"http://u:p@ss@host:8080/x":                          "http://u@host:8080/x",
		"git@github.com:a/b.git":                             "git@github.com:a/b.git",
		"/srv/git/a:b@c":                                     "/srv/git/a:b@c",
		"fatal: 'ssh://me:pw@h/r' and 'https://x:y@z/' both": "fatal: 'ssh://me@h/r' and 'https://x@z/' both",
		"ftp://host/p?x=a:b@c":                               "ftp://host/p?x=a:b@c",
	} {
		if got := RedactPassword(in); got != want {
			t.Errorf("RedactPassword(%q) = %q, want %q", in, got, want)
		}
	}
	var out bytes.Buffer
	w := redactTo(&out, "https://deploy:s3cret@h/x.git")
	io.WriteString(w, "fatal: unable to access 'https://deploy:s3cret@h/x.git/': no\n")
	io.WriteString(w, "remote: deploy:s3cret@h said no\n")
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("shown: %q", out.String())
	}
}

// Every value is checked at the edge, whether or not the builder uses it.
func TestBuildRequestValidatesEverything(t *testing.T) {
	ok := BuildRequest{Key: "app", Workdir: "/w", DebsPath: "/d", Builder: BuilderCommand, Command: "sh build.sh"}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(r *BuildRequest)
		want   string
	}{
		{func(r *BuildRequest) { r.Missile = "a\nb" }, `missile "a\nb" has the control character U+000A`},
		{func(r *BuildRequest) { r.ExtraDescription = "a\nb" }, `extra description "a\nb" has the control character U+000A`},
		{func(r *BuildRequest) { r.WebCallback = "ftp://x" }, `web callback "ftp://x" is not an http:// or https:// URL`},
		{func(r *BuildRequest) { r.Trebuchet = "-x" }, `trebuchet path "-x" starts with '-'`},
		{func(r *BuildRequest) { r.DebsPath = "/a/../b" }, `debs path "/a/../b" must not contain ".."`},
		{func(r *BuildRequest) { r.Builder = BuilderDpkg; r.Missile = "../x" }, `missile "../x" must stay inside the working copy`},
	} {
		r := ok
		c.change(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// A .deb named with a leading '-' or '.' is refused, saying so.
func TestBadDebNameRefused(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb+`mv "$GACHETTE_OUTPUT/dh-app_${GACHETTE_VERSION}_all.deb" "$GACHETTE_OUTPUT/-dh-app_${GACHETTE_VERSION}_all.deb"`+"\n")
		co := p.prepare("main")
		_, err := p.build(context.Background(), p.request(co), io.Discard)
		if err == nil || !strings.Contains(err.Error(), `the builder made a file named "-dh-app_`+co.Version+`_all.deb": a .deb file name must not start with '-' or '.', and holds only letters, digits and . _ + ~ -`) {
			t.Fatalf("got %v", err)
		}
	})
}
