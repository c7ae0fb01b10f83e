package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// debScript is a command builder that makes one .deb, and records in
// $GACHETTE_OUTPUT/../built that it ran.
const debScript = `set -e; r=$(mktemp -d); mkdir -p "$r/DEBIAN"
printf 'Package: dh-lock\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: b\n' "$GACHETTE_VERSION" > "$r/DEBIAN/control"
dpkg-deb --root-owner-group --build "$r" "$GACHETTE_OUTPUT/dh-lock_${GACHETTE_VERSION}_all.deb" >/dev/null; rm -rf "$r"
echo "$GACHETTE_COMMIT" >> "$GACHETTE_OUTPUT/../built"`

// lockFixture is a project prepared at main on this machine (host local),
// with an empty debs path.
type lockFixture struct {
	proj, wd, debs string
	co             *Checkout // the prepare at main
}

func newLockFixture(t *testing.T) *lockFixture {
	t.Helper()
	f := &lockFixture{proj: twoCommitProject(t), wd: t.TempDir(), debs: t.TempDir()}
	var err error
	if f.co, err = f.prepare("main", io.Discard); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *lockFixture) prepare(ref string, log io.Writer) (*Checkout, error) {
	return Prepare(context.Background(), Local{}, f.wd, "proj", f.proj, ref, "0.0.1", log)
}

// build runs debScript for the commit and version of co.
func (f *lockFixture) build(co *Checkout) ([]Deb, error) {
	req := BuildRequest{Key: "proj", Workdir: f.wd, DebsPath: f.debs, Builder: BuilderCommand, Command: debScript, Versions: Versions{App: co.Version}, Commit: co.Commit}
	res, err := buildKept(context.Background(), Local{}, req, io.Discard)
	if err != nil {
		return nil, err
	}
	return res.Debs, nil
}

// checkNothingBuilt fails the test if the builder ran or anything is left
// in the debs path.
func (f *lockFixture) checkNothingBuilt(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(filepath.Dir(f.debs), "built")); err == nil {
		t.Error("the builder ran")
	}
	checkNoFiles(t, f.debs)
}

// checkNoFiles fails the test if the debs path holds any file, or a
// staging directory: only the empty directories a build makes are allowed.
func checkNoFiles(t *testing.T, debs string) {
	t.Helper()
	filepath.WalkDir(debs, func(p string, d os.DirEntry, err error) error {
		if err == nil && (!d.IsDir() || filepath.Dir(p) == filepath.Join(debs, ".gachette", "staging")) {
			t.Errorf("the debs path holds %s", p)
		}
		return nil
	})
}

func requireFlock(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) (util-linux) is required")
	}
}

// holdLock holds lock with flock(1) for d, from another process; it
// returns once the lock is held, with a channel that receives the time the
// holder let go.
func holdLock(t *testing.T, lock string, d time.Duration) <-chan time.Time {
	t.Helper()
	requireFlock(t)
	holder := exec.Command("flock", lock, "sleep", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	released, exited := make(chan time.Time, 1), make(chan struct{})
	go func() { holder.Wait(); released <- time.Now(); close(exited) }()
	t.Cleanup(func() { holder.Process.Kill(); <-exited })
	for deadline := time.Now().Add(10 * time.Second); exec.Command("flock", "-n", lock, "true").Run() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the holder never took the lock")
		}
	}
	return released
}

// A build asked for the commit of one prepare refuses to run once another
// prepare has moved the working copy: nothing built, nothing left behind.
func TestBuildRefusesMovedWorkingCopy(t *testing.T) {
	f := newLockFixture(t)
	first := f.co
	second, err := f.prepare("v1.0.0", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if first.Commit == second.Commit {
		t.Fatal("the two prepares are at the same commit")
	}
	_, err = f.build(first)
	if !errors.Is(err, ErrWorkingCopyMoved) {
		t.Fatalf("build of %s after a prepare at %s: got %v, want ErrWorkingCopyMoved", first.Commit, second.Commit, err)
	}
	for _, want := range []string{"build proj on local", "the working copy is at " + second.Commit + ", not at " + first.Commit, "run again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	f.checkNothingBuilt(t)

	// at the commit the working copy is at, it builds
	if d, err := f.build(second); err != nil || len(d) != 1 {
		t.Fatalf("build at HEAD: %v %v", d, err)
	}

	// a working copy removed since its prepare
	if err := os.RemoveAll(WorkingCopy(f.wd, "proj")); err != nil {
		t.Fatal(err)
	}
	want := "build proj on local: the working copy " + WorkingCopy(f.wd, "proj") + " is gone; prepare it again"
	if _, err := f.build(first); err == nil || err.Error() != want {
		t.Errorf("build of a removed working copy: got %v, want %q", err, want)
	}
}

// A prepare waits for whoever holds the working copy's lock, saying so,
// and goes on when it is released.
func TestPrepareWaitsForTheLock(t *testing.T) {
	f := newLockFixture(t)
	released := holdLock(t, WorkingCopyLock(f.wd, "proj"), time.Second)
	var log bytes.Buffer
	if _, err := f.prepare("v1.0.0", &log); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	if !strings.Contains(log.String(), "waiting for another prepare or build of proj on this host to finish (it holds "+WorkingCopyLock(f.wd, "proj")+")") {
		t.Errorf("prepare did not say it waited: %q", log.String())
	}
	select {
	case r := <-released:
		if r.After(done) {
			t.Error("prepare finished before the lock was released")
		}
	default:
		t.Error("prepare finished while the lock was held")
	}
}

// A daemon the builder leaves running does not hold the working copy's
// lock: the next prepare does not wait for it.
func TestBuilderDaemonDoesNotHoldTheLock(t *testing.T) {
	f := newLockFixture(t)
	const daemon = "sleep 7.123"
	t.Cleanup(func() { exec.Command("pkill", "-f", daemon).Run() })
	req := BuildRequest{Key: "proj", Workdir: f.wd, DebsPath: f.debs, Builder: BuilderCommand,
		Command: debScript + "\n" + daemon + " </dev/null >/dev/null 2>&1 &", Versions: Versions{App: f.co.Version}, Commit: f.co.Commit}
	if _, err := buildKept(context.Background(), Local{}, req, io.Discard); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	start := time.Now()
	if _, err := f.prepare("v1.0.0", &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "waiting") {
		t.Errorf("prepare waited for the builder's daemon (%s): %q", time.Since(start), log.String())
	}
}

// A lock file that cannot be made (here a directory in its place) stops
// prepare and build with an error that names it, before anything runs.
func TestLockFileCannotBeMade(t *testing.T) {
	requireFlock(t)
	f := newLockFixture(t)
	lock := WorkingCopyLock(f.wd, "proj")
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	want := "cannot create the lock file " + lock + " (see the message above); check the workdir (gachette.workdir) on the host"
	f.checkLockError(t, want)
}

// A lock held for all of lockWait stops prepare and build with an error
// that names the lock and how to find its holder.
func TestLockHeldTooLong(t *testing.T) {
	f := newLockFixture(t)
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = time.Second
	lock := WorkingCopyLock(f.wd, "proj")
	holdLock(t, lock, 30*time.Second)
	want := "another prepare or build of proj on this host has held " + lock + " for 1s; see which with fuser -v " + lock + " on the host, stop it or let it finish, then run again"
	f.checkLockError(t, want)
}

// checkLockError checks that a prepare and a build both fail with want,
// and that nothing was built.
func (f *lockFixture) checkLockError(t *testing.T, want string) {
	t.Helper()
	if _, err := f.prepare("v1.0.0", io.Discard); err == nil || !strings.Contains(err.Error(), "prepare proj ("+f.proj+" at v1.0.0) on local: "+want) {
		t.Errorf("prepare: got %v, want %q", err, want)
	}
	if _, err := f.build(f.co); err == nil || !strings.Contains(err.Error(), "build proj on local: "+want) {
		t.Errorf("build: got %v, want %q", err, want)
	}
	f.checkNothingBuilt(t)
}
