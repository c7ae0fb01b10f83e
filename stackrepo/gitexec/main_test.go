package gitexec

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestMain keeps the machine's git configuration out of every git these
// tests run (git init, update-ref, rev-parse, config …): a home of its
// own with only an identity, no system file, and nothing in the
// environment that names another repository or configuration.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "gitexec-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(home+"/.gitconfig", []byte("[user]\n\tname = T\n\temail = t@example.com\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GIT_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CONFIG_HOME", home+"/.config")
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}
