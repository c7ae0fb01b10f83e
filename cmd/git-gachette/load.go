package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// load asks git, once, where the stacks repository is and what the
// configuration says (README, "Configuration"). The stacks repository is --stacks,
// else GACHETTE_STACKS, else gachette.stacks as git config reads it where
// the user stands, else the repository git finds there (GIT_DIR, git
// --git-dir and -C, gitfiles, worktrees, GIT_CEILING_DIRECTORIES and
// safe.directory all as git decides). The configuration is git's in the
// stacks repository, whichever way it was named, so its own config
// applies. Each question is one round of two concurrent git commands
// (git rev-parse and git config -l): one round when the stacks
// repository is named by flag or environment or is the one you stand in,
// two when gachette.stacks names it.
func (a *app) load() error {
	if a.settings != nil {
		return nil
	}
	ctx := context.Background()
	named := value{Key: "gachette.stacks", Origin: "default"}
	if f := a.root.PersistentFlags().Lookup("stacks"); f != nil && f.Changed {
		named.Value, named.Origin = f.Value.String(), "flag --stacks"
	} else if v := a.env(envName("stacks")); v != "" {
		named.Value, named.Origin = v, "environment "+envName("stacks")
	} else {
		here, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			return configError(err)
		}
		a.here, a.cfg = here, here.Config
		if e, ok := here.Config.Get("gachette.stacks"); ok {
			named.Origin = "git config (" + e.Where() + ")"
			if named.Value, err = stacksPath(ctx, here, e.Value); err != nil {
				return fmt.Errorf("%w (from %s)", err, named.Origin)
			}
		}
		if named.Value == "" {
			a.stacks, a.stacksErr = here.Repo, hereError(here.RepoErr)
		}
	}
	a.stacksNamed = named
	if named.Value != "" {
		p, err := stackrepo.Find(ctx, named.Value, nil, a.probeCache())
		switch {
		case err != nil:
			a.stacksErr = err
		case p.RepoErr != nil:
			a.stacksErr = p.RepoErr
			a.cfg = p.Config
		default:
			a.stacks, a.cfg = p.Repo, p.Config
		}
		var unsafe *gitexec.UnsafeRepositoryError
		if errors.As(a.stacksErr, &unsafe) {
			// git's hint ends the message, so that it can be copied.
			a.stacksErr = fmt.Errorf("stacks repository from %s: %w", named.Origin, a.stacksErr)
		} else if a.stacksErr != nil {
			a.stacksErr = fmt.Errorf("%w (stacks repository from %s)", a.stacksErr, named.Origin)
		}
	}
	if a.cfg == nil {
		// The named repository could not be asked about: the settings
		// are git's where the user stands.
		here, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			return configError(err)
		}
		a.here, a.cfg = here, here.Config
	}
	a.settings = resolveSettings(a.cfg, a.env, a.root, named)
	return nil
}

// stacksPath reads gachette.stacks as git reads a path setting: "~/" and
// "~user/" expanded (git config --type=path), and a relative value taken
// relative to the directory git runs its own commands in — the top of the
// work tree you stand in, the git directory of a bare repository, else
// the current directory — so that it names the same repository from any
// subdirectory of a project.
func stacksPath(ctx context.Context, here *gitexec.Probe, v string) (string, error) {
	p, err := (&gitexec.Git{}).PathValue(ctx, "gachette.stacks", v)
	if err != nil || p == "" || filepath.IsAbs(p) {
		return p, err
	}
	switch {
	case here.Repo != nil && here.Repo.WorkTree != "":
		return filepath.Join(here.Repo.WorkTree, p), nil
	case here.Repo != nil && here.Repo.Bare:
		return filepath.Join(here.Repo.GitDir, p), nil
	}
	return filepath.Abs(p)
}

// probeCache is where git's answers about repositories and configuration
// are kept between runs ($XDG_CACHE_HOME/git-gachette/git, else
// ~/.cache/…): nil, and no cache, with GACHETTE_NO_CACHE set or no home.
func (a *app) probeCache() *gitexec.ProbeCache {
	if a.env("GACHETTE_NO_CACHE") != "" {
		return nil
	}
	dir := a.env("XDG_CACHE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return nil
		}
		dir = filepath.Join(home, ".cache")
	}
	return &gitexec.ProbeCache{Dir: filepath.Join(dir, "git-gachette", "git")}
}

// configError says that git could not read its configuration.
func configError(err error) error {
	var ge *gitexec.Error
	if errors.As(err, &ge) && ge.Stderr != "" {
		return fmt.Errorf("git cannot read its configuration: %s", strings.TrimPrefix(ge.Stderr, "fatal: "))
	}
	return fmt.Errorf("git cannot read its configuration: %w", err)
}

// hereError says why the repository the user stands in cannot be the
// stacks repository (nil: it can).
func hereError(err error) error {
	var nr *gitexec.NotRepositoryError
	if errors.As(err, &nr) && !nr.Named {
		return errors.New("no stacks repository: you are not inside a git repository and gachette.stacks is not set. " +
			"Create one and make it the default:\n  git gachette init ~/stacks.git\n  git config --global gachette.stacks ~/stacks.git\n" +
			"or pass --stacks PATH")
	}
	return err
}
