package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// crashRuns is how many processes the crash suite kills (it runs until
// that many were killed): a short run by default, GACHETTE_CRASH_RUNS=N
// for the long one.
func crashRuns() int {
	if n, err := strconv.Atoi(os.Getenv("GACHETTE_CRASH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 40
}

// crashOp is one git-gachette invocation of the crash suite.
type crashOp struct {
	kind string // add, create, push
	arg  string // the package, stack or pushed stack
	args []string
}

// cmdCrash runs `git-gachette stack add`, `stack create` and `push` again
// and again, killing each with SIGKILL at a random instant, and checks
// after every kill that each ref of both repositories resolves to a commit
// and that a lock left behind makes the next writer fail (never hang)
// with a message naming the lock file; the lock is then removed, as its
// message says. At the end every add, create and push that had exited 0
// must be there, and the next commands work.
//
//	crash STACKS REMOTE
func cmdCrash(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: crash STACKS REMOTE")
	}
	stacks, remote := ts.MkAbs(args[0]), ts.MkAbs(args[1])
	bin, err := exec.LookPath(filepath.Join(strings.Split(ts.Getenv("PATH"), ":")[0], "git-gachette"))
	if err != nil {
		ts.Fatalf("git-gachette is not on the script's PATH: %v", err)
	}
	env := []string{"HOME=" + ts.Getenv("HOME"), "PATH=" + ts.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GORACE=" + raceOptions(), "GACHETTE_STACKS=" + stacks}
	run := func(op crashOp) *exec.Cmd {
		cmd := exec.Command(bin, append([]string{"-q"}, op.args...)...)
		cmd.Env, cmd.Dir = env, stacks
		return cmd
	}

	// How long each kind of command takes unharmed (median of three): the
	// kill instants are drawn over the whole run, and at least 0–30 ms (a
	// race-instrumented binary is much slower than a normal one).
	window := map[string]time.Duration{}
	for j := 0; j < 3; j++ {
		for _, op := range []crashOp{
			{kind: "add", args: []string{"stack", "add", "s", fmt.Sprintf("dh-warm%d", j), "1.0", "warm.deb"}},
			{kind: "create", args: []string{"stack", "create", fmt.Sprintf("c-warm%d", j), "--from", "s"}},
			{kind: "push", args: []string{"push", fmt.Sprintf("c-warm%d", j), "--remote", remote}},
		} {
			start := time.Now()
			if out, err := run(op).CombinedOutput(); err != nil {
				ts.Fatalf("%s: %v\n%s", strings.Join(op.args, " "), err, out)
			}
			d := time.Since(start)
			if j == 1 {
				window[op.kind] = d
			} else if j == 2 { // the median of three, given the first two
				window[op.kind] = max(30*time.Millisecond, 6*medianOf3(window[op.kind+"0"], window[op.kind], d)/5)
			} else {
				window[op.kind+"0"] = d
			}
		}
	}

	n := crashRuns()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	var created []string           // stacks that exist, to push
	acked := map[string][]string{} // kind → args that exited 0
	var killed, finished, locks, runs int
	// Run until n processes have been killed: a command that finishes
	// before its kill instant still counts as a run.
	for i := 1; killed < n; i++ {
		if i > 20*n {
			ts.Fatalf("only %d of %d runs were killed before they finished: the kill windows (add %s, create %s, push %s) are too long for this machine", killed, i-1, window["add"], window["create"], window["push"])
		}
		runs = i
		var op crashOp
		switch k := rng.IntN(10); {
		case k < 5 || len(created) == 0 && k >= 8:
			name := fmt.Sprintf("dh-crash%d", i)
			op = crashOp{"add", name, []string{"stack", "add", "s", name, "1." + strconv.Itoa(i), name + ".deb"}}
		case k < 8:
			name := fmt.Sprintf("c-%d", i)
			op = crashOp{"create", name, []string{"stack", "create", name, "--from", "s"}}
		default:
			name := created[rng.IntN(len(created))]
			op = crashOp{"push", name, []string{"push", name, "--remote", remote}}
		}
		cmd := run(op)
		// the run's processes carry a mark, so that the git processes a
		// killed run leaves (update-ref, push, receive-pack) can be waited
		// for: until they have ended they may still take locks
		mark := fmt.Sprintf("GACHETTE_CRASH_RUN=%d-c%d", os.Getpid(), i)
		cmd.Env = append(cmd.Env, mark)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		ts.Check(cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Duration(rng.Int64N(int64(window[op.kind])))):
			cmd.Process.Signal(syscall.SIGKILL)
			err = <-done
		}
		var exit *exec.ExitError
		switch {
		case err == nil:
			finished++
			acked[op.kind] = append(acked[op.kind], op.arg)
		case errors.As(err, &exit) && exit.ProcessState.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
			killed++
		default:
			ts.Fatalf("run %d, %s (not killed) failed: %v\n%s", i, strings.Join(op.args, " "), err, out.String())
		}
		if op.kind == "create" && refExists(stacks, "refs/tags/main/"+op.arg) {
			created = append(created, op.arg)
		}
		// git update-ref, git push and C git's receive-pack outlive a
		// killed git-gachette for a while (they finish or fail on their
		// own, and take seconds when the machine is loaded); their locks
		// must go with them. (Checked before they had ended, a lock one of
		// them was about to take, or had not yet released, looked left
		// behind.)
		if left := waitMarkedGone(mark, 30*time.Second); len(left) > 0 {
			ts.Fatalf("run %d, %s: processes still running 30s after the kill: %v", i, strings.Join(op.args, " "), left)
		}
		checkRefsResolve(ts, stacks)
		checkRefsResolve(ts, remote)
		if left := lockFiles(remote); len(left) > 0 {
			ts.Fatalf("run %d, %s: C git left locks in the remote: %v", i, strings.Join(op.args, " "), left)
		}
		for _, lock := range lockFiles(stacks) {
			locks++
			checkStaleLock(ts, run, lock, i)
		}
	}
	ts.Logf("crash: %d runs, %d killed, %d finished before the kill, %d locks left and reported; kill windows add %s, create %s, push %s",
		runs, killed, finished, locks, window["add"].Round(time.Millisecond), window["create"].Round(time.Millisecond), window["push"].Round(time.Millisecond))

	// Everything acknowledged is there.
	names := lines(ts, stacks, "ls-tree", "--name-only", "refs/tags/main/s:packages")
	for _, p := range acked["add"] {
		if !names[p] {
			ts.Fatalf("%s was added (exit 0) but is not in stack s", p)
		}
	}
	for _, c := range acked["create"] {
		if !refExists(stacks, "refs/tags/main/"+c) {
			ts.Fatalf("stack %s was created (exit 0) but does not exist", c)
		}
	}
	for _, c := range acked["push"] {
		if a, b := revParse(stacks, "refs/tags/main/"+c), revParse(remote, "refs/tags/main/"+c); a == "" || a != b {
			ts.Fatalf("stack %s was pushed (exit 0) but the remote has %q, not %q", c, b, a)
		}
	}
	// The next commands work: add, create, push everything.
	for _, args := range [][]string{
		{"stack", "add", "s", "dh-after", "1.0", "after.deb"},
		{"stack", "create", "c-after", "--from", "s"},
		{"push", "--remote", remote},
	} {
		if out, err := run(crashOp{args: args}).CombinedOutput(); err != nil {
			ts.Fatalf("after the crashes, %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, c := range append(created, "s", "c-after") {
		if a, b := revParse(stacks, "refs/tags/main/"+c), revParse(remote, "refs/tags/main/"+c); a == "" || a != b {
			ts.Fatalf("after the final push, stack %s is %q here and %q in the remote", c, a, b)
		}
	}
}

// checkStaleLock checks that a lock left by a killed writer makes the next
// writer of that ref fail within seconds, naming the lock file and how to
// remove it; then removes it as the message says.
func checkStaleLock(ts *testscript.TestScript, run func(crashOp) *exec.Cmd, lock string, i int) {
	rel := filepath.ToSlash(lock)
	base := strings.TrimSuffix(filepath.Base(rel), ".lock")
	var args []string
	switch {
	case strings.HasSuffix(rel, "/refs/tags/main/s.lock"):
		args = []string{"stack", "add", "s", fmt.Sprintf("dh-probe%d", i), "1.0", "probe.deb"}
	case strings.Contains(rel, "/refs/tags/main/"): // a create killed before its rename
		args = []string{"stack", "create", base, "--from", "s"}
	case strings.Contains(rel, "/refs/gachette/published/main/"):
		args = []string{"push", base, "--remote", ts.MkAbs("remote.git")}
	default: // the domain branch, packed-refs: every create takes them
		args = []string{"stack", "create", fmt.Sprintf("probe-%d", i), "--from", "s"}
	}
	start := time.Now()
	out, err := run(crashOp{args: args}).CombinedOutput()
	took := time.Since(start)
	if err == nil {
		ts.Fatalf("run %d left %s, but %s succeeded:\n%s", i, lock, strings.Join(args, " "), out)
	}
	if !strings.Contains(string(out), lock) || !strings.Contains(string(out), "rm ") || took > 30*time.Second {
		ts.Fatalf("run %d left %s; %s failed after %s without naming it and how to remove it:\n%s", i, lock, strings.Join(args, " "), took, out)
	}
	ts.Check(os.Remove(lock))
}

func lockFiles(repo string) []string {
	var locks []string
	filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".lock") && !strings.Contains(p, "/objects/") {
			locks = append(locks, p)
		}
		return nil
	})
	sort.Strings(locks)
	return locks
}

// checkRefsResolve checks with C git that every ref of repo resolves: tags
// under a domain to annotated tags of commits, everything else to commits
// or tags.
func checkRefsResolve(ts *testscript.TestScript, repo string) {
	cmd := exec.Command("git", "-C", repo, "for-each-ref", "--format=%(refname) %(objecttype) %(*objecttype)")
	out, err := cmd.CombinedOutput()
	if err != nil {
		ts.Fatalf("git for-each-ref in %s: %v\n%s", repo, err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		switch {
		case len(f) == 3 && f[1] == "tag" && f[2] == "commit", len(f) == 2 && f[1] == "commit":
		default:
			ts.Fatalf("in %s, a ref does not resolve to a commit: %s", repo, l)
		}
	}
}

func refExists(repo, ref string) bool { return revParse(repo, ref) != "" }

func revParse(repo, ref string) string {
	out, err := exec.Command("git", "-C", repo, "rev-parse", "-q", "--verify", ref).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func lines(ts *testscript.TestScript, repo string, args ...string) map[string]bool {
	out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput()
	if err != nil {
		ts.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m[l] = true
	}
	return m
}

func medianOf3(a, b, c time.Duration) time.Duration {
	s := []time.Duration{a, b, c}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[1]
}
