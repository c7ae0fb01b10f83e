// Package stackrepo is the stacks repository (README, "The stacks
// repository"): stacks as commits and annotated tags in a plain git
// repository. Where the repository is,
// its configuration, who writes, and how refs change are git's answers
// (package gitexec runs git); objects are read by our own reader and
// written with go-git. It never touches an index or a work tree, never
// prints and never exits.
package stackrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Repo is an open stacks repository.
type Repo struct {
	// Dir is the common git directory, holding objects, refs and config
	// ("" in memory).
	Dir string
	// GitDir is the git directory git found: Dir, or a linked worktree's
	// own under Dir/worktrees.
	GitDir string

	// git runs the git binary in this repository: ref transactions, and
	// whatever else git is the authority on (nil in memory).
	git *gitexec.Git
	// bare is git's --is-bare-repository.
	bare bool
	// cfg is git's configuration in this repository.
	cfg *gitexec.Config
	// shallow says git called it a shallow clone; shallowRoots are the
	// commits whose parents it lacks (read on first use).
	shallow      bool
	shallowRoots map[plumbing.Hash]bool
	// promisors are the remotes a partial clone fetches missing objects
	// from, in the order git tries them.
	promisors []string

	st   storage.Storer
	refs RefStore
	fs   *filesystem.Storage
	// objs reads objects on disk (see objectReader); nil in memory.
	objs *objectReader

	// RequireSigned makes Show and ChannelShow refuse (*UnsignedError) a
	// stack or channel git does not verify as signed
	// (gachette.requireSigned).
	RequireSigned bool
}

// NotRepositoryError says a path named as the stacks repository is not a
// git repository.
type NotRepositoryError struct {
	Path string
	// Inside is the repository that encloses Path, if one does.
	Inside string
}

func (e *NotRepositoryError) Error() string {
	if e.Inside != "" {
		return fmt.Sprintf("%s is not a git repository but a directory inside %s; name the repository itself: %s", e.Path, e.Inside, e.Inside)
	}
	return fmt.Sprintf("%s is not a git repository; create one with: git gachette init %s", e.Path, e.Path)
}

// Find asks git about the repository at path, as for git -C path but
// without looking above path, so path must be a repository itself (its
// work tree's top, its .git directory, a gitfile's directory or a bare
// repository). It returns git's answer and the configuration git reads
// there, found together (see gitexec.Probe). env is the environment git
// runs with (nil: the process's own); the variables that name another
// repository are left out. cache, if not nil, keeps git's answers (see
// gitexec.ProbeCache).
func Find(ctx context.Context, path string, env []string, cache *gitexec.ProbeCache) (*gitexec.Probe, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("stacks repository %s: %w", path, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("stacks repository %s is not a directory", path)
	}
	// git would only say "not a git repository" (or not even start, in a
	// directory it cannot enter)
	if err := unreadable(path, "."); err != nil {
		return nil, err
	}
	g, err := gitexec.At(path, env)
	if err != nil {
		return nil, err
	}
	g.Cache = cache
	p, err := g.Probe(ctx)
	if err != nil {
		return nil, fmt.Errorf("stacks repository %s: %w", path, err)
	}
	var nr *gitexec.NotRepositoryError
	if errors.As(p.RepoErr, &nr) {
		// a repository this user cannot read is one to git, but not one it
		// can open
		if _, err := os.Stat(filepath.Join(path, "HEAD")); err == nil {
			if err := unreadable(path, "HEAD", "objects", "refs"); err != nil {
				return nil, err
			}
		}
		e := &NotRepositoryError{Path: path}
		// Only to say so: is path inside a repository?
		up := &gitexec.Git{Dir: g.Dir, Env: gitexec.WithoutRepoEnv(os.Environ())}
		if out, err := up.Output(ctx, nil, "rev-parse", "--show-toplevel"); err == nil {
			e.Inside = strings.TrimSpace(string(out))
		} else if out, err := up.Output(ctx, nil, "rev-parse", "--absolute-git-dir"); err == nil {
			e.Inside = strings.TrimSpace(string(out))
		}
		p.RepoErr = e
	}
	return p, nil
}

// Open opens the repository at path (see Find).
func Open(path string) (*Repo, error) {
	p, err := Find(context.Background(), path, nil, nil)
	if err != nil {
		return nil, err
	}
	if p.RepoErr != nil {
		return nil, p.RepoErr
	}
	return OpenFound(p.Repo, p.Config)
}

// OpenFound opens a repository git found, with git's configuration in it.
// It refuses what it cannot read, saying why: an object format other than
// SHA-1, and repository extensions whose effect it does not know.
func OpenFound(loc *gitexec.Repository, cfg *gitexec.Config) (*Repo, error) {
	if err := checkExtensions(loc, cfg); err != nil {
		return nil, fmt.Errorf("stacks repository %s: %w", loc.CommonDir, err)
	}
	r := &Repo{Dir: loc.CommonDir, GitDir: loc.GitDir, cfg: cfg, shallow: loc.Shallow, bare: loc.Bare}
	r.git = &gitexec.Git{GitDir: loc.GitDir}
	r.promisors = promisorRemotes(cfg)
	if backend := cfg.Value("extensions.refStorage"); backend != "" && !strings.EqualFold(backend, "files") {
		r.refs = newGitRefs(r.git)
	} else {
		r.refs = newFileRefs(loc.CommonDir, r.git)
	}
	r.reopen()
	return r, nil
}

// knownExtensions are the repository extensions git-gachette works with:
// they change nothing it reads or writes in-process (worktreeConfig,
// preciousObjects: it deletes no object), or it handles them (partialClone:
// missing objects are fetched as git would; refStorage: refs are read
// through git when the backend is not files; objectFormat: sha1 only).
var knownExtensions = map[string]bool{
	"noop": true, "noop-v1": true, "worktreeconfig": true, "preciousobjects": true,
	"partialclone": true, "refstorage": true, "objectformat": true,
}

func checkExtensions(loc *gitexec.Repository, cfg *gitexec.Config) error {
	if loc.ObjectFormat != "sha1" {
		return fmt.Errorf("it uses the %s object format, which git-gachette cannot read (go-git v5 reads SHA-1 objects only); "+
			"keep stacks in a SHA-1 repository (git gachette init)", loc.ObjectFormat)
	}
	if cfg == nil {
		return nil
	}
	for _, e := range cfg.Entries {
		name, ok := strings.CutPrefix(e.Key, "extensions.")
		if !ok || e.Scope != "local" || knownExtensions[name] {
			continue
		}
		return fmt.Errorf("it uses the repository extension %s = %s (%s), which git-gachette does not know how to work with; "+
			"use a repository without it (git gachette init)", e.Key, e.Value, e.Where())
	}
	return nil
}

// promisorRemotes are the remotes git fetches a partial clone's missing
// objects from, in git's order: those with remote.<name>.promisor true,
// in the order git reads them, then extensions.partialClone's.
func promisorRemotes(cfg *gitexec.Config) []string {
	var out []string
	seen := map[string]bool{}
	if cfg == nil {
		return nil
	}
	for _, e := range cfg.Entries {
		rest, ok := strings.CutPrefix(e.Key, "remote.")
		if !ok || !strings.HasSuffix(rest, ".promisor") {
			continue
		}
		name := strings.TrimSuffix(rest, ".promisor")
		// as git's promisor_remote_config: a remote joins the list at its
		// first true setting
		if on, err := e.Bool(); err == nil && on && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	if pc := cfg.Value("extensions.partialClone"); pc != "" && !seen[pc] {
		out = append(out, pc)
	}
	return out
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
// empty) with git init, whose HEAD names the domain's branch, so a plain
// clone checks out the newest stack of that domain. The object format is
// SHA-1 whatever git's default, since that is what git-gachette reads.
func Init(dir, domain string) (*Repo, error) {
	if err := CheckName("domain", domain); err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		if g, err := gitexec.At(dir, nil); err == nil {
			if _, err := g.Repository(context.Background()); err == nil {
				abs, aerr := filepath.Abs(dir)
				if aerr != nil {
					abs = dir
				}
				return nil, fmt.Errorf("%s is already a git repository; use it as it is (git config --global gachette.stacks %s)", dir, ShellWord(abs))
			}
		}
		return nil, fmt.Errorf("%s exists and is not empty; choose a new directory", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	// Without GIT_DIR and friends: with GIT_DIR set, git init would
	// initialise that instead of dir.
	g := &gitexec.Git{Env: gitexec.WithoutRepoEnv(os.Environ())}
	if _, err := g.Output(context.Background(), nil, "init", "--quiet", "--bare", "--object-format=sha1",
		"--initial-branch="+domain, "--", dir); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "description"), []byte("git-gachette stacks repository\n"), 0o666); err != nil {
		return nil, err
	}
	return Open(dir)
}

// Config is git's configuration in the repository (nil in memory).
func (r *Repo) Config() *gitexec.Config { return r.cfg }

// checkedOut returns the branches that a work tree of the repository has
// checked out, and where, as git worktree list says (the main work tree
// and every linked one, even one whose directory is gone: git keeps its
// branch too), with the branches a work tree is rebasing or bisecting:
// git holds those as checked out as well (git branch -f refuses to move
// them), though worktree list does not show them.
func (r *Repo) checkedOut() (map[string]holder, error) {
	out := map[string]holder{}
	if r.git == nil {
		return out, nil
	}
	// A bare repository has no work tree of its own, and git keeps every
	// linked one under worktrees/: without it, nothing is checked out.
	if _, err := os.Stat(filepath.Join(r.Dir, "worktrees")); r.bare && r.GitDir == r.Dir && errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	b, err := r.git.Output(context.Background(), nil, "worktree", "list", "--porcelain", "-z")
	if err != nil {
		return nil, fmt.Errorf("which branches work trees have checked out: %w", err)
	}
	var wt string
	var detached []string
	for _, field := range strings.Split(string(b), "\x00") {
		switch k, v, _ := strings.Cut(field, " "); k {
		case "worktree":
			wt = v
		case "branch":
			out[v] = holder{WorkTree: wt}
		case "detached":
			detached = append(detached, wt)
		}
	}
	if len(detached) == 0 {
		return out, nil
	}
	// git has no read-only question for "is this branch being rebased or
	// bisected somewhere" (its branch_checked_out): read what git's
	// wt_status_check_rebase and wt_status_check_bisect read, in the git
	// directory of each detached work tree.
	dirs, err := r.workTreeGitDirs(detached)
	if err != nil {
		return nil, err
	}
	for i, gd := range dirs {
		if gd == "" {
			continue
		}
		for _, f := range []string{"rebase-merge/head-name", "rebase-apply/head-name"} {
			if b, err := os.ReadFile(filepath.Join(gd, f)); err == nil {
				if ref := strings.TrimSpace(string(b)); strings.HasPrefix(ref, "refs/heads/") {
					out[ref] = holder{WorkTree: detached[i], State: "rebase"}
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join(gd, "BISECT_START")); err == nil {
			if name := strings.TrimSpace(string(b)); name != "" {
				out["refs/heads/"+name] = holder{WorkTree: detached[i], State: "bisect"}
			}
		}
	}
	return out, nil
}

// holder is a work tree that has a branch checked out, and whether it is
// in the middle of a rebase or bisect of it ("" when simply on it).
type holder struct {
	WorkTree string
	State    string
}

// workTreeGitDirs returns the git directory of each work tree named (as
// git worktree list names them), "" where it cannot be told.
func (r *Repo) workTreeGitDirs(workTrees []string) ([]string, error) {
	args := []string{"rev-parse", "--path-format=absolute", "--git-dir"}
	out := make([]string, len(workTrees))
	for i, wt := range workTrees {
		if _, err := os.Stat(wt); err != nil {
			continue // gone: nothing can be rebased or bisected there
		}
		env := r.git.Env
		if env == nil {
			env = os.Environ()
		}
		g := &gitexec.Git{Dir: wt, Env: gitexec.WithoutRepoEnv(env)}
		b, err := g.Output(context.Background(), nil, args...)
		if err != nil {
			return nil, fmt.Errorf("which branches work trees are rebasing or bisecting: %w", err)
		}
		out[i] = strings.TrimSpace(string(b))
	}
	return out, nil
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
	return r.writeRaw(plumbing.BlobObject, data)
}

// writeRaw writes an object of type t whose content is data, as it is.
func (r *Repo) writeRaw(t plumbing.ObjectType, data []byte) (plumbing.Hash, error) {
	enc := r.st.NewEncodedObject()
	enc.SetType(t)
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
		obj, err := r.objs.read(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) && len(r.promisors) > 0 {
			if ferr := r.fetchMissing([]plumbing.Hash{h}); ferr != nil {
				return rawObject{}, ferr
			}
			return r.objs.read(h)
		}
		return obj, err
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
	return &readObject{h: h, raw: raw}
}

// readObject is an object read by its id, for go-git's decoders. Unlike
// plumbing.MemoryObject it keeps that id and the content it was given:
// DecodeTree, DecodeCommit and DecodeTag ask for Hash(), which
// MemoryObject computes by hashing the content again (SHA-1 with collision
// detection: 6% of fsck), after copying it.
type readObject struct {
	h   plumbing.Hash
	raw rawObject
}

var _ plumbing.EncodedObject = (*readObject)(nil)

func (o *readObject) Hash() plumbing.Hash           { return o.h }
func (o *readObject) Type() plumbing.ObjectType     { return o.raw.typ }
func (o *readObject) SetType(t plumbing.ObjectType) { o.raw.typ = t }
func (o *readObject) Size() int64                   { return int64(len(o.raw.data)) }
func (o *readObject) SetSize(int64)                 {}
func (o *readObject) Reader() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(o.raw.data)), nil
}
func (o *readObject) Writer() (io.WriteCloser, error) {
	return nil, errors.New("an object read from the repository is not written to")
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
	if err := checkTreeModes(o); err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	t, err := object.DecodeTree(r.st, o)
	if err != nil {
		return nil, fmt.Errorf("tree %s cannot be decoded: %w", h, err)
	}
	return t, nil
}

// checkTreeModes refuses a tree entry whose mode git writes no longer, or
// never: git fsck calls 100664 badFilemode and 0100644 zeroPaddedFilemode
// (go-git would read both as a regular file). Trees name entries "MODE
// NAME\0" and a 20-byte object id.
func checkTreeModes(o plumbing.EncodedObject) error {
	rd, err := o.Reader()
	if err != nil {
		return err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+1+20 {
			return nil // malformed: DecodeTree says so
		}
		switch mode := string(data[:sp]); mode {
		case "100644", "100755", "120000", "40000", "160000":
		default:
			why := "badFilemode"
			if strings.HasPrefix(mode, "0") {
				why = "zeroPaddedFilemode"
			}
			return fmt.Errorf("entry %q has mode %s, which git does not write (git fsck calls it %s)", data[sp+1:nul], mode, why)
		}
		data = data[nul+1+20:]
	}
	return nil
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

// unreadable is the error for a part of the repository at path (names
// relative to it) that this user may not read, or nil.
func unreadable(path string, names ...string) error {
	for _, name := range names {
		f, err := os.Open(filepath.Join(path, name))
		if err == nil {
			f.Close()
			continue
		}
		if errors.Is(err, fs.ErrPermission) {
			what := "reading " + name
			if name == "." {
				what = ""
			}
			return fmt.Errorf("stacks repository %s: permission denied%s: this user cannot read it; run as a user who can, or give this one access (ls -ld %s)",
				path, strings.TrimSuffix(" "+what, " "), ShellWord(filepath.Join(path, name)))
		}
	}
	return nil
}
