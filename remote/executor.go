package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Executor runs shell scripts on a build host. Implementations: SSH
// (golang.org/x/crypto/ssh) and Local (this machine).
type Executor interface {
	// Host names the host in messages: "local" or user@host:port.
	Host() string
	// Run runs a script with /bin/sh on the host until it ends or ctx is
	// done. A non-zero exit is an *ExitError. When ctx is done, the
	// script's stdin ends, it gets SIGTERM, and, if it has not ended
	// within stopWait, it is killed (local) or its session closed (SSH);
	// Run then returns ctx's error.
	Run(ctx context.Context, s Script) error
	// Close ends the connection.
	Close() error
}

// Script is one run of a host script.
type Script struct {
	// Body is the script's text: fixed, never holding a value.
	Body string
	// Args are its positional parameters, $1, $2, …
	Args []string
	// Stdin, if set, is copied to the script's stdin, which ends when
	// Stdin does. If nil, stdin stays open, empty, until the script ends
	// or ctx is done: a script may wait for its end to learn that the
	// caller has gone.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// stopWait is how long a cancelled script has to end by itself.
var stopWait = 5 * time.Second

// ExitError is a script that ended with a non-zero status or a signal.
type ExitError struct {
	Host   string
	Status int
	Signal string
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return "killed by signal " + e.Signal
	}
	return fmt.Sprintf("exit status %d", e.Status)
}

// Local runs scripts on this machine (host "local").
type Local struct{}

var (
	_ Executor = Local{}
	_ Executor = (*SSH)(nil)
)

// Host is "local".
func (Local) Host() string { return "local" }

// Close does nothing.
func (Local) Close() error { return nil }

// CleanEnv is env without what configures git or git-gachette for the
// caller (GIT_*, GACHETTE_*): the git commands and the builder of a build
// on this machine see the machine's configuration, as over SSH, never
// the caller's repository (git --git-dir sets GIT_DIR for its commands).
func CleanEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "GACHETTE_") {
			out = append(out, kv)
		}
	}
	return out
}

// Run runs the script with /bin/sh in its own process group, in a clean
// environment (CleanEnv).
func (Local) Run(ctx context.Context, s Script) error {
	cmd := exec.Command("/bin/sh", append([]string{"-c", s.Body, "gachette"}, s.Args...)...)
	cmd.Env = CleanEnv(os.Environ())
	cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Whatever the script leaves holding its output cannot keep Run waiting.
	cmd.WaitDelay = stopWait
	// Our own stdin pipe: os/exec's would make Wait wait for Stdin's EOF.
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("on local: %w", err)
	}
	cmd.Stdin = r
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return fmt.Errorf("on local: %w", err)
	}
	defer w.Close()
	if s.Stdin != nil {
		go func() {
			io.Copy(w, s.Stdin)
			w.Close()
		}()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		w.Close()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(stopWait):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		return fmt.Errorf("on local: %w", context.Cause(ctx))
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &ExitError{Host: "local", Signal: ws.Signal().String()}
		}
		return &ExitError{Host: "local", Status: ee.ExitCode()}
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil
	}
	return err
}
