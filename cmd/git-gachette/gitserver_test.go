package main

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ops-hero/git-gachette/stackrepo/gitservertest"
)

var (
	gitServersMu sync.Mutex
	gitServerSSH = map[string]*gitservertest.SSH{} // by $WORK
)

// cmdGitServer starts real git servers on 127.0.0.1 for the rest of the
// script (stackrepo/gitservertest), serving the bare repositories under
// $WORK/srv (made if missing):
//
//	start daemon   git daemon with receive-pack; sets DAEMON_URL
//	               (git://127.0.0.1:PORT/)
//	start http     git http-backend behind lighttpd, basic auth as
//	               alice:s3cret; sets HTTP_URL (http://127.0.0.1:PORT/git/),
//	               HTTP_HOST (127.0.0.1:PORT), HTTP_USER, HTTP_PASSWORD
//	start https    the same over TLS, with a certificate for 127.0.0.1 from
//	               a throw-away authority; sets HTTPS_URL, HTTPS_HOST and
//	               HTTPS_CA (the authority's certificate, for
//	               http.sslCAInfo or GIT_SSL_CAINFO)
//	start ssh      sshd; appends "Host gitserver" to $HOME/.ssh/config (port,
//	               user, identity file, known hosts, no agent) and sets
//	               SSH_COMMAND (ssh -F $HOME/.ssh/config), for
//	               core.sshCommand or GIT_SSH_COMMAND, and GITSERVER_SSH_PORT
//	sessions N     check that sshd started N sessions (git commands) since
//	               the last check
func cmdGitServer(ts *testscript.TestScript, neg bool, args []string) {
	usage := "usage: gitserver start daemon|http|https|ssh | gitserver sessions N"
	if neg || len(args) < 1 {
		ts.Fatalf("%s", usage)
	}
	work := ts.Getenv("WORK")
	root := filepath.Join(work, "srv")
	ts.Check(os.MkdirAll(root, 0o755))
	dir := func(name string) string {
		d := filepath.Join(work, "."+name)
		ts.Check(os.MkdirAll(d, 0o755))
		return d
	}
	switch {
	case len(args) == 2 && args[0] == "start" && args[1] == "daemon":
		d, err := gitservertest.StartDaemon(dir("daemon"), root)
		ts.Check(err)
		ts.Defer(d.Stop)
		ts.Setenv("DAEMON_URL", d.URL)
	case len(args) == 2 && args[0] == "start" && args[1] == "http":
		h, err := gitservertest.StartHTTP(dir("http"), root, "alice", "s3cret")
		ts.Check(err)
		ts.Defer(h.Stop)
		ts.Setenv("HTTP_URL", h.URL)
		ts.Setenv("HTTP_HOST", "127.0.0.1:"+strconv.Itoa(h.Port))
		ts.Setenv("HTTP_USER", h.User)
		ts.Setenv("HTTP_PASSWORD", h.Password)
	case len(args) == 2 && args[0] == "start" && args[1] == "https":
		h, err := gitservertest.StartHTTPS(dir("https"), root, "alice", "s3cret")
		ts.Check(err)
		ts.Defer(h.Stop)
		ts.Setenv("HTTPS_URL", h.URL)
		ts.Setenv("HTTPS_HOST", "127.0.0.1:"+strconv.Itoa(h.Port))
		ts.Setenv("HTTPS_CA", h.CAFile)
	case len(args) == 2 && args[0] == "start" && args[1] == "ssh":
		s, err := gitservertest.StartSSH(dir("gitsshd"), ts.Getenv("HOME"), "gitserver")
		ts.Check(err)
		gitServersMu.Lock()
		gitServerSSH[work] = s
		gitServersMu.Unlock()
		ts.Defer(func() {
			s.Stop()
			gitServersMu.Lock()
			delete(gitServerSSH, work)
			gitServersMu.Unlock()
		})
		ts.Setenv("SSH_COMMAND", s.Command)
		ts.Setenv("GITSERVER_SSH_PORT", strconv.Itoa(s.Port))
	case len(args) == 2 && args[0] == "sessions":
		gitServersMu.Lock()
		s := gitServerSSH[work]
		gitServersMu.Unlock()
		if s == nil {
			ts.Fatalf("gitserver ssh is not running")
		}
		n, err := s.Sessions()
		ts.Check(err)
		if strconv.Itoa(n) != args[1] {
			ts.Fatalf("sshd started %d session(s), want %s", n, args[1])
		}
	default:
		ts.Fatalf("%s", usage)
	}
}
