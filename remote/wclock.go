package remote

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"
)

// lockWait is how long a prepare or build waits for another one of the
// same working copy on the same host to finish (a variable for the tests).
var lockWait = 20 * time.Minute

// WorkingCopyLock is the lock file of a working copy on the build host:
// beside it, named after the key with a leading dot (a key never starts
// with one, so it is never a working copy).
func WorkingCopyLock(workdir, key string) string {
	return path.Dir(WorkingCopy(workdir, key)) + "/." + key + ".lock"
}

// lockLines take the working copy's lock on fd 9 with flock(1), so that a
// prepare never moves a working copy while another prepare or a build uses
// it, and two first clones never share a temporary directory. The lock is
// the kernel's: it goes with the process that holds it, whatever kills it,
// so it is never stale. The commands that follow must run with fd 9
// closed (see locked), or a daemon a builder leaves behind would hold it.
// A host without flock(1) (util-linux) runs unlocked; builds still check
// the commit they were asked for (sessionScript).
//
// fail and busy are the shell commands run when the lock file cannot be
// made, and when the lock is still held after lockWait.
func lockLines(lock, key, fail, busy string) string {
	// "true", not ":": a redirection that fails on a special built-in
	// such as ":" makes sh exit at once, before fail can run.
	return "lock=" + Quote(lock) + `
if command -v flock >/dev/null 2>&1; then
	{ mkdir -p -- "$(dirname -- "$lock")" && true >>"$lock"; } >&2 || ` + fail + `
	exec 9>>"$lock"
	if ! flock -n 9; then
		echo "gachette: waiting for another prepare or build of ` + key + ` on this host to finish (it holds $lock)" >&2
		flock -w ` + strconv.Itoa(int(lockWait/time.Second)) + ` 9 || ` + busy + `
	fi
fi
`
}

// locked runs body in a subshell that does not hold the lock's fd.
func locked(body string) string {
	return "(\nexec 9>&-\n" + body + ")\n"
}

// ErrWorkingCopyMoved is a build that did not run because another prepare
// moved the working copy to another commit after this build's prepare.
// Nothing was built: prepare and build again.
var ErrWorkingCopyMoved = errors.New("another prepare on this host moved it")

// lockFailed is the error when the lock file cannot be made.
func lockFailed(what, workdir, key string) error {
	return fmt.Errorf("%s: cannot create the lock file %s (see the message above); check the workdir (gachette.workdir) on the host", what, WorkingCopyLock(workdir, key))
}

// lockBusy is the error when the working copy's lock was held for all of
// lockWait.
func lockBusy(what, workdir, key string) error {
	lock := WorkingCopyLock(workdir, key)
	return fmt.Errorf("%s: another prepare or build of %s on this host has held %s for %s; see which with fuser -v %s on the host, stop it or let it finish, then run again", what, key, lock, lockWait, lock)
}
