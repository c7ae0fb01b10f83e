package main

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

var (
	interruptedMu   sync.Mutex
	interruptedCmds = map[string][]*exec.Cmd{} // by $WORK
)

// cmdInterrupt sends a signal to the commands the script runs in the
// background, as Ctrl-C (INT) or kill (TERM) would, and remembers them
// for exitcode. Any of them still running a minute later is killed, so
// that a command that ignores the signal fails the test rather than
// hanging it.
//
//	interrupt INT|TERM
func cmdInterrupt(ts *testscript.TestScript, neg bool, args []string) {
	sigs := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM}
	sig, ok := sigs[args[0]]
	if neg || len(args) != 1 || !ok {
		ts.Fatalf("usage: interrupt INT|TERM")
	}
	cmds := ts.BackgroundCmds()
	if len(cmds) == 0 {
		ts.Fatalf("interrupt: no command runs in the background")
	}
	for _, c := range cmds {
		ts.Check(c.Process.Signal(sig))
		pid := c.Process.Pid
		time.AfterFunc(time.Minute, func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
	interruptedMu.Lock()
	interruptedCmds[ts.Getenv("WORK")] = cmds
	interruptedMu.Unlock()
}

// cmdExitCode checks, after wait, the exit status of the commands
// interrupt signalled.
//
//	exitcode N
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: exitcode N")
	}
	interruptedMu.Lock()
	cmds := interruptedCmds[ts.Getenv("WORK")]
	interruptedMu.Unlock()
	for _, c := range cmds {
		if c.ProcessState == nil {
			ts.Fatalf("exitcode: run wait first")
		}
		if got := strconv.Itoa(c.ProcessState.ExitCode()); got != args[0] {
			ts.Fatalf("%s exited with %s (%s), want %s", c.Path, got, c.ProcessState, args[0])
		}
	}
}

// cmdNotRunning checks that, within 10 seconds, no process runs whose
// command line holds TEXT (a builder's, after it was stopped).
//
//	not-running TEXT
func cmdNotRunning(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: not-running TEXT")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left := processesLike(args[0])
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			ts.Fatalf("still running 10s later: %d process(es) like %q", len(left), args[0])
		}
	}
}

// processesLike lists the processes whose command line holds s.
func processesLike(s string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Contains(cmdline, []byte(s)) {
			out = append(out, pid)
		}
	}
	return out
}
