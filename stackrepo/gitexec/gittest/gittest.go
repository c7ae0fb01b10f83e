// Package gittest keeps the machine's git configuration out of the tests:
// each test home gets a .gitconfig of its own, and git runs with no system
// file and no GIT_* variable from the caller. The file named by
// $GACHETTE_TEST_GITCONFIG, when set, is included at the end of every test
// home's .gitconfig, so that the whole suite can run again under an
// unusual global configuration (.ci/run does). It is not used by
// git-gachette itself.
package gittest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ConfigEnv names a git config file included into every test home.
const ConfigEnv = "GACHETTE_TEST_GITCONFIG"

// Config is the text of a test home's .gitconfig: an identity, no editor,
// extra (more
// git config text, may be empty), then an include of $GACHETTE_TEST_GITCONFIG
// if set, so that its values win.
func Config(name, email, extra string) string {
	// no editor: a git that wants a message fails instead of waiting
	c := fmt.Sprintf("[user]\n\tname = %s\n\temail = %s\n[core]\n\teditor = false\n", name, email) + extra
	if f := os.Getenv(ConfigEnv); f != "" {
		c += fmt.Sprintf("[include]\n\tpath = %s\n", f)
	}
	return c
}

// WriteHome writes home/.gitconfig (see Config), making home if needed.
func WriteHome(home, name, email, extra string) error {
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(Config(name, email, extra)), 0o644)
}

// Env is the environment of a git run in home: that home (and its
// .gitconfig as the global file), no system file, PATH, and nothing else.
func Env(home string) []string {
	return []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, ".gitconfig"), "GIT_CONFIG_NOSYSTEM=1",
		"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
}

// Isolate is for TestMain: it makes a home (identity T <t@example.com>),
// removes every GIT_* variable from the process environment and points
// HOME, XDG_CONFIG_HOME and GIT_CONFIG_GLOBAL at that home, with
// GIT_CONFIG_NOSYSTEM set. The returned function removes the home.
func Isolate() (cleanup func(), err error) {
	home, err := os.MkdirTemp("", "gachette-test-home-")
	if err != nil {
		return nil, err
	}
	if err := WriteHome(home, "T", "t@example.com", ""); err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GIT_") {
			os.Unsetenv(k)
		}
	}
	for _, kv := range Env(home) {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PATH" && k != "LC_ALL" {
			os.Setenv(k, v)
		}
	}
	return func() { os.RemoveAll(home) }, nil
}

// MustIsolate is Isolate for TestMain, exiting on failure.
func MustIsolate() (cleanup func()) {
	cleanup, err := Isolate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gittest:", err)
		os.Exit(1)
	}
	return cleanup
}
