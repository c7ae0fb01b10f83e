package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kevinburke/ssh_config"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// SSHOptions says how to reach a build host.
type SSHOptions struct {
	// Host is [user@]host[:port] or an ~/.ssh/config alias.
	Host string
	// AcceptNew adds the key of a host not yet in known_hosts (never a
	// changed key), like StrictHostKeyChecking=accept-new.
	AcceptNew bool
	// ForwardAgent forwards the local ssh-agent to build commands.
	ForwardAgent bool
	// ConnectTimeout bounds the TCP connection and SSH handshake.
	ConnectTimeout time.Duration
	// KeepAlive is the interval of keep-alive probes; a connection that
	// misses two in a row is closed.
	KeepAlive time.Duration
	// Env reads the environment (HOME, SSH_AUTH_SOCK, USER).
	Env func(string) string
}

// SSH runs scripts on a build host over one SSH connection, shared by every
// step and by concurrent sessions.
type SSH struct {
	client  *ssh.Client
	host    string
	forward bool
	// forwarded is set once sshd granted agent forwarding: it grants it
	// once per connection ("authentication forwarding requested twice"),
	// and every later session of the connection gets SSH_AUTH_SOCK.
	forwardMu sync.Mutex
	forwarded bool
	done      chan struct{}
	once      sync.Once
	// dead is set by the keep-alive loop when the connection stopped answering.
	mu   sync.Mutex
	dead error
}

// sshTarget is the resolved address, user and files for a host.
type sshTarget struct {
	alias, hostname, user, port string
	identityFiles               []string
	knownHosts                  []string
	strict                      string
	forwardAgent                bool
}

func (t sshTarget) addr() string { return net.JoinHostPort(t.hostname, t.port) }

// String is how the host is named in messages.
func (t sshTarget) String() string {
	return t.user + "@" + t.addr()
}

// CheckHost checks the syntax of a build host string: local, or
// [user@]host[:port] where host is a name, an address or an ~/.ssh/config
// alias. It reads no file and opens no connection.
func CheckHost(host string) error {
	if host == "local" {
		return nil
	}
	_, _, _, err := splitHost(host)
	return err
}

// splitHost reads [user@]host[:port].
func splitHost(host string) (user, alias, port string, err error) {
	if host == "" {
		return "", "", "", fmt.Errorf("host is empty")
	}
	if len(host) > 255 {
		return "", "", "", fmt.Errorf("host %q is longer than 255 bytes", termtext.Shorten(host))
	}
	rest := host
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		user, rest = rest[:i], rest[i+1:]
		if user == "" {
			return "", "", "", fmt.Errorf("host %q has an empty user name before '@'", host)
		}
	}
	alias = rest
	if h, p, err := net.SplitHostPort(rest); err == nil {
		alias, port = h, p
	} else if strings.Count(rest, ":") == 1 {
		return "", "", "", fmt.Errorf("host %q: the port after ':' is not a number", host)
	}
	if !validHostName(alias) || strings.ContainsAny(user, " \t\n\x00'\"$`;|&<>()\\") || strings.HasPrefix(user, "-") {
		return "", "", "", fmt.Errorf("host %q is not [user@]host[:port] or an ~/.ssh/config alias", host)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", "", fmt.Errorf("host %q: port %q is not between 1 and 65535", host, port)
		}
	}
	return user, alias, port, nil
}

// resolveTarget reads host as [user@]host[:port] and completes it from
// ~/.ssh/config and /etc/ssh/ssh_config, as ssh does (the first value
// found wins; what the host string says wins over both).
func resolveTarget(host string, env func(string) string) (sshTarget, error) {
	var t sshTarget
	user, alias, port, err := splitHost(host)
	if err != nil {
		return t, err
	}
	t.user, t.port, t.alias = user, port, alias
	home := sshHome(env)
	var configs []*ssh_config.Config
	for _, f := range []string{filepath.Join(home, ".ssh", "config"), "/etc/ssh/ssh_config"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		c, err := ssh_config.DecodeBytes(data)
		if err != nil {
			return t, fmt.Errorf("cannot parse %s: %v", f, err)
		}
		configs = append(configs, c)
	}
	get := func(key string) string {
		for _, c := range configs {
			if v, err := c.Get(alias, key); err == nil && v != "" {
				return v
			}
		}
		return ssh_config.Default(key)
	}
	getAll := func(key string) []string {
		for _, c := range configs {
			if v, err := c.GetAll(alias, key); err == nil && len(v) > 0 {
				return v
			}
		}
		return nil
	}
	t.hostname = strings.ReplaceAll(get("HostName"), "%h", alias)
	if t.hostname == "" {
		t.hostname = alias
	}
	if t.user == "" {
		t.user = get("User")
	}
	if t.user == "" {
		t.user = localUser(env)
	}
	if t.port == "" {
		t.port = get("Port")
	}
	if t.port == "" {
		t.port = "22"
	}
	expand := func(p string) string {
		p = strings.NewReplacer("%d", home, "%u", localUser(env), "%h", t.hostname, "%r", t.user, "%%", "%").Replace(p)
		if strings.HasPrefix(p, "~/") {
			p = filepath.Join(home, p[2:])
		}
		return p
	}
	for _, f := range getAll("IdentityFile") {
		t.identityFiles = append(t.identityFiles, expand(f))
	}
	if len(t.identityFiles) == 0 {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			t.identityFiles = append(t.identityFiles, filepath.Join(home, ".ssh", n))
		}
	}
	for _, f := range strings.Fields(get("UserKnownHostsFile")) {
		t.knownHosts = append(t.knownHosts, expand(f))
	}
	if len(t.knownHosts) == 0 {
		t.knownHosts = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	t.strict = strings.ToLower(get("StrictHostKeyChecking"))
	t.forwardAgent = strings.EqualFold(get("ForwardAgent"), "yes")
	return t, nil
}

// validHostName accepts host names, aliases and IP addresses: letters,
// digits, '.', '-', '_' and the ':' of an IPv6 address; never a leading '-'.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 || h[0] == '-' {
		return false
	}
	for _, r := range h {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' || r == ':') {
			return false
		}
	}
	return true
}

func sshHome(env func(string) string) string {
	if h := env("HOME"); h != "" {
		return h
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return "/"
}

func localUser(env func(string) string) string {
	if u := env("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "root"
}

// DialSSH connects to a build host: ssh-agent keys first, then identity
// files; the host key checked against known_hosts.
func DialSSH(ctx context.Context, o SSHOptions) (*SSH, error) {
	if o.Env == nil {
		o.Env = os.Getenv
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 15 * time.Second
	}
	if o.KeepAlive == 0 {
		o.KeepAlive = 5 * time.Second
	}
	t, err := resolveTarget(o.Host, o.Env)
	if err != nil {
		return nil, err
	}
	auth, ag, err := authMethods(t, o.Env)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t, err)
	}
	hostKeys, algos, err := hostKeyCheck(t, o.AcceptNew || t.strict == "accept-new" || t.strict == "no" || t.strict == "off")
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t, err)
	}
	cfg := &ssh.ClientConfig{
		User:              t.user,
		Auth:              auth,
		HostKeyCallback:   hostKeys,
		HostKeyAlgorithms: algos,
		Timeout:           o.ConnectTimeout,
	}
	dialer := net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 15 * time.Second}
	dctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	defer cancel()
	conn, err := dialer.DialContext(dctx, "tcp", t.addr())
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", t, unwrapNet(err))
	}
	conn.SetDeadline(time.Now().Add(o.ConnectTimeout))
	c, chans, reqs, err := ssh.NewClientConn(conn, t.addr(), cfg)
	if err != nil {
		conn.Close()
		var hk *hostKeyError
		if errors.As(err, &hk) {
			return nil, fmt.Errorf("connect to %s: %w", t, hk)
		}
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("connect to %s: authentication failed for user %s (tried %s); is your public key in ~%s/.ssh/authorized_keys there?",
				t, t.user, describeAuth(ag != nil, t.identityFiles), t.user)
		}
		return nil, fmt.Errorf("connect to %s: ssh handshake: %w", t, err)
	}
	conn.SetDeadline(time.Time{})
	s := &SSH{client: ssh.NewClient(c, chans, reqs), host: t.String(), done: make(chan struct{})}
	if o.ForwardAgent || t.forwardAgent {
		if ag == nil {
			s.Close()
			return nil, fmt.Errorf("connect to %s: agent forwarding is on but no ssh-agent is running (SSH_AUTH_SOCK is unset)", t)
		}
		if err := agent.ForwardToAgent(s.client, ag); err != nil {
			s.Close()
			return nil, fmt.Errorf("connect to %s: agent forwarding: %w", t, err)
		}
		s.forward = true
	}
	go s.keepAlive(o.KeepAlive)
	return s, nil
}

// requestForwarding asks sshd, on the connection's first session, to
// forward the agent.
func (s *SSH) requestForwarding(sess *ssh.Session) error {
	if !s.forward {
		return nil
	}
	s.forwardMu.Lock()
	defer s.forwardMu.Unlock()
	if s.forwarded {
		return nil
	}
	if err := agent.RequestAgentForwarding(sess); err != nil {
		return fmt.Errorf("agent forwarding: %w (is AllowAgentForwarding off in its sshd_config?)", err)
	}
	s.forwarded = true
	return nil
}

// unwrapNet reduces a dial error to its cause ("connection refused",
// "i/o timeout", "no such host").
func unwrapNet(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) && sys.Err != nil {
		err = sys.Err
	}
	return err
}

func describeAuth(agent bool, files []string) string {
	var parts []string
	if agent {
		parts = append(parts, "the ssh-agent's keys")
	}
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			parts = append(parts, f)
		}
	}
	if len(parts) == 0 {
		return "no key: no ssh-agent and no identity file"
	}
	return strings.Join(parts, ", ")
}

// authMethods offers the agent's keys first, then the identity files. A
// passphrase-protected file cannot be used without an agent: that is an
// error which says so, rather than a prompt.
func authMethods(t sshTarget, env func(string) string) ([]ssh.AuthMethod, agent.ExtendedAgent, error) {
	var methods []ssh.AuthMethod
	var ag agent.ExtendedAgent
	if sock := env("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			ag = agent.NewClient(conn)
			methods = append(methods, ssh.PublicKeysCallback(ag.Signers))
		}
	}
	var signers []ssh.Signer
	var protected []string
	for _, f := range t.identityFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s, err := ssh.ParsePrivateKey(data)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			protected = append(protected, f)
		case err != nil:
			return nil, nil, fmt.Errorf("identity file %s: %v", f, err)
		default:
			signers = append(signers, s)
		}
	}
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if ag == nil && len(signers) == 0 && len(protected) > 0 {
		return nil, nil, fmt.Errorf("identity file %s is protected by a passphrase and no ssh-agent is running (SSH_AUTH_SOCK is unset); "+
			"git-gachette does not prompt: start an agent and add the key (eval \"$(ssh-agent)\"; ssh-add %s)", protected[0], protected[0])
	}
	if len(methods) == 0 {
		return nil, nil, fmt.Errorf("no ssh key: no ssh-agent (SSH_AUTH_SOCK) and no identity file (%s); make a key with ssh-keygen -t ed25519 and put its .pub in the build user's authorized_keys on the host, or name one with IdentityFile in ~/.ssh/config", strings.Join(t.identityFiles, ", "))
	}
	return methods, ag, nil
}

// hostKeyError explains a refused host key.
type hostKeyError struct {
	changed     bool
	addr        string
	fingerprint string
	knownHosts  string
}

func (e *hostKeyError) Error() string {
	host := knownhosts.Normalize(e.addr)
	if e.changed {
		return fmt.Sprintf("HOST KEY CHANGED: the host now presents %s, which does not match %s. "+
			"This may be an attack, or the host was reinstalled. If you know why it changed, remove the old key "+
			"(ssh-keygen -f %s -R '%s') and connect again", e.fingerprint, e.knownHosts, e.knownHosts, host)
	}
	return fmt.Sprintf("host key %s is not in %s. Check it with the host's administrator, then accept it: "+
		"ssh-keyscan once, or run again with --accept-new-host-key (or StrictHostKeyChecking accept-new in ~/.ssh/config)", e.fingerprint, e.knownHosts)
}

// hostKeyCheck builds the host key callback, and the algorithms to ask for
// (those known_hosts has for the host, so that a host with several key
// types is not rejected for offering another one; go-git #1551).
func hostKeyCheck(t sshTarget, acceptNew bool) (ssh.HostKeyCallback, []string, error) {
	var files []string
	for _, f := range t.knownHosts {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	var db *knownhosts.HostKeyDB
	if len(files) > 0 {
		var err error
		if db, err = knownhosts.NewDB(files...); err != nil {
			return nil, nil, fmt.Errorf("known hosts %s: %v", strings.Join(files, ", "), err)
		}
	}
	var mu sync.Mutex
	cb := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		fp := ssh.FingerprintSHA256(key)
		if db != nil {
			err := db.HostKeyCallback()(hostname, remote, key)
			if err == nil {
				return nil
			}
			if knownhosts.IsHostKeyChanged(err) {
				return &hostKeyError{changed: true, addr: t.addr(), fingerprint: fp, knownHosts: strings.Join(files, ", ")}
			}
			if !knownhosts.IsHostUnknown(err) {
				return err
			}
		}
		if !acceptNew {
			return &hostKeyError{addr: t.addr(), fingerprint: fp, knownHosts: t.knownHosts[0]}
		}
		mu.Lock()
		defer mu.Unlock()
		return appendKnownHost(t.knownHosts[0], t.addr(), key)
	}
	var algos []string
	if db != nil {
		algos = db.HostKeyAlgorithms(t.addr())
	}
	return cb, algos, nil
}

func appendKnownHost(file, addr string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("accept new host key: %w", err)
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(addr)}, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// keepAlive probes the connection; two missed answers close it, so a dead
// connection ends every session within seconds instead of hanging.
func (s *SSH) keepAlive(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case err := <-reply:
			if err == nil {
				continue
			}
		case <-time.After(2 * every):
		case <-s.done:
			return
		}
		s.mu.Lock()
		s.dead = errors.New("the connection stopped answering (no reply to keep-alives)")
		s.mu.Unlock()
		s.client.Close()
		return
	}
}

// Host is user@host:port.
func (s *SSH) Host() string { return s.host }

// Close ends the connection.
func (s *SSH) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.client.Close()
	})
	return err
}

// Run runs the script with /bin/sh on the host in a new session of the
// connection. The remote user's login shell only sees single-quoted words.
func (s *SSH) Run(ctx context.Context, sc Script) error {
	sess, err := s.client.NewSession()
	if err != nil {
		return s.lost(err)
	}
	defer sess.Close()
	if err := s.requestForwarding(sess); err != nil {
		return err
	}
	sess.Stdout, sess.Stderr = sc.Stdout, sc.Stderr
	// Our own stdin pipe: Session.Wait would wait for Stdin's EOF.
	stdin, err := sess.StdinPipe()
	if err != nil {
		return s.lost(err)
	}
	// closed once, whoever is first: the copy at Stdin's end, a cancel, the
	// end of Run (x/crypto/ssh's Close is not safe to call concurrently)
	w := newOnceCloser(stdin)
	defer w.Close()
	var cmd strings.Builder
	cmd.WriteString("exec /bin/sh -c " + Quote(sc.Body) + " gachette")
	for _, a := range sc.Args {
		cmd.WriteString(" " + Quote(a))
	}
	if err := sess.Start(cmd.String()); err != nil {
		return s.lost(err)
	}
	if sc.Stdin != nil {
		go func() {
			io.Copy(w, sc.Stdin)
			w.Close()
		}()
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		// The script's stdin ends, which the host scripts take as the
		// order to stop (watch_caller in scripts/common.sh); SIGTERM too,
		// where sshd passes signals on (it refuses them to some
		// sessions: "session signalling requires privilege separation").
		w.Close()
		sess.Signal(ssh.SIGTERM)
		select {
		case <-done:
		case <-time.After(stopWait):
			// Wait would go on until sshd closes the session, which it does
			// not while something there holds the script's output.
			sess.Close()
			select {
			case <-done:
			case <-time.After(stopWait):
			}
		}
		return context.Cause(ctx)
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ee.Signal() != "" {
			return &ExitError{Host: s.host, Signal: ee.Signal()}
		}
		return &ExitError{Host: s.host, Status: ee.ExitStatus()}
	}
	return s.lost(err)
}

// lost explains a session that ended without an exit status.
func (s *SSH) lost(err error) error {
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead != nil {
		return dead
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) || errors.Is(err, io.EOF) {
		return errors.New("the connection was lost before the command finished")
	}
	return err
}

// onceCloser is a WriteCloser whose Close happens once, whoever calls it,
// and never during a Write (x/crypto/ssh's channel reads, in Write, what
// its CloseWrite sets, without a lock): Close waits for a Write under way,
// up to stopWait (a Write blocked on a peer that reads nothing); past
// that, the session's own Close ends the channel. Writes after Close fail.
type onceCloser struct {
	io.WriteCloser
	sem    chan struct{} // held by a Write, or by Close
	closed bool          // under sem
	once   sync.Once
	err    error
}

func newOnceCloser(w io.WriteCloser) *onceCloser {
	return &onceCloser{WriteCloser: w, sem: make(chan struct{}, 1)}
}

func (c *onceCloser) Write(p []byte) (int, error) {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	if c.closed {
		return 0, io.ErrClosedPipe
	}
	return c.WriteCloser.Write(p)
}

func (c *onceCloser) Close() error {
	c.once.Do(func() {
		select {
		case c.sem <- struct{}{}:
			c.closed = true
			c.err = c.WriteCloser.Close()
			<-c.sem
		case <-time.After(stopWait):
			c.err = errors.New("stdin not closed: a write to it was still blocked")
		}
	})
	return c.err
}
