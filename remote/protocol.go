package remote

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// The scripts git-gachette runs on a build host. Each is a fixed text:
// values reach it as positional arguments ($1, $2, …), never spliced into
// it. scripts/common.sh goes in front of each (but builder.sh, which
// build.sh runs by itself).
var (
	//go:embed scripts/common.sh
	commonSh string
	//go:embed scripts/prepare.sh
	prepareSh string
	//go:embed scripts/lint.sh
	lintSh string
	//go:embed scripts/build.sh
	buildSh string
	//go:embed scripts/builder.sh
	builderSh string
	//go:embed scripts/check.sh
	checkSh string
	//go:embed scripts/cleanup.sh
	cleanupSh string
)

// hostScript is body with the common part in front.
func hostScript(body string) string { return commonSh + "\n" + body }

// protocol holds the NAME=value lines of common.sh: the exit statuses
// (EXIT_*) and output line words (LINE_*) both sides use.
var protocol = func() map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(commonSh, "\n") {
		k, v, ok := strings.Cut(l, "=")
		if ok && (strings.HasPrefix(k, "EXIT_") || strings.HasPrefix(k, "LINE_")) {
			m[k] = strings.Trim(v, "'")
		}
	}
	return m
}()

func exitStatus(name string) int {
	n, err := strconv.Atoi(protocol[name])
	if err != nil {
		panic("scripts/common.sh has no exit status " + name)
	}
	return n
}

func lineWord(name string) string {
	w := protocol[name]
	if w == "" {
		panic("scripts/common.sh has no output line " + name)
	}
	return w
}

// Exit statuses of the host scripts.
var (
	exitNoWorkingCopy = exitStatus("EXIT_NO_WORKING_COPY")
	exitClone         = exitStatus("EXIT_CLONE")
	exitFetch         = exitStatus("EXIT_FETCH")
	exitRef           = exitStatus("EXIT_REF")
	exitCheckout      = exitStatus("EXIT_CHECKOUT")
	exitSubmodule     = exitStatus("EXIT_SUBMODULE")
	exitLock          = exitStatus("EXIT_LOCK")
	exitLockBusy      = exitStatus("EXIT_LOCK_BUSY")
	exitDebsPath      = exitStatus("EXIT_DEBS_PATH")
	exitMoved         = exitStatus("EXIT_MOVED")
	exitNoSetsid      = exitStatus("EXIT_NO_SETSID")
	exitReset         = exitStatus("EXIT_RESET")
	exitConflict      = exitStatus("EXIT_CONFLICT")
	exitMove          = exitStatus("EXIT_MOVE")
	exitNoStaging     = exitStatus("EXIT_NO_STAGING")
	exitNotPrepared   = exitStatus("EXIT_NOT_PREPARED")
	exitNoVerdict     = exitStatus("EXIT_NO_VERDICT")
	exitInterrupted   = exitStatus("EXIT_INTERRUPTED")
	exitNoSudo        = exitStatus("EXIT_NO_SUDO")
	exitBuildUser     = exitStatus("EXIT_BUILD_USER")
)

// statusMeaning says what each exit status of the host scripts means,
// for the messages that have nothing more specific to say.
var statusMeaning = map[int]string{
	exitNoWorkingCopy: "the working copy is not there",
	exitClone:         "git clone failed",
	exitFetch:         "git fetch failed",
	exitRef:           "no such branch, tag or commit",
	exitCheckout:      "the checkout failed",
	exitSubmodule:     "the submodule update failed",
	exitLock:          "the working copy's lock file cannot be made",
	exitLockBusy:      "another prepare or build held the working copy's lock too long",
	exitDebsPath:      "the debs path is not a directory the build user can write",
	exitMoved:         "the working copy is not at the commit its prepare checked out",
	exitNoSetsid:      "setsid (util-linux) is not installed on the build host",
	exitReset:         "the working copy's git directory cannot be reset",
	exitConflict:      "a .deb of that name with other contents is in the debs path",
	exitMove:          "linking the .debs into the debs path failed",
	exitNoStaging:     "the staging directory is gone",
	exitNotPrepared:   "the working copy has no finished prepare",
	exitNoVerdict:     "the check session got no verdict it could take (the connection was cut, or something wrote into the session)",
	exitInterrupted:   "the host script was stopped by a signal on the build host",
	exitNoSudo:        "sudo is not installed on the build host",
	exitBuildUser:     "running as the build user failed",
}

// describeStatus is err with what its exit status means, when it is one
// of the host scripts' own.
func describeStatus(err error) error {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Signal == "" {
		if m, ok := statusMeaning[ee.Status]; ok {
			return fmt.Errorf("%s (exit status %d)", m, ee.Status)
		}
	}
	return err
}

// Output lines of the host scripts.
var (
	lineRef      = lineWord("LINE_REF")
	lineCommit   = lineWord("LINE_COMMIT")
	lineDescribe = lineWord("LINE_DESCRIBE")
	lineCount    = lineWord("LINE_COUNT")
	lineHead     = lineWord("LINE_HEAD")
	lineDeb      = lineWord("LINE_DEB")
	lineHave     = lineWord("LINE_HAVE")
	lineNotFile  = lineWord("LINE_NOT_FILE")
	lineNotDeb   = lineWord("LINE_NOT_DEB")
	lineBadName  = lineWord("LINE_BAD_NAME")
	lineChecked  = lineWord("LINE_CHECKED")
	lineConflict = lineWord("LINE_CONFLICT")
	lineMoved    = lineWord("LINE_MOVED")
	lineKept     = lineWord("LINE_KEPT")
	lineUndone   = lineWord("LINE_UNDONE")
	lineSparse   = lineWord("LINE_SPARSE")
	lineReused   = lineWord("LINE_REUSED")
	lineStarted  = lineWord("LINE_STARTED")
)

// statusIs reports whether err is the exit status of a script.
func statusIs(err error, status int) bool {
	var ee *ExitError
	return errors.As(err, &ee) && ee.Signal == "" && ee.Status == status
}

// record is one output line of a host script: a word, then its fields.
type record struct {
	word   string
	fields []string
}

// maxRecord bounds a protocol line; ours are far shorter.
const maxRecord = 16 << 10

// sessionReader reads the protocol lines a host script prints on stdout.
// A build session's stdout turns into the builder's output after its
// "started" line: rest gives what follows, unread.
type sessionReader struct {
	r *bufio.Reader
}

func newSessionReader(r io.Reader) *sessionReader {
	return &sessionReader{r: bufio.NewReaderSize(r, maxRecord)}
}

// next reads one line; io.EOF at the end. A line too long, or not ended,
// is an error: it cannot be ours.
func (s *sessionReader) next() (record, error) {
	l, err := s.r.ReadSlice('\n')
	if errors.Is(err, io.EOF) && len(l) == 0 {
		return record{}, io.EOF
	}
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return record{}, fmt.Errorf("unexpected output from the build host: a line longer than %d bytes", maxRecord)
		}
		if errors.Is(err, io.EOF) {
			return record{}, fmt.Errorf("unexpected output from the build host: %q", termtext.ShortenTo(string(l), 200))
		}
		return record{}, err
	}
	f := strings.Split(string(l[:len(l)-1]), "\t")
	return record{word: f[0], fields: f[1:]}, nil
}

// rest is what the script prints after the last line next read.
func (s *sessionReader) rest() io.Reader { return s.r }

// unexpected is the error for a line a script should not have printed.
func (rec record) unexpected() error {
	return fmt.Errorf("unexpected output from the build host: %q", termtext.ShortenTo(strings.Join(append([]string{rec.word}, rec.fields...), "\t"), 200))
}
