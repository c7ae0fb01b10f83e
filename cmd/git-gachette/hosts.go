package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo/gitconfig"
)

// hostList is the effective build hosts (gachette.host may list several,
// separated by commas or spaces).
func (a *app) hostList() ([]string, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	v := a.settings.get("host")
	hosts := strings.FieldsFunc(v.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(hosts) == 0 {
		return nil, fmt.Errorf("no build host: set one with --host, GACHETTE_HOST or git config gachette.host (local for this machine)")
	}
	return hosts, nil
}

// boolSetting reads a boolean setting as git would.
func (a *app) boolSetting(key string) (bool, error) {
	v := a.settings.get(key)
	return gitconfig.Entry{Key: v.Key, Value: v.Value, Origin: v.Origin}.Bool()
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
// time, so that concurrent builds interleave readably.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		p.mu.Lock()
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.mu.Unlock()
		p.buf = p.buf[i+1:]
	}
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
