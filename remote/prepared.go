package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
)

// What a prepare found (the commit, git describe, the commit count) is
// kept on the caller's machine, for a later build of the same working
// copy to version that commit the same way: on the build host, a build
// could rewrite it (and version every later build as it likes).

// Prepared is one prepare, as kept.
type Prepared struct {
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

// PreparedStore keeps prepares in a directory of the caller's machine.
type PreparedStore struct{ Dir string }

// file is where the prepare of key in workdir on host is kept.
func (s PreparedStore) file(host, workdir, key string) string {
	sum := sha256.Sum256([]byte(host + "\x00" + workdir + "\x00" + key))
	return filepath.Join(s.Dir, hex.EncodeToString(sum[:16])+".json")
}

// Forget forgets the last prepare of a working copy, when another starts:
// until it has finished, there is none to build.
func (s PreparedStore) Forget(host, workdir, key string) {
	os.Remove(s.file(host, workdir, key))
}

// Save keeps what a prepare on host found.
func (s PreparedStore) Save(host, workdir string, co *Checkout) error {
	rec := Prepared{Host: host, Workdir: workdir, Key: co.Key, URL: co.URL, Ref: co.Ref, Commit: co.Commit,
		Describe: co.Describe, Count: co.Count, Time: time.Now().UTC()}
	f := s.file(host, workdir, co.Key)
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(f, append(data, '\n'))
}

// Load is the last finished prepare of key in workdir on host kept here,
// and the version of its commit.
func (s PreparedStore) Load(host, workdir, key, baseVersion string) (*Prepared, string, error) {
	f := s.file(host, workdir, key)
	again := fmt.Sprintf("prepare it first: git gachette prepare %s URL [REF]", key)
	data, err := os.ReadFile(f)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("no finished prepare of %s on %s (workdir %s) from this machine (none was made here, or the last one was stopped): git-gachette keeps what a prepare found here (in %s), not on the build host, where a build could rewrite it; %s",
			key, host, workdir, s.Dir, again)
	}
	if err != nil {
		return nil, "", err
	}
	var rec Prepared
	if err := json.Unmarshal(data, &rec); err != nil || rec.Host != host || rec.Workdir != workdir || rec.Key != key {
		return nil, "", fmt.Errorf("%s is not a prepare git-gachette can read; %s", f, again)
	}
	version, err := semverx.CommitVersion(rec.Describe, rec.Count, rec.Commit, baseVersion)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w; %s", f, err, again)
	}
	return &rec, version, nil
}
