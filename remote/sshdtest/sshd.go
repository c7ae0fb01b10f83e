// Package sshdtest runs a real OpenSSH sshd on 127.0.0.1 with throw-away
// keys, for the tests of cmd/git-gachette and for testdata/bench. It is
// not used by git-gachette itself.
package sshdtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Path is OpenSSH's server (Debian package openssh-server).
const Path = "/usr/sbin/sshd"

// Server is one sshd listening on 127.0.0.1:Port. Its files live in Dir.
type Server struct {
	Dir  string
	Port int
	cmd  *exec.Cmd
	seen int // bytes of sshd.log already counted
}

// Start starts sshd in dir (created) with a new host key, accepting the
// public key authorizedKey. env lines (NAME=value) are set for every
// session.
func Start(dir string, authorizedKey []byte, env ...string) (*Server, error) {
	if _, err := os.Stat(Path); err != nil {
		return nil, fmt.Errorf("%s is required: apt-get install openssh-server", Path)
	}
	s := &Server{Dir: dir}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := keygen(filepath.Join(dir, "host_key")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), authorizedKey, 0o600); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	setEnv := ""
	if len(env) > 0 {
		setEnv = "SetEnv " + strings.Join(env, " ") + "\n"
	}
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
%s`, s.Port, filepath.Join(dir, "host_key"), filepath.Join(dir, "sshd.pid"), filepath.Join(dir, "authorized_keys"), setEnv)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(config), 0o600); err != nil {
		return nil, err
	}
	return s, s.start()
}

func keygen(file string) error {
	if _, err := os.Stat(file); err == nil {
		return nil
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gachette-test", "-f", file).CombinedOutput(); err != nil {
		return fmt.Errorf("ssh-keygen: %v\n%s", err, out)
	}
	return nil
}

func (s *Server) start() error {
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return err
	}
	s.cmd = exec.Command(Path, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	log, err := os.Create(filepath.Join(s.Dir, "sshd.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	s.seen = 0
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
			s.Stop()
			return fmt.Errorf("sshd did not start listening on port %d: %s", s.Port, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills sshd and its per-connection sshd processes, so that
// connections drop as when the server dies. The commands those sessions
// run are left alone, as on a real host: they see their pipes close.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// The per-connection processes call setsid, so they are found by
	// parentage, before the listener dies and they are re-parented.
	sshds := descendants(s.cmd.Process.Pid, func(comm string) bool { return comm == "sshd" })
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
	for _, pid := range sshds {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// descendants lists the processes under pid (from /proc) whose command
// name is accepted by keep; the walk goes through every descendant.
func descendants(pid int, keep func(comm string) bool) []int {
	children := map[int][]int{}
	comms := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses
		i := bytes.LastIndexByte(stat, ')')
		j := bytes.IndexByte(stat, '(')
		if i < 0 || j < 0 || i < j {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], p)
		comms[p] = string(stat[j+1 : i])
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			if keep(comms[c]) {
				out = append(out, c)
			}
			walk(c)
		}
	}
	walk(pid)
	return out
}

// Running reports whether sshd is up.
func (s *Server) Running() bool { return s.cmd != nil }

// Restart starts a stopped sshd again on the same port, with a new host
// key when rekey is set.
func (s *Server) Restart(rekey bool) error {
	s.Stop()
	if rekey {
		os.Remove(filepath.Join(s.Dir, "host_key"))
		os.Remove(filepath.Join(s.Dir, "host_key.pub"))
		if err := keygen(filepath.Join(s.Dir, "host_key")); err != nil {
			return err
		}
	}
	return s.start()
}

// KnownHostsLine is the known_hosts line for the current host key.
func (s *Server) KnownHostsLine() (string, error) {
	pub, err := os.ReadFile(filepath.Join(s.Dir, "host_key.pub"))
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(pub))
	if len(f) < 2 {
		return "", errors.New("bad host_key.pub")
	}
	return fmt.Sprintf("[127.0.0.1]:%d %s %s\n", s.Port, f[0], f[1]), nil
}

// Mark forgets what sshd logged so far.
func (s *Server) Mark() error {
	data, err := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
	s.seen = len(data)
	return err
}

// Counts returns the connections accepted and the sessions started since
// the last Mark or Counts (from sshd's log: "Accepted publickey" once per
// connection, "Starting session" once per command), and that log text.
func (s *Server) Counts() (conns, sessions int, log string, err error) {
	data, err := os.ReadFile(filepath.Join(s.Dir, "sshd.log"))
	if err != nil {
		return 0, 0, "", err
	}
	if s.seen > len(data) {
		s.seen = 0
	}
	log = string(data[s.seen:])
	s.seen = len(data)
	return strings.Count(log, "Accepted publickey for "), strings.Count(log, "Starting session: command"), log, nil
}

// Client writes, under home, what an SSH client needs to reach s as the
// current user: a key pair in ~/.ssh/id_ed25519 (kept if present), a
// ~/.ssh/config with "Host buildhost", and a known_hosts that trusts s.
// It returns the user name and the public key.
func (s *Server) Client(home string) (userName string, err error) {
	ssh := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		return "", err
	}
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	config := fmt.Sprintf("Host buildhost\n\tHostName 127.0.0.1\n\tPort %d\n\tUser %s\n\tIdentityFile ~/.ssh/id_ed25519\n\tUserKnownHostsFile ~/.ssh/known_hosts\n", s.Port, u.Username)
	if err := os.WriteFile(filepath.Join(ssh, "config"), []byte(config), 0o600); err != nil {
		return "", err
	}
	line, err := s.KnownHostsLine()
	if err != nil {
		return "", err
	}
	return u.Username, os.WriteFile(filepath.Join(ssh, "known_hosts"), []byte(line), 0o600)
}

// UserKey makes ~/.ssh/id_ed25519 under home if it is missing and returns
// its public half.
func UserKey(home string) ([]byte, error) {
	ssh := filepath.Join(home, ".ssh")
	if err := os.MkdirAll(ssh, 0o700); err != nil {
		return nil, err
	}
	if err := keygen(filepath.Join(ssh, "id_ed25519")); err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(ssh, "id_ed25519.pub"))
}
