package gitexec

import (
	"context"
	"errors"
	"os"
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

func TestUpdateRefsCompareAndSwap(t *testing.T) {
	dir, g, blob := bareWithBlob(t)
	ctx := context.Background()
	if err := g.UpdateRefs(ctx, "one\ntwo", []RefUpdate{{Name: "refs/tags/a", Old: ZeroID, New: blob}, {Name: "refs/tags/b", Old: ZeroID, New: blob}}); err != nil {
		t.Fatal(err)
	}
	// A failed expectation changes nothing: b is not deleted.
	err := g.UpdateRefs(ctx, "", []RefUpdate{{Name: "refs/tags/b", Old: blob, New: ZeroID}, {Name: "refs/tags/a", Old: ZeroID, New: blob}})
	var ge *Error
	if !errors.As(err, &ge) || !strings.Contains(ge.Stderr, "refs/tags/a") {
		t.Fatalf("create over an existing ref: %v", err)
	}
	out, err := g.Output(ctx, nil, "for-each-ref", "--format=%(refname)")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{"refs/tags/a", "refs/tags/b"}) {
		t.Fatalf("refs after a failed transaction: %q", got)
	}
	if LockFile(err) != "" {
		t.Errorf("LockFile of a failed expectation = %q, want none", LockFile(err))
	}
	lock := filepath.Join(dir, "refs", "tags", "a.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = g.UpdateRefs(ctx, "", []RefUpdate{{Name: "refs/tags/a", Old: blob, New: ZeroID}})
	if got := LockFile(err); got != lock {
		t.Fatalf("LockFile(%v) = %q, want %q", err, got, lock)
	}
}

// An update whose New is its Old only checks the ref (git's verify): the
// transaction fails when the ref is something else, absent included.
func TestUpdateRefsVerify(t *testing.T) {
	_, g, blob := bareWithBlob(t)
	ctx := context.Background()
	if err := g.UpdateRefs(ctx, "", []RefUpdate{{Name: "refs/tags/a", Old: ZeroID, New: blob}}); err != nil {
		t.Fatal(err)
	}
	// a is blob and b absent: both checks hold, c is created.
	ok := []RefUpdate{{Name: "refs/tags/a", Old: blob, New: blob}, {Name: "refs/tags/b", Old: ZeroID, New: ZeroID}, {Name: "refs/tags/c", Old: ZeroID, New: blob}}
	if err := g.UpdateRefs(ctx, "", ok); err != nil {
		t.Fatalf("verify of refs as they are: %v", err)
	}
	// b must be absent but c is not: nothing happens.
	bad := []RefUpdate{{Name: "refs/tags/c", Old: ZeroID, New: ZeroID}, {Name: "refs/tags/d", Old: ZeroID, New: blob}}
	if err := g.UpdateRefs(ctx, "", bad); err == nil {
		t.Fatal("verify that an existing ref is absent succeeded")
	}
	out, err := g.Output(ctx, nil, "for-each-ref", "--format=%(refname)")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{"refs/tags/a", "refs/tags/c"}) {
		t.Fatalf("refs: %q, want a and c", got)
	}
}

func TestIsHex(t *testing.T) {
	sha1 := "0123456789abcdef0123456789abcdef01234567"
	for _, c := range []struct {
		in   string
		n    int
		want bool
	}{
		{sha1, 40, true},
		{sha1, 64, false},
		{strings.ToUpper(sha1), 40, false},
		{sha1[:39] + "g", 40, false},
		{"1a2b3c4", -1, true},
		{"", -1, true},
		{"1a2b3cX", -1, false},
	} {
		if got := IsHex(c.in, c.n); got != c.want {
			t.Errorf("IsHex(%q, %d) = %v", c.in, c.n, got)
		}
	}
	for in, want := range map[string]bool{sha1: true, sha1 + sha1[:24]: true, sha1[:39]: false, sha1 + "0": false} {
		if IsObjectName(in) != want {
			t.Errorf("IsObjectName(%q) = %v", in, !want)
		}
	}
}

func TestCheckTransport(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"git@github.com:ops-hero/app.git", ""},
		{"https://example.com/a::b", ""},
		{"codecommit::eu-west-1://repo", ""},
		{"ext::sh -c touch% x", "uses git's ext:: transport, which runs what the URL says; git-gachette refuses it"},
		{"EXT::sh", "uses git's ext:: transport, which runs what the URL says; git-gachette refuses it"},
		{"FD::3", "uses git's fd:: transport, which runs what the URL says; git-gachette refuses it"},
	} {
		got := ""
		if err := CheckTransport(c.in); err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("CheckTransport(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// UpdateRefsChecked runs its check while git holds the locks, before it
// commits: the lock file is there during the check; a check that fails
// aborts (nothing changes, the check's error comes back as it is); one
// that passes lets the transaction commit; a failed expectation runs no
// check.
func TestUpdateRefsChecked(t *testing.T) {
	dir, g, blob := bareWithBlob(t)
	ctx := context.Background()
	lock := filepath.Join(dir, "refs", "tags", "a.lock")
	no := errors.New("no")
	ups := []RefUpdate{{Name: "refs/tags/a", Old: ZeroID, New: blob}}
	err := g.UpdateRefsChecked(ctx, "", ups, func() error {
		if _, err := os.Stat(lock); err != nil {
			t.Errorf("during the check: %v", err)
		}
		return no
	})
	if err != no {
		t.Fatalf("a failing check: %v, want its own error", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("after an aborted transaction: %v", err)
	}
	if _, err := g.Output(ctx, nil, "rev-parse", "-q", "--verify", "refs/tags/a"); err == nil {
		t.Fatal("an aborted transaction created refs/tags/a")
	}
	checked := 0
	if err := g.UpdateRefsChecked(ctx, "", ups, func() error { checked++; return nil }); err != nil || checked != 1 {
		t.Fatalf("a passing check: %v (checked %d times)", err, checked)
	}
	if _, err := g.Output(ctx, nil, "rev-parse", "-q", "--verify", "refs/tags/a"); err != nil {
		t.Fatalf("after a passing check: %v", err)
	}
	err = g.UpdateRefsChecked(ctx, "", ups, func() error { checked++; return nil })
	var ge *Error
	if !errors.As(err, &ge) || checked != 1 {
		t.Fatalf("a failed expectation: %v (checked %d times)", err, checked)
	}
}

// bareWithBlob makes a bare repository holding one blob, for ref updates
// to point at: its git directory, a Git in it, and the blob's id.
func bareWithBlob(t *testing.T) (string, *Git, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "r.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	g := &Git{GitDir: dir}
	out, err := g.Output(context.Background(), strings.NewReader("x"), "hash-object", "-w", "--stdin")
	if err != nil {
		t.Fatal(err)
	}
	return dir, g, strings.TrimSpace(string(out))
}

// WithEnv adds to the environment git runs with, after g's own, and
// leaves g as it was.
func TestWithEnv(t *testing.T) {
	g := &Git{Env: []string{"HOME=" + t.TempDir(), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=Before"}}
	w := g.WithEnv("GIT_AUTHOR_NAME=After", "GIT_AUTHOR_EMAIL=a@example.com")
	out, err := w.Output(context.Background(), nil, "var", "GIT_AUTHOR_IDENT")
	if err != nil || !strings.HasPrefix(string(out), "After <a@example.com> ") {
		t.Fatalf("git var GIT_AUTHOR_IDENT = %q, %v", out, err)
	}
	if len(g.Env) != 3 || g.Env[2] != "GIT_AUTHOR_NAME=Before" {
		t.Fatalf("g changed: %q", g.Env)
	}
}
