package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/changelog"
)

type diffOptions struct {
	a         string
	b         string
	json      bool
	changelog bool
}

func (a *app) newStackDiffCmd() *cobra.Command {
	var o diffOptions
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two stacks: added, removed, upgraded, downgraded",
		Long: `Compare stack A with stack B: packages added in B, removed from A, and
upgraded or downgraded (by Debian version ordering, as dpkg compares them);
"rebuilt" means the same version with other details (file, checksum, source).

With --changelog, for each package whose recorded Commit changed, the
commits of its recorded Source between the two (added, oldest first; for a
downgrade, removed), fetched with your git into a cache under
$XDG_CACHE_HOME/git-gachette/sources (default ~/.cache/…).

Exit status, like diff(1): 0 when the stacks hold the same packages, 1 when
they differ, 2 on trouble (with --changelog: a Source that could not be
fetched, or lacks a commit; everything else is printed first).`,
		Example: `  git gachette stack diff 123 124
  git gachette stack diff backend/123 backend/124 --json
  git gachette stack diff 123 124 >/dev/null || echo "they differ"
  git gachette stack diff 123 124 --changelog`,
		Args: exactArgs("A", "B"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.a, o.b = args[0], args[1]
			err := a.runStackDiff(o)
			if err != nil {
				var ee *exitError
				if !errors.As(err, &ee) {
					return &exitError{code: 2, err: err}
				}
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the differences as JSON")
	cmd.Flags().BoolVar(&o.changelog, "changelog", false, "list the source commits of each package whose recorded Commit changed")
	return cmd
}

// diffJSON is stack diff --json.
type diffJSON struct {
	A          string                    `json:"a"`
	Added      []stackrepo.Package       `json:"added"`
	B          string                    `json:"b"`
	Downgraded []stackrepo.VersionChange `json:"downgraded"`
	Equal      bool                      `json:"equal"`
	Rebuilt    []stackrepo.VersionChange `json:"rebuilt"`
	Removed    []stackrepo.Package       `json:"removed"`
	Upgraded   []stackrepo.VersionChange `json:"upgraded"`
	// Changelog: with --changelog only.
	Changelog *[]changelog.Entry `json:"changelog,omitempty"`
}

func (a *app) runStackDiff(o diffOptions) error {
	idA, err := a.stackID(o.a)
	if err != nil {
		return err
	}
	idB, err := a.stackID(o.b)
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	d, cl, err := a.diffStacks(o, r, idA, idB)
	if err != nil {
		return err
	}
	if o.json {
		nonNil := func(p []stackrepo.Package) []stackrepo.Package {
			if p == nil {
				return []stackrepo.Package{}
			}
			return p
		}
		nonNilC := func(c []stackrepo.VersionChange) []stackrepo.VersionChange {
			if c == nil {
				return []stackrepo.VersionChange{}
			}
			return c
		}
		if err := a.printJSON(diffJSON{
			A: idA.String(), B: idB.String(), Equal: d.Empty(),
			Added: nonNil(d.Added), Removed: nonNil(d.Removed),
			Upgraded: nonNilC(d.Upgraded), Downgraded: nonNilC(d.Downgraded), Rebuilt: nonNilC(d.Changed),
			Changelog: changelogJSON(cl),
		}); err != nil {
			return err
		}
	} else {
		for _, p := range d.Added {
			fmt.Fprintf(a.stdout, "added       %s %s\n", p.Name, p.Version)
		}
		for _, p := range d.Removed {
			fmt.Fprintf(a.stdout, "removed     %s %s\n", p.Name, p.Version)
		}
		for _, c := range d.Upgraded {
			fmt.Fprintf(a.stdout, "upgraded    %s %s -> %s\n", c.Name, c.From.Version, c.To.Version)
		}
		for _, c := range d.Downgraded {
			fmt.Fprintf(a.stdout, "downgraded  %s %s -> %s\n", c.Name, c.From.Version, c.To.Version)
		}
		for _, c := range d.Changed {
			fmt.Fprintf(a.stdout, "rebuilt     %s %s\n", c.Name, c.To.Version)
		}
		a.printChangelog(cl)
	}
	if err := changelogTrouble(cl); err != nil {
		return err
	}
	if !d.Empty() {
		return &exitError{code: 1}
	}
	return nil
}
