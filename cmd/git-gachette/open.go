package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// domain is the effective default domain.
func (a *app) domain() (string, error) {
	if err := a.load(); err != nil {
		return "", err
	}
	d := a.settings.Domain.Value
	if err := stackrepo.CheckName("domain", d); err != nil {
		return "", fmt.Errorf("%w (from %s)", err, a.settings.Domain.Origin)
	}
	return d, nil
}

// stackID parses a STACK argument in the effective domain.
func (a *app) stackID(arg string) (stackrepo.StackID, error) {
	d, err := a.domain()
	if err != nil {
		return stackrepo.StackID{}, err
	}
	return stackrepo.ParseStackID(arg, d)
}

// openStacks opens the stacks repository git found (see load).
func (a *app) openStacks() (*stackrepo.Repo, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	if a.stacksErr != nil {
		return nil, a.stacksErr
	}
	r, err := stackrepo.OpenFound(a.stacks, a.cfg)
	if err != nil && a.stacksNamed.Value != "" {
		return nil, fmt.Errorf("%w (stacks repository from %s)", err, a.stacksNamed.Origin)
	}
	return r, err
}

// openForWrite opens the stacks repository and asks git who commits to
// it, as git commit would there. When the stacks repository is not the
// one the user stands in, a successful command names it on stderr. The
// caller closes the repository.
func (a *app) openForWrite() (*stackrepo.Repo, stackrepo.Identity, error) {
	r, err := a.openStacks()
	if err != nil {
		return nil, stackrepo.Identity{}, err
	}
	ctx := context.Background()
	here := make(chan *gitexec.Repository, 1)
	go func() {
		if a.here != nil {
			here <- a.here.Repo
			return
		}
		p, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			here <- nil // no answer: not where the stacks are, as far as we know
			return
		}
		here <- p.Repo
	}()
	ident, err := r.Identity(ctx)
	if h := <-here; h == nil || !sameDir(h.CommonDir, r.Dir) {
		a.writeNote = fmt.Sprintf("stacks repository: %s (from %s)", r.Dir, a.stacksNamed.Origin)
	}
	if err == nil {
		ident.Sign, err = a.settings.Sign.bool()
	}
	if err != nil {
		r.Close()
		return nil, stackrepo.Identity{}, err
	}
	return r, ident, nil
}

// sameDir reports whether two paths name the same directory.
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}
