package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/semverx"
)

// What a prepare found (the commit, git describe, the commit count) is
// kept on this machine, for a later build of the same working copy to
// version that commit the same way: on the build host, a build could
// rewrite it (and version every later build as it likes).

// preparedRecord is one prepare, as kept.
type preparedRecord struct {
	Host     string    `json:"host"`
	Workdir  string    `json:"workdir"`
	Key      string    `json:"key"`
	URL      string    `json:"url"` // without its password
	Ref      string    `json:"ref"`
	Commit   string    `json:"commit"`
	Describe string    `json:"describe"`
	Count    int       `json:"count"`
	Time     time.Time `json:"time"`
}

// preparedDir is where prepares are kept: $XDG_STATE_HOME/git-gachette/prepared,
// else ~/.local/state/git-gachette/prepared.
func (a *app) preparedDir() (string, error) {
	dir := a.env("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return "", errors.New("HOME is not set (or not absolute), so there is no ~/.local/state to keep prepares in; set HOME or XDG_STATE_HOME")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "git-gachette", "prepared"), nil
}

// preparedFile is the file of the working copy key in workdir on host.
func (a *app) preparedFile(host, workdir, key string) (string, error) {
	dir, err := a.preparedDir()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(host + "\x00" + workdir + "\x00" + key))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".json"), nil
}

// savePrepared keeps what a prepare on host found; a failure is said, not
// fatal: only a later build of that working copy needs it.
func (a *app) savePrepared(host, workdir string, co *remote.Checkout) {
	rec := preparedRecord{Host: host, Workdir: workdir, Key: co.Key, URL: co.URL, Ref: co.Ref, Commit: co.Commit,
		Describe: co.Describe, Count: co.Count, Time: time.Now().UTC()}
	err := func() error {
		f, err := a.preparedFile(host, workdir, co.Key)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
			return err
		}
		data, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return err
		}
		tmp, err := os.CreateTemp(filepath.Dir(f), ".prepared-*")
		if err != nil {
			return err
		}
		_, err = tmp.Write(append(data, '\n'))
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), f)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
		return err
	}()
	if err != nil {
		a.info("warning: could not keep what the prepare of %s found (%v); a later git gachette build %s will ask for a prepare first", co.Key, err, co.Key)
	}
}

// forgetPrepared forgets the last prepare of a working copy, when another
// starts: until it has finished, there is none to build.
func (a *app) forgetPrepared(host, workdir, key string) {
	if f, err := a.preparedFile(host, workdir, key); err == nil {
		os.Remove(f)
	}
}

// loadPrepared is the last prepare of key in workdir on host made from
// this machine, and the version of its commit.
func (a *app) loadPrepared(host, workdir, key, baseVersion string) (*preparedRecord, string, error) {
	f, err := a.preparedFile(host, workdir, key)
	if err != nil {
		return nil, "", err
	}
	again := fmt.Sprintf("prepare it first: git gachette prepare %s URL [REF]", key)
	data, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("no finished prepare of %s on %s (workdir %s) from this machine (none was made here, or the last one was stopped): git-gachette keeps what a prepare found here (in %s), not on the build host, where a build could rewrite it; %s",
			key, host, workdir, filepath.Dir(f), again)
	}
	if err != nil {
		return nil, "", err
	}
	var rec preparedRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Host != host || rec.Workdir != workdir || rec.Key != key {
		return nil, "", fmt.Errorf("%s is not a prepare git-gachette can read; %s", f, again)
	}
	version, err := semverx.CommitVersion(rec.Describe, rec.Count, rec.Commit, baseVersion)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w; %s", f, err, again)
	}
	return &rec, version, nil
}
