package gitexec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
)

// ProbeCache keeps git's answers to Probe (git rev-parse and git config
// -l) between runs, so that a command that asks the same question in the
// same place again, with nothing changed, starts no git at all.
//
// An answer is kept with a witness of every input git's answer depends on,
// and is served only while every witness is unchanged:
//
//   - the question: the directory asked about (real path), --git-dir,
//     the user and groups, the git binary (path and file), and every
//     environment variable git reads for it (all GIT_*, HOME,
//     XDG_CONFIG_HOME, SUDO_UID): a different value is a different cache
//     entry;
//   - the search for the repository: every directory git looked at on
//     its way up (a .git or a HEAD appearing there changes its mtime;
//     a .git, HEAD or commondir there that did not make a repository yet
//     is witnessed too),
//     the .git entry it found (a gitfile's content), the git directory's
//     HEAD (also what includeIf "onbranch:" reads, with the symbolic refs
//     it goes through when such a condition is set), commondir, objects and
//     refs, and the shallow file; the ownership of the repository
//     (safe.directory);
//   - every configuration file git reads or would read: the system file
//     (asked of git once), the global ones (XDG and ~/.gitconfig, or
//     GIT_CONFIG_GLOBAL), the local and worktree files, and every file an
//     include.path or includeIf.*.path names, whether or not it exists or
//     its condition held.
//
// A file is witnessed by its device, inode, mode, owner, size, mtime and
// ctime (ctime cannot be set back: any write, rename or chmod moves it),
// read from the file opened (see stampOf).
// An answer is not kept when any witnessed file changed less than
// RacyWindow before git was asked (a change within the same timestamp
// tick would not show), as git's racy-index rule; nor is an answer that
// is an error other than "not in a repository". Anything unreadable in
// the cache is a miss, and so is anything the cache may not have written
// itself: an entry that is not a regular file of this user's, writable by
// no one else, in a directory of this user's that no one else may write
// in, of at most maxCacheEntry bytes, with its witnesses.
type ProbeCache struct {
	// Dir holds the entries, one file each.
	Dir string
	// RacyWindow: see above; 0 means the default, 2 seconds.
	RacyWindow time.Duration
}

// cacheVersion changes whenever an entry's shape or meaning does.
const cacheVersion = 1

// stamp is what a witness records of a file.
type stamp struct {
	Path string `json:"p"`
	// Kind: "file" — everything; "dir" — a directory whose entries
	// matter (mtime, ctime, identity); "id" — existence, identity and
	// owner only, for directories git writes in all the time (a git
	// directory, objects, refs) whose existence and owner matter.
	Kind   string `json:"k"`
	Exists bool   `json:"e"`
	Dev    uint64 `json:"d,omitempty"`
	Ino    uint64 `json:"i,omitempty"`
	Mode   uint32 `json:"m,omitempty"`
	UID    uint32 `json:"u,omitempty"`
	Size   int64  `json:"s,omitempty"`
	Mtime  int64  `json:"mt,omitempty"`
	Ctime  int64  `json:"ct,omitempty"`
}

// stampOf opens the file and stats what it opened, as git opens it: on
// NFS, open revalidates what a bare stat may answer from its attribute
// cache.
func stampOf(path, kind string) stamp {
	s := stamp{Path: path, Kind: kind}
	var st syscall.Stat_t
	if fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0); err == nil {
		err = syscall.Fstat(fd, &st)
		syscall.Close(fd)
		if err != nil {
			return s
		}
	} else if err := syscall.Stat(path, &st); err != nil {
		return s
	}
	s.Exists, s.Dev, s.Ino, s.Mode, s.UID = true, uint64(st.Dev), st.Ino, st.Mode, st.Uid
	if kind != "id" {
		s.Size = st.Size
		s.Mtime = st.Mtim.Sec*1e9 + st.Mtim.Nsec
		s.Ctime = st.Ctim.Sec*1e9 + st.Ctim.Nsec
	}
	return s
}

// cacheEntry is one kept answer.
type cacheEntry struct {
	Version   int           `json:"version"`
	Key       string        `json:"key"`
	Repo      *Repository   `json:"repo,omitempty"`
	NoRepo    string        `json:"no_repo,omitempty"` // git's words when it found none
	Config    []ConfigEntry `json:"config"`
	Witnesses []stamp       `json:"witnesses"`
}

// cachedEnv are the variables, besides GIT_*, that change what git
// answers here.
// SUDO_UID: git run by root trusts a repository that SUDO_UID owns
// (safe.directory).
var cachedEnv = []string{"HOME", "XDG_CONFIG_HOME", "SUDO_UID"}

// key is the question Probe asks, in full, and the start directory (real
// path); ok is false when it cannot be known (then nothing is cached).
func (g *Git) cacheKey() (key, start, gitBin string, ok bool) {
	start, err := g.dir()
	if err != nil {
		return "", "", "", false
	}
	if start, err = filepath.EvalSymlinks(start); err != nil {
		return "", "", "", false
	}
	if gitBin, err = exec.LookPath("git"); err != nil {
		return "", "", "", false
	}
	if gitBin, err = filepath.Abs(gitBin); err != nil {
		return "", "", "", false
	}
	env := g.Env
	if env == nil {
		env = os.Environ()
	}
	if g.GitDir != "" {
		env = WithoutRepoEnv(env)
	}
	last := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GIT_") || contains(cachedEnv, k) {
			last[k] = v
		}
	}
	var b strings.Builder
	groups, err := os.Getgroups()
	if err != nil {
		return "", "", "", false
	}
	sort.Ints(groups)
	// who asks: what git may read and which repositories it trusts
	fmt.Fprintf(&b, "v%d\nstart=%s\ngit-dir=%s\neuid=%d egid=%d groups=%v\ngit=%s\n", cacheVersion, start, g.GitDir, os.Geteuid(), os.Getegid(), groups, gitBin)
	names := make([]string, 0, len(last))
	for k := range last {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "env %s=%q\n", k, last[k])
	}
	// git resolves the ceilings' symbolic links each time
	for _, c := range filepath.SplitList(last["GIT_CEILING_DIRECTORIES"]) {
		if real, err := filepath.EvalSymlinks(c); err == nil && real != c {
			fmt.Fprintf(&b, "ceiling %s=%s\n", c, real)
		}
	}
	return b.String(), start, gitBin, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (c *ProbeCache) file(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(c.Dir, hex.EncodeToString(sum[:16]))
}

// maxCacheEntry bounds what is read of an entry: a larger one is a miss.
const maxCacheEntry = 8 << 20

// trustedDir reports whether the cache directory is this user's alone: a
// directory others may write in could hold an entry they made (renamed
// over ours), and an entry is served as git's own answer.
func (c *ProbeCache) trustedDir() bool {
	var st syscall.Stat_t
	if err := syscall.Lstat(c.Dir, &st); err != nil {
		return false
	}
	return st.Mode&syscall.S_IFMT == syscall.S_IFDIR && int(st.Uid) == os.Geteuid() && st.Mode&0o022 == 0
}

// readEntry reads an entry only if it is a regular file (opened without
// following a symbolic link and without blocking, so a FIFO or a device
// is never waited on or read), this user's, writable by no one else, and
// no larger than maxCacheEntry.
func (c *ProbeCache) readEntry(path string) ([]byte, bool) {
	if !c.trustedDir() {
		return nil, false
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOCTTY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG ||
		int(st.Uid) != os.Geteuid() || st.Mode&0o022 != 0 || st.Size > maxCacheEntry {
		return nil, false
	}
	b, err := io.ReadAll(io.LimitReader(f, maxCacheEntry+1))
	if err != nil || len(b) > maxCacheEntry {
		return nil, false
	}
	return b, true
}

// lookup returns the kept answer to key if every witness still holds. An
// entry has at least the git binary as its first witness: one without is
// not one the cache wrote.
func (c *ProbeCache) lookup(key, gitBin string) (*Probe, bool) {
	b, ok := c.readEntry(c.file(key))
	if !ok {
		return nil, false
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil || e.Version != cacheVersion || e.Key != key {
		return nil, false
	}
	if len(e.Witnesses) == 0 || e.Witnesses[0].Path != gitBin || e.Witnesses[0].Kind != "file" {
		return nil, false
	}
	for _, w := range e.Witnesses {
		if stampOf(w.Path, w.Kind) != w {
			return nil, false
		}
	}
	p := &Probe{Repo: e.Repo, Config: &Config{Entries: e.Config}}
	if e.Repo == nil {
		p.RepoErr = &NotRepositoryError{Dir: startOf(key), Stderr: e.NoRepo}
	}
	return p, true
}

func startOf(key string) string {
	for _, line := range strings.Split(key, "\n") {
		if s, ok := strings.CutPrefix(line, "start="); ok {
			return s
		}
	}
	return ""
}

// Probe through the cache: see ProbeCache.
func (c *ProbeCache) probe(ctx context.Context, g *Git) (*Probe, error) {
	key, start, gitBin, ok := g.cacheKey()
	if !ok {
		return g.probe(ctx)
	}
	if p, ok := c.lookup(key, gitBin); ok {
		return p, nil
	}
	asked := time.Now()
	p, err := g.probe(ctx)
	if err != nil {
		return nil, err
	}
	var nr *NotRepositoryError
	if p.RepoErr != nil && !(errors.As(p.RepoErr, &nr) && !nr.Named) {
		return p, nil // only "no repository here" is kept among errors
	}
	ws, ok := g.witnesses(ctx, p, start, gitBin)
	if !ok {
		return p, nil
	}
	window := c.RacyWindow
	if window == 0 {
		window = 2 * time.Second
	}
	limit := asked.Add(-window).UnixNano()
	for _, w := range ws {
		if w.Kind != "id" && w.Exists && (w.Mtime >= limit || w.Ctime >= limit) {
			return p, nil // changed too recently to tell a later change by its times
		}
	}
	e := cacheEntry{Version: cacheVersion, Key: key, Repo: p.Repo, Config: p.Config.Entries, Witnesses: ws}
	if nr != nil {
		e.NoRepo = nr.Stderr
	}
	c.store(key, e)
	return p, nil
}

// store writes an entry by rename, so readers see it whole or not at
// all. Failing to keep an answer costs the next run a git start, nothing
// else, so errors are dropped here.
func (c *ProbeCache) store(key string, e cacheEntry) {
	b, err := json.Marshal(e)
	if err != nil || os.MkdirAll(c.Dir, 0o700) != nil || !c.trustedDir() {
		return
	}
	atomicfile.Write(c.file(key), b)
}

// witnesses lists what git's answer p depends on (see ProbeCache); ok is
// false when that cannot be told (then the answer is not kept).
func (g *Git) witnesses(ctx context.Context, p *Probe, start, gitBin string) ([]stamp, bool) {
	ws := []stamp{stampOf(gitBin, "file")}
	env := g.Env
	if env == nil {
		env = os.Environ()
	}
	if g.GitDir != "" {
		env = WithoutRepoEnv(env)
	}
	get := func(name string) (string, bool) {
		val, found := "", false
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				val, found = v, true
			}
		}
		return val, found
	}
	home, _ := get("HOME")
	// the ceiling directories as written (git also compares them with
	// symbolic links resolved: a directory it stops at that is not named
	// here is walked past, which only adds witnesses)
	ceiling := map[string]bool{}
	if list, ok := get("GIT_CEILING_DIRECTORIES"); ok {
		for _, c := range filepath.SplitList(list) {
			if filepath.IsAbs(c) {
				ceiling[filepath.Clean(c)] = true
			}
		}
	}

	// the search for the repository: from start up to where git found it
	// (the top of the work tree, or the git directory itself), each
	// directory on the way checked for a .git or for being a git
	// directory; with GIT_DIR, none
	if dir, named := get("GIT_DIR"); named || g.GitDir != "" {
		if g.GitDir != "" {
			dir = g.GitDir
		} else if !filepath.IsAbs(dir) {
			dir = filepath.Join(start, dir)
		}
		ws = append(ws, stampOf(dir, "id"))
	} else {
		top := ""
		if p.Repo != nil {
			top = p.Repo.GitDir
			if p.Repo.WorkTree != "" {
				top = p.Repo.WorkTree
			}
			real, err := filepath.EvalSymlinks(top)
			if err != nil {
				return nil, false
			}
			top = real
			if top != start && !strings.HasPrefix(start, top+"/") {
				return nil, false // found where this does not follow (core.worktree …)
			}
		}
		for d := start; ; d = filepath.Dir(d) {
			if d == top {
				dotGit := filepath.Join(d, ".git")
				kind := "file" // absent, or a gitfile: its content
				if st, err := os.Lstat(dotGit); err == nil && st.IsDir() {
					kind = "id" // git writes in it all the time
				}
				ws = append(ws, stampOf(d, "id"), stampOf(dotGit, kind))
				break
			}
			// git found nothing here: no .git (or one that is not a
			// git directory yet), and d not a git directory itself
			ws = append(ws, stampOf(d, "dir"), stampOf(filepath.Join(d, "HEAD"), "file"), stampOf(filepath.Join(d, "commondir"), "file"))
			dotGit := filepath.Join(d, ".git")
			if st, err := os.Lstat(dotGit); err == nil && st.IsDir() {
				ws = append(ws, stampOf(dotGit, "dir"), stampOf(filepath.Join(dotGit, "HEAD"), "file"), stampOf(filepath.Join(dotGit, "commondir"), "file"))
			} else {
				ws = append(ws, stampOf(dotGit, "file"))
			}
			if d == filepath.Dir(d) {
				if top != "" {
					return nil, false
				}
				break
			}
			if top == "" && ceiling[filepath.Dir(d)] {
				// git does not look in a ceiling directory
				// (GIT_CEILING_DIRECTORIES) nor above it
				break
			}
		}
	}
	if r := p.Repo; r != nil {
		ws = append(ws,
			stampOf(r.GitDir, "id"),
			stampOf(filepath.Join(r.GitDir, "HEAD"), "file"),
			stampOf(filepath.Join(r.GitDir, "commondir"), "file"),
			stampOf(filepath.Join(r.GitDir, "config.worktree"), "file"),
			stampOf(r.CommonDir, "id"),
			stampOf(filepath.Join(r.CommonDir, "config"), "file"),
			stampOf(filepath.Join(r.CommonDir, "objects"), "id"),
			stampOf(filepath.Join(r.CommonDir, "refs"), "id"),
			stampOf(filepath.Join(r.CommonDir, "shallow"), "file"))
		if hasOnbranch(p.Config) {
			ws = append(ws, symbolicChain(r)...)
		}
	}

	// the configuration files
	if v, _ := get("GIT_CONFIG_NOSYSTEM"); !isTrue(v) {
		sys, ok := get("GIT_CONFIG_SYSTEM")
		if !ok {
			out, err := (&Git{Env: append(append([]string{}, env...), "GIT_EDITOR=echo")}).Output(ctx, nil, "config", "--system", "--edit")
			if err != nil {
				return nil, false
			}
			sys = strings.TrimSuffix(string(out), "\n")
		}
		ws = append(ws, stampOf(sys, "file"))
	}
	if global, ok := get("GIT_CONFIG_GLOBAL"); ok {
		ws = append(ws, stampOf(global, "file"))
	} else {
		xdg, _ := get("XDG_CONFIG_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".config")
		}
		ws = append(ws, stampOf(filepath.Join(xdg, "git", "config"), "file"), stampOf(filepath.Join(home, ".gitconfig"), "file"))
	}
	for _, e := range p.Config.Entries {
		if !(e.Key == "include.path" || strings.HasPrefix(e.Key, "includeif.") && strings.HasSuffix(e.Key, ".path")) {
			continue
		}
		path := e.Value
		switch {
		case strings.HasPrefix(path, "~/"):
			path = filepath.Join(home, path[2:])
		case strings.HasPrefix(path, "~"):
			return nil, false // ~user: not followed here
		case !filepath.IsAbs(path):
			from, ok := strings.CutPrefix(e.Origin, "file:")
			if !ok {
				return nil, false
			}
			path = filepath.Join(filepath.Dir(from), path)
		}
		ws = append(ws, stampOf(path, "file"))
	}
	return ws, true
}

// hasOnbranch reports whether an includeIf "onbranch:" condition is
// configured: then git's answer depends on the branch HEAD names, through
// every symbolic ref on the way.
func hasOnbranch(c *Config) bool {
	for _, e := range c.Entries {
		if strings.HasPrefix(e.Key, "includeif.onbranch:") {
			return true
		}
	}
	return false
}

// symbolicChain witnesses the loose refs that HEAD's branch resolves
// through (refs/heads/alias -> refs/heads/b1), and the last one, which
// could become symbolic: git follows symbolic refs to name the branch
// onbranch matches. Symbolic refs are loose files in the files backend
// (packed-refs holds none); a ref that is not loose is witnessed absent.
func symbolicChain(r *Repository) []stamp {
	var ws []stamp
	b, err := os.ReadFile(filepath.Join(r.GitDir, "HEAD"))
	for depth := 0; err == nil && depth < 5; depth++ {
		ref, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "ref: ")
		if !ok || !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
			break
		}
		path := filepath.Join(r.CommonDir, filepath.FromSlash(ref))
		ws = append(ws, stampOf(path, "file"))
		b, err = os.ReadFile(path)
	}
	return ws
}

func isTrue(s string) bool {
	b, err := ParseBool(s)
	return err == nil && b
}
