package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Executor runs shell scripts on a build host. Implementations: SSH
// (golang.org/x/crypto/ssh) and Local (this machine).
type Executor interface {
	// Host names the host in messages: "local" or user@host:port.
	Host() string
	// Run runs script with /bin/sh on the host, streaming stdin, stdout and
	// stderr, until it ends or ctx is cancelled. A non-zero exit is an
	// *ExitError. Run returns when the script ends, whether or not stdin
	// reached EOF: a caller may keep stdin open to answer the script and
	// must close it to release the goroutine that copies it.
	Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) error
	// Close ends the connection.
	Close() error
}

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

// Run runs script with /bin/sh in its own process group, so cancelling
// stops everything it started.
func (Local) Run(ctx context.Context, script string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// os/exec's Wait would wait for stdin to reach EOF: copy it through
	// our own pipe instead, and stop feeding it when the script ends.
	var stdinW *os.File
	if stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return fmt.Errorf("on local: %w", err)
		}
		cmd.Stdin, stdinW = r, w
		defer r.Close()
	}
	if err := cmd.Start(); err != nil {
		if stdinW != nil {
			stdinW.Close()
		}
		return fmt.Errorf("on local: %w", err)
	}
	if stdinW != nil {
		cmd.Stdin.(*os.File).Close()
		go func() {
			io.Copy(stdinW, stdin)
			stdinW.Close()
		}()
		defer stdinW.Close()
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case <-done:
		}
	}()
	err := cmd.Wait()
	close(done)
	if ctx.Err() != nil {
		return fmt.Errorf("on local: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &ExitError{Host: "local", Signal: ws.Signal().String()}
		}
		return &ExitError{Host: "local", Status: ee.ExitCode()}
	}
	return err
}
