// Package buildjob runs the jobs of git-gachette on build hosts from
// typed requests: Prepare, Lint, Build, and Quick (prepare, version,
// build, check against the stacks and record, over a pool of hosts, with
// retries). It reads no flag and no git config: the settings arrive
// checked, in Config, and results go back to the caller to render.
package buildjob

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"time"
)

// Settings are the gachette.* settings jobs on build hosts read, checked
// and typed where they entered (the command line names their origin).
// A job reads only those it needs.
type Settings struct {
	// Hosts are the build hosts ("local" is this machine); jobs on one
	// host take the first, Quick spreads projects over all in turn.
	Hosts        []string
	ForwardAgent bool
	// Workdir and DebsPath are paths on the build host, cleaned.
	Workdir  string
	DebsPath string
	// Builder is remote.BuilderTrebuchet, BuilderDpkg or BuilderCommand.
	Builder      string
	Trebuchet    string
	BuildCommand string
	Arch         string
	BaseVersion  string
	// BuildTimeout stops a builder that runs longer (0: no limit).
	BuildTimeout time.Duration
	BuildUser    string
}

// Config is what every job reads besides its own request.
type Config struct {
	Settings
	// AcceptNewHostKeys adds the key of a host not yet in known_hosts
	// (never a changed one).
	AcceptNewHostKeys bool
	// Env is the caller's environment: ~/.ssh and the agent for SSH, and
	// where prepares are kept (XDG_STATE_HOME, else HOME).
	Env func(string) string
	// Progress gets one line per step ("==> build app …") and warnings;
	// HostOutput the output of the build hosts, line by line behind a
	// prefix. nil is nowhere. Concurrent jobs write whole lines.
	Progress, HostOutput io.Writer
}

// reporter serialises a job's progress lines and host output.
type reporter struct {
	mu             sync.Mutex
	progress, host io.Writer
}

func (c Config) reporter() *reporter {
	r := &reporter{progress: c.Progress, host: c.HostOutput}
	if r.progress == nil {
		r.progress = io.Discard
	}
	if r.host == nil {
		r.host = io.Discard
	}
	return r
}

func (r *reporter) info(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.progress, format+"\n", args...)
}

// hostLog is where one step's host output goes, behind prefix.
func (r *reporter) hostLog(prefix string) *prefixWriter {
	return &prefixWriter{mu: &r.mu, w: r.host, prefix: prefix}
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
