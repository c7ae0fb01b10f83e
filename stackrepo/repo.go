// Package stackrepo is the stacks repository of SPEC §3: stacks as commits
// and annotated tags in a plain git repository, read and written with
// go-git's object storage and git's own lock-file protocol for references.
// It never touches an index or a work tree, never prints and never exits.
package stackrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/format/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// ErrNoRepository is returned by Discover when no repository encloses the
// starting directory.
var ErrNoRepository = errors.New("not inside a git repository")

// Repo is an open stacks repository.
type Repo struct {
	// Dir is the git directory holding objects and refs ("" in memory).
	Dir string
	// WorkTree is the repository's work tree, "" when bare or in memory.
	WorkTree string
	// headDirs are the git directories whose HEAD names a checked-out branch
	// (the main one and each linked worktree's).
	headDirs []string

	// git runs the git binary in this repository: ref transactions, and
	// whatever else git is the authority on ("" GitDir in memory).
	git *gitexec.Git

	st   storage.Storer
	refs RefStore
	fs   *filesystem.Storage
	// objs reads objects on disk (see objectReader); nil in memory.
	objs *objectReader
}

// NewMemory returns an empty repository in memory (go-git's memory storage).
func NewMemory() *Repo {
	return &Repo{st: memory.NewStorage(), refs: newMemRefs()}
}

// Discover finds the git repository that encloses start, as git does: a
// ".git" directory or file, or start (or a parent) being a git directory.
// It returns the path to give to Open.
func Discover(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, ".git")); err == nil && (st.IsDir() || st.Mode().IsRegular()) {
			return dir, nil
		}
		if isGitDir(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoRepository
		}
		dir = parent
	}
}

// isGitDir reports whether dir looks like a git directory, as git's
// is_git_directory does: HEAD, objects/ and refs/.
func isGitDir(dir string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return false
		}
	}
	return true
}

// location is where a repository's parts are.
type location struct {
	workTree string // "" when bare (as far as the layout tells)
	gitDir   string // the (worktree's) git directory, holding HEAD
	common   string // the common git directory: objects, refs, config
}

func locate(path string) (location, error) {
	var loc location
	abs, err := filepath.Abs(path)
	if err != nil {
		return loc, err
	}
	if st, err := os.Stat(abs); err != nil {
		return loc, fmt.Errorf("stacks repository %s: %w", path, unwrapPathError(err))
	} else if !st.IsDir() {
		return loc, fmt.Errorf("stacks repository %s is not a directory", path)
	}
	loc.gitDir = abs
	dotGit := filepath.Join(abs, ".git")
	if st, err := os.Stat(dotGit); err == nil {
		loc.workTree = abs
		loc.gitDir = dotGit
		if st.Mode().IsRegular() {
			if loc.gitDir, err = readGitFile(dotGit); err != nil {
				return loc, err
			}
		}
	}
	if !isGitDir(loc.gitDir) {
		return loc, fmt.Errorf("%s is not a git repository (no HEAD, objects and refs); create one with: git gachette init %s", path, path)
	}
	loc.common = loc.gitDir
	if b, err := os.ReadFile(filepath.Join(loc.gitDir, "commondir")); err == nil {
		c := strings.TrimSpace(string(b))
		if !filepath.IsAbs(c) {
			c = filepath.Join(loc.gitDir, c)
		}
		loc.common = filepath.Clean(c)
	}
	return loc, nil
}

// GitDir returns the common git directory (objects, refs, config) of the
// repository at path, without opening it.
func GitDir(path string) (string, error) {
	loc, err := locate(path)
	return loc.common, err
}

// Open opens the repository at path: a work tree (with .git inside), or a
// git directory (bare repositories, or a .git directory itself).
func Open(path string) (*Repo, error) {
	loc, err := locate(path)
	if err != nil {
		return nil, err
	}
	r := &Repo{Dir: loc.common, WorkTree: loc.workTree}
	bare, err := checkRepoConfig(loc.common)
	if err != nil {
		return nil, fmt.Errorf("stacks repository %s: %w", path, err)
	}
	if r.WorkTree == "" && !bare && filepath.Base(loc.gitDir) == ".git" {
		r.WorkTree = filepath.Dir(loc.gitDir)
	}
	if r.WorkTree != "" {
		r.headDirs = append(r.headDirs, loc.common)
	}
	if wts, err := os.ReadDir(filepath.Join(loc.common, "worktrees")); err == nil {
		for _, wt := range wts {
			r.headDirs = append(r.headDirs, filepath.Join(loc.common, "worktrees", wt.Name()))
		}
	}
	r.git = &gitexec.Git{GitDir: loc.gitDir}
	r.refs = newFileRefs(loc.common, r.git)
	r.reopen()
	return r, nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readGitFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "gitdir: ") {
		return "", fmt.Errorf("%s is not a gitdir file (it should read \"gitdir: <path>\")", path)
	}
	dir := strings.TrimPrefix(s, "gitdir: ")
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(path), dir)
	}
	return filepath.Clean(dir), nil
}

// knownExtensions are repository extensions that do not change how objects
// and refs are stored, so git-gachette can work with them.
var knownExtensions = map[string]bool{"worktreeconfig": true, "preciousobjects": true, "noop": true}

// checkRepoConfig reads the repository's config for what decides whether
// we can work on it: the format version and its extensions. It returns
// core.bare.
//
// go-git's PlainOpen rejects any [extensions] entry since v5.17 (go-git
// #1939) with a terse error; we open the storage ourselves and say plainly
// which extension is the problem.
func checkRepoConfig(gitDir string) (bool, error) {
	f, err := os.Open(filepath.Join(gitDir, "config"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return true, nil
		}
		return false, err
	}
	defer f.Close()
	cfg := config.New()
	if err := config.NewDecoder(f).Decode(cfg); err != nil {
		return false, fmt.Errorf("cannot parse %s: %v", filepath.Join(gitDir, "config"), err)
	}
	core := cfg.Section("core")
	bare := strings.EqualFold(core.Option("bare"), "true")
	version := core.Option("repositoryformatversion")
	if version != "" && version != "0" && version != "1" {
		return false, fmt.Errorf("core.repositoryformatversion is %s; git-gachette reads versions 0 and 1", version)
	}
	for _, o := range cfg.Section("extensions").Options {
		key := strings.ToLower(o.Key)
		if knownExtensions[key] {
			continue
		}
		if key == "objectformat" && strings.EqualFold(o.Value, "sha1") {
			continue
		}
		why := "git-gachette's git library (go-git v5) does not support it"
		switch key {
		case "objectformat":
			why = "go-git v5 reads only SHA-1 repositories; use a repository made with the default object format (git gachette init)"
		case "partialclone":
			why = "objects of a partial clone may be missing locally; use a full clone"
		}
		return false, fmt.Errorf("uses the extension %s = %s, which git-gachette cannot work with: %s", o.Key, o.Value, why)
	}
	return bare, nil
}

// reopen starts a fresh object storage. A long-lived storage caches the
// pack index, so after a concurrent repack objects could look missing;
// each retry of a write therefore reopens.
func (r *Repo) reopen() {
	if r.Dir == "" {
		return
	}
	if r.fs != nil {
		r.fs.Close()
	}
	if r.objs != nil {
		r.objs.close()
	}
	r.fs = filesystem.NewStorageWithOptions(osfs.New(r.Dir), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true})
	r.st = r.fs
	r.objs = newObjectReader(r.Dir)
}

// Close releases the files the repository holds open.
func (r *Repo) Close() error {
	if r.objs != nil {
		r.objs.close()
	}
	if r.fs != nil {
		return r.fs.Close()
	}
	return nil
}

// Init creates a bare stacks repository in dir (which must not exist or be
// empty) whose HEAD names the domain's branch, so a plain clone checks out
// the newest stack of that domain.
func Init(dir, domain string) (*Repo, error) {
	if err := CheckName("domain", domain); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if isGitDir(dir) {
			return nil, fmt.Errorf("%s is already a git repository; use it as it is (git config --global gachette.stacks %s)", dir, dir)
		}
		return nil, fmt.Errorf("%s exists and is not empty; choose a new directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", dir, unwrapPathError(err))
	}
	for _, d := range []string{"objects/info", "objects/pack", "refs/heads", "refs/tags", "info"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o777); err != nil {
			return nil, err
		}
	}
	files := map[string]string{
		"HEAD":        "ref: " + BranchRef(domain) + "\n",
		"config":      "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n",
		"description": "git-gachette stacks repository\n",
	}
	for name, content := range files {
		if err := writeFileAtomic(filepath.Join(dir, name), []byte(content)); err != nil {
			return nil, err
		}
	}
	return Open(dir)
}

// writeFileAtomic writes data to path through a lock file and a rename.
func writeFileAtomic(path string, data []byte) error {
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(lock)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(lock)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(lock)
		return err
	}
	return os.Rename(lock, path)
}

// Storer exposes the go-git storage (for transports).
func (r *Repo) Storer() storage.Storer { return r.st }

// Refs exposes the reference store.
func (r *Repo) Refs() RefStore { return r.refs }

// checkedOut returns the branches that a work tree has checked out.
func (r *Repo) checkedOut() map[string]string {
	out := map[string]string{}
	for _, d := range r.headDirs {
		b, err := os.ReadFile(filepath.Join(d, "HEAD"))
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if strings.HasPrefix(s, "ref: ") {
			wt := r.WorkTree
			if gd, err := os.ReadFile(filepath.Join(d, "gitdir")); err == nil {
				wt = filepath.Dir(strings.TrimSpace(string(gd)))
			}
			out[strings.TrimPrefix(s, "ref: ")] = wt
		}
	}
	return out
}

// object I/O ---------------------------------------------------------------

func (r *Repo) writeObject(o interface {
	Encode(plumbing.EncodedObject) error
}) (plumbing.Hash, error) {
	enc := r.st.NewEncodedObject()
	if err := o.Encode(enc); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.st.SetEncodedObject(enc)
}

func (r *Repo) writeBlob(data []byte) (plumbing.Hash, error) {
	enc := r.st.NewEncodedObject()
	enc.SetType(plumbing.BlobObject)
	enc.SetSize(int64(len(data)))
	w, err := enc.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.st.SetEncodedObject(enc)
}

// readRaw returns an object's type and content.
func (r *Repo) readRaw(h plumbing.Hash) (rawObject, error) {
	if r.objs != nil {
		return r.objs.read(h)
	}
	o, err := r.st.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return rawObject{}, err
	}
	rd, err := o.Reader()
	if err != nil {
		return rawObject{}, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	return rawObject{typ: o.Type(), data: data}, err
}

// readTyped reads an object that must be of type want, as a go-git object
// ready for decoding.
func (r *Repo) readTyped(h plumbing.Hash, want plumbing.ObjectType) (plumbing.EncodedObject, error) {
	raw, err := r.readRaw(h)
	if err != nil {
		return nil, objectError(h, want.String(), err)
	}
	if raw.typ != want {
		return nil, fmt.Errorf("object %s is a %s, not a %s", h, raw.typ, want)
	}
	return memoryObject(h, raw), nil
}

func memoryObject(h plumbing.Hash, raw rawObject) plumbing.EncodedObject {
	mo := &plumbing.MemoryObject{}
	mo.SetType(raw.typ)
	mo.SetSize(int64(len(raw.data)))
	mo.Write(raw.data)
	return mo
}

// readBlob returns a blob's content, naming the object on failure.
func (r *Repo) readBlob(h plumbing.Hash) ([]byte, error) {
	raw, err := r.readRaw(h)
	if err != nil {
		return nil, objectError(h, "blob", err)
	}
	if raw.typ != plumbing.BlobObject {
		return nil, fmt.Errorf("object %s is a %s, not a blob", h, raw.typ)
	}
	return raw.data, nil
}

func (r *Repo) readCommit(h plumbing.Hash) (*object.Commit, error) {
	o, err := r.readTyped(h, plumbing.CommitObject)
	if err != nil {
		return nil, err
	}
	c, err := object.DecodeCommit(r.st, o)
	if err != nil {
		return nil, fmt.Errorf("commit %s cannot be decoded: %w", h, err)
	}
	c.Hash = h
	return c, nil
}

func (r *Repo) readTree(h plumbing.Hash) (*object.Tree, error) {
	o, err := r.readTyped(h, plumbing.TreeObject)
	if err != nil {
		return nil, err
	}
	t, err := object.DecodeTree(r.st, o)
	if err != nil {
		return nil, fmt.Errorf("tree %s cannot be decoded: %w", h, err)
	}
	return t, nil
}

func objectError(h plumbing.Hash, kind string, err error) error {
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return fmt.Errorf("%s %s is missing from the repository; check it with git fsck", kind, h)
	}
	return fmt.Errorf("read %s %s: %w", kind, h, err)
}

// syncObjects makes newly written loose objects durable before a ref points
// at them: go-git writes loose objects by temp file and rename, without
// fsync. In memory there is nothing to do.
func (r *Repo) syncObjects(hashes ...plumbing.Hash) {
	if r.Dir == "" {
		return
	}
	dirs := map[string]bool{}
	for _, h := range hashes {
		hex := h.String()
		dir := filepath.Join(r.Dir, "objects", hex[:2])
		if f, err := os.Open(filepath.Join(dir, hex[2:])); err == nil {
			f.Sync()
			f.Close()
			dirs[dir] = true
		}
	}
	for d := range dirs {
		syncDir(d)
	}
}
