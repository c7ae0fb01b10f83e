package semverx

import (
	"os"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

// TestMain keeps the machine's git configuration out of the git the tests
// run to make histories.
func TestMain(m *testing.M) {
	cleanup := gittest.MustIsolate()
	code := m.Run()
	cleanup()
	os.Exit(code)
}
