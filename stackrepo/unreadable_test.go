package stackrepo

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A stacks repository this user may not read is said to be one it may not
// read (git says only "not a git repository", or cannot even start in it),
// naming what to look at: the repository itself, or its objects. As root,
// which reads everything, the test runs itself again as nobody (sudo).
func TestUnreadableRepository(t *testing.T) {
	if dir := os.Getenv("GACHETTE_TEST_UNREADABLE"); dir != "" {
		unreadableCases(t, dir)
		return
	}
	base, err := os.MkdirTemp("", "unreadable")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	os.Chmod(base, 0o755)
	for _, name := range []string{"whole.git", "objects.git"} {
		r, err := Init(filepath.Join(base, name), "main")
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
	}
	if err := exec.Command("chmod", "-R", "go+rX", base).Run(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(base, "whole.git"), 0o700)
	os.Chmod(filepath.Join(base, "objects.git", "objects"), 0o700)
	if os.Getuid() != 0 {
		unreadableCases(t, base)
		return
	}
	// root: this test binary, copied where nobody may run it, as nobody
	if _, err := exec.LookPath("sudo"); err != nil {
		t.Fatalf("sudo is needed to run this test as root (apt-get install sudo): %v", err)
	}
	self, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	bin := filepath.Join(base, "stackrepo.test")
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, self); err != nil {
		t.Fatal(err)
	}
	out.Close()
	cmd := exec.Command("sudo", "-n", "-u", "nobody", "env", "HOME="+base, "PATH="+os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1",
		"GACHETTE_TEST_UNREADABLE="+base, bin, "-test.run=^TestUnreadableRepository$", "-test.v")
	cmd.Dir = base
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "--- PASS: TestUnreadableRepository") {
		t.Fatalf("as nobody: %v\n%s", err, got)
	}
	t.Logf("as nobody:\n%s", got)
}

func unreadableCases(t *testing.T, base string) {
	for name, want := range map[string]string{
		"whole.git":   "stacks repository " + filepath.Join(base, "whole.git") + ": permission denied: this user cannot read it; run as a user who can, or give this one access (ls -ld " + filepath.Join(base, "whole.git") + ")",
		"objects.git": "stacks repository " + filepath.Join(base, "objects.git") + ": permission denied reading objects: this user cannot read it",
	} {
		_, err := Find(context.Background(), filepath.Join(base, name), nil, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
}
