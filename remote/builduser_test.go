package remote

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testBuildUser is the user the builder runs as in these tests
// (gachette.buildUser), made with useradd as root, and removed at the
// end if these tests made it.
const testBuildUser = "gachette-rtest"

var buildUserState struct {
	once    sync.Once
	err     error
	created bool
}

// needBuildUser makes the build user once. Making a user takes root: CI
// runs as root; elsewhere the test is skipped, like the other tests that
// give files away.
func needBuildUser(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a build user is made with useradd, as root (CI runs as root)")
	}
	for _, tool := range []string{"sudo", "useradd", "userdel", "truncate"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required for the build user tests: apt-get install sudo passwd coreutils", tool)
		}
	}
	buildUserState.once.Do(func() {
		if _, err := user.Lookup(testBuildUser); err == nil {
			return
		}
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/bin/sh", testBuildUser).CombinedOutput()
		if err != nil {
			buildUserState.err = fmt.Errorf("useradd %s: %v\n%s", testBuildUser, err, out)
			return
		}
		buildUserState.created = true
	})
	if buildUserState.err != nil {
		t.Fatal(buildUserState.err)
	}
	return testBuildUser
}

// removeBuildUser removes the build user if the tests made it.
func removeBuildUser() {
	if buildUserState.created {
		exec.Command("pkill", "-KILL", "-u", testBuildUser).Run()
		exec.Command("userdel", testBuildUser).Run()
	}
}

// openUp lets other users through the directories above dir (t.TempDir
// makes them 0700): the layout of a host where the build user may read
// the work directory and the debs path, but not write them.
func openUp(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// With a build user, the builder runs as that user, on a copy of the
// tree; the .debs it makes are recorded as made.
func TestBuildUserBuilds(t *testing.T) {
	u := needBuildUser(t)
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, "id -un\npwd\n"+makeDeb)
		openUp(t, p.url)
		co := p.prepare("main")
		req := p.request(co)
		req.BuildUser = u
		var log bytes.Buffer
		res, err := p.build(context.Background(), req, &log)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		checkRecorded(t, p.debs, res.Debs)
		lines := strings.Split(log.String(), "\n")
		if lines[0] != u || !strings.HasPrefix(lines[1], "/tmp/gachette-build.") {
			t.Errorf("the builder ran as %q in %q", lines[0], lines[1])
		}
		if left, _ := filepath.Glob(filepath.Join(os.TempDir(), "gachette-build.*", "src", "build.sh")); len(left) > 0 {
			t.Errorf("build directories left: %v", left)
		}
	})
}

// A builder running as the build user can write nothing that matters:
// not the debs path (a .deb a stack records, a new one, the staging
// directory), not its working copy or its objects, not the SSH user's
// files, not the check's output; nor can a process it leaves running,
// later. The build records exactly what it made.
func TestBuildUserCannotTouch(t *testing.T) {
	u := needBuildUser(t)
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "attacker-1013")
		p := newProject(t, h, makeDeb)
		openUp(t, p.url)
		co := p.prepare("main")
		first, err := p.build(context.Background(), p.request(co), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		published := filepath.Join(p.debs, first.Debs[0].Filename)
		sum := fileSHA256(t, published)
		wc := WorkingCopy(p.wd, "app")
		obj := strings.TrimSpace(git(t, wc, "rev-parse", "HEAD:build.sh"))
		objFile := filepath.Join(wc, ".git", "objects", obj[:2], obj[2:])
		keys := filepath.Join(t.TempDir(), "authorized_keys")
		os.WriteFile(keys, []byte("ssh-ed25519 AAAA mine\n"), 0o644)
		openUp(t, filepath.Dir(keys))
		attack := fmt.Sprintf(`attack() {
	for f in %[1]q %[2]q %[3]q %[4]q %[5]q; do
		echo evil >>"$f" 2>/dev/null && echo "wrote $f"
	done
	for d in %[6]q/.gachette/staging/*; do
		echo evil >"$d/evil.deb" 2>/dev/null && echo "wrote $d"
	done
	for fd in /proc/[0-9]*/fd/1; do
		printf 'checked\nmoved\n' >"$fd" 2>/dev/null
	done
	git -C %[7]q tag v99.0.0 2>/dev/null && echo "tagged"
}
attack
(setsid sh -c 'i=0; while [ $i -lt 30 ]; do sleep 0.1; attack; i=$((i+1)); done' attacker-1013 >/dev/null 2>&1 &)
`, published, filepath.Join(p.debs, "dh-new_1_all.deb"), filepath.Join(wc, "build.sh"), objFile, keys, p.debs, wc)
		req := p.request(co)
		req.BuildUser = u
		req.Command = `. ./attack.sh; sh build.sh # as the build user`
		p.commitFile("attack.sh", attack)
		co = p.prepare("main")
		req.Commit, req.Versions.App = co.Commit, co.Version
		var log bytes.Buffer
		res, err := p.build(context.Background(), req, &log)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		if strings.Contains(log.String(), "wrote ") || strings.Contains(log.String(), "tagged") {
			t.Errorf("the builder wrote where it should not:\n%s", log.String())
		}
		checkRecorded(t, p.debs, res.Debs)
		// what it left running is gone: no later build meets it
		if left := processesOf(u); len(left) > 0 {
			t.Errorf("processes of the build user left: %v", left)
		}
		time.Sleep(3500 * time.Millisecond) // had it stayed, it would have tried for 3 s
		if got := fileSHA256(t, published); got != sum {
			t.Errorf("%s changed", published)
		}
		if _, err := os.Stat(filepath.Join(p.debs, "dh-new_1_all.deb")); err == nil {
			t.Error("a .deb was planted in the debs path")
		}
		if data, _ := os.ReadFile(keys); string(data) != "ssh-ed25519 AAAA mine\n" {
			t.Errorf("the SSH user's keys: %q", data)
		}
		if out := git(t, wc, "fsck", "--no-dangling"); out != "" {
			t.Errorf("the working copy's objects: %s", out)
		}
		if tags := git(t, wc, "tag"); tags != "v1.0.0\n" {
			t.Errorf("tags: %q", tags)
		}
	})
}

// Cancelled, a build user's build stops, with everything it started, on
// the host; its build directory goes too.
func TestBuildUserCancelled(t *testing.T) {
	u := needBuildUser(t)
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "sleep 1014.25")
		p := newProject(t, h, makeDeb+"echo started\nsetsid sleep 1014.25 &\nsleep 1014.25\n")
		openUp(t, p.url)
		co := p.prepare("main")
		req := p.request(co)
		req.BuildUser = u
		ctx, cancel := context.WithCancel(context.Background())
		log := &waitWriter{want: "started", seen: make(chan struct{})}
		errc := make(chan error, 1)
		go func() {
			_, err := p.build(ctx, req, log)
			errc <- err
		}()
		select {
		case <-log.seen:
		case <-time.After(time.Minute):
			t.Fatal("the builder did not start")
		}
		cancel()
		select {
		case <-errc:
		case <-time.After(time.Minute):
			t.Fatal("the build went on after it was cancelled")
		}
		for deadline := time.Now().Add(5 * time.Second); len(processesLike("sleep 1014.25")) > 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				// the one in a session of its own, holding the output, is
				// killed too
				t.Fatalf("still running: %v", processesLike("sleep 1014.25"))
			}
		}
		checkNoFiles(t, p.debs)
	})
}

// A build user that cannot be used says so, with what to do.
func TestBuildUserMissing(t *testing.T) {
	needBuildUser(t)
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		req := p.request(co)
		req.BuildUser = "gachette-nosuchuser"
		_, err := p.build(context.Background(), req, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "running as the build user gachette-nosuchuser failed (see the message above): the SSH user must be able to run commands as gachette-nosuchuser without a password") {
			t.Fatalf("got %v", err)
		}
		checkNoFiles(t, p.debs)
	})
}

// waitWriter closes seen once a line holding want was written.
type waitWriter struct {
	mu   sync.Mutex
	want string
	seen chan struct{}
	buf  bytes.Buffer
	done bool
}

func (w *waitWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

// processesOf lists the live processes of a user (zombies are dead: a
// container's pid 1 may not reap them).
func processesOf(name string) []string {
	out, _ := exec.Command("ps", "-o", "pid=,stat=,args=", "-u", name).Output()
	var live []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && !strings.HasPrefix(f[1], "Z") {
			live = append(live, l)
		}
	}
	return live
}
