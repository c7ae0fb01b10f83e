package semverx

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// DescribeMatch are the tag patterns (git describe --match) that name
// versions: v1.4.0 and 1.4.0.
var DescribeMatch = []string{"v[0-9]*", "[0-9]*"}

// CommitVersion is the package version of a build at commit:
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
	if len(commit) < 7 || !gitexec.IsHex(commit, -1) {
		return "", fmt.Errorf("commit %q is not a commit id", commit)
	}
	// checked whether or not this commit needs it (a tagged one does not)
	if err := CheckBaseVersion(base); err != nil {
		return "", err
	}
	short := commit[:7]
	describe = strings.TrimSpace(describe)
	if describe == "" {
		return checked(fmt.Sprintf("%s+%d.g%s", base, count, short))
	}
	notDescribe := fmt.Errorf("git describe said %q, not <tag>-<n>-g<hash>", describe)
	g := strings.LastIndex(describe, "-g")
	if g < 0 || len(describe) == g+2 || !gitexec.IsHex(describe[g+2:], -1) {
		return "", notDescribe
	}
	rest := describe[:g]
	d := strings.LastIndex(rest, "-")
	if d < 1 || !isDigits(rest[d+1:]) {
		return "", notDescribe
	}
	n, err := strconv.Atoi(rest[d+1:])
	if err != nil {
		return "", notDescribe
	}
	tag := rest[:d]
	upstream := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(tag, "v"), "V"), "-", "~")
	if strings.Contains(upstream, ":") {
		return "", fmt.Errorf("tag %q cannot be a package version: it contains ':'", tag)
	}
	if err := debian.CheckVersion(upstream); err != nil {
		return "", fmt.Errorf("tag %q cannot be a package version: %w", tag, err)
	}
	// Refused even exactly on the tag, so that a tag that versions one
	// build versions the next commits too.
	if len(upstream) > MaxUpstreamLen {
		return "", fmt.Errorf("tag %q is too long for a package version: a version tag may have at most %d bytes, so that builds after it can append +<count>.g<hash>; tag the commit with a shorter version", termtext.Shorten(tag), MaxUpstreamLen)
	}
	if n == 0 {
		return upstream, nil
	}
	return checked(fmt.Sprintf("%s+%d.g%s", upstream, n, short))
}

// MaxUpstreamLen bounds a base version or version tag, so that the suffix
// "+<count>.g<hash>" (at most 30 bytes) keeps the result within MaxVersionLen.
const MaxUpstreamLen = debian.MaxVersionLen - 32

// checked is the last guard on a computed version: what CommitVersion
// returns is always a valid Debian version.
func checked(v string) (string, error) {
	if err := debian.CheckVersion(v); err != nil {
		return "", fmt.Errorf("computed package version is invalid: %w", err)
	}
	return v, nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// CheckBaseVersion checks gachette.baseVersion: a Debian upstream version
// without epoch or revision, since the commit count is appended to it.
func CheckBaseVersion(base string) error {
	if err := debian.CheckVersion(base); err != nil {
		return fmt.Errorf("base version (gachette.baseVersion): %w", err)
	}
	if len(base) > MaxUpstreamLen {
		return fmt.Errorf("base version (gachette.baseVersion) %q is longer than %d bytes; the commit count and hash are appended to it", termtext.Shorten(base), MaxUpstreamLen)
	}
	if strings.Contains(base, "-") || strings.Contains(base, ":") {
		return fmt.Errorf("base version %q must be a plain upstream version (no '-' or ':')", base)
	}
	return nil
}
