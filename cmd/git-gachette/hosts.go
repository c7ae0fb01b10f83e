package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/semverx"
)

// hostList is the effective build hosts (gachette.host may list several,
// separated by commas), each checked.
func (a *app) hostList() ([]string, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	v := a.settings.get("host")
	if strings.TrimSpace(v.Value) == "" {
		return nil, fmt.Errorf("no build host: set one with --host, GACHETTE_HOST or git config gachette.host (local for this machine)")
	}
	var hosts []string
	for _, h := range strings.Split(v.Value, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("host list %q (from %s) has an empty entry; give hosts as host1,host2", semverx.Shorten(v.Value), v.Origin)
		}
		if err := remote.CheckHost(h); err != nil {
			return nil, fmt.Errorf("%w (from %s); give hosts as host1,host2", err, v.Origin)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// buildSettings are the settings a build uses (build and quick).
var buildSettings = []string{"workdir", "debsPath", "builder", "trebuchet", "arch", "buildCommand", "baseVersion", "forwardAgent", "buildTimeout", "buildUser"}

// exitInterrupted is the exit status of a command stopped by SIGINT or
// SIGTERM, as a shell reports one killed by SIGINT.
const exitInterrupted = 130

// interrupted is err, or the "interrupted" exit (130) when ctx was
// cancelled by a signal: whatever a step was doing then, it stopped, and
// nothing was recorded.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	}
	return err
}

// buildTimeout reads gachette.buildTimeout: a Go duration (30m, 2h); empty
// or 0 is no limit.
func buildTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("build timeout %q is not a duration such as 45m or 2h (0 for none)", semverx.Shorten(v))
	}
	return d, nil
}

// checkSettings validates the named settings before anything runs on a
// build host, so that a bad value fails at once, naming where it was set.
func (a *app) checkSettings(keys ...string) error {
	if err := a.load(); err != nil {
		return err
	}
	checks := map[string]func(string) error{
		// as written: a path with ".." is refused, not cleaned
		"workdir":  func(v string) error { return remote.CheckHostPath("workdir", v) },
		"debsPath": func(v string) error { return remote.CheckHostPath("debs path", v) },
		"builder":  remote.CheckBuilder,
		"trebuchet": func(v string) error {
			if a.settings.get("builder").Value != remote.BuilderTrebuchet {
				return nil
			}
			return remote.CheckTrebuchetPath(v)
		},
		"arch":         remote.CheckArch,
		"baseVersion":  semverx.CheckBaseVersion,
		"forwardAgent": func(string) error { _, err := a.boolSetting("forwardAgent"); return err },
		"buildCommand": func(v string) error { return remote.CheckBuildCommand(a.settings.get("builder").Value, v) },
		"buildTimeout": func(v string) error { _, err := buildTimeout(v); return err },
		"buildUser":    remote.CheckBuildUser,
	}
	for _, k := range keys {
		v := a.settings.get(k)
		if err := checks[k](v.Value); err != nil {
			if k == "forwardAgent" {
				return err // names its origin already
			}
			return fmt.Errorf("%w (from %s)", err, v.Origin)
		}
	}
	return nil
}

// boolSetting reads a boolean setting as git would.
func (a *app) boolSetting(key string) (bool, error) {
	return a.settings.get(key).bool()
}

// connections opens each build host once per invocation, however many
// steps and projects use it (SSH sessions share the connection).
type connections struct {
	a     *app
	mu    sync.Mutex
	hosts map[string]*hostConn
}

type hostConn struct {
	once sync.Once
	ex   remote.Executor
	err  error
}

func (a *app) newConnections() *connections {
	return &connections{a: a, hosts: map[string]*hostConn{}}
}

// get connects to host the first time it is asked for.
func (c *connections) get(ctx context.Context, host string) (remote.Executor, error) {
	c.mu.Lock()
	hc, ok := c.hosts[host]
	if !ok {
		hc = &hostConn{}
		c.hosts[host] = hc
	}
	c.mu.Unlock()
	hc.once.Do(func() { hc.ex, hc.err = c.a.dial(ctx, host) })
	return hc.ex, hc.err
}

func (c *connections) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.hosts {
		if hc.ex != nil {
			hc.ex.Close()
		}
	}
}

func (a *app) dial(ctx context.Context, host string) (remote.Executor, error) {
	if host == "local" {
		return remote.Local{}, nil
	}
	forward, err := a.boolSetting("forwardAgent")
	if err != nil {
		return nil, err
	}
	ex, err := remote.DialSSH(ctx, remote.SSHOptions{Host: host, AcceptNew: a.flags.acceptNew, ForwardAgent: forward, Env: a.env})
	if err != nil {
		return nil, err // not a nil *SSH inside a non-nil Executor
	}
	return ex, nil
}

// prefixWriter writes each line to w behind a prefix, whole lines at a
// time, so that concurrent builds interleave readably. The remote steps
// write whole lines of bounded length; a partial line is kept up to
// maxPending bytes.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

const maxPending = 64 << 10

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.buf = append(p.buf, b[:min(len(b), max(maxPending-len(p.buf), 0))]...)
			break
		}
		p.mu.Lock()
		fmt.Fprintf(p.w, "%s%s%s\n", p.prefix, p.buf, b[:i])
		p.mu.Unlock()
		p.buf, b = p.buf[:0], b[i+1:]
	}
	return n, nil
}

// flush writes a last line without its newline.
func (p *prefixWriter) flush() {
	if len(p.buf) > 0 {
		p.mu.Lock()
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.mu.Unlock()
		p.buf = nil
	}
}

// remoteOutput is where a phase's remote output goes: stderr behind a
// prefix, or nowhere with --quiet.
func (a *app) remoteOutput(mu *sync.Mutex, prefix string) *prefixWriter {
	w := a.stderr
	if a.flags.quiet {
		w = io.Discard
	}
	return &prefixWriter{mu: mu, w: w, prefix: prefix}
}
