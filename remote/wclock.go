package remote

import (
	"errors"
	"fmt"
	"path"
	"time"
)

// lockWait is how long a prepare or build waits for another one of the
// same working copy on the same host to finish (a variable for the tests).
var lockWait = 20 * time.Minute

// WorkingCopyLock is the lock file of a working copy on the build host:
// beside it, named after the key with a leading dot (a key never starts
// with one, so it is never a working copy). A prepare or build holds it
// (flock(1), see take_lock in scripts/common.sh) while it uses the
// working copy; the builder itself runs without it, so that a daemon it
// leaves behind does not keep it.
func WorkingCopyLock(workdir, key string) string {
	return path.Dir(WorkingCopy(workdir, key)) + "/." + key + ".lock"
}

// ErrWorkingCopyMoved is a build that did not run because another prepare
// moved the working copy to another commit after this build's prepare.
// Nothing was built: prepare and build again.
var ErrWorkingCopyMoved = errors.New("another prepare on this host moved it")

// lockFailed is the error when the lock file cannot be made.
func lockFailed(workdir, key string) error {
	return fmt.Errorf("cannot create the lock file %s (see the message above); check the workdir (gachette.workdir) on the host", WorkingCopyLock(workdir, key))
}

// lockBusy is the error when the working copy's lock was held for all of
// lockWait.
func lockBusy(workdir, key string) error {
	lock := WorkingCopyLock(workdir, key)
	return fmt.Errorf("another prepare or build of %s on this host has held %s for %s; see which with fuser -v %s on the host, stop it or let it finish, then run again", key, lock, lockWait, lock)
}
