package gitexec

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestWithoutRepoEnv(t *testing.T) {
	in := []string{"GIT_DIR=/x", "GIT_WORK_TREE=/y", "GIT_CONFIG_PARAMETERS='a.b'='c'", "HOME=/h", "GIT_DIRX=keep", "GIT_COMMON_DIR=/z"}
	got := WithoutRepoEnv(in)
	want := []string{"GIT_CONFIG_PARAMETERS='a.b'='c'", "HOME=/h", "GIT_DIRX=keep"}
	if !slices.Equal(got, want) {
		t.Fatalf("WithoutRepoEnv = %q, want %q", got, want)
	}
}

func TestGitDirWinsOverEnv(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.git"), filepath.Join(dir, "b.git")
	for _, d := range []string{a, b} {
		if out, err := exec.Command("git", "init", "-q", "--bare", d).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v\n%s", err, out)
		}
	}
	g := &Git{GitDir: b, Env: []string{"GIT_DIR=" + a, "HOME=" + dir}}
	out, err := g.Output(context.Background(), nil, "rev-parse", "--absolute-git-dir")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != b {
		t.Fatalf("git ran in %s, want %s", got, b)
	}
}

func TestErrorCarriesStderr(t *testing.T) {
	g := &Git{GitDir: filepath.Join(t.TempDir(), "nothing")}
	_, err := g.Output(context.Background(), nil, "rev-parse", "HEAD")
	var ge *Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if ge.ExitCode == 0 || !strings.Contains(ge.Error(), "not a git repository") {
		t.Fatalf("error %q, exit %d: want git's message and a non-zero exit", ge.Error(), ge.ExitCode)
	}
}
