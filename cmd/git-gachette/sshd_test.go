package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ops-hero/git-gachette/remote/sshdtest"
)

var (
	sshdMu      sync.Mutex
	sshdServers = map[string]*sshdtest.Server{} // by $WORK
)

// cmdSshd drives a real OpenSSH sshd on 127.0.0.1 (remote/sshdtest):
//
//	start [NAME=value...]
//	       start it with throw-away keys, setting NAME=value in every
//	       session; write ~/.ssh/config (Host buildhost), the user key and
//	       known_hosts; set SSHD_PORT, SSH_USER
//	stop   kill it (connections drop, new ones are refused)
//	restart
//	       start it again on the same port with the same host key
//	rekey  restart it on the same port with a new host key
//	agent  start an ssh-agent holding ~/.ssh/id_ed25519 (sets SSH_AUTH_SOCK)
//	mark   forget what sshd logged so far
//	count CONNECTIONS SESSIONS
//	       check the connections accepted and sessions started since the
//	       last mark or count (from sshd's own log)
func cmdSshd(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: sshd start [NAME=value...]|stop|restart|rekey|agent|mark|count CONNECTIONS SESSIONS"
	if neg || len(args) == 0 {
		ts.Fatalf("%s", usage)
	}
	work := ts.Getenv("WORK")
	sshdMu.Lock()
	s := sshdServers[work]
	sshdMu.Unlock()
	if s == nil && args[0] != "start" {
		ts.Fatalf("sshd is not running")
	}
	switch {
	case args[0] == "start":
		home := ts.Getenv("HOME")
		pub, err := sshdtest.UserKey(home)
		ts.Check(err)
		// the script's home on the build host too (not the machine's);
		// submodules of the test projects are local paths
		env := append([]string{"HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.file.allow", "GIT_CONFIG_VALUE_0=always"}, args[1:]...)
		s, err = sshdtest.Start(filepath.Join(work, ".sshd"), pub, env...)
		ts.Check(err)
		sshdMu.Lock()
		sshdServers[work] = s
		sshdMu.Unlock()
		ts.Defer(func() {
			s.Stop()
			sshdMu.Lock()
			delete(sshdServers, work)
			sshdMu.Unlock()
		})
		u, err := s.Client(home)
		ts.Check(err)
		ts.Setenv("SSHD_PORT", strconv.Itoa(s.Port))
		ts.Setenv("SSH_USER", u)
	case args[0] == "stop" && len(args) == 1:
		s.Stop()
	case args[0] == "restart" && len(args) == 1:
		ts.Check(s.Restart(false))
	case args[0] == "rekey" && len(args) == 1:
		ts.Check(s.Restart(true))
	case args[0] == "mark" && len(args) == 1:
		ts.Check(s.Mark())
	case args[0] == "count" && len(args) == 3:
		conns, sessions, log, err := s.Counts()
		ts.Check(err)
		if strconv.Itoa(conns) != args[1] || strconv.Itoa(sessions) != args[2] {
			ts.Fatalf("sshd saw %d connection(s) and %d session(s), want %s and %s:\n%s", conns, sessions, args[1], args[2], log)
		}
		ts.Logf("sshd: %d connection(s), %d session(s)", conns, sessions)
	case args[0] == "agent" && len(args) == 1:
		startAgent(ts, work)
	default:
		ts.Fatalf("%s", usage)
	}
}

// startAgent runs an ssh-agent for the rest of the script, holding the
// user key.
func startAgent(ts *testscript.TestScript, work string) {
	sock := filepath.Join(work, ".agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	ts.Check(agent.Start())
	ts.Defer(func() { agent.Process.Kill(); agent.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("ssh-agent did not make %s", sock)
		}
		time.Sleep(10 * time.Millisecond)
	}
	add := exec.Command("ssh-add", "-q", filepath.Join(ts.Getenv("HOME"), ".ssh", "id_ed25519"))
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		ts.Fatalf("ssh-add: %v\n%s", err, out)
	}
	ts.Setenv("SSH_AUTH_SOCK", sock)
}

// cmdWaitFile waits (up to 60 s) until a file exists: a background
// command has reached the point the script wants to interrupt.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitfile PATH")
	}
	p := ts.MkAbs(args[0])
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 60s", args[0])
		}
	}
}
