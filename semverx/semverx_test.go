package semverx

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

func TestBump(t *testing.T) {
	for _, tc := range []struct{ name, part, want string }{
		{"1.4.0", "patch", "1.4.1"},
		{"1.4.0", "minor", "1.5.0"},
		{"1.4.0", "major", "2.0.0"},
		{"124", "major", "125"},
		{"124", "minor", "124.1"},
		{"124", "patch", "124.0.1"},
		{"1.4", "patch", "1.4.1"},
		{"v1.2.3", "minor", "v1.3.0"},
		{"2.0.0-rc1", "patch", "2.0.1"},
		{"2.0.0-rc1", "major", "3.0.0"},
	} {
		got, err := Bump(tc.name, Part(tc.part))
		if err != nil || got != tc.want {
			t.Errorf("Bump(%s, %s) = %q, %v; want %q", tc.name, tc.part, got, err, tc.want)
		}
	}
	if _, err := Bump("foobar1", Patch); err == nil {
		t.Error("bumped a name that is not a version")
	}
	if _, err := ParsePart("huge"); err == nil {
		t.Error("accepted bump huge")
	}
}

func TestSortNewestFirst(t *testing.T) {
	names := []string{"1.9.0", "foo", "1.10.0", "bar", "2.0.0-rc1", "2.0.0", "124", "v3"}
	dates := map[string]int64{"foo": 1, "bar": 2}
	sortNewestFirst(names, func(n string) int64 { return dates[n] })
	if got := strings.Join(names, " "); got != "124 v3 2.0.0 2.0.0-rc1 1.10.0 1.9.0 bar foo" {
		t.Errorf("order %q", got)
	}
	if h, ok := Highest([]string{"foo", "1.9.0", "1.10.0"}); !ok || h != "1.10.0" {
		t.Errorf("Highest = %q, %v", h, ok)
	}
	if _, ok := Highest([]string{"foo"}); ok {
		t.Error("Highest found a version among none")
	}
}

// TestPlainVersionMatchesLibrary checks the fast path against the library.
func TestPlainVersionMatchesLibrary(t *testing.T) {
	for _, n := range []string{"1", "124", "1.4", "1.4.0", "v2", "v2.1.3", "0.0.0", "10.20.30"} {
		fast, ok := plainVersion(n)
		lib, err := semver.NewVersion(n)
		if !ok || err != nil || !fast.Equal(lib) {
			t.Errorf("%s: fast %v (%v), library %v (%v)", n, fast, ok, lib, err)
		}
	}
	for _, n := range []string{"01", "1.02", "1.2.3.4", "1.2.3-rc1", "1.2.3+b", "v", "1..2", ""} {
		if _, ok := plainVersion(n); ok {
			t.Errorf("%s took the fast path", n)
		}
	}
}

// TestNewestFirstMatchesLibrary checks the numeric fast path of the sort
// against the library's precedence on random mixes of names.
func TestNewestFirstMatchesLibrary(t *testing.T) {
	pool := []string{"1", "2", "10", "1.2", "1.10", "1.2.0", "v1.2.0", "1.2.3-rc1", "1.2.3", "1.2.3+b", "2.0.0-alpha", "v3",
		"foo", "bar", "01", "1.2.3.4", "124", "123", "0.0.1", "2097152", "2097151", "1.2097152.0", "4000000000"}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 500; round++ {
		names := make([]string, 1+rng.IntN(12))
		for i := range names {
			names[i] = pool[rng.IntN(len(pool))]
		}
		want := slices.Clone(names)
		sort.SliceStable(want, func(i, j int) bool {
			a, aok := StackVersion(want[i])
			b, bok := StackVersion(want[j])
			switch {
			case aok && bok:
				if c := a.Compare(b); c != 0 {
					return c > 0
				}
			case aok:
				return true
			case bok:
				return false
			}
			return want[i] > want[j]
		})
		got := slices.Clone(names)
		sortNewestFirst(got, func(string) int64 { return 0 })
		if !slices.Equal(got, want) {
			t.Fatalf("%q:\n got %q\nwant %q", names, got, want)
		}
	}
}

// sortNewestFirst sorts stack names newest first: semver names by descending
// precedence (ties by name), then the others in the order that dateOf gives
// (newest first, ties by name). Each name is parsed once, and dateOf is
// only called for names that are not versions.
func sortNewestFirst(names []string, dateOf func(string) int64) {
	order := NewestFirst(names, func(i int) int64 { return dateOf(names[i]) })
	sorted := make([]string, len(names))
	for k, i := range order {
		sorted[k] = names[i]
	}
	copy(names, sorted)
}
