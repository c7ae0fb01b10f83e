package stackrepo

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// FuzzParseStanza checks that the stanza parser never panics, that what it
// accepts is valid and encodes back to a stanza that reads the same, and
// that no accepted value can smuggle a line into the encoding.
func FuzzParseStanza(f *testing.F) {
	f.Add([]byte("Package: dh-foo\nVersion: 1.0.0+3.g1a2b3c4\nArchitecture: all\nFilename: dh-foo_1.0.0+3.g1a2b3c4_all.deb\nSHA256: " + strings.Repeat("ab", 32) + "\nSize: 1234\nSource: git@example.com:foo.git\nCommit: " + strings.Repeat("1", 40) + "\nRef: main\nBuilt-On: build1\n"))
	f.Add([]byte("Package: a\nVersion: 1\nFilename: a_1_all.deb\n"))
	f.Add([]byte("Package: a\nVersion: 1\nFilename: a_1_all.deb\nX-Later: 2\n"))
	f.Add([]byte("Package: a\nPackage: b\n"))
	f.Add([]byte("Package: a\n Version: 1\n"))
	f.Add([]byte("Size: -1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseStanza(data)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted %q but Validate says %v", data, err)
		}
		enc := p.Stanza()
		if bytes.Count(enc, []byte("\n")) > len(stanzaFields) {
			t.Fatalf("encoding of %+v has more lines than fields:\n%s", p, enc)
		}
		p2, err := ParseStanza(enc)
		if err != nil {
			t.Fatalf("re-reading the encoding of %q: %v\n%s", data, err, enc)
		}
		if p2 != p {
			t.Fatalf("round trip changed %+v into %+v", p, p2)
		}
		if !bytes.Equal(p2.Stanza(), enc) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, p2.Stanza())
		}
	})
}

// FuzzParseStackID checks that every accepted stack id names refs that C
// git accepts, and that its string form reads back the same.
func FuzzParseStackID(f *testing.F) {
	for _, s := range []string{"124", "main/1.4.0", "a/b/c", "..", "x.lock", "@{1}", "-rf", "main/", "/x", "ａ", "1.0\n", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseStackID(s, "main")
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("empty error for %q", s)
			}
			return
		}
		again, err := ParseStackID(id.String(), "other")
		if err != nil || again != id {
			t.Fatalf("%q → %v, read back as %v, %v", s, id, again, err)
		}
		for _, ref := range []string{id.TagRef(), BranchRef(id.Domain), id.publishedRef()} {
			if out, err := exec.Command("git", "check-ref-format", ref).CombinedOutput(); err != nil {
				t.Fatalf("%q accepted, but git refuses %s: %v %s", s, ref, err, out)
			}
		}
	})
}
