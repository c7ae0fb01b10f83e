package main

import (
	"errors"
	"path/filepath"

	"github.com/ops-hero/git-gachette/remote"
)

// prepared is where what prepares found is kept on this machine
// (remote.PreparedStore): $XDG_STATE_HOME/git-gachette/prepared, else
// ~/.local/state/git-gachette/prepared.
func (a *app) prepared() (remote.PreparedStore, error) {
	dir := a.env("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return remote.PreparedStore{}, errors.New("HOME is not set (or not absolute), so there is no ~/.local/state to keep prepares in; set HOME or XDG_STATE_HOME")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return remote.PreparedStore{Dir: filepath.Join(dir, "git-gachette", "prepared")}, nil
}

// forgetPrepared forgets the last prepare of a working copy, when another
// starts.
func (a *app) forgetPrepared(host, workdir, key string) {
	if s, err := a.prepared(); err == nil {
		s.Forget(host, workdir, key)
	}
}

// savePrepared keeps what a prepare found; a failure is said, not fatal:
// only a later build of that working copy needs it.
func (a *app) savePrepared(host, workdir string, co *remote.Checkout) {
	s, err := a.prepared()
	if err == nil {
		err = s.Save(host, workdir, co)
	}
	if err != nil {
		a.info("warning: could not keep what the prepare of %s found (%v); a later git gachette build %s will ask for a prepare first", co.Key, err, co.Key)
	}
}

// loadPrepared is the last prepare of key in workdir on host made from
// this machine, and the version of its commit.
func (a *app) loadPrepared(host, workdir, key, baseVersion string) (*remote.Prepared, string, error) {
	s, err := a.prepared()
	if err != nil {
		return nil, "", err
	}
	return s.Load(host, workdir, key, baseVersion)
}
