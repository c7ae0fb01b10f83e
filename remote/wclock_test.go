package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// A build asked for the commit of one prepare refuses to run once another
// prepare has moved the working copy: nothing built, nothing left behind.
func TestBuildRefusesMovedWorkingCopy(t *testing.T) {
	proj := twoCommitProject(t)
	wd, debs := t.TempDir(), t.TempDir()
	ctx := context.Background()
	first, err := Prepare(ctx, Local{}, wd, "proj", proj, "v1.0.0", "0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if first.Commit == second.Commit {
		t.Fatal("the two prepares are at the same commit")
	}
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand, Command: debScript, Versions: Versions{App: first.Version}, Commit: first.Commit}
	_, err = Build(ctx, Local{}, req, io.Discard, io.Discard)
	if !errors.Is(err, ErrWorkingCopyMoved) {
		t.Fatalf("build of %s after a prepare at %s: got %v, want ErrWorkingCopyMoved", first.Commit, second.Commit, err)
	}
	for _, want := range []string{"build proj on local", "the working copy is at " + second.Commit + ", not at " + first.Commit, "run again"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if entries, _ := os.ReadDir(debs); len(entries) != 0 {
		t.Errorf("the debs path holds %v after a refused build", entries)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(debs), "built")); err == nil {
		t.Error("the builder ran")
	}

	// at the commit the working copy is at, it builds
	req.Commit, req.Versions.App = second.Commit, second.Version
	if d, err := Build(ctx, Local{}, req, io.Discard, io.Discard); err != nil || len(d) != 1 {
		t.Fatalf("build at HEAD: %v %v", d, err)
	}

	// a working copy removed since its prepare
	if err := os.RemoveAll(WorkingCopy(wd, "proj")); err != nil {
		t.Fatal(err)
	}
	want := "build proj on local: the working copy " + WorkingCopy(wd, "proj") + " is gone; prepare it again"
	if _, err := Build(ctx, Local{}, req, io.Discard, io.Discard); err == nil || err.Error() != want {
		t.Errorf("build of a removed working copy: got %v, want %q", err, want)
	}
}

// A prepare waits for whoever holds the working copy's lock, saying so,
// and goes on when it is released.
func TestPrepareWaitsForTheLock(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) (util-linux) is required")
	}
	proj := twoCommitProject(t)
	wd := t.TempDir()
	ctx := context.Background()
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard); err != nil {
		t.Fatal(err)
	}
	held := filepath.Join(t.TempDir(), "held")
	holder := exec.Command("flock", WorkingCopyLock(wd, "proj"), "sh", "-c", `touch "$0"; sleep 1`, held)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	released := make(chan time.Time, 1)
	go func() { holder.Wait(); released <- time.Now() }()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(held); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the holder never took the lock")
		}
	}
	var log bytes.Buffer
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "v1.0.0", "0.0.1", &log); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	if !strings.Contains(log.String(), "waiting for another prepare or build of proj on this host to finish (it holds "+WorkingCopyLock(wd, "proj")+")") {
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
	proj := twoCommitProject(t)
	wd, debs := t.TempDir(), t.TempDir()
	ctx := context.Background()
	co, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	const daemon = "sleep 7.123"
	t.Cleanup(func() { exec.Command("pkill", "-f", daemon).Run() })
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand,
		Command: debScript + "\n" + daemon + " </dev/null >/dev/null 2>&1 &", Versions: Versions{App: co.Version}, Commit: co.Commit}
	if _, err := Build(ctx, Local{}, req, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	start := time.Now()
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "v1.0.0", "0.0.1", &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "waiting") {
		t.Errorf("prepare waited for the builder's daemon (%s): %q", time.Since(start), log.String())
	}
}

// A lock file that cannot be made (here a directory in its place) stops
// prepare and build with an error that names it, before anything runs.
func TestLockFileCannotBeMade(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) (util-linux) is required")
	}
	proj := twoCommitProject(t)
	wd, debs := t.TempDir(), t.TempDir()
	ctx := context.Background()
	co, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lock := WorkingCopyLock(wd, "proj")
	if err := os.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(lock, 0o755); err != nil {
		t.Fatal(err)
	}
	want := "cannot create the lock file " + lock + " (see the message above); check the workdir (gachette.workdir) on the host"
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "v1.0.0", "0.0.1", io.Discard); err == nil || !strings.Contains(err.Error(), "prepare proj ("+proj+" at v1.0.0) on local: "+want) {
		t.Errorf("prepare: got %v, want %q", err, want)
	}
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand, Command: debScript, Versions: Versions{App: co.Version}, Commit: co.Commit}
	if _, err := Build(ctx, Local{}, req, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "build proj on local: "+want) {
		t.Errorf("build: got %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(debs), "built")); err == nil {
		t.Error("the builder ran")
	}
	if entries, _ := os.ReadDir(debs); len(entries) != 0 {
		t.Errorf("the debs path holds %v", entries)
	}
}

// A lock held for all of lockWait stops prepare and build with an error
// that names the lock and how to find its holder.
func TestLockHeldTooLong(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) (util-linux) is required")
	}
	proj := twoCommitProject(t)
	wd, debs := t.TempDir(), t.TempDir()
	ctx := context.Background()
	co, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer func(w time.Duration) { lockWait = w }(lockWait)
	lockWait = time.Second
	lock := WorkingCopyLock(wd, "proj")
	holder := exec.Command("flock", lock, "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); exec.Command("flock", "-n", lock, "true").Run() == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the holder never took the lock")
		}
	}
	want := "another prepare or build of proj on this host has held " + lock + " for 1s; see which with fuser -v " + lock + " on the host, stop it or let it finish, then run again"
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "v1.0.0", "0.0.1", io.Discard); err == nil || !strings.Contains(err.Error(), "prepare proj ("+proj+" at v1.0.0) on local: "+want) {
		t.Errorf("prepare: got %v, want %q", err, want)
	}
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand, Command: debScript, Versions: Versions{App: co.Version}, Commit: co.Commit}
	if _, err := Build(ctx, Local{}, req, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "build proj on local: "+want) {
		t.Errorf("build: got %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(debs), "built")); err == nil {
		t.Error("the builder ran")
	}
}
