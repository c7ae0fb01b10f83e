package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ops-hero/git-gachette/semverx"
)

// Checkout is a working copy prepared at a commit.
type Checkout struct {
	Key     string
	URL     string // without its password, if it has one (RedactPassword)
	Ref     string
	Dir     string // on the build host
	Commit  string // full commit id
	Version string // package version from the commit (semverx.CommitVersion)
	// Describe and Count are what Version comes from: git describe --tags
	// --long with semverx.DescribeMatch ("" when no tag matches), and then
	// the number of commits.
	Describe string
	Count    int
}

// WorkingCopy is the directory of a working copy on the build host.
func WorkingCopy(workdir, key string) string {
	return strings.TrimSuffix(workdir, "/") + "/working_copy/" + key
}

// checkPrepare checks prepare's arguments, as Prepare does before it runs
// anything; an empty ref is the default (HEAD).
func checkPrepare(workdir, key, url, ref string) error {
	checks := []error{CheckHostPath("workdir", workdir), CheckKey(key), CheckURL(url)}
	if ref != "" {
		checks = append(checks, CheckRef(ref))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// Prepare makes the working copy KEY of URL at REF on the build host and
// computes the package version of its commit (scripts/prepare.sh). Git's
// output goes to log, line by line.
func Prepare(ctx context.Context, ex Executor, workdir, key, url, ref, baseVersion string, log io.Writer) (*Checkout, error) {
	if ref == "" {
		ref = "HEAD"
	}
	if err := checkPrepare(workdir, key, url, ref); err != nil {
		return nil, err
	}
	// checked here, whether or not the commit turns out to need it
	if err := semverx.CheckBaseVersion(baseVersion); err != nil {
		return nil, err
	}
	shown := RedactPassword(url)
	co := &Checkout{Key: key, URL: shown, Ref: ref, Dir: WorkingCopy(workdir, key)}
	var out bytes.Buffer
	stderr := lineWriter(redactTo(log, url))
	args := append([]string{co.Dir, url, ref, WorkingCopyLock(workdir, key), key, strconv.Itoa(int(lockWait / time.Second))}, semverx.DescribeMatch...)
	err := ex.Run(ctx, Script{Body: hostScript(prepareSh), Args: args, Stdout: &out, Stderr: stderr})
	stderr.Close()
	what := fmt.Sprintf("prepare %s (%s at %s) on %s", key, shown, ref, ex.Host())
	switch {
	case err == nil:
	case statusIs(err, exitClone):
		return nil, fmt.Errorf("%s: git clone failed (see its message above); check the URL and that the build host can reach it", what)
	case statusIs(err, exitFetch):
		return nil, fmt.Errorf("%s: git fetch failed in %s (see its message above)", what, co.Dir)
	case statusIs(err, exitRef):
		return nil, fmt.Errorf("%s: no branch, tag or commit %q in %s", what, ref, shown)
	case statusIs(err, exitCheckout):
		return nil, fmt.Errorf("%s: checkout failed in %s (see its message above)", what, co.Dir)
	case statusIs(err, exitSubmodule):
		return nil, fmt.Errorf("%s: submodule update failed (see its message above)", what)
	case statusIs(err, exitReset):
		return nil, fmt.Errorf("%s: cannot reset the git directory of %s (see the message above); remove it on the host and prepare again", what, co.Dir)
	case statusIs(err, exitLock):
		return nil, fmt.Errorf("%s: %w", what, lockFailed(workdir, key))
	case statusIs(err, exitLockBusy):
		return nil, fmt.Errorf("%s: %w", what, lockBusy(workdir, key))
	default:
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var branch string
	if branch, co.Commit, co.Describe, co.Count, err = readDescribe(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if co.Version, err = semverx.CommitVersion(co.Describe, co.Count, co.Commit, baseVersion); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if branch != "" {
		co.Ref = branch
	}
	return co, nil
}

// readDescribe reads the ref, commit, describe and count lines of
// prepare.sh: the remote branch HEAD resolved to (if it said), the commit,
// git describe's answer and the commit count.
func readDescribe(out io.Reader) (branch, commit, describe string, count int, err error) {
	count = -1
	sr := newSessionReader(out)
	for {
		rec, err := sr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", "", "", 0, err
		}
		if len(rec.fields) != 1 {
			return "", "", "", 0, rec.unexpected()
		}
		switch rec.word {
		case lineRef:
			branch = rec.fields[0]
			if CheckRef(branch) != nil || !strings.HasPrefix(branch, "origin/") {
				return "", "", "", 0, rec.unexpected()
			}
		case lineCommit:
			commit = rec.fields[0]
		case lineDescribe:
			describe = rec.fields[0]
		case lineCount:
			if count, err = strconv.Atoi(rec.fields[0]); err != nil {
				return "", "", "", 0, rec.unexpected()
			}
		default:
			return "", "", "", 0, rec.unexpected()
		}
	}
	if len(commit) != 40 && len(commit) != 64 || count < 0 {
		return "", "", "", 0, errors.New("unexpected answer from the build host: no commit and count")
	}
	return branch, commit, describe, count, nil
}

// noWorkingCopy is the error for a script that ended with
// exitNoWorkingCopy, else nil.
func noWorkingCopy(err error, key, host, dir string) error {
	if statusIs(err, exitNoWorkingCopy) {
		return fmt.Errorf("no working copy of %s on %s (%s): make it first with: git gachette prepare %s URL [REF]", key, host, dir, key)
	}
	return nil
}
