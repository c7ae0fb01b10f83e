// Package gitservertest runs real git servers on 127.0.0.1 for the tests
// of push and fetch (and for testdata/bench): git daemon with push
// enabled, smart HTTP (git http-backend behind lighttpd, with basic
// authentication, over TLS or not), and OpenSSH's sshd serving git-upload-pack and
// git-receive-pack. Each serves the bare repositories under a root
// directory, runs with a server home of its own (no system or user git
// configuration leaks in), starts within seconds or fails saying what is
// missing, and is stopped by Stop. It is not used by git-gachette itself.
package gitservertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ops-hero/git-gachette/remote/sshdtest"
)

// Lighttpd is the web server the HTTP server runs (Debian package lighttpd).
const Lighttpd = "/usr/sbin/lighttpd"

// startTimeout bounds how long a server may take to listen.
const startTimeout = 15 * time.Second

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitListening waits until something accepts connections on port, or the
// process ends, or startTimeout passes.
func waitListening(port int, cmd *exec.Cmd, exited <-chan struct{}, log string) error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(log)
			return fmt.Errorf("%s exited before listening on port %d: %s", cmd.Path, port, out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log)
			return fmt.Errorf("%s did not listen on port %d within %s: %s", cmd.Path, port, startTimeout, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverEnv is the environment of a server and of the git it runs: a
// home of its own and no system configuration.
func serverEnv(home string) []string {
	return []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "LC_ALL=C"}
}

// process is a server process in a process group of its own, so that
// Stop ends what it started too (CGI programs, git upload-pack).
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProcess(cmd *exec.Cmd, log string) (*process, error) {
	f, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// Daemon is git daemon serving the repositories under Root at URL
// (git://127.0.0.1:<port>/), with push (receive-pack) enabled.
type Daemon struct {
	Root string
	Port int
	URL  string
	p    *process
}

// StartDaemon starts git daemon for root; its files (log, home) go in dir.
func StartDaemon(dir, root string) (*Daemon, error) {
	exe, err := gitExe("git-daemon")
	if err != nil {
		return nil, err
	}
	home, err := serverHome(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "--reuseaddr", "--listen=127.0.0.1", fmt.Sprintf("--port=%d", port), "--base-path="+root,
		"--export-all", "--enable=receive-pack", "--informative-errors", "--verbose", "--log-destination=stderr", root)
	cmd.Env = serverEnv(home)
	log := filepath.Join(dir, "daemon.log")
	p, err := startProcess(cmd, log)
	if err != nil {
		return nil, err
	}
	if err := waitListening(port, cmd, p.exited, log); err != nil {
		p.stop()
		return nil, err
	}
	return &Daemon{Root: root, Port: port, URL: fmt.Sprintf("git://127.0.0.1:%d/", port), p: p}, nil
}

// Stop kills the daemon and the git processes it runs.
func (d *Daemon) Stop() { d.p.stop() }

// HTTP is git http-backend (CGI) behind lighttpd, serving the
// repositories under Root at URL (http://127.0.0.1:<port>/git/, or
// https:// with TLS); every request needs basic authentication as User
// with Password.
type HTTP struct {
	Root     string
	Port     int
	URL      string
	User     string
	Password string
	// CAFile is the certificate of the authority that signed the server's
	// certificate (https only): what http.sslCAInfo or GIT_SSL_CAINFO name.
	CAFile string
	p      *process
}

// StartHTTP starts lighttpd for root; its files (configuration, password
// file, logs, home) go in dir.
func StartHTTP(dir, root, userName, password string) (*HTTP, error) {
	return startHTTP(dir, root, userName, password, false)
}

// StartHTTPS is StartHTTP over TLS, with a certificate for 127.0.0.1
// signed by a throw-away authority (HTTP.CAFile).
func StartHTTPS(dir, root, userName, password string) (*HTTP, error) {
	return startHTTP(dir, root, userName, password, true)
}

func startHTTP(dir, root, userName, password string, tls bool) (*HTTP, error) {
	if _, err := os.Stat(Lighttpd); err != nil {
		return nil, fmt.Errorf("%s is required for the smart HTTP tests: apt-get install lighttpd", Lighttpd)
	}
	backend, err := gitExe("git-http-backend")
	if err != nil {
		return nil, err
	}
	home, err := serverHome(dir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte(userName+":"+password+"\n"), 0o600); err != nil {
		return nil, err
	}
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return nil, err
	}
	// http-backend takes pushes from authenticated users only (REMOTE_USER,
	// which mod_auth sets).
	conf := fmt.Sprintf(`server.modules = ("mod_auth", "mod_authn_file", "mod_cgi", "mod_setenv", "mod_alias", "mod_accesslog")
server.document-root = %[1]q
server.bind = "127.0.0.1"
server.port = %[2]d
server.errorlog = %[3]q
accesslog.filename = %[4]q
alias.url = ( "/git/" => %[5]q )
$HTTP["url"] =~ "^/git/" {
	cgi.assign = ( "" => "" )
	setenv.set-environment = ( "GIT_PROJECT_ROOT" => %[6]q, "GIT_HTTP_EXPORT_ALL" => "1", "HOME" => %[7]q, "GIT_CONFIG_NOSYSTEM" => "1", "PATH" => %[8]q )
	auth.backend = "plain"
	auth.backend.plain.userfile = %[9]q
	auth.require = ( "" => ( "method" => "basic", "realm" => "git", "require" => "valid-user" ) )
}
`, www, port, filepath.Join(dir, "error.log"), filepath.Join(dir, "access.log"), backend+"/", root, home, os.Getenv("PATH"), users)
	scheme, caFile := "http", ""
	if tls {
		if _, err := os.Stat(ModOpenSSL); err != nil {
			return nil, fmt.Errorf("%s is required for the https tests: apt-get install lighttpd-mod-openssl", ModOpenSSL)
		}
		var cert, key string
		if caFile, cert, key, err = certificates(dir); err != nil {
			return nil, err
		}
		scheme = "https"
		conf += fmt.Sprintf("server.modules += (\"mod_openssl\")\nssl.engine = \"enable\"\nssl.pemfile = %q\nssl.privkey = %q\n", cert, key)
	}
	confFile := filepath.Join(dir, "lighttpd.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command(Lighttpd, "-tt", "-f", confFile).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lighttpd refuses its configuration: %v\n%s", err, out)
	}
	cmd := exec.Command(Lighttpd, "-D", "-f", confFile)
	cmd.Env = serverEnv(home)
	log := filepath.Join(dir, "lighttpd.log")
	p, err := startProcess(cmd, log)
	if err != nil {
		return nil, err
	}
	if err := waitListening(port, cmd, p.exited, log); err != nil {
		p.stop()
		return nil, err
	}
	return &HTTP{Root: root, Port: port, URL: fmt.Sprintf("%s://127.0.0.1:%d/git/", scheme, port), User: userName, Password: password, CAFile: caFile, p: p}, nil
}

// ModOpenSSL is lighttpd's TLS module (Debian package lighttpd-mod-openssl).
const ModOpenSSL = "/usr/lib/lighttpd/mod_openssl.so"

// certificates writes, in dir, a throw-away certificate authority and a
// server certificate for 127.0.0.1 that it signed, with its key.
func certificates(dir string) (caFile, certFile, keyFile string, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gitservertest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", "", err
	}
	srv := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return "", "", "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return "", "", "", err
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	for _, f := range []struct {
		path, kind string
		der        []byte
	}{{caFile, "CERTIFICATE", caDER}, {certFile, "CERTIFICATE", srvDER}, {keyFile, "EC PRIVATE KEY", keyDER}} {
		if err := os.WriteFile(f.path, pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der}), 0o600); err != nil {
			return "", "", "", err
		}
	}
	return caFile, certFile, keyFile, nil
}

// Stop kills lighttpd and the CGI programs it runs.
func (h *HTTP) Stop() { h.p.stop() }

// SSH is OpenSSH's sshd (remote/sshdtest) on 127.0.0.1, reached as Alias
// through the ssh configuration file Config that StartSSH writes:
// HostName, Port, User, IdentityFile, UserKnownHostsFile, no agent, no
// prompts. OpenSSH reads ~/.ssh/config from the home of the user in the
// password database, never $HOME, so git reaches it with
// core.sshCommand or GIT_SSH_COMMAND set to Command ("ssh -F <Config>").
// Repositories are addressed by absolute path: <Alias>:/srv/x.git or
// ssh://<Alias>/srv/x.git.
type SSH struct {
	Alias   string
	Config  string
	Command string
	Port    int
	srv     *sshdtest.Server
}

// StartSSH starts sshd with files in dir, accepting the key
// <home>/.ssh/id_ed25519 (made if missing), and appends a Host alias
// entry to <home>/.ssh/config, with its own known_hosts file.
func StartSSH(dir, home, alias string) (*SSH, error) {
	pub, err := sshdtest.UserKey(home)
	if err != nil {
		return nil, err
	}
	serverHomeDir, err := serverHome(dir)
	if err != nil {
		return nil, err
	}
	srv, err := sshdtest.Start(dir, pub, "HOME="+serverHomeDir, "GIT_CONFIG_NOSYSTEM=1")
	if err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		srv.Stop()
		return nil, err
	}
	line, err := srv.KnownHostsLine()
	if err != nil {
		srv.Stop()
		return nil, err
	}
	ssh := filepath.Join(home, ".ssh")
	known := filepath.Join(ssh, alias+"_known_hosts")
	if err := os.WriteFile(known, []byte(line), 0o600); err != nil {
		srv.Stop()
		return nil, err
	}
	config := filepath.Join(ssh, "config")
	entry := fmt.Sprintf("\nHost %s\n\tHostName 127.0.0.1\n\tPort %d\n\tUser %s\n\tIdentityFile %s\n\tIdentitiesOnly yes\n\tIdentityAgent none\n"+
		"\tUserKnownHostsFile %s\n\tStrictHostKeyChecking yes\n\tBatchMode yes\n\tLogLevel ERROR\n",
		alias, srv.Port, u.Username, filepath.Join(ssh, "id_ed25519"), known)
	f, err := os.OpenFile(config, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = f.WriteString(entry)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		srv.Stop()
		return nil, err
	}
	return &SSH{Alias: alias, Config: config, Command: "ssh -F " + config, Port: srv.Port, srv: srv}, nil
}

// Stop kills sshd and its connections.
func (s *SSH) Stop() { s.srv.Stop() }

// Sessions counts the sessions (commands) sshd started since the last
// call: one per git fetch or push.
func (s *SSH) Sessions() (int, error) {
	_, sessions, _, err := s.srv.Counts()
	return sessions, err
}

func serverHome(dir string) (string, error) {
	home := filepath.Join(dir, "home")
	return home, os.MkdirAll(home, 0o755)
}

// gitExe finds one of git's own programs (git --exec-path).
func gitExe(name string) (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("git is required: apt-get install git (%v)", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), name)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s is required and missing: apt-get install git", p)
		}
		return "", err
	}
	return p, nil
}

// Bare makes an empty bare repository under root (name: "x.git") whose
// HEAD names branch, and returns its path.
func Bare(root, name, branch string) (string, error) {
	p := filepath.Join(root, name)
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch="+branch, p).CombinedOutput(); err != nil {
		return "", fmt.Errorf("git init --bare %s: %v\n%s", p, err, out)
	}
	return p, nil
}
