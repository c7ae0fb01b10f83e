package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdCrashFetch runs `git-gachette fetch` again and again while the remote
// gains stacks, killing it with SIGKILL at a random instant, and sometimes
// its whole process group (git-gachette and its git update-ref, in the
// middle of committing the ref transaction; git fetch runs in a group of
// its own and finishes on its own). After every kill: every ref of LOCAL
// resolves, every stack present in LOCAL is sealed at the tag the remote
// has (it was fetched: LOCAL makes no stack of its own), and a lock left
// behind makes the next fetch that needs it fail within seconds naming it
// and how to remove it (it is then removed). At the end the next fetch completes and
// brings every stack, sealed.
//
//	crash-fetch LOCAL REMOTE
func cmdCrashFetch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: crash-fetch LOCAL REMOTE")
	}
	local, remote := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	bin, err := exec.LookPath(filepath.Join(strings.Split(ts.Getenv("PATH"), ":")[0], "git-gachette"))
	if err != nil {
		ts.Fatalf("git-gachette is not on the script's PATH: %v", err)
	}
	env := []string{"HOME=" + ts.Getenv("HOME"), "PATH=" + ts.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GORACE=" + raceOptions()}
	gachette := func(stacks string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"-q", "--stacks", stacks}, args...)...)
		cmd.Env, cmd.Dir = env, stacks
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		return cmd
	}
	fetch := func() *exec.Cmd { return gachette(local, "fetch", "--remote", remote) }
	// Each run's processes carry a mark in their environment, so that the
	// git processes a killed run leaves can be waited for.
	marked := func(i int) *exec.Cmd {
		cmd := fetch()
		cmd.Env = append(cmd.Env, fmt.Sprintf("GACHETTE_CRASH_RUN=%d-%d", os.Getpid(), i))
		return cmd
	}
	stack := 0
	grow := func(n int) {
		for j := 0; j < n; j++ {
			stack++
			args := []string{"stack", "create", fmt.Sprint(stack)}
			if stack > 1 {
				args = append(args, "--from", fmt.Sprint(stack-1))
			}
			if out, err := gachette(remote, args...).CombinedOutput(); err != nil {
				ts.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
			if out, err := gachette(remote, "stack", "add", fmt.Sprint(stack), fmt.Sprintf("dh-p%d", stack%7), fmt.Sprintf("1.%d", stack), "p.deb").CombinedOutput(); err != nil {
				ts.Fatalf("stack add: %v\n%s", err, out)
			}
		}
	}

	// How long a fetch of a few new stacks takes unharmed (median of 3).
	var took []time.Duration
	for j := 0; j < 3; j++ {
		grow(3)
		start := time.Now()
		if out, err := fetch().CombinedOutput(); err != nil {
			ts.Fatalf("fetch: %v\n%s", err, out)
		}
		took = append(took, time.Since(start))
	}
	window := max(30*time.Millisecond, 6*medianOf3(took[0], took[1], took[2])/5)

	n := crashRuns()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var killed, groups, finished, locks, runs int
	for i := 1; killed < n; i++ {
		if i > 20*n {
			ts.Fatalf("only %d of %d fetches were killed before they finished: the kill window (%s) is too long for this machine", killed, i-1, window)
		}
		runs = i
		grow(1 + rng.IntN(3))
		cmd := marked(i)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		ts.Check(cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		group := rng.IntN(3) == 0
		select {
		case err = <-done:
		case <-time.After(time.Duration(rng.Int64N(int64(window)))):
			if group {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			} else {
				cmd.Process.Signal(syscall.SIGKILL)
			}
			err = <-done
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished++
		case errors.As(err, &exit) && exit.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			killed++
			if group {
				groups++
			}
		default:
			ts.Fatalf("run %d, fetch (not killed) failed: %v\n%s", i, err, out.String())
		}
		// git fetch and update-ref outlive a killed git-gachette: they
		// finish on their own, and take their locks with them.
		if left := waitMarkedGone(fmt.Sprintf("GACHETTE_CRASH_RUN=%d-%d", os.Getpid(), i), 30*time.Second); len(left) > 0 {
			ts.Fatalf("run %d: processes still running 30s after the kill: %v", i, left)
		}
		checkRefsResolve(ts, local)
		checkFetchedSealed(ts, local, remote, i)
		for _, lock := range lockFiles(local) {
			locks++
			checkStaleFetchLock(ts, fetch, lock, i)
		}
	}
	ts.Logf("crash-fetch: %d runs, %d killed (%d with their process group), %d finished before the kill, %d locks left and reported; kill window %s",
		runs, killed, groups, finished, locks, window.Round(time.Millisecond))

	if out, err := fetch().CombinedOutput(); err != nil {
		ts.Fatalf("after the crashes, fetch: %v\n%s", err, out)
	}
	checkFetchedSealed(ts, local, remote, runs+1)
	for s := 1; s <= stack; s++ {
		if revParse(local, fmt.Sprintf("refs/tags/main/%d", s)) == "" {
			ts.Fatalf("after the last fetch, stack main/%d of the remote is not here", s)
		}
	}
}

// checkFetchedSealed checks that every stack in local is the remote's and
// is sealed at that tag object.
func checkFetchedSealed(ts *testscript.TestScript, local, remote string, run int) {
	out, err := exec.Command("git", "-C", local, "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/", "refs/gachette/published/").Output()
	ts.Check(err)
	tags, sealed := map[string]string{}, map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		h, name, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		if rest, ok := strings.CutPrefix(name, "refs/tags/"); ok {
			tags[rest] = h
		} else if rest, ok := strings.CutPrefix(name, "refs/gachette/published/"); ok {
			sealed[rest] = h
		}
	}
	for s, h := range tags {
		if sealed[s] != h {
			ts.Fatalf("run %d: stack %s is here (tag %s) but sealed at %q", run, s, h, sealed[s])
		}
		if theirs := revParse(remote, "refs/tags/"+s); theirs != h {
			ts.Fatalf("run %d: stack %s is here as %s, the remote has %q", run, s, h, theirs)
		}
	}
}

// checkStaleFetchLock checks that a lock left by a killed fetch (git
// update-ref killed in the middle of its transaction) makes the next
// fetch fail within seconds, naming it and how to remove it, when that
// fetch needs the ref (a fetch that does not need it succeeds: it is then
// a later write of that ref that names it); then removes it as the
// message says.
func checkStaleFetchLock(ts *testscript.TestScript, fetch func() *exec.Cmd, lock string, i int) {
	start := time.Now()
	out, err := fetch().CombinedOutput()
	took := time.Since(start)
	if err != nil && (!strings.Contains(string(out), lock) || !strings.Contains(string(out), "rm ")) || took > 30*time.Second {
		ts.Fatalf("run %d left %s; the next fetch failed after %s without naming it and how to remove it:\n%s", i, lock, took, out)
	}
	if err := os.Remove(lock); err != nil && !errors.Is(err, os.ErrNotExist) {
		ts.Fatalf("%v", err)
	}
}

// waitMarkedGone waits until no process has mark (NAME=value) in its
// environment, and returns the command lines of those still there after
// limit.
func waitMarkedGone(mark string, limit time.Duration) []string {
	needle := []byte("\x00" + mark + "\x00")
	for deadline := time.Now().Add(limit); ; time.Sleep(10 * time.Millisecond) {
		var left []string
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if e.Name()[0] < '0' || e.Name()[0] > '9' {
				continue
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil || !bytes.Contains(append([]byte{0}, env...), needle) {
				continue
			}
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			left = append(left, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}
