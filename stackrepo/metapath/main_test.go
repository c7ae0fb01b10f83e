package metapath

import (
	"os"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

// TestMain keeps the machine's git configuration out of every git these
// tests run (git init, update-ref, rev-parse, config …): a home of its
// own with only an identity (and $GACHETTE_TEST_GITCONFIG), no system
// file, and nothing in the environment that names another repository or
// configuration.
func TestMain(m *testing.M) {
	cleanup := gittest.MustIsolate()
	code := m.Run()
	cleanup()
	os.Exit(code)
}
