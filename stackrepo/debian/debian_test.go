package debian

import (
	"cmp"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestCheckPackageName(t *testing.T) {
	for _, ok := range []string{"dh-app", "libc6", "g++", "python3.11", "0ad"} {
		if err := CheckPackageName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "DH-App", "../x", "a;b", "-x", "+x", ".x", "a b", "a_b", "dh\x00", "dé"} {
		if err := CheckPackageName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, ok := range []string{"1", "1.0", "1:2.0-1", "1.0~rc1", "1.4.0+3.g1a2b3c4", "2.0-1ubuntu1", "0.0.1+12.gdeadbee"} {
		if _, err := ParseVersion(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "abc", "1.0 beta", " 1.0", "1.0-", "a:1", "1.0_1", "$(x)", "1.0\n", "1:", "-1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestCompareAgreesWithDpkg checks our ordering against dpkg itself.
func TestCompareAgreesWithDpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Fatal("dpkg is required for this test: apt-get install dpkg")
	}
	vs := []string{"1.0", "1.0~rc1", "1.0+1", "1.0-1", "1:0.9", "1.0.0", "1.00", "1.0a", "1.0~", "2.0", "0.0.1+3.g1a2b3c4", "0.0.1+12.g0000000", "1.4.0", "1.4.0+3.gabc"}
	for _, a := range vs {
		for _, b := range vs {
			c, err := Compare(a, b)
			if err != nil {
				t.Fatal(err)
			}
			op := map[bool]string{true: "lt", false: "ge"}[c < 0]
			if err := exec.Command(dpkg, "--compare-versions", a, op, b).Run(); err != nil {
				t.Errorf("we say %s %s %s (%d); dpkg disagrees", a, op, b, c)
			}
		}
	}
}

// FuzzCompareDebian checks our Debian version ordering against dpkg's own
// (dpkg --compare-versions) for every pair we accept, and that we refuse
// what dpkg refuses.
func FuzzCompare(f *testing.F) {
	for _, p := range [][2]string{{"1.0", "1.0~rc1"}, {"1:0.1", "2.0"}, {"1.0-1", "1.0-1ubuntu1"}, {"1.0+3.g1a2b3c4", "1.0+10.gabcdef0"}, {"0:1", "1"}, {"1.0a", "1.0+"}, {"1..0", "1.0."}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		c, err := Compare(a, b)
		if err != nil {
			return
		}
		if back, _ := Compare(b, a); cmp.Compare(back, 0) != -cmp.Compare(c, 0) {
			t.Fatalf("compare(%q, %q) = %d but compare(%q, %q) = %d", a, b, c, b, a, back)
		}
		for op, want := range map[string]bool{"lt": c < 0, "eq": c == 0, "gt": c > 0} {
			err := exec.Command("dpkg", "--compare-versions", a, op, b).Run()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatalf("dpkg: %v", err)
			}
			if (err == nil) != want {
				out, _ := exec.Command("dpkg", "--compare-versions", a, op, b).CombinedOutput()
				t.Fatalf("we say compare(%q, %q) = %d; dpkg says %s is %v %s", a, b, c, op, err == nil, out)
			}
		}
	})
}

// TestMessages: each rule refuses with one message, wherever the value
// comes from (a flag, a stanza, a builder's output).
func TestMessages(t *testing.T) {
	for _, c := range []struct {
		check func(string) error
		in    string
		want  string
	}{
		{CheckArch, "amd64", ""},
		{CheckArch, "all", ""},
		{CheckArch, "kfreebsd-amd64", ""},
		{CheckArch, "", "architecture is empty: give one (all, amd64, arm64, ...)"},
		{CheckArch, "AMD64", `architecture "AMD64" is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)`},
		{CheckArch, "all amd64", `architecture "all amd64" is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)`},
		{CheckArch, "all\nSize: 1", `architecture "all\nSize: 1" is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)`},
		{CheckArch, "-amd64", `architecture "-amd64" is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)`},
		{CheckArch, strings.Repeat("a", 65), `architecture "` + strings.Repeat("a", 40) + `…" is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)`},
		{CheckSHA256, strings.Repeat("ab", 32), ""},
		{CheckSHA256, strings.Repeat("AB", 32), `sha256 "` + strings.Repeat("AB", 32) + `" is not 64 lowercase hex digits`},
		{CheckSHA256, strings.Repeat("a", 63), `sha256 "` + strings.Repeat("a", 63) + `" is not 64 lowercase hex digits`},
		{CheckPackageName, "dh-app", ""},
		{CheckPackageName, "", "package name is empty"},
		{CheckPackageName, "DH-App", `package name "DH-App" has the character 'D': Debian package names use only a-z, 0-9, '+', '-' and '.' (perhaps "dh-app")`},
		{CheckPackageName, "Bad_Name", `package name "Bad_Name" has the character 'B': Debian package names use only a-z, 0-9, '+', '-' and '.' (perhaps "bad-name")`},
		{CheckPackageName, "_x", `package name "_x" has the character '_': Debian package names use only a-z, 0-9, '+', '-' and '.'`},
		{CheckPackageName, "a", `package name "a" is too short: Debian package names have at least two characters`},
		{CheckPackageName, "-x", `package name "-x" must start with a lowercase letter or digit`},
		{CheckVersion, "1:2.0-1", ""},
		{CheckVersion, "", "version is empty"},
		{CheckVersion, "1.0\nPackage: evil", `version "1.0\nPackage: evil" has the control character U+000A at position 4`},
		{CheckVersion, " 1.0", `version " 1.0" has surrounding whitespace`},
		{CheckVersion, "a:1", `version "a:1" is not a Debian version: the epoch before ':' must be a number`},
		{CheckVersion, "1.0-", `version "1.0-" is not a Debian version: revision number is empty`},
	} {
		got := ""
		if err := c.check(c.in); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}
