package gitexec

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const testSection = "# demo settings\n[demo]\n\t# colour = blue\n"

// The section is appended, once, to what the file had, and git reads the
// result; a file that sets a key of the section, even through an include,
// or has the section's first line, is left as it was.
func TestAppendConfigSection(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	g := &Git{}

	// a file that does not exist, in a directory that does not either
	fresh := filepath.Join(dir, "new", "config")
	got, err := g.AppendConfigSection(ctx, fresh, "demo", testSection)
	if err != nil || got != fresh {
		t.Fatalf("AppendConfigSection = %q, %v", got, err)
	}
	if b, _ := os.ReadFile(fresh); string(b) != testSection {
		t.Fatalf("wrote %q", b)
	}
	var se *SectionExistsError
	if _, err := g.AppendConfigSection(ctx, fresh, "demo", testSection); !errors.As(err, &se) || se.Key != "" || se.File != fresh {
		t.Fatalf("second append: %v, want the template named as there", err)
	}

	// an existing file without a final newline, through a symbolic link:
	// written at the link's target, the link kept
	target := filepath.Join(dir, "dotfiles", "gitconfig")
	os.MkdirAll(filepath.Dir(target), 0o755)
	os.WriteFile(target, []byte("[user]\n\tname = A"), 0o644)
	link := filepath.Join(dir, ".gitconfig")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if got, err := g.AppendConfigSection(ctx, link, "demo", testSection); err != nil || got != target {
		t.Fatalf("AppendConfigSection = %q, %v, want %s", got, err, target)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v", err)
	}
	out, err := exec.Command("git", "config", "--file", link, "user.name").Output()
	if err != nil || strings.TrimSpace(string(out)) != "A" {
		t.Fatalf("git config user.name = %q, %v", out, err)
	}

	// a key of the section, set through an include
	inc := filepath.Join(dir, "inc")
	os.WriteFile(inc, []byte("[Demo]\n\tColour = red\n"), 0o644)
	withKey := filepath.Join(dir, "withkey")
	before := "[include]\n\tpath = " + inc + "\n"
	os.WriteFile(withKey, []byte(before), 0o644)
	_, err = g.AppendConfigSection(ctx, withKey, "demo", testSection)
	if !errors.As(err, &se) || se.Key != "demo.colour" {
		t.Fatalf("AppendConfigSection over a set key: %v", err)
	}
	if !strings.Contains(err.Error(), "already has demo settings (demo.colour); nothing written") {
		t.Fatalf("message %q", err)
	}
	if b, _ := os.ReadFile(withKey); string(b) != before {
		t.Fatalf("the file changed: %q", b)
	}

	// a file git cannot read: git's error, the file as it was
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("[demo\n"), 0o644)
	var ge *Error
	if _, err := g.AppendConfigSection(ctx, bad, "demo", testSection); !errors.As(err, &ge) {
		t.Fatalf("AppendConfigSection of a bad file: %v (%T), want git's error", err, err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "[demo\n" {
		t.Fatalf("the bad file changed: %q", b)
	}
}
