package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/changelog"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// diffStacks is stack diff's one library call: the diff, and with
// --changelog the changelog too (cl nil without it).
func (a *app) diffStacks(o diffOptions, r *stackrepo.Repo, idA, idB stackrepo.StackID) (*stackrepo.Diff, *changelog.Result, error) {
	if !o.changelog {
		d, err := r.DiffStacks(idA, idB)
		return d, nil, err
	}
	cache, err := a.sourcesCache()
	if err != nil {
		return nil, nil, err
	}
	ctx, stop := a.interruptible()
	defer stop()
	cl, err := changelog.DiffStacks(ctx, r, idA, idB, cache)
	if err != nil {
		return nil, nil, err
	}
	return cl.Diff, cl, nil
}

// sourcesCache is where the sources are fetched:
// $XDG_CACHE_HOME/git-gachette/sources, else ~/.cache/….
func (a *app) sourcesCache() (*changelog.Cache, error) {
	dir := a.env("XDG_CACHE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return nil, errors.New("--changelog needs a directory to keep the sources in: set XDG_CACHE_HOME (or HOME) to an absolute path")
		}
		dir = filepath.Join(home, ".cache")
	}
	return &changelog.Cache{Dir: filepath.Join(dir, "git-gachette", "sources")}, nil
}

func changelogJSON(cl *changelog.Result) *[]changelog.Entry {
	if cl == nil {
		return nil
	}
	out := cl.Entries
	if out == nil {
		out = []changelog.Entry{}
	}
	return &out
}

// printChangelog prints, after the diff, each package's source commits:
// "added" (oldest first) and, for a downgrade, "removed"; or why there
// are none.
func (a *app) printChangelog(cl *changelog.Result) {
	if cl == nil {
		return
	}
	for _, e := range cl.Entries {
		head := fmt.Sprintf("changelog %s %s -> %s", e.Name, e.FromVersion, e.ToVersion)
		if e.Status != changelog.StatusOK {
			reason := strings.ReplaceAll(e.Reason, "\n", "; ")
			fmt.Fprintf(a.stdout, "%s: %s: %s\n", head, strings.ReplaceAll(e.Status, "_", " "), termtext.Escape(reason))
			continue
		}
		fmt.Fprintf(a.stdout, "%s (%s %s..%s)\n", head, termtext.Escape(e.Source), short(e.FromCommit), short(e.ToCommit))
		for _, side := range []struct {
			mark    string
			commits []changelog.Commit
		}{{"added  ", e.Added}, {"removed", e.Removed}} {
			for _, c := range side.commits {
				fmt.Fprintf(a.stdout, "  %s %s %s %s: %s\n", side.mark, short(c.ID), c.Date.Format("2006-01-02"),
					termtext.Escape(termtext.ShortenTo(c.Author, 40)), termtext.Escape(termtext.ShortenTo(c.Subject, 120)))
			}
		}
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// changelogTrouble is exit status 2 when a changelog could not be read
// (a source not reached, a commit missing, a record refused): the diff
// and every other changelog are printed first.
func changelogTrouble(cl *changelog.Result) error {
	if cl == nil {
		return nil
	}
	if names := cl.Incomplete(); len(names) > 0 {
		return &exitError{code: 2, err: fmt.Errorf("changelog incomplete: the source commits of %s could not be read (the reason is printed with each)", strings.Join(names, ", "))}
	}
	return nil
}
