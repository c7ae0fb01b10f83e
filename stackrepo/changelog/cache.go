package changelog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Source is a package's recorded Source, checked before it reaches git:
// it comes from the stacks repository (a remote's data), not from the
// user, so nothing git would take as an option or as a command to run
// (ext::, fd::) gets through.
type Source struct {
	url string // as git is given it: a path made absolute
	key string // the cache entry's name
}

// ParseSource checks a recorded Source: a URL (ssh://, https://,
// file://, git@host:path, a <helper>:: URL of a remote helper installed
// here) or a path (a relative one is taken from the current directory).
func ParseSource(s string) (Source, error) {
	switch {
	case s == "", strings.HasPrefix(s, "-"), strings.IndexFunc(s, unicode.IsControl) >= 0, len(s) > 2048:
		return Source{}, errors.New("is not a repository URL or path")
	}
	if err := gitexec.CheckTransport(s); err != nil {
		return Source{}, err
	}
	u := s
	if isPath(s) {
		abs, err := filepath.Abs(s)
		if err != nil {
			return Source{}, err
		}
		u = abs
	}
	// The cache entry is named by a digest of the URL without user
	// information: no password ever appears in a path.
	sum := sha256.Sum256([]byte(stackrepo.Redact(u)))
	return Source{url: u, key: hex.EncodeToString(sum[:16])}, nil
}

// isPath says whether git takes s as a local path rather than a URL: as
// git decides (connect.c, url_is_local_not_ssh): no "://" and no ':'
// before the first '/'.
func isPath(s string) bool {
	if strings.Contains(s, "://") {
		return false
	}
	colon := strings.IndexByte(s, ':')
	slash := strings.IndexByte(s, '/')
	return colon < 0 || slash >= 0 && slash < colon
}

// String is the source as messages show it, without user information.
func (s Source) String() string { return stackrepo.Redact(s.url) }

// redact removes s's user information from git's words (git may name
// "user:password@host" without the URL's scheme).
func (s Source) redact(msg string) string {
	msg = stackrepo.Redact(msg)
	if u, err := url.Parse(s.url); err == nil && u.User != nil {
		msg = strings.ReplaceAll(msg, u.User.String()+"@", "")
	}
	return msg
}

// Cache keeps one bare repository per source, fetched with the user's
// git (credential helpers, ~/.ssh/config, url.*.insteadOf, proxies), so
// that a second changelog of the same sources fetches nothing.
type Cache struct {
	// Dir holds the entries: <Dir>/<digest of the URL>.git, each with its
	// lock file <Dir>/<digest>.lock.
	Dir string
	// Env is the environment git runs in (nil: the process's own).
	Env []string
}

// keepRef is where the cache keeps a commit fetched by id, so that git's
// gc never drops it.
const keepRef = "refs/gachette/keep/"

// UnreachableError is a source git could not fetch from, with git's
// words (passwords removed).
type UnreachableError struct {
	Source string
	Git    string
	raw    string // git's words as it said them
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("source %s cannot be fetched: %s", e.Source, e.Git)
}

// fetch makes sure the cache entry of src has the commits ids (and their
// history), fetching what it lacks, and returns the entry's git and the
// ids it still lacks (src has no such commit on any branch). Concurrent
// runs take turns on the entry's lock.
func (c *Cache) fetch(ctx context.Context, src Source, ids []string) (*gitexec.Git, []string, error) {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, nil, err
	}
	unlock, err := lock(ctx, filepath.Join(c.Dir, src.key+".lock"))
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	dir := filepath.Join(c.Dir, src.key+".git")
	created, err := c.create(ctx, dir, src, ids)
	if err != nil {
		return nil, nil, err
	}
	g := &gitexec.Git{GitDir: dir, Env: c.Env}
	missing, err := absent(ctx, g, ids)
	if err != nil && ctx.Err() == nil {
		// git cannot read the cache entry: it is damaged (a crash, a
		// disk, a hand): say so, and how to make it anew
		return nil, nil, fmt.Errorf("the cache of %s (%s) cannot be read by git: %w; remove it (rm -rf %s) and run again: it is fetched anew", src, dir, err, stackrepo.ShellWord(dir))
	}
	if err != nil || len(missing) == 0 {
		return g, missing, err
	}
	args := []string{"fetch", "--no-tags", "--no-prune", "--no-write-fetch-head", "--no-recurse-submodules", src.url}
	for _, id := range missing {
		args = append(args, id+":"+keepRef+id)
	}
	err = c.git(ctx, g, src, args...)
	if err != nil && refused(err) {
		// The server does not give commits by id (protocol v0 without
		// uploadpack.allowAnySHA1InWant, or an id it does not have):
		// take its branches, which hold what it publishes.
		err = c.git(ctx, g, src, "fetch", "--no-tags", "--no-prune", "--no-write-fetch-head", "--no-recurse-submodules", src.url, "+refs/heads/*:refs/heads/*")
	}
	if err != nil {
		if created {
			// a source never reached leaves no entry behind
			os.RemoveAll(dir)
		}
		return nil, nil, err
	}
	missing, err = absent(ctx, g, ids)
	return g, missing, err
}

// create makes the cache entry dir if it does not exist (created says
// it did): git init --bare in a directory beside it, renamed into place,
// so that no run ever sees half an entry.
func (c *Cache) create(ctx context.Context, dir string, src Source, ids []string) (created bool, err error) {
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return false, nil
	}
	tmp := dir + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return false, err
	}
	format := "sha1"
	if len(ids) > 0 && len(ids[0]) == 64 {
		format = "sha256"
	}
	env := c.Env
	if env == nil {
		env = os.Environ()
	}
	// git init names its directory itself: no GIT_DIR of the user's.
	if _, err := (&gitexec.Git{Env: gitexec.WithoutRepoEnv(env)}).Output(ctx, nil, "init", "--quiet", "--bare", "--object-format="+format, tmp); err != nil {
		return false, fmt.Errorf("source cache %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "description"), []byte("git-gachette's cache of "+src.String()+"\n"), 0o644); err != nil {
		return false, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, dir)
}

// git runs git against src: git's English words (they are read), no
// password prompt unless GIT_TERMINAL_PROMPT says otherwise, and on
// cancellation SIGTERM to git and what it started (ssh, a remote
// helper), so that git removes its lock files.
func (c *Cache) git(ctx context.Context, g *gitexec.Git, src Source, args ...string) error {
	cmd := g.Command(ctx, args...)
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANGUAGE=")
	if !hasEnv(cmd.Env, "GIT_TERMINAL_PROMPT") {
		cmd.Env = append(cmd.Env, "GIT_TERMINAL_PROMPT=0")
	}
	cmd.Cancel = func() error {
		err := gitexec.SignalTree(cmd.Process.Pid, syscall.SIGTERM)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return &UnreachableError{Source: src.String(), Git: src.redact(gitWords(msg)), raw: msg}
	}
	return nil
}

// refused says whether a fetch failed because the server would not give
// a commit by its id, rather than because it could not be reached.
func refused(err error) bool {
	var u *UnreachableError
	if !errors.As(err, &u) {
		return false
	}
	for _, s := range []string{"unadvertised object", "not our ref", "couldn't find remote ref", "no such remote ref"} {
		if strings.Contains(u.raw, s) {
			return true
		}
	}
	return false
}

// absent returns the ids of ids that are not commits of g's repository.
func absent(ctx context.Context, g *gitexec.Git, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	out, err := g.Output(ctx, strings.NewReader(strings.Join(ids, "\n")+"\n"), "cat-file", "--batch-check=%(objectname) %(objecttype)")
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(ids) {
		return nil, fmt.Errorf("git cat-file --batch-check: %d answers for %d objects", len(lines), len(ids))
	}
	var missing []string
	for i, l := range lines {
		if l != ids[i]+" commit" {
			missing = append(missing, ids[i])
		}
	}
	return missing, nil
}

// lock takes the lock file path (flock(2): released by the kernel when
// the process dies, so a crash never leaves the cache locked), waiting
// for another run that holds it; unlock releases it.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// hasEnv reports whether env sets name (to anything, even empty).
func hasEnv(env []string, name string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, name+"=") {
			return true
		}
	}
	return false
}

// gitWords keeps git's conclusion, not its progress or advice: its
// "fatal:" and "error:" lines (at most three), else its last line.
func gitWords(s string) string {
	var keep []string
	last := ""
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		last = l
		if (strings.HasPrefix(l, "fatal: ") || strings.HasPrefix(l, "error: ")) && len(keep) < 3 && !contains(keep, l) {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return last
	}
	return strings.Join(keep, "; ")
}
