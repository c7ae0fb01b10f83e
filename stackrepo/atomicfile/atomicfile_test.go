package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	for _, content := range []string{"one", "two, longer"} {
		if err := Write(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != content {
			t.Fatalf("read %q, want %q", b, content)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left %d files, want only f", len(ents))
	}
	if err := Write(filepath.Join(dir, "no", "f"), nil); err == nil {
		t.Error("a write into a missing directory succeeded")
	}
}

func TestWriteLocked(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config")
	os.WriteFile(p, []byte("old"), 0o600)
	if err := WriteLocked(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("read %q", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's own 0600", st.Mode().Perm())
	}
	os.WriteFile(p+".lock", nil, 0o644)
	err := WriteLocked(p, []byte("newer"))
	if err == nil || !strings.Contains(err.Error(), "config.lock exists: another git config may be running") {
		t.Fatalf("with a lock file: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Errorf("written despite the lock: %q", b)
	}
}
