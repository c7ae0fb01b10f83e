// Package gitexec runs the git binary for git-gachette: every question git
// is the authority on (which repository, which settings, which identity, how
// refs change, how remotes are reached) goes through one type, Git, as
// git-lfs and gh do. It never prints and never exits.
package gitexec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Git runs git commands, in one repository when GitDir is set.
type Git struct {
	// GitDir is passed as --git-dir; "" lets git find the repository from
	// Dir and the environment, as it does for the user.
	GitDir string
	// Dir is the working directory of the commands ("" the current one).
	Dir string
	// Env is the environment the commands start from; nil means the
	// process's own. With GitDir set, the variables that name another
	// repository (GIT_DIR, GIT_WORK_TREE, …) are removed from it.
	Env []string
	// Cache, when set, keeps Probe's answers between runs.
	Cache *ProbeCache
}

// localEnvVars are the variables that tie a git command to one repository:
// git's own list (git rev-parse --local-env-vars) less the configuration
// ones, so "git -c k=v gachette …" still applies its settings to the stacks
// repository, whichever it is.
var localEnvVars = []string{
	"GIT_ALTERNATE_OBJECT_DIRECTORIES",
	"GIT_COMMON_DIR",
	"GIT_DIR",
	"GIT_GRAFT_FILE",
	"GIT_IMPLICIT_WORK_TREE",
	"GIT_INDEX_FILE",
	"GIT_NO_REPLACE_OBJECTS",
	"GIT_OBJECT_DIRECTORY",
	"GIT_PREFIX",
	"GIT_REPLACE_REF_BASE",
	"GIT_SHALLOW_FILE",
	"GIT_WORK_TREE",
	"GIT_NAMESPACE",
}

// WithoutRepoEnv returns env without the variables that name a repository.
func WithoutRepoEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, v := range localEnvVars {
			if name == v {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Command returns the git command for args, ready to run.
func (g *Git) Command(ctx context.Context, args ...string) *exec.Cmd {
	env := g.Env
	if env == nil {
		env = os.Environ()
	}
	full := args
	if g.GitDir != "" {
		env = WithoutRepoEnv(env)
		full = append([]string{"--git-dir=" + g.GitDir}, args...)
	}
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Dir = g.Dir
	cmd.Env = env
	return cmd
}

// WithEnv is g with env added to the environment git runs with (after
// g's own, so that env wins).
func (g *Git) WithEnv(env ...string) *Git {
	c := *g
	base := g.Env
	if base == nil {
		base = os.Environ()
	}
	c.Env = append(slices.Clip(base), env...)
	return &c
}

// Output runs git with args and stdin (nil: none), and returns its standard
// output. A failure is an *Error carrying git's standard error.
func (g *Git) Output(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	return run(g.Command(ctx, args...), stdin)
}

// run runs a command made by Command and returns its standard output; a
// failure is an *Error carrying git's standard error.
func run(cmd *exec.Cmd, stdin io.Reader) ([]byte, error) {
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), wrap(cmd.Args[1:], stderr.Bytes(), err)
	}
	return stdout.Bytes(), nil
}

// Error is a git command that failed.
type Error struct {
	Args     []string
	Stderr   string // git's standard error, trimmed
	ExitCode int    // -1 when git did not exit by itself (not found, killed)
	Err      error
}

func (e *Error) Error() string {
	msg := strings.TrimSpace(e.Stderr)
	if msg == "" {
		msg = e.Err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.Args, " "), msg)
}

func (e *Error) Unwrap() error { return e.Err }

func wrap(args []string, stderr []byte, err error) error {
	e := &Error{Args: args, Stderr: strings.TrimSpace(string(stderr)), ExitCode: -1, Err: err}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		e.ExitCode = ee.ExitCode()
	}
	if errors.Is(err, exec.ErrNotFound) {
		e.Err = fmt.Errorf("git is not installed or not on PATH: %w", err)
	}
	return e
}

// ZeroID is the object id git uses for "absent" in ref updates.
const ZeroID = "0000000000000000000000000000000000000000"

// RefUpdate is one compare-and-swap in a ref transaction: Name moves to New
// if it is Old now. Old == ZeroID means Name must not exist; New == ZeroID
// deletes it. New == Old only checks (git's "verify"): the transaction
// fails unless Name is Old, and Name stays locked until it ends.
type RefUpdate struct {
	Name, Old, New string
}

// UpdateRefs applies updates in one git ref transaction (git update-ref
// --stdin -z: start, update…, prepare, commit): all of them or, when any
// expectation fails or any ref cannot be locked, none. git does the
// locking, the reflogs (msg is their message), core.fsync, the
// reference-transaction hook and whatever ref backend the repository uses.
// A failure is an *Error carrying git's standard error; git runs in the C
// locale so that its messages can be read (see LockFile).
func (g *Git) UpdateRefs(ctx context.Context, msg string, updates []RefUpdate) error {
	return g.UpdateRefsChecked(ctx, msg, updates, nil)
}

// UpdateRefsChecked is UpdateRefs with check run once git has prepared
// the transaction (every ref locked, every expectation met) and before it
// commits: an error from check aborts the transaction (nothing changes)
// and is returned as it is. So check sees what no writer that locks one
// of these refs can change until the transaction ends.
func (g *Git) UpdateRefsChecked(ctx context.Context, msg string, updates []RefUpdate, check func() error) error {
	var in bytes.Buffer
	in.WriteString("start\x00")
	for _, u := range updates {
		if strings.ContainsRune(u.Name, 0) || len(u.New) != len(ZeroID) || len(u.Old) != len(ZeroID) {
			return fmt.Errorf("ref update %q: malformed (name or object ids)", u.Name)
		}
		if u.New == u.Old {
			fmt.Fprintf(&in, "verify %s\x00%s\x00", u.Name, u.Old)
			continue
		}
		fmt.Fprintf(&in, "update %s\x00%s\x00%s\x00", u.Name, u.New, u.Old)
	}
	in.WriteString("prepare\x00")
	args := []string{"update-ref", "--stdin", "-z"}
	if msg != "" {
		args = append(args, "-m", oneLine(msg))
	}
	// Without core.warnAmbiguousRefs=false git looks each object id up as a
	// ref name too (a dozen stat calls per id): 5x the time of a
	// 10,000-ref transaction.
	cmd := g.Command(ctx, append([]string{"-c", "core.warnAmbiguousRefs=false"}, args...)...)
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANGUAGE=")
	// In a process group of its own: the terminal's Ctrl-C (sent to the
	// foreground group) does not kill the transaction half-way; it
	// completes, or changes nothing.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stderr = &stderr
	if check == nil {
		in.WriteString("commit\x00")
		cmd.Stdin = &in
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			return wrap(args, stderr.Bytes(), err)
		}
		if !bytes.Contains(stdout.Bytes(), []byte("commit: ok")) {
			return wrap(args, stderr.Bytes(), errors.New("git did not confirm the ref transaction"))
		}
		return nil
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return wrap(args, nil, err)
	}
	// git answers "start: ok" and "prepare: ok" as it goes (flushed); an
	// expectation not met or a lock not taken ends it before the second.
	_, werr := stdin.Write(in.Bytes())
	r := bufio.NewReader(out)
	prepared := false
	for werr == nil {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		if line == "prepare: ok\n" {
			prepared = true
			break
		}
	}
	var cerr error
	end := "commit\x00"
	if prepared {
		if cerr = check(); cerr != nil {
			end = "abort\x00"
		}
		_, werr = io.WriteString(stdin, end)
	}
	stdin.Close()
	rest, _ := io.ReadAll(r)
	err = cmd.Wait()
	switch {
	case err != nil:
		return wrap(args, stderr.Bytes(), err)
	case cerr != nil:
		return cerr
	case !prepared || werr != nil || !bytes.Contains(rest, []byte("commit: ok")):
		return wrap(args, stderr.Bytes(), errors.New("git did not confirm the ref transaction"))
	}
	return nil
}

// oneLine keeps the first line of s: a reflog message is one line.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// LockFile returns the lock file a failed ref transaction could not
// create because it exists (another process holds it, or one died holding
// it), or "" when that is not why it failed.
func LockFile(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return ""
	}
	const pre, post = "Unable to create '", ".lock': File exists"
	i := strings.Index(e.Stderr, pre)
	if i < 0 {
		return ""
	}
	rest := e.Stderr[i+len(pre):]
	j := strings.Index(rest, post)
	if j < 0 {
		return ""
	}
	return filepath.Clean(rest[:j] + ".lock")
}

// IsHex reports whether s is n lowercase hex digits (any number, none
// included, when n < 0): the form git writes object names in (40 digits
// for SHA-1, 64 for SHA-256; fewer when abbreviated).
func IsHex[T string | []byte](s T, n int) bool {
	if n >= 0 && len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// IsObjectName reports whether s is a full object name: 40 (SHA-1) or 64
// (SHA-256) lowercase hex digits.
func IsObjectName(s string) bool { return IsHex(s, 40) || IsHex(s, 64) }

// CheckTransport refuses a URL that uses one of git's transports that run
// what the URL itself names (ext::<command>) or use a file descriptor it
// names (fd::<n>): handed to git clone, fetch or push, such a URL is a
// command, not a place. Other "<helper>::" URLs run a git-remote-<helper>
// installed on the machine, as git would for the user, and pass.
func CheckTransport(url string) error {
	scheme, _, ok := strings.Cut(url, "::")
	if !ok {
		return nil
	}
	switch t := strings.ToLower(scheme); t {
	case "ext", "fd":
		return fmt.Errorf("uses git's %s:: transport, which runs what the URL says; git-gachette refuses it", t)
	}
	return nil
}
