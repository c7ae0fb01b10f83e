package semverx

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Part is the part of a stack version that a bump increments.
type Part string

// The parts of a version that --bump accepts.
const (
	Major Part = "major"
	Minor Part = "minor"
	Patch Part = "patch"
)

// ParsePart turns a --bump argument into a Part.
func ParsePart(s string) (Part, error) {
	switch p := Part(strings.ToLower(s)); p {
	case Major, Minor, Patch:
		return p, nil
	}
	return "", fmt.Errorf("bump %q is not one of major, minor, patch", s)
}

// StackVersion parses a stack name as a semantic version. Names such as
// "124", "1.4" and "v1.4.0" count (a missing minor or patch is zero); names
// such as "foobar1" do not.
func StackVersion(name string) (*semver.Version, bool) {
	if name == "" || !isDigitOrV(name[0]) {
		return nil, false
	}
	if v, ok := plainVersion(name); ok {
		return v, true
	}
	v, err := semver.NewVersion(name)
	if err != nil {
		return nil, false
	}
	return v, true
}

// plainVersion builds the version of names made only of up to three
// dot-separated decimal numbers ("124", "1.4.0", "v2.1"), without the
// library's regular expression: listing 10,000 stacks parses every name.
// Anything else (pre-releases, metadata, leading zeros) returns false and
// goes to semver.NewVersion.
func plainVersion(name string) (*semver.Version, bool) {
	nums, ok := plainNumbers(name)
	if !ok {
		return nil, false
	}
	return semver.New(nums[0], nums[1], nums[2], "", ""), true
}

// plainNumbers reads major, minor and patch of a plain version name.
func plainNumbers(name string) (nums [3]uint64, ok bool) {
	s := strings.TrimPrefix(name, "v")
	for i := 0; i < 3; i++ {
		p := s
		if j := strings.IndexByte(s, '.'); j >= 0 {
			p, s = s[:j], s[j+1:]
		} else {
			s = ""
		}
		if p == "" || len(p) > 18 || (len(p) > 1 && p[0] == '0') {
			return nums, false
		}
		for j := 0; j < len(p); j++ {
			if p[j] < '0' || p[j] > '9' {
				return nums, false
			}
			nums[i] = nums[i]*10 + uint64(p[j]-'0')
		}
		if s == "" {
			return nums, strings.Count(name, ".") == i
		}
	}
	return nums, false
}

func isDigitOrV(c byte) bool {
	return (c >= '0' && c <= '9') || c == 'v'
}

// CompareStackNames orders two stack names for listing, oldest first:
// semantic versions by precedence (ties by name), and a semver name before
// any other name. Names that are not versions compare equal here; callers
// order those by date.
func CompareStackNames(a, b string) int {
	va, aok := StackVersion(a)
	vb, bok := StackVersion(b)
	switch {
	case aok && bok:
		if c := va.Compare(vb); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case aok:
		return 1
	case bok:
		return -1
	}
	return 0
}

// Highest returns the name with the highest semver precedence among names,
// and false when none of them is a version.
func Highest(names []string) (string, bool) {
	var best string
	var bestV *semver.Version
	for _, n := range names {
		v, ok := StackVersion(n)
		if !ok {
			continue
		}
		if bestV == nil || v.GreaterThan(bestV) || (v.Equal(bestV) && n > best) {
			best, bestV = n, v
		}
	}
	return best, bestV != nil
}

// Bump returns the name that follows name when part is incremented. The new
// name keeps the shape of the old one: its "v" prefix and its number of
// components ("124" → "125" on a major bump), growing only when the bumped
// part is beyond them ("124" → "124.1" on a minor bump). Pre-release and
// build metadata are dropped.
func Bump(name string, part Part) (string, error) {
	v, ok := StackVersion(name)
	if !ok {
		return "", fmt.Errorf("stack %q is not a semantic version", name)
	}
	var next semver.Version
	switch part {
	case Major:
		next = v.IncMajor()
	case Minor:
		next = v.IncMinor()
	case Patch:
		next = v.IncPatch()
	default:
		return "", fmt.Errorf("bump %q is not one of major, minor, patch", part)
	}
	// IncPatch on a pre-release only drops the pre-release; a bump must move.
	if part == Patch && v.Prerelease() != "" {
		next = next.IncPatch()
	}
	core := strings.TrimPrefix(name, "v")
	if i := strings.IndexAny(core, "-+"); i >= 0 {
		core = core[:i]
	}
	width := strings.Count(core, ".") + 1
	switch part {
	case Minor:
		width = max(width, 2)
	case Patch:
		width = max(width, 3)
	}
	parts := []uint64{next.Major(), next.Minor(), next.Patch()}[:min(width, 3)]
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = strconv.FormatUint(p, 10)
	}
	prefix := ""
	if strings.HasPrefix(name, "v") {
		prefix = "v"
	}
	return prefix + strings.Join(s, "."), nil
}

// NewestFirst returns the indexes of names newest first: semver names by
// descending precedence (ties by name), then the others in the order that
// dateOf gives (newest first, ties by name). dateOf(i) is the date of
// names[i], asked only when it is not a version; each name is parsed once.
// Plain numeric names ("124", "1.4.0") compare as numbers, without
// building a semver.Version: listing 10,000 stacks sorts every name.
func NewestFirst(names []string, dateOf func(i int) int64) []int {
	const (
		plain = iota
		full
		other
	)
	// Keys are 16 bytes, hold no pointer, and the sort is not stable
	// (names break every tie, then the index): sorting 100,000 keys that
	// held a *semver.Version with SortStableFunc was half of stack list.
	// A plain name whose numbers each fit in 21 bits is ranked by one
	// number (its numbers side by side, inverted: newest first).
	type key struct {
		rank uint64
		i    int32
		kind int32
	}
	const bits = 21
	keys := make([]key, len(names))
	nums := make([][3]uint64, len(names))
	var (
		vs    []*semver.Version // full names', and plain ones' compared with a full one
		dates []int64           // other names'
	)
	ranked := true
	for i, n := range names {
		k := &keys[i]
		k.i = int32(i)
		switch ns, ok := plainNumbers(n); {
		case n != "" && isDigitOrV(n[0]) && ok:
			k.kind, nums[i] = plain, ns
			if ns[0]>>bits != 0 || ns[1]>>bits != 0 || ns[2]>>bits != 0 {
				ranked = false
			}
			k.rank = ^(ns[0]<<(2*bits) | ns[1]<<bits | ns[2])
		default:
			if v, ok := StackVersion(n); ok {
				if vs == nil {
					vs = make([]*semver.Version, len(names))
				}
				k.kind, vs[i] = full, v
			} else {
				if dates == nil {
					dates = make([]int64, len(names))
				}
				k.kind, dates[i] = other, dateOf(i)
			}
		}
	}
	version := func(k key) *semver.Version {
		if vs[k.i] == nil {
			n := nums[k.i]
			vs[k.i] = semver.New(n[0], n[1], n[2], "", "")
		}
		return vs[k.i]
	}
	slices.SortFunc(keys, func(a, b key) int {
		switch {
		case a.kind == plain && b.kind == plain:
			if ranked {
				if a.rank != b.rank {
					return cmp.Compare(a.rank, b.rank)
				}
				break
			}
			an, bn := nums[a.i], nums[b.i]
			for j := range an {
				if an[j] != bn[j] {
					return cmp.Compare(bn[j], an[j])
				}
			}
		case a.kind != other && b.kind != other:
			if c := version(a).Compare(version(b)); c != 0 {
				return -c
			}
		case a.kind != other:
			return -1
		case b.kind != other:
			return 1
		case dates[a.i] != dates[b.i]:
			return cmp.Compare(dates[b.i], dates[a.i])
		}
		if c := strings.Compare(names[b.i], names[a.i]); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	order := make([]int, len(keys))
	for k := range keys {
		order[k] = int(keys[k].i)
	}
	return order
}
