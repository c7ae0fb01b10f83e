package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeBlocks runs the README's quick start and its whole path on this
// machine word for word, each in a fresh home with no git configuration, as
// a new user pastes them.
func TestReadmeBlocks(t *testing.T) {
	if _, err := exec.LookPath("git-gachette"); err != nil {
		t.Fatalf("git-gachette is not on PATH (testscript.Main puts it there): %v", err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		heading string
		want    []string // regexps the block's output must match
	}{
		{"## Quick start", []string{`(?m)^upgraded +dh-app 2\.0\.0 -> 2\.1\.0$`, `exit status 1: the stacks differ`, `(?m)^pushed domain branch main to origin$`, `(?m)^Version: 2\.1\.0$`, `(?m)^Version: 2\.0\.0$`}},
		{"### The whole path on this machine", []string{`==> record 1 package in main/1\.0\.0`, `(?m)^Version: 1\.0\.0$`, `(?m)^Built-On: local$`, `(?m)^hello-gachette_1\.0\.0_all\.deb$`}},
	} {
		t.Run(strings.TrimLeft(c.heading, "# "), func(t *testing.T) {
			block := shellBlockAfter(t, string(readme), c.heading)
			dir := t.TempDir()
			home, tmp := filepath.Join(dir, "home"), filepath.Join(dir, "tmp")
			for _, d := range []string{home, tmp} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("bash", "-e", "-c", block)
			cmd.Dir = dir
			cmd.Env = []string{"HOME=" + home, "TMPDIR=" + tmp, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GORACE=" + raceOptions(), "LC_ALL=C"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("the block under %q failed: %v\n%s", c.heading, err, out)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).Match(out) {
					t.Errorf("the output does not match %q:\n%s", w, out)
				}
			}
		})
	}
}

// shellBlockAfter is the first ```sh block after the heading.
func shellBlockAfter(t *testing.T, readme, heading string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("the README has no heading %q", heading)
	}
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(readme[i:])
	if m == nil {
		t.Fatalf("no sh block after %q", heading)
	}
	return m[1]
}
