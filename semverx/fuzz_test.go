package semverx

import (
	"cmp"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
)

// FuzzCommitVersion checks that every version computed from a commit is a
// valid Debian version, and that one more commit on the same tag (or on no
// tag) sorts after it.
func FuzzCommitVersion(f *testing.F) {
	f.Add("v1.4.0-3-g1a2b3c4", 3, "0.0.1")
	f.Add("", 12, "0.0.1")
	f.Add("v2.0.0-rc1-0-gabcdef0", 0, "0.0.1")
	f.Add("weird-tag-x-g", 1, "1:2")
	f.Fuzz(func(t *testing.T, describe string, count int, base string) {
		const commit = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"
		if count < 0 {
			count = -count
		}
		count %= 1 << 30
		v, err := CommitVersion(describe, count, commit, base)
		if err != nil {
			return
		}
		if err := debian.CheckVersion(v); err != nil {
			t.Fatalf("CommitVersion(%q, %d, %q) = %q, not a version: %v", describe, count, base, v, err)
		}
		next := describe
		if d := strings.TrimSpace(describe); d != "" {
			g := strings.LastIndex(d, "-g")
			rest := d[:g]
			i := strings.LastIndex(rest, "-")
			n := 0
			for _, c := range rest[i+1:] {
				n = n*10 + int(c-'0')
			}
			if n >= 1<<30 {
				return
			}
			next = rest[:i] + "-" + itoa(n+1) + d[g:]
		}
		w, err := CommitVersion(next, count+1, "ffffff0"+commit[7:], base)
		if err != nil {
			t.Fatalf("one more commit after %q (%q) fails: %v", describe, next, err)
		}
		if c, _ := debian.Compare(w, v); c <= 0 {
			t.Fatalf("one more commit does not sort after: %q then %q", v, w)
		}
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// FuzzBump checks that a bumped stack name is a version, sorts after the
// name it came from, and that CompareStackNames is antisymmetric.
func FuzzBump(f *testing.F) {
	for _, s := range []string{"124", "1.4", "v1.4.0", "1.0.0-rc1", "1.0.0+meta", "foobar1", "01", "18446744073709551615"} {
		f.Add(s, "patch", "123")
	}
	f.Fuzz(func(t *testing.T, name, part, other string) {
		if a, b := CompareStackNames(name, other), CompareStackNames(other, name); cmp.Compare(a, 0) != -cmp.Compare(b, 0) {
			t.Fatalf("CompareStackNames(%q, %q) = %d, reversed %d", name, other, a, b)
		}
		p, err := ParsePart(part)
		if err != nil {
			return
		}
		bumped, err := Bump(name, p)
		if err != nil {
			return
		}
		if _, ok := StackVersion(bumped); !ok {
			t.Fatalf("Bump(%q, %s) = %q is not a version", name, p, bumped)
		}
		if CompareStackNames(bumped, name) <= 0 {
			t.Fatalf("Bump(%q, %s) = %q does not sort after", name, p, bumped)
		}
	})
}
