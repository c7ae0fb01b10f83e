package semverx

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestCommitVersion(t *testing.T) {
	c := "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
	for _, tc := range []struct {
		describe string
		count    int
		want     string
	}{
		{"v1.4.0-0-g1a2b3c4", 10, "1.4.0"},
		{"v1.4.0-3-g1a2b3c4", 13, "1.4.0+3.g1a2b3c4"},
		{"1.4.0-12-g1a2b3c4d", 22, "1.4.0+12.g1a2b3c4"},
		{"v2.0.0-rc1-2-g1a2b3c4", 5, "2.0.0~rc1+2.g1a2b3c4"},
		{"", 12, "0.0.1+12.g1a2b3c4"},
	} {
		got, err := CommitVersion(tc.describe, tc.count, c, "0.0.1")
		if err != nil || got != tc.want {
			t.Errorf("CommitVersion(%q) = %q, %v; want %q", tc.describe, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ describe, commit, base string }{
		{"release-x-1-g1a2b3c4", c, "0.0.1"},
		{"v1:0-1-g1a2b3c4", c, "0.0.1"},
		{"garbage", c, "0.0.1"},
		{"", "xyz", "0.0.1"},
		{"", c, "abc"},
		{"", c, "1.0-1"},
		// a tagged commit does not need the base version: refused all the same
		{"v1.4.0-0-g1a2b3c4", c, "abc"},
		{"v1.4.0-3-g1a2b3c4", c, "$(touch CANARY)"},
	} {
		if v, err := CommitVersion(bad.describe, 1, bad.commit, bad.base); err == nil {
			t.Errorf("CommitVersion(%q, %q, %q) = %q, want an error", bad.describe, bad.commit, bad.base, v)
		}
	}
}

// TestCommitVersionsSortInHistoryOrder builds a real history (untagged
// commits, tags, a pre-release, commits after each) and checks with dpkg
// that every version is greater than the one before it.
func TestCommitVersionsSortInHistoryOrder(t *testing.T) {
	for _, tool := range []string{"git", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required for this test", tool)
		}
	}
	dir := t.TempDir()
	env := append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1")
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	tags := map[int]string{4: "v0.1.0", 9: "v1.0.0-rc1", 11: "v1.0.0", 15: "1.0.1", 16: "v1.1.0", 30: "v1.10.0"}
	var prev string
	for i := 1; i <= 40; i++ {
		git("commit", "-q", "--allow-empty", "-m", fmt.Sprint(i))
		if tag, ok := tags[i]; ok {
			git("tag", "--no-sign", tag)
		}
		args := []string{"describe", "--tags", "--long"}
		for _, m := range DescribeMatch {
			args = append(args, "--match", m)
		}
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = env
		out, _ := cmd.Output() // no tag yet: exit 128, empty output
		count, _ := strconv.Atoi(git("rev-list", "--count", "HEAD"))
		v, err := CommitVersion(string(out), count, git("rev-parse", "HEAD"), "0.0.1")
		if err != nil {
			t.Fatalf("commit %d: %v", i, err)
		}
		if prev != "" {
			if err := exec.Command("dpkg", "--compare-versions", prev, "lt", v).Run(); err != nil {
				t.Errorf("commit %d: dpkg says %s is not lower than %s", i, prev, v)
			}
		}
		prev = v
	}
	if !strings.HasPrefix(prev, "1.10.0+10.g") {
		t.Errorf("last version %s", prev)
	}
}
