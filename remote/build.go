package remote

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// The builders (gachette.builder).
const (
	BuilderTrebuchet = "trebuchet"
	BuilderDpkg      = "dpkg-buildpackage"
	BuilderCommand   = "command"
)

// Versions are the versions passed to trebuchet.
type Versions struct {
	App, Env, Service, Static string
}

// BuildRequest is one build in a prepared working copy.
type BuildRequest struct {
	Key      string
	Workdir  string
	DebsPath string
	Builder  string
	// Trebuchet is the trebuchet executable on the host (gachette.trebuchet).
	Trebuchet string
	// Command is the shell command of the command builder (gachette.buildCommand).
	Command          string
	Missile          string
	Arch             string
	Versions         Versions
	Commit           string
	WebCallback      string
	ExtraDescription string
	// Timeout stops the builder after this long (0: no limit).
	Timeout time.Duration
	// BuildUser, if set, is the user the builder runs as on the host
	// (sudo -n -u BuildUser), on a copy of the checked-out tree, apart
	// from the SSH user who owns the working copies and the debs path
	// (gachette.buildUser).
	BuildUser string
}

// Deb is a package built and checked on the host.
type Deb struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Filename     string `json:"filename"`
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
}

// Validate checks every value that will reach the host's shell; Build
// calls it, and a caller can before it connects.
func (r BuildRequest) Validate() error {
	checks := []error{CheckKey(r.Key), CheckHostPath("workdir", r.Workdir), CheckHostPath("debs path", r.DebsPath), CheckBuilder(r.Builder),
		CheckBuildCommand(r.Builder, r.Command), CheckText("extra description", r.ExtraDescription), CheckBuildUser(r.BuildUser)}
	// Each value is checked whether or not this builder uses it: none
	// reaches the host unchecked.
	if r.Builder == BuilderTrebuchet || r.Trebuchet != "" {
		checks = append(checks, CheckTrebuchetPath(r.Trebuchet))
	}
	if r.Builder == BuilderTrebuchet || r.Missile != "" {
		checks = append(checks, CheckRelPath("missile", r.Missile))
	}
	if r.WebCallback != "" {
		checks = append(checks, CheckCallbackURL(r.WebCallback))
	}
	if r.Arch != "" {
		checks = append(checks, debian.CheckArch(r.Arch))
	}
	for _, v := range []struct{ flag, v string }{{"app-version", r.Versions.App}, {"env-version", r.Versions.Env}, {"service-version", r.Versions.Service}, {"static-version", r.Versions.Static}} {
		if v.v != "" {
			if err := debian.CheckVersion(v.v); err != nil {
				checks = append(checks, fmt.Errorf("--%s: %w", v.flag, err))
			}
		}
	}
	if r.Commit != "" && (len(r.Commit) < 7 || strings.Trim(r.Commit, "0123456789abcdef") != "") {
		checks = append(checks, fmt.Errorf("commit %q is not a commit id", r.Commit))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckBuilder checks a gachette.builder value.
func CheckBuilder(b string) error {
	switch b {
	case BuilderTrebuchet, BuilderDpkg, BuilderCommand:
		return nil
	}
	return fmt.Errorf("builder %q is not one of trebuchet, dpkg-buildpackage, command", termtext.Shorten(b))
}

// CheckBuildUser checks gachette.buildUser: empty (the SSH user builds),
// or a user name as useradd takes them.
func CheckBuildUser(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > 32 || strings.Trim(u, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "" || u[0] == '-' || u[0] >= '0' && u[0] <= '9' {
		return fmt.Errorf("build user %q is not a user name (lower-case letters, digits, '_' and '-', not starting with '-' or a digit, at most 32)", termtext.Shorten(u))
	}
	return nil
}

// CheckBuildCommand checks gachette.buildCommand: the command builder
// needs one; the other builders do not use it.
func CheckBuildCommand(builder, command string) error {
	if builder == BuilderCommand && strings.TrimSpace(command) == "" {
		return fmt.Errorf("the command builder needs a command: git config gachette.buildCommand 'make deb'")
	}
	return nil
}

// CheckTrebuchetPath checks the path of trebuchet on the build host.
func CheckTrebuchetPath(p string) error { return checkLine("trebuchet path", p, 1024) }

// BuildResult is what a build recorded: the .debs, checked on the host,
// and whether they were reused from an earlier build of the same commit
// with the same settings rather than built.
type BuildResult struct {
	Debs   []Deb
	Reused bool
	// pending is the check session that linked Debs into the debs path,
	// waiting for Keep or Undo (nil for reused .debs).
	pending *pendingMove
}

// errBuildTimeout ends a build that ran past BuildRequest.Timeout.
var errBuildTimeout = errors.New("build timeout")

// reuseKey names the manifest of a build: a hash of the commit and of
// every setting that goes into the .debs (the web callback does not). A
// request without a commit is never reused.
func (r BuildRequest) reuseKey() string {
	if r.Commit == "" {
		return ""
	}
	h := sha256.New()
	for _, v := range []string{"git-gachette build 1", r.Commit, r.Builder, r.Trebuchet, r.Missile, r.Command, r.Arch,
		r.Versions.App, r.Versions.Env, r.Versions.Service, r.Versions.Static, r.ExtraDescription} {
		fmt.Fprintf(h, "%d:%s\n", len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// builderArgs are builder.sh's arguments after STAGING.
func (r BuildRequest) builderArgs() []string {
	return []string{r.Builder, r.Trebuchet, r.Missile, r.Arch, r.Versions.App, r.Versions.Env, r.Versions.Service, r.Versions.Static,
		r.WebCallback, r.ExtraDescription, r.Command, r.Commit}
}

// Build builds the .debs of a prepared working copy and checks them, in
// two sessions:
//
//  1. scripts/build.sh: the .debs of the same commit built with the same
//     settings, if the debs path still has them as recorded (reused);
//     else the builder, in a session of its own, writing into a staging
//     directory, its output streamed line by line to log;
//  2. scripts/check.sh, once the first has ended and everything the
//     builder started is gone: each .deb in staging read with dpkg-deb
//     (name, version and architecture must be what the builder claimed:
//     its Built: lines, or the file name), its SHA-256 and size; a file of
//     the same name in the debs path must be identical, never replaced.
//     The checked .debs are linked into the debs path; the session then
//     waits for the caller's last word, BuildResult.Keep or Undo.
//
// r.Timeout bounds both the builder and the check. A failed or
// interrupted build leaves the debs path as it was, and no staging
// directory. When ctx is done, the builder is stopped and Build returns
// ctx's error.
func Build(ctx context.Context, ex Executor, r BuildRequest, log io.Writer) (*BuildResult, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	// the builder's output and the sessions' stderr arrive on goroutines of
	// their own: log sees one Write at a time, whatever it is
	log = &lockedWriter{w: log}
	what := fmt.Sprintf("build %s on %s", r.Key, ex.Host())
	staging := strings.TrimSuffix(r.DebsPath, "/") + "/.gachette/staging/" + r.Key + "-" + randomSuffix()
	reuse := r.reuseKey()
	bctx := ctx
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		bctx, cancel = context.WithTimeoutCause(ctx, r.Timeout, errBuildTimeout)
		defer cancel()
	}
	reused, claims, kept, err := r.runBuilder(ctx, bctx, ex, staging, reuse, log)
	if err == nil && bctx.Err() != nil {
		err = r.stopped(ctx, bctx, "")
	}
	if err != nil {
		if kept {
			// the builder succeeded, but no check will run
			r.removeStaging(ctx, ex, staging)
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if reused != nil {
		return &BuildResult{Debs: reused, Reused: true}, nil
	}
	debs, pending, err := r.checkAndMove(bctx, ex, staging, reuse, claims, log)
	if err != nil {
		if bctx.Err() != nil {
			err = r.stopped(ctx, bctx, " while its .debs were checked")
		}
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &BuildResult{Debs: debs, pending: pending}, nil
}

// stopped is the error of a build whose context bctx is done: ctx's
// error, or the timeout's (while says what was going on).
func (r BuildRequest) stopped(ctx, bctx context.Context, while string) error {
	if ctx.Err() == nil && context.Cause(bctx) == errBuildTimeout {
		return fmt.Errorf("stopped after %s (gachette.buildTimeout)%s: the builder had not finished; nothing was recorded. Raise gachette.buildTimeout, or find what the build waits for", r.Timeout, while)
	}
	return ctx.Err()
}

// Keep says that the .debs are recorded: they stay in the debs path, with
// the manifest that lets the next build of the same commit with the same
// settings reuse them. Nothing to do for reused .debs. Keep or Undo must
// be called once a build has returned them; the first call decides.
func (b *BuildResult) Keep() error {
	if b.pending == nil {
		return nil
	}
	return b.pending.end("keep", lineKept)
}

// Undo takes back, from the debs path, the .debs this build put there
// (none that was there before): nothing records them.
func (b *BuildResult) Undo() error {
	if b.pending == nil {
		return nil
	}
	return b.pending.end("undo", lineUndone)
}

// runBuilder runs the build session: it returns the reused .debs, or the
// builder's claims (its Built: lines) once it has succeeded; kept is
// whether the session ended leaving the staging directory for the check.
// The session runs under bctx (ctx with the build's timeout).
func (r BuildRequest) runBuilder(ctx, bctx context.Context, ex Executor, staging, reuse string, log io.Writer) (debs []Deb, claims map[string]BuiltLine, kept bool, err error) {
	outR, outW := io.Pipe()
	stderr := lineWriter(log)
	done := make(chan error, 1)
	go func() {
		args := append([]string{builderSh, WorkingCopy(r.Workdir, r.Key), WorkingCopyLock(r.Workdir, r.Key), r.Key,
			strconv.Itoa(int(lockWait / time.Second)), strings.TrimSuffix(r.DebsPath, "/"), staging, reuse, r.Commit, r.BuildUser}, r.builderArgs()...)
		err := ex.Run(bctx, Script{Body: hostScript(buildSh), Args: args, Stdout: outW, Stderr: stderr})
		outW.Close()
		done <- err
	}()
	// Protocol lines first: those of a reuse, or the working copy's head;
	// after "started", the builder's output, to the end.
	sr := newSessionReader(outR)
	var recs []record
	var readErr error
	started := false
	for len(recs) < maxDebs {
		rec, err := sr.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		if rec.word == lineStarted && len(rec.fields) == 0 {
			started = true
			break
		}
		recs = append(recs, rec)
	}
	claimed := newClaims(r.Builder == BuilderTrebuchet)
	if started {
		show := showTo(log)
		split := newLineSplitter(func(line []byte, cut int) {
			show(line, cut)
			claimed.add(line, cut)
		})
		io.Copy(split, sr.rest())
		split.Close()
	}
	io.Copy(io.Discard, outR)
	err = <-done
	stderr.Close()

	switch {
	// Stopped once the builder had started: the session may have ended
	// (or been stopped) just after the builder, keeping the staging
	// directory.
	case ctx.Err() != nil:
		return nil, nil, started, ctx.Err()
	case context.Cause(bctx) == errBuildTimeout:
		return nil, nil, started, r.stopped(ctx, bctx, "")
	case started && err != nil:
		return nil, nil, false, fmt.Errorf("%s failed: %w%s%s", r.Builder, err, signalHint(err), r.notFoundHint(err))
	case started:
		if claimed.err != nil {
			return nil, nil, true, claimed.err
		}
		return nil, claimed.byFile, true, nil
	case statusIs(err, exitDebsPath):
		return nil, nil, false, fmt.Errorf("the debs path %s is not a directory the build user can write (see the message above); set gachette.debsPath or fix it on the host", r.DebsPath)
	case statusIs(err, exitLockBusy):
		return nil, nil, false, lockBusy(r.Workdir, r.Key)
	case statusIs(err, exitLock):
		return nil, nil, false, lockFailed(r.Workdir, r.Key)
	case statusIs(err, exitNoSetsid):
		return nil, nil, false, errors.New("setsid is not installed on the build host: install util-linux there")
	case statusIs(err, exitNoSudo):
		return nil, nil, false, fmt.Errorf("gachette.buildUser is %s, but sudo is not installed on the build host: install it there (apt-get install sudo)", r.BuildUser)
	case statusIs(err, exitBuildUser):
		return nil, nil, false, fmt.Errorf("running as the build user %s failed (see the message above): the SSH user must be able to run commands as %s without a password "+
			"(in /etc/sudoers.d/gachette: SSHUSER ALL=(%s) NOPASSWD: ALL), and %s must exist on the host", r.BuildUser, r.BuildUser, r.BuildUser, r.BuildUser)
	case statusIs(err, exitNoWorkingCopy):
		return nil, nil, false, fmt.Errorf("the working copy %s is gone; prepare it again", WorkingCopy(r.Workdir, r.Key))
	case statusIs(err, exitReset), statusIs(err, exitCheckout), statusIs(err, exitSubmodule):
		return nil, nil, false, fmt.Errorf("the working copy %s cannot be made the commit's tree again before the build (%s; see the message above): prepare it again (git gachette prepare %s URL, or quick)",
			WorkingCopy(r.Workdir, r.Key), strings.TrimSuffix(describeStatus(err).Error(), fmt.Sprintf(" (%s)", err)), r.Key)
	case statusIs(err, exitMoved) && len(recs) == 1 && recs[0].word == lineHead && len(recs[0].fields) == 1:
		if head := recs[0].fields[0]; head != "" {
			return nil, nil, false, fmt.Errorf("the working copy is at %s, not at %s: %w; run again (git gachette quick, or prepare then build)", head, r.Commit, ErrWorkingCopyMoved)
		}
		return nil, nil, false, fmt.Errorf("the working copy %s is gone; prepare it again", WorkingCopy(r.Workdir, r.Key))
	case err != nil:
		return nil, nil, false, describeStatus(err)
	case readErr != nil:
		return nil, nil, false, readErr
	}
	// No builder ran, and the session succeeded: a reuse.
	if len(recs) == 0 || recs[len(recs)-1].word != lineReused || len(recs[len(recs)-1].fields) != 0 {
		return nil, nil, false, errors.New("the build session ended before the builder started")
	}
	for _, rec := range recs[:len(recs)-1] {
		d, err := parseDeb(rec)
		if err != nil {
			return nil, nil, false, err
		}
		if err := r.checkNames(d); err != nil {
			return nil, nil, false, err
		}
		debs = append(debs, d)
	}
	return debs, nil, false, nil
}

// maxDebs bounds the .debs of one build, and so what a host can make us
// keep.
const maxDebs = 10000

// claims collects a trebuchet build's Built: lines, by file name.
type claims struct {
	trebuchet bool
	byFile    map[string]BuiltLine
	err       error
}

func newClaims(trebuchet bool) *claims {
	return &claims{trebuchet: trebuchet, byFile: map[string]BuiltLine{}}
}

func (c *claims) add(line []byte, cut int) {
	if !c.trebuchet || c.err != nil || !bytes.HasPrefix(line, []byte(builtPrefix)) {
		return
	}
	if cut > 0 {
		c.err = fmt.Errorf("trebuchet printed a Built: line longer than %d bytes", maxLine)
		return
	}
	b, _, err := ParseBuilt(string(line))
	switch {
	case err != nil:
		c.err = err
	case len(c.byFile) >= maxDebs:
		c.err = fmt.Errorf("trebuchet printed more than %d Built: lines", maxDebs)
	default:
		c.byFile[b.FileName] = b
	}
}

// removeStaging removes a staging directory the check session will not
// remove (ctx may be done: it is removed all the same, within stopWait).
func (r BuildRequest) removeStaging(ctx context.Context, ex Executor, staging string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancel()
	ex.Run(cctx, Script{Body: hostScript(cleanupSh), Args: []string{staging}, Stdout: io.Discard, Stderr: io.Discard})
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// notFoundHint explains exit status 127, the shell's "command not found".
func (r BuildRequest) notFoundHint(err error) string {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "" || ee.Status != 127 {
		return ""
	}
	switch r.Builder {
	case BuilderTrebuchet:
		return fmt.Sprintf(" (command not found: is trebuchet installed on the build host as %s? set gachette.trebuchet to its path)", r.Trebuchet)
	case BuilderDpkg:
		return " (command not found: install dpkg-dev and the package's build dependencies on the build host)"
	}
	return " (a command was not found on the build host; see its message above)"
}

// signalHint explains a builder's exit status above 128: the shell that ran
// it reports a command killed by signal N as 128+N.
func signalHint(err error) string {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "" || ee.Status <= 128 || ee.Status > 128+64 {
		return ""
	}
	name := unix.SignalName(syscall.Signal(ee.Status - 128))
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" (killed by signal %s: out of memory, a timeout, or someone on the host?)", strings.TrimPrefix(name, "SIG"))
}

// lockedWriter passes on one Write at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
