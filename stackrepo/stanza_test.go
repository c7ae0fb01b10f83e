package stackrepo

import (
	"strings"
	"testing"
)

func TestStanzaRoundTrip(t *testing.T) {
	p := Package{Name: "dh-secret-sauce", Version: "1.4.0+3.g1a2b3c4", Architecture: "all", Filename: "dh-secret-sauce-1.4.0+3.g1a2b3c4-all.deb",
		SHA256: strings.Repeat("ab", 32), Size: 2368, Source: "git@github.com:ops-hero/secret_sauce.git",
		Commit: strings.Repeat("1a", 20), Ref: "origin/master", BuiltOn: "hero@192.168.1.5"}
	want := "Package: dh-secret-sauce\nVersion: 1.4.0+3.g1a2b3c4\nArchitecture: all\nFilename: dh-secret-sauce-1.4.0+3.g1a2b3c4-all.deb\n" +
		"SHA256: " + strings.Repeat("ab", 32) + "\nSize: 2368\nSource: git@github.com:ops-hero/secret_sauce.git\n" +
		"Commit: " + strings.Repeat("1a", 20) + "\nRef: origin/master\nBuilt-On: hero@192.168.1.5\n"
	if got := string(p.Stanza()); got != want {
		t.Fatalf("stanza:\n%s\nwant:\n%s", got, want)
	}
	back, err := ParseStanza(p.Stanza())
	if err != nil || back != p {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	min := Package{Name: "dh-a", Version: "1", Filename: "a.deb"}
	if got := string(min.Stanza()); got != "Package: dh-a\nVersion: 1\nFilename: a.deb\n" {
		t.Errorf("minimal stanza %q", got)
	}
}

func TestParseStanzaErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "stanza is empty"},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb", "does not end with a newline"},
		{"Package: dh-a\nVersion: 1\n", "no Filename field"},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nVersion: 2\n", "Version appears twice"},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\n continued\n", `is not "Field: value"`},
		{"Package: dh-a\nVersion: 1\n\nFilename: a.deb\n", `is not "Field: value"`},
		{"Package: DH\nVersion: 1\nFilename: a.deb\n", `package name "DH"`},
		{"Package: dh-a\nVersion: x\nFilename: a.deb\n", `version "x" is not a Debian version`},
		{"Package: dh-a\nVersion: 1\nFilename: ../a.deb\n", `must not contain ".."`},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nSize: -1\n", "Size \"-1\" is not a positive number"},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nSHA256: zz\n", "sha256"},
		// NUL bytes, which no argument can carry, can be in a stored stanza
		{"Package: dh-a\x00\nVersion: 1\nFilename: a.deb\n", `package name "dh-a\x00" has the character U+0000`},
		{"Package: dh-a\nVersion: 1\x00\nFilename: a.deb\n", `version "1\x00" has the control character U+0000`},
		{"Package: dh-a\nVersion: 1\nFilename: a\x00.deb\n", `file name "a\x00.deb" has the control character U+0000`},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nSource: x\x00y\n", `source "x\x00y" has the control character U+0000`},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nRef: \x00\n", `ref "\x00" has the control character U+0000`},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nArchitecture: all\x00\n", `architecture "all\x00"`},
		{"Package: dh-a\nVersion: 1\nFilename: a.deb\nSize: 1\x00\n", `Size "1\x00" is not a positive number`},
		{"Pack\x00age: dh-a\nVersion: 1\nFilename: a.deb\n", "no Package field"},
	} {
		if _, err := ParseStanza([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseStanza(%q) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
	// unknown fields are ignored (later minor additions still read)
	if p, err := ParseStanza([]byte("Package: dh-a\nVersion: 1\nFilename: a.deb\nX-Future: y\n")); err != nil || p.Name != "dh-a" {
		t.Errorf("unknown field: %+v, %v", p, err)
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"123", "1.4.0", "foobar1", "v1.0.0-rc.1", "a_b", "a+b", "A"} {
		if err := CheckName("stack", ok); err != nil {
			t.Errorf("CheckName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a..b", "x.lock", "a b", "a~1", "a^b", "a:b", "-x", ".x", "x.", "a/b", "@", "a@{1", "a\x00b", "a\nb", "café", "a*", "a?", "a[", `a\b`, strings.Repeat("x", 101)} {
		if err := CheckName("stack", bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}
