package buildjob

import (
	"context"
	"errors"
	"sync"

	"github.com/ops-hero/git-gachette/remote"
)

// pool opens each build host once per job, however many steps and
// projects use it (SSH sessions share the connection).
type pool struct {
	cfg   Config
	mu    sync.Mutex
	hosts map[string]*hostConn
}

type hostConn struct {
	once sync.Once
	ex   remote.Executor
	err  error
}

func newPool(c Config) *pool {
	return &pool{cfg: c, hosts: map[string]*hostConn{}}
}

// get connects to host the first time it is asked for.
func (p *pool) get(ctx context.Context, host string) (remote.Executor, error) {
	p.mu.Lock()
	hc, ok := p.hosts[host]
	if !ok {
		hc = &hostConn{}
		p.hosts[host] = hc
	}
	p.mu.Unlock()
	hc.once.Do(func() { hc.ex, hc.err = p.dial(ctx, host) })
	return hc.ex, hc.err
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, hc := range p.hosts {
		if hc.ex != nil {
			hc.ex.Close()
		}
	}
}

func (p *pool) dial(ctx context.Context, host string) (remote.Executor, error) {
	if host == "local" {
		return remote.Local{}, nil
	}
	ex, err := remote.DialSSH(ctx, remote.SSHOptions{Host: host, AcceptNew: p.cfg.AcceptNewHostKeys, ForwardAgent: p.cfg.ForwardAgent, Env: p.cfg.Env})
	if err != nil {
		return nil, err // not a nil *SSH inside a non-nil Executor
	}
	return ex, nil
}

// first connects to the first host, for the jobs on one host.
func (p *pool) first(ctx context.Context) (remote.Executor, error) {
	if len(p.cfg.Hosts) == 0 {
		return nil, errors.New("no build host")
	}
	return p.get(ctx, p.cfg.Hosts[0])
}
