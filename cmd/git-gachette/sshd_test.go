package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// sshdPath is OpenSSH's server; .ci/run installs it (openssh-server).
const sshdPath = "/usr/sbin/sshd"

// sshServer is a real OpenSSH sshd on 127.0.0.1 that a script starts with
// throw-away host and user keys, its own known_hosts and ~/.ssh/config
// (Host buildhost), and stops when the script ends.
type sshServer struct {
	dir  string
	port int
	cmd  *exec.Cmd
	seen int // bytes of sshd.log already counted by "sshd count"
}

var (
	sshdMu      sync.Mutex
	sshdServers = map[string]*sshServer{} // by $WORK
)

// cmdSshd: sshd start | stop | rekey | mark | count CONNECTIONS SESSIONS.
//
//	start  start sshd (and write ~/.ssh/config, keys and known_hosts)
//	stop   kill it (connections drop, new ones are refused)
//	rekey  restart it on the same port with a new host key
//	agent  start an ssh-agent holding ~/.ssh/id_ed25519 (sets SSH_AUTH_SOCK)
//	mark   forget what sshd logged so far
//	count  check the connections accepted and sessions started since the
//	       last mark or count (from sshd's own log)
func cmdSshd(ts *testscript.TestScript, neg bool, args []string) {
	if !neg && len(args) == 3 && args[0] == "count" {
		sshdMu.Lock()
		s := sshdServers[ts.Getenv("WORK")]
		sshdMu.Unlock()
		if s == nil {
			ts.Fatalf("sshd is not running")
		}
		s.count(ts, args[1], args[2])
		return
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sshd start|stop|rekey|count CONNECTIONS SESSIONS")
	}
	work := ts.Getenv("WORK")
	sshdMu.Lock()
	s := sshdServers[work]
	sshdMu.Unlock()
	switch args[0] {
	case "start":
		if _, err := os.Stat(sshdPath); err != nil {
			ts.Fatalf("%s is required for the SSH tests: apt-get install openssh-server", sshdPath)
		}
		s = &sshServer{dir: filepath.Join(work, ".sshd")}
		ts.Check(os.MkdirAll(s.dir, 0o700))
		s.keygen(ts, "host_key")
		home := ts.Getenv("HOME")
		ssh := filepath.Join(home, ".ssh")
		ts.Check(os.MkdirAll(ssh, 0o700))
		if _, err := os.Stat(filepath.Join(ssh, "id_ed25519")); err != nil {
			run(ts, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gachette-test", "-f", filepath.Join(ssh, "id_ed25519"))
		}
		pub, err := os.ReadFile(filepath.Join(ssh, "id_ed25519.pub"))
		ts.Check(err)
		ts.Check(os.WriteFile(filepath.Join(s.dir, "authorized_keys"), pub, 0o600))
		s.port = freePort(ts)
		s.start(ts)
		u, err := user.Current()
		ts.Check(err)
		config := fmt.Sprintf("Host buildhost\n\tHostName 127.0.0.1\n\tPort %d\n\tUser %s\n\tIdentityFile ~/.ssh/id_ed25519\n\tUserKnownHostsFile ~/.ssh/known_hosts\n", s.port, u.Username)
		ts.Check(os.WriteFile(filepath.Join(ssh, "config"), []byte(config), 0o600))
		s.trust(ts, filepath.Join(ssh, "known_hosts"))
		ts.Setenv("SSHD_PORT", strconv.Itoa(s.port))
		ts.Setenv("SSH_USER", u.Username)
		sshdMu.Lock()
		sshdServers[work] = s
		sshdMu.Unlock()
		ts.Defer(func() {
			s.stop()
			sshdMu.Lock()
			delete(sshdServers, work)
			sshdMu.Unlock()
		})
	case "stop":
		if s == nil {
			ts.Fatalf("sshd is not running")
		}
		s.stop()
	case "agent":
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
	case "mark":
		if s == nil {
			ts.Fatalf("sshd is not running")
		}
		data, err := os.ReadFile(filepath.Join(s.dir, "sshd.log"))
		ts.Check(err)
		s.seen = len(data)
	case "rekey":
		if s == nil {
			ts.Fatalf("sshd is not running")
		}
		s.stop()
		ts.Check(os.Remove(filepath.Join(s.dir, "host_key")))
		s.keygen(ts, "host_key")
		s.start(ts)
	default:
		ts.Fatalf("usage: sshd start|stop|rekey|mark|count CONNECTIONS SESSIONS")
	}
}

func (s *sshServer) keygen(ts *testscript.TestScript, name string) {
	if _, err := os.Stat(filepath.Join(s.dir, name)); err == nil {
		return
	}
	run(ts, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(s.dir, name))
}

// trust writes the host key into known_hosts, as ssh would after a first
// accepted connection.
func (s *sshServer) trust(ts *testscript.TestScript, knownHosts string) {
	pub, err := os.ReadFile(filepath.Join(s.dir, "host_key.pub"))
	ts.Check(err)
	f := strings.Fields(string(pub))
	line := fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.port, f[0], f[1])
	ts.Check(os.WriteFile(knownHosts, []byte(line), 0o600))
}

func (s *sshServer) start(ts *testscript.TestScript) {
	ts.Check(os.MkdirAll("/run/sshd", 0o755))
	config := fmt.Sprintf(`ListenAddress 127.0.0.1
Port %d
HostKey %s
PidFile %s
AuthorizedKeysFile %s
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
AllowAgentForwarding yes
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
# submodules of the test projects are local paths
SetEnv GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=protocol.file.allow GIT_CONFIG_VALUE_0=always
`, s.port, filepath.Join(s.dir, "host_key"), filepath.Join(s.dir, "sshd.pid"), filepath.Join(s.dir, "authorized_keys"))
	conf := filepath.Join(s.dir, "sshd_config")
	ts.Check(os.WriteFile(conf, []byte(config), 0o600))
	s.cmd = exec.Command(sshdPath, "-D", "-e", "-f", conf)
	log, err := os.Create(filepath.Join(s.dir, "sshd.log"))
	s.seen = 0
	ts.Check(err)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	ts.Check(s.cmd.Start())
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(s.dir, "sshd.log"))
			ts.Fatalf("sshd did not start listening on port %d: %s", s.port, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills sshd and every session it started.
func (s *sshServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
	// The per-connection sshd processes outlive the listener: end them too,
	// so "connection dropped" really drops.
	exec.Command("pkill", "-KILL", "-f", "sshd: .*@notty").Run()
	exec.Command("pkill", "-KILL", "-f", filepath.Join(s.dir, "sshd_config")).Run()
}

// count compares what sshd logged since the last count: "Accepted
// publickey" once per connection, "Starting session" once per command.
func (s *sshServer) count(ts *testscript.TestScript, conns, sessions string) {
	data, err := os.ReadFile(filepath.Join(s.dir, "sshd.log"))
	ts.Check(err)
	if s.seen > len(data) {
		s.seen = 0
	}
	fresh := string(data[s.seen:])
	s.seen = len(data)
	got := fmt.Sprintf("%d %d", strings.Count(fresh, "Accepted publickey for "), strings.Count(fresh, "Starting session: command"))
	want := conns + " " + sessions
	if got != want {
		ts.Fatalf("sshd saw %s connection(s) and session(s), want %s:\n%s", got, want, fresh)
	}
	ts.Logf("sshd: %s connection(s), %s session(s)", conns, sessions)
}

func freePort(ts *testscript.TestScript) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func run(ts *testscript.TestScript, name string, args ...string) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		ts.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
