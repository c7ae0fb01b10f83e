package buildjob

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/ops-hero/git-gachette/remote"
)

// PrepareRequest asks for the working copy Key of URL at Ref on the first
// build host. It reads Workdir, BaseVersion and ForwardAgent.
type PrepareRequest struct {
	Config
	Key, URL string
	// Ref is a branch, tag or commit; empty, the remote's default branch.
	Ref string
}

// PrepareResult is the prepared working copy, and the host it is on.
type PrepareResult struct {
	Host     string
	Checkout *remote.Checkout
}

// Prepare makes the working copy of req on the first host, and keeps what
// it found on this machine for a later Build of it.
func Prepare(ctx context.Context, req PrepareRequest) (*PrepareResult, error) {
	checks := []error{remote.CheckKey(req.Key), remote.CheckURL(req.URL)}
	if req.Ref != "" {
		checks = append(checks, remote.CheckRef(req.Ref))
	}
	if err := firstError(checks); err != nil {
		return nil, err
	}
	p := newPool(req.Config)
	defer p.close()
	ex, err := p.first(ctx)
	if err != nil {
		return nil, err
	}
	out := req.reporter()
	log := out.hostLog("    ")
	co, err := prepareOn(ctx, ex, req.Config, out, log, req.Key, req.URL, req.Ref)
	log.flush()
	if err != nil {
		return nil, err
	}
	return &PrepareResult{Host: ex.Host(), Checkout: co}, nil
}

// prepareOn prepares a working copy on ex, and keeps what it found; until
// it has finished, there is no prepare of it to build.
func prepareOn(ctx context.Context, ex remote.Executor, c Config, out *reporter, log *prefixWriter, key, url, ref string) (*remote.Checkout, error) {
	out.info("==> prepare %s on %s", key, ex.Host())
	store, storeErr := preparedStore(c.Env)
	if storeErr == nil {
		store.Forget(ex.Host(), c.Workdir, key)
	}
	co, err := remote.Prepare(ctx, ex, c.Workdir, key, url, ref, c.BaseVersion, log)
	if err != nil {
		return nil, err
	}
	// A failure to keep it is said, not fatal: only a later build of
	// that working copy needs it.
	if storeErr == nil {
		storeErr = store.Save(ex.Host(), c.Workdir, co)
	}
	if storeErr != nil {
		out.info("warning: could not keep what the prepare of %s found (%v); a later git gachette build %s will ask for a prepare first", co.Key, storeErr, co.Key)
	}
	return co, nil
}

// preparedStore is where what prepares found is kept on this machine:
// $XDG_STATE_HOME/git-gachette/prepared, else
// ~/.local/state/git-gachette/prepared.
func preparedStore(env func(string) string) (remote.PreparedStore, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	dir := env("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return remote.PreparedStore{}, errors.New("HOME is not set (or not absolute), so there is no ~/.local/state to keep prepares in; set HOME or XDG_STATE_HOME")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return remote.PreparedStore{Dir: filepath.Join(dir, "git-gachette", "prepared")}, nil
}

// firstError is the first of errs that is not nil.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
