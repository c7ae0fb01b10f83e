package semverx

import (
	"fmt"
	"strconv"
	"strings"
)

// DescribeMatch are the tag patterns (git describe --match) that name
// versions: v1.4.0 and 1.4.0.
var DescribeMatch = []string{"v[0-9]*", "[0-9]*"}

// CommitVersion is the package version of a build at commit (SPEC §8):
//
//   - exactly on tag v1.4.0 → 1.4.0
//   - 3 commits after it → 1.4.0+3.g1a2b3c4
//   - no version tag → base (gachette.baseVersion) with the commit count:
//     0.0.1+12.g1a2b3c4
//
// describe is the output of `git describe --tags --long --match …` ("" when
// no tag matches), count the number of commits reachable from commit.
// The results are Debian versions that sort, by dpkg's rules, in history
// order along a branch. A tag's "-" becomes "~" (v2.0.0-rc1 → 2.0.0~rc1),
// so that a pre-release sorts before its release.
func CommitVersion(describe string, count int, commit, base string) (string, error) {
	if len(commit) < 7 || !isHexString(commit) {
		return "", fmt.Errorf("commit %q is not a commit id", commit)
	}
	short := commit[:7]
	describe = strings.TrimSpace(describe)
	if describe == "" {
		if err := CheckDebianVersion(base); err != nil {
			return "", fmt.Errorf("base version (gachette.baseVersion): %w", err)
		}
		if strings.Contains(base, "-") || strings.Contains(base, ":") {
			return "", fmt.Errorf("base version %q must be a plain upstream version (no '-' or ':')", base)
		}
		return fmt.Sprintf("%s+%d.g%s", base, count, short), nil
	}
	g := strings.LastIndex(describe, "-g")
	if g < 0 {
		return "", fmt.Errorf("git describe said %q, not <tag>-<n>-g<hash>", describe)
	}
	rest := describe[:g]
	d := strings.LastIndex(rest, "-")
	if d < 0 {
		return "", fmt.Errorf("git describe said %q, not <tag>-<n>-g<hash>", describe)
	}
	n, err := strconv.Atoi(rest[d+1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("git describe said %q, not <tag>-<n>-g<hash>", describe)
	}
	tag := rest[:d]
	upstream := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(tag, "v"), "V"), "-", "~")
	if strings.Contains(upstream, ":") {
		return "", fmt.Errorf("tag %q cannot be a package version: it contains ':'", tag)
	}
	if err := CheckDebianVersion(upstream); err != nil {
		return "", fmt.Errorf("tag %q cannot be a package version: %w", tag, err)
	}
	if n == 0 {
		return upstream, nil
	}
	return fmt.Sprintf("%s+%d.g%s", upstream, n, short), nil
}

func isHexString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
