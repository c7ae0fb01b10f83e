package stackrepo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Remote is where stacks are pushed to and fetched from, as the user named
// it: a remote configured in the stacks repository, a URL or a path. It is
// handed to git as it is, so git resolves it (remote.<name>.url and
// pushurl, url.<base>.insteadOf, credentials, ssh, proxies, TLS).
type Remote struct {
	arg string
}

// RemoteArgError says a --remote value (or gachette.remote) cannot be
// given to git.
type RemoteArgError struct {
	Arg string
	Why string
}

func (e *RemoteArgError) Error() string {
	return fmt.Sprintf("remote %q %s", termtext.Shorten(Redact(e.Arg)), e.Why)
}

// ParseRemote checks a remote name, URL or path before it reaches git:
// git would take a value starting with '-' as an option, and ext:: runs a
// command named in the URL.
func ParseRemote(arg string) (Remote, error) {
	switch {
	case arg == "", strings.HasPrefix(arg, "-"), strings.IndexFunc(arg, unicode.IsControl) >= 0, len(arg) > 2048:
		return Remote{}, &RemoteArgError{Arg: arg, Why: "is not a remote name, URL or path"}
	}
	if err := gitexec.CheckTransport(arg); err != nil {
		return Remote{}, &RemoteArgError{Arg: arg, Why: err.Error() + ": use a remote name, a path, file://, ssh://, https:// or git@host:path"}
	}
	return Remote{arg: arg}, nil
}

// String is the remote as messages show it: its name, or its URL with any
// user name and password removed.
func (rm Remote) String() string { return Redact(rm.arg) }

// isName reports whether the remote was named like a configured remote
// (one ref component) rather than by a URL or path.
func (rm Remote) isName() bool {
	return CheckName("remote", rm.arg) == nil && !isDir(rm.arg)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// namespace is where git-gachette keeps what it last saw of the remote's
// refs (refs/gachette/remotes/<key>/tags/…, heads/…, channels/…): the
// remote's name, or for a URL or path a digest of it (absolute, without
// user information), so that the same remote always maps to the same refs.
func (rm Remote) namespace() string {
	if rm.isName() {
		return "refs/gachette/remotes/" + rm.arg + "/"
	}
	s := Redact(rm.arg)
	if !strings.Contains(s, "://") {
		if abs, err := filepath.Abs(s); err == nil && isDir(s) {
			s = abs
		}
	}
	sum := sha256.Sum256([]byte(s))
	return "refs/gachette/remotes/url-" + hex.EncodeToString(sum[:8]) + "/"
}

// userinfo matches the user information of URLs in free text.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'"]*@`)

// Redact removes user names and passwords from the URLs in s.
func Redact(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil && u.Scheme != "" {
		u.User = nil
		return u.String()
	}
	return userinfo.ReplaceAllString(s, "$1")
}

// RemoteOptions are how push and fetch run git.
type RemoteOptions struct {
	// Messages receives, line by line as git prints them, what the server
	// says (remote: …) and git's warnings, with URLs' passwords removed;
	// nil drops them.
	Messages io.Writer
	// Interactive lets git ask for credentials on the terminal; otherwise
	// git runs with GIT_TERMINAL_PROMPT=0 (unless set) and fails at once
	// when it has none.
	Interactive bool
	// Sign (push: gachette.sign, push --sign) first makes every stack to
	// push that no remote has yet and whose tag is unsigned a signed tag,
	// so that every tag the push publishes is signed (see signForPush).
	Sign bool
}

// RemoteError is git failing to reach or use a remote (no such remote,
// no access, no credentials, network), with git's own words.
type RemoteError struct {
	Remote string
	Op     string // push, fetch
	Git    string // git's messages, passwords removed
	Hint   string
	Err    error
}

func (e *RemoteError) Error() string {
	msg := fmt.Sprintf("remote %s: %s failed: %s", e.Remote, e.Op, e.Git)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

func (e *RemoteError) Unwrap() error { return e.Err }

// NoSuchRemoteError says a remote name is neither configured in the
// stacks repository nor a path or URL.
type NoSuchRemoteError struct {
	Name string
	Dir  string // the stacks repository
}

func (e *NoSuchRemoteError) Error() string {
	return fmt.Sprintf("remote %q is not configured in the stacks repository %s and is not a URL or path; "+
		"add it with: git -C %s remote add %s URL, or pass --remote URL", e.Name, e.Dir, e.Dir, e.Name)
}

// gitRun is one git push or fetch.
type gitRun struct {
	stdout []byte
	// rest is what git printed on stderr that was not passed on.
	rest string
	err  error
}

// remoteGit runs git (push, fetch) against a remote: without a terminal,
// in its own process group, so that a signal to ours reaches
// git-gachette, which then stops git and everything git started (ssh,
// remote helpers) with SIGTERM, letting git remove its lock files; on a
// terminal (opt.Interactive), in ours, so that git can prompt. Server messages and warnings go to
// opt.Messages as they come; git's other messages are kept for errors.
func (r *Repo) remoteGit(ctx context.Context, opt RemoteOptions, args ...string) gitRun {
	cmd := r.git.Command(ctx, args...)
	// git's messages are parsed (porcelain reasons, "does not support
	// --atomic"): they must be git's English ones.
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANGUAGE=")
	if !opt.Interactive && !hasEnv(cmd.Env, "GIT_TERMINAL_PROMPT") {
		cmd.Env = append(cmd.Env, "GIT_TERMINAL_PROMPT=0")
	}
	if opt.Interactive {
		// On a terminal git stays in the foreground process group: a
		// prompt (a password, ssh's host key question) turns echo off,
		// which stops a process of a background group (SIGTTOU). Ctrl-C
		// then reaches git and what it started as it reaches us; git
		// removes its lock files on it. A signal sent to git-gachette
		// alone (kill -INT PID) reaches none of them: git and everything
		// below it (a remote helper, ssh, a credential helper, which git
		// does not always stop itself) are sent SIGTERM, each found
		// through /proc, the group being the terminal's.
		cmd.Cancel = func() error {
			err := gitexec.SignalTree(cmd.Process.Pid, syscall.SIGTERM)
			if errors.Is(err, syscall.ESRCH) {
				return os.ErrProcessDone
			}
			return err
		}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error {
			err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a stopped one acts on it
			return err
		}
	}
	cmd.WaitDelay = 10 * time.Second
	var stdout bytes.Buffer
	msgs := &messageWriter{out: opt.Messages, secrets: r.urlSecrets(args)}
	cmd.Stdout, cmd.Stderr = &stdout, msgs
	err := cmd.Run()
	msgs.flush()
	rest := msgs.rest.String()
	if opt.Interactive && killedBy(err, syscall.SIGINT, syscall.SIGTERM) {
		// the terminal's Ctrl-C reached git and git-gachette at once: let
		// ours arrive, so that it is told as an interruption
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	if ctx.Err() != nil {
		return gitRun{stdout: stdout.Bytes(), rest: rest, err: ctx.Err()}
	}
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		err = &gitexec.Error{Args: args, Stderr: strings.TrimSpace(rest), ExitCode: code, Err: err}
	}
	return gitRun{stdout: stdout.Bytes(), rest: rest, err: err}
}

// InterruptedError says a push or fetch was stopped by a signal (Ctrl-C),
// and what that left.
type InterruptedError struct {
	Op   string // "push to origin"
	Left string // what it left, and what to do
	Err  error  // the context's error
}

func (e *InterruptedError) Error() string {
	if e.Left == "" {
		return e.Op + " interrupted"
	}
	return e.Op + " interrupted; " + e.Left
}

func (e *InterruptedError) Unwrap() error { return e.Err }

// killedBy reports whether err is a process ending by one of sigs.
func killedBy(err error, sigs ...syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return false
	}
	for _, s := range sigs {
		if ws.Signal() == s {
			return true
		}
	}
	return false
}

// hasEnv reports whether env sets name (to anything, even empty).
func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// maxKept bounds the git messages kept for an error.
const maxKept = 64 << 10

// messageWriter reads git's stderr line by line (lines end in \n, or \r
// for progress): lines from the server ("remote: …") and warnings go to
// out at once, without passwords and without the padding git adds to
// clear the terminal line; hints and the summary git prints after failed
// refs (git-gachette names them itself) are dropped; the rest is kept
// for an error message.
type messageWriter struct {
	out     io.Writer
	partial []byte
	rest    strings.Builder
	// secrets are user:password@ strings git may print without their
	// URL's scheme (git:// has no credentials, so git names
	// "alice:pw@host" as a host it cannot find): see urlSecrets.
	secrets []string
}

// urlSecrets returns the user:password@ of every URL git may use or print
// for this run: those in its arguments and those in git's configuration
// (remote.*.url and pushurl, url.<base>.insteadOf bases, …).
func (r *Repo) urlSecrets(args []string) []string {
	var out []string
	add := func(s string) {
		for {
			i := strings.Index(s, "://")
			if i < 0 {
				return
			}
			s = s[i+3:]
			auth := s
			if end := strings.IndexAny(auth, "/ \t\n'\"<>"); end >= 0 {
				auth = auth[:end]
			}
			if at := strings.LastIndexByte(auth, '@'); at > 0 && strings.Contains(auth[:at], ":") {
				out = append(out, auth[:at+1])
			}
		}
	}
	for _, a := range args {
		add(a)
	}
	if r.cfg != nil {
		for _, e := range r.cfg.Entries {
			add(e.Key)
			add(e.Value)
		}
	}
	return out
}

func (w *messageWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexAny(w.partial, "\r\n")
		if i < 0 {
			break
		}
		w.line(string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 1<<20 { // a line without end: take it as it is
		w.flush()
	}
	return len(p), nil
}

func (w *messageWriter) flush() {
	if len(w.partial) > 0 {
		w.line(string(w.partial))
		w.partial = nil
	}
}

func (w *messageWriter) line(raw string) {
	for _, s := range w.secrets {
		user, _, _ := strings.Cut(s, ":")
		raw = strings.ReplaceAll(raw, s, user+"@")
	}
	line := strings.TrimRight(Redact(raw), " \t")
	switch {
	case line == "":
	case strings.HasPrefix(line, "remote:"), strings.HasPrefix(line, "warning:"), strings.HasPrefix(line, "Warning:"):
		if w.out != nil {
			fmt.Fprintln(w.out, termtext.Escape(line))
		}
	case strings.HasPrefix(line, "hint:"), strings.HasPrefix(line, "error: failed to push some refs"),
		strings.HasPrefix(line, "error: atomic push failed for ref"), line == "Everything up-to-date":
	default:
		if w.rest.Len() < maxKept {
			w.rest.WriteString(line)
			w.rest.WriteByte('\n')
		}
	}
}

// remoteError turns git failing as a whole (nothing per ref) into an
// error that says what to do.
func (r *Repo) remoteError(op string, rm Remote, run gitRun) error {
	msg := strings.TrimSpace(run.rest)
	if msg == "" {
		msg = run.err.Error()
	}
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(l, "fatal: "), "error: "))
		switch l {
		case "", "Could not read from remote repository.", "Please make sure you have the correct access rights", "and the repository exists.":
			continue
		}
		lines = append(lines, strings.TrimSuffix(l, "."))
	}
	if len(lines) == 0 {
		lines = []string{"Could not read from remote repository"}
	}
	gitMsg := strings.Join(lines, "; ")
	e := &RemoteError{Remote: rm.String(), Op: op, Git: gitMsg, Err: run.err}
	switch {
	case strings.Contains(msg, "does not appear to be a git repository") && rm.isName() && strings.Contains(msg, "'"+rm.arg+"'"):
		return &NoSuchRemoteError{Name: rm.arg, Dir: r.Dir}
	case sshFailed(msg):
		// ssh's own failure (a missing identity file or ssh config file
		// says "No such file or directory" too): git's words as they are
		e.Hint = "check that you can reach it with git: git ls-remote " + rm.String()
	case strings.Contains(msg, "does not appear to be a git repository"), strings.Contains(msg, "not found"),
		strings.Contains(msg, "repository not exported"), strings.Contains(msg, "no such repository"), strings.Contains(msg, "No such file or directory"):
		e.Git = "repository not found (git: " + gitMsg + ")"
		e.Hint = "check the URL, or make it on the server with git gachette init (or git init --bare)"
	case strings.Contains(msg, "terminal prompts disabled"), strings.Contains(msg, "could not read Username"), strings.Contains(msg, "could not read Password"):
		e.Hint = "git has no credentials for it and may not ask here (no terminal): store them with a credential helper (git config --global credential.helper store, then one git fetch from a terminal), or use ssh"
	case strings.Contains(msg, "certificate verification failed"), strings.Contains(msg, "SSL certificate problem"):
		e.Hint = "git does not trust the server's certificate: give git the authority that signed it (git config http.sslCAInfo /path/to/ca.pem, or GIT_SSL_CAINFO)"
	case strings.Contains(msg, "Authentication failed"), strings.Contains(msg, "403"), strings.Contains(msg, "401"):
		e.Hint = "the server refused the credentials git gave: check them (git credential reject forgets stored ones)"
	case strings.Contains(msg, "Could not read from remote repository"):
		e.Hint = "check that you can reach it with git: git ls-remote " + rm.String()
	}
	return e
}

// sshFailed reports whether git's messages are ssh failing to reach or
// log in to the server, rather than the server's answer.
func sshFailed(msg string) bool {
	for _, m := range []string{"Permission denied", "Host key verification failed", "Could not resolve hostname", "Connection refused",
		"Connection timed out", "No route to host", "no such identity", "Can't open user config file", "REMOTE HOST IDENTIFICATION HAS CHANGED",
		"kex_exchange_identification", "Connection closed by"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// refStatus is one line of git push --porcelain: what became of one ref.
type refStatus struct {
	flag   byte   // ' ' fast-forward, '+' forced, '-' deleted, '*' new, '=' up to date, '!' rejected
	from   string // the source: here an object id
	to     string // the remote's ref
	reason string // why it was rejected, as git or the server says
	// byServer says the server refused it ([remote rejected]), not git
	// before sending.
	byServer bool
}

func (s refStatus) accepted() bool { return s.flag != '!' }

// collateral reports a rejection that only follows from another one in an
// atomic push (the root cause is named on that other ref).
func (s refStatus) collateral() bool {
	switch s.reason {
	case "atomic push failed", "atomic push failure", "atomic transaction failed":
		return true
	}
	return false
}

// parsePorcelain reads git push --porcelain: per "To <url>" block, one
// line "<flag>\t<from>:<to>\t<summary>" per ref. When the remote has
// several push URLs, a ref counts as accepted only if every one took it.
func parsePorcelain(out []byte) map[string]refStatus {
	res := map[string]refStatus{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || len(f[0]) != 1 {
			continue
		}
		from, to, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		st := refStatus{flag: f[0][0], from: from, to: to}
		if st.flag == '!' {
			st.reason = f[2]
			st.byServer = strings.HasPrefix(f[2], "[remote ")
			if i := strings.Index(f[2], " ("); i >= 0 && strings.HasSuffix(f[2], ")") {
				st.reason = f[2][i+2 : len(f[2])-1]
			}
		}
		if prev, seen := res[to]; seen && !prev.accepted() {
			continue
		}
		res[to] = st
	}
	return res
}
