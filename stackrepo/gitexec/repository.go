package gitexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Repository is where git found a repository, as git rev-parse reports it.
type Repository struct {
	// GitDir is the git directory (absolute): in a linked worktree, the
	// worktree's own (HEAD, worktree config), under CommonDir/worktrees.
	GitDir string
	// CommonDir is the directory of objects, refs and config (absolute).
	CommonDir string
	// Bare is git's --is-bare-repository.
	Bare bool
	// WorkTree is the top of the work tree the command stands in ("" when
	// it stands in none: a bare repository, or inside a git directory).
	WorkTree string
	// ObjectFormat is "sha1" or "sha256".
	ObjectFormat string
	// Shallow says the repository is a shallow clone.
	Shallow bool
}

// NotRepositoryError says git found no repository: none encloses the
// directory (within GIT_CEILING_DIRECTORIES), or GIT_DIR names something
// that is not one.
type NotRepositoryError struct {
	// Dir is where the search started.
	Dir string
	// Named says GIT_DIR (or --git-dir) named GitDir, which is none;
	// otherwise git searched from Dir.
	Named  bool
	GitDir string
	// Stderr is what git said.
	Stderr string
}

func (e *NotRepositoryError) Error() string {
	if e.Named {
		return fmt.Sprintf("GIT_DIR (or git --git-dir) names %q, which is not a git repository", e.GitDir)
	}
	return fmt.Sprintf("%s is not in a git repository (%s)", e.Dir, lastFatal(e.Stderr))
}

// UnsafeRepositoryError says git refuses a repository owned by someone
// else (safe.directory); Stderr carries git's own hint.
type UnsafeRepositoryError struct {
	Path   string
	Stderr string
}

func (e *UnsafeRepositoryError) Error() string {
	hint := ""
	if i := strings.Index(e.Stderr, "git config --global --add safe.directory"); i >= 0 {
		hint, _, _ = strings.Cut(e.Stderr[i:], "\n")
	}
	if hint == "" {
		hint = "git config --global --add safe.directory " + e.Path
	}
	return fmt.Sprintf("git refuses the repository %s: it is owned by someone else (git's safe.directory check); "+
		"if you trust it, tell git so:\n  %s", e.Path, hint)
}

// revParseArgs ask git, in one command, everything Repository holds. The
// work tree comes from --show-cdup, which, unlike --show-toplevel, prints
// nothing (rather than failing) when there is no work tree; so it goes last.
var revParseArgs = []string{"rev-parse", "--absolute-git-dir", "--git-common-dir", "--is-bare-repository",
	"--show-object-format", "--is-shallow-repository", "--show-cdup"}

// Repository asks git which repository a command run by g works on:
// g.GitDir when set, else the one git finds from g.Dir and the
// environment (GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES, gitfiles,
// worktrees, safe.directory …). Failures are a *NotRepositoryError, an
// *UnsafeRepositoryError or an *Error.
func (g *Git) Repository(ctx context.Context) (*Repository, error) {
	cmd := g.Command(ctx, revParseArgs...)
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANGUAGE=")
	out, err := run(cmd, nil)
	if err != nil {
		return nil, g.repoError(err)
	}
	return g.parseRepository(out)
}

func (g *Git) parseRepository(out []byte) (*Repository, error) {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) < 5 {
		return nil, fmt.Errorf("git %s: unexpected output %q", strings.Join(revParseArgs, " "), out)
	}
	dir, err := g.dir()
	if err != nil {
		return nil, err
	}
	r := &Repository{
		GitDir:       lines[0],
		CommonDir:    lines[1],
		Bare:         lines[2] == "true",
		ObjectFormat: lines[3],
		Shallow:      lines[4] == "true",
	}
	// --git-common-dir is relative to the directory git ran in, unless
	// absolute.
	if !filepath.IsAbs(r.CommonDir) {
		r.CommonDir = filepath.Join(dir, r.CommonDir)
	}
	r.CommonDir = filepath.Clean(r.CommonDir)
	if len(lines) > 5 {
		r.WorkTree = filepath.Clean(filepath.Join(dir, lines[5]))
	}
	return r, nil
}

// dir is the directory git commands of g run in, absolute.
func (g *Git) dir() (string, error) {
	if g.Dir == "" {
		return os.Getwd()
	}
	return filepath.Abs(g.Dir)
}

// repoError types rev-parse's failures: no repository, an unsafe one.
func (g *Git) repoError(err error) error {
	var ge *Error
	if !errors.As(err, &ge) {
		return err
	}
	const dubious = "detected dubious ownership in repository at '"
	if i := strings.Index(ge.Stderr, dubious); i >= 0 {
		path, _, _ := strings.Cut(ge.Stderr[i+len(dubious):], "'")
		return &UnsafeRepositoryError{Path: path, Stderr: ge.Stderr}
	}
	if strings.Contains(ge.Stderr, "not a git repository") {
		dir, _ := g.dir()
		e := &NotRepositoryError{Dir: dir, Stderr: ge.Stderr}
		if g.GitDir != "" {
			e.Named, e.GitDir = true, g.GitDir
		} else {
			e.GitDir, e.Named = g.lookupEnv("GIT_DIR")
		}
		return e
	}
	dir, _ := g.dir()
	if g.GitDir != "" {
		dir = g.GitDir
	}
	return &RepositoryError{Dir: dir, Err: ge}
}

// RepositoryError is any other refusal of git to work in a repository
// (an unknown extension, a broken config …), in git's words.
type RepositoryError struct {
	Dir string
	Err *Error
}

func (e *RepositoryError) Error() string {
	var lines []string
	for _, l := range strings.Split(e.Err.Stderr, "\n") {
		if l = strings.TrimSpace(strings.TrimPrefix(l, "fatal: ")); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return fmt.Sprintf("git cannot work in the repository at %s: %v", e.Dir, e.Err.Err)
	}
	return fmt.Sprintf("git cannot work in the repository at %s: %s", e.Dir, strings.Join(lines, " "))
}

func (e *RepositoryError) Unwrap() error { return e.Err }

func (g *Git) lookupEnv(name string) (string, bool) {
	env := g.Env
	if env == nil {
		env = os.Environ()
	}
	val, found := "", false
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			val, found = v, true
		}
	}
	return val, found
}

// lastFatal is the last "fatal: " line of git's standard error, without
// the prefix, or all of it.
func lastFatal(stderr string) string {
	s := strings.TrimSpace(stderr)
	if i := strings.LastIndex(s, "fatal: "); i >= 0 {
		s, _, _ = strings.Cut(s[i+len("fatal: "):], "\n")
	}
	return s
}

// At returns a Git that asks about path alone, the way git -C path would,
// but without looking above it (GIT_CEILING_DIRECTORIES is path's parent)
// and without the caller's GIT_DIR and friends: path must be a repository
// itself (its work tree's top, its .git, or a bare repository), not a
// directory inside one. The rest of the environment (GIT_CONFIG_*,
// git -c settings) applies. env nil means the process's own.
func At(path string, env []string) (*Git, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if env == nil {
		env = os.Environ()
	}
	env = append(WithoutRepoEnv(env), "GIT_CEILING_DIRECTORIES="+filepath.Dir(abs))
	return &Git{Dir: abs, Env: env}, nil
}

// Probe is what git says about where a command runs: the repository it
// finds, if any, and the configuration a git command run there sees.
type Probe struct {
	// Repo is the repository git found; nil when RepoErr says why none.
	Repo    *Repository
	RepoErr error
	// Config is what git config -l reads there: with Repo, its local
	// (and worktree) files; without, the system and global ones.
	Config *Config
}

// Probe runs git rev-parse and git config -l as two concurrent commands,
// so that finding the repository and reading its configuration cost the
// time of one git start. git config reads the repository git finds in
// the same place with the same environment, except one it refuses as
// unsafe, which git config skips silently: Repository reports that.
// With g.Cache, an answer kept from an earlier run is served while
// nothing it depends on has changed (see ProbeCache).
func (g *Git) Probe(ctx context.Context) (*Probe, error) {
	if g.Cache != nil {
		return g.Cache.probe(ctx, g)
	}
	return g.probe(ctx)
}

func (g *Git) probe(ctx context.Context) (*Probe, error) {
	var p Probe
	var cfgErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.Config, cfgErr = g.config(ctx)
	}()
	p.Repo, p.RepoErr = g.Repository(ctx)
	wg.Wait()
	if cfgErr != nil {
		return nil, cfgErr
	}
	start, err := g.dir()
	if err != nil {
		return nil, err
	}
	p.Config.resolveOrigins(p.Repo, start)
	return &p, nil
}
