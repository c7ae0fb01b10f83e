package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/remote/buildjob"
	"github.com/ops-hero/git-gachette/stackrepo"
)

type quickOptions struct {
	projects []string
	stack    string
	ref      string
	json     bool
}

func (a *app) newQuickCmd() *cobra.Command {
	var o quickOptions
	cmd := &cobra.Command{
		Use:   "quick PROJECT... --stack S [--ref R]",
		Short: "Prepare, version, build and record projects in a stack, in one command",
		Long: `For each PROJECT (configured as [gachette "project.NAME"] url, missile, ref):
prepare its working copy on a build host, version it from its commit, build
it, check the .debs, then record every package in stack S in one commit —
or, if anything fails, record nothing. The stack must exist and not be
published. Projects build concurrently, spread over the hosts that
gachette.host lists. A prepare or build of a project waits for any other
one of the same project on the same host; if another prepare moved the
working copy before this build, it is prepared and built again. A commit
built before with the same settings is reused, not built again — unless a
stack records one of its .debs with another SHA-256. The record goes onto
the stack as it was before the builds: if it changed meanwhile, nothing is
recorded. Ctrl-C stops every build, on every host, takes back the .debs it
put into the debs path, and records nothing; once the record has started,
it completes.`,
		Example: `  git config --global gachette.project.app.url git@github.com:ops-hero/app.git
  git gachette quick app --stack 124
  git gachette -H build1,build2 quick app app-config --stack backend/124 --ref origin/release`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.stack == "" {
				return &usageError{fmt.Errorf("quick needs --stack S: the stack that records the packages")}
			}
			o.projects = args
			return a.runQuick(o)
		},
	}
	cmd.Flags().StringVarP(&o.stack, "stack", "s", "", "stack that records the packages (must exist)")
	cmd.Flags().StringVar(&o.ref, "ref", "", "branch, tag or commit to build, for every project (default: the project's ref, else the remote's default branch)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the recorded packages as JSON")
	return cmd
}

// quickJSON is quick's --json output (keys in the order they were printed
// from a map).
type quickJSON struct {
	Commit    string              `json:"commit"`
	Packages  []stackrepo.Package `json:"packages"`
	Stack     string              `json:"stack"`
	Unchanged bool                `json:"unchanged"`
}

func (a *app) runQuick(o quickOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	if o.ref != "" {
		if err := remote.CheckRef(o.ref); err != nil {
			return err
		}
	}
	c, err := a.hostConfig(forBuild)
	if err != nil {
		return err
	}
	projects, err := a.projects(o.projects, o.ref)
	if err != nil {
		return err
	}
	ctx, stop := a.interruptible()
	defer stop()
	res, err := buildjob.Quick(ctx, buildjob.QuickRequest{Config: c, Stack: id, Projects: projects, Open: a.openForWrite})
	if errors.Is(err, context.Canceled) {
		return interrupted(ctx, err)
	} else if err != nil {
		return err
	}
	rec := res.Record
	if o.json {
		return a.printJSON(quickJSON{Commit: rec.Commit.String(), Packages: res.Packages, Stack: id.String(), Unchanged: rec.Unchanged})
	}
	a.info("%s [%s]", rec.Subject, rec.Commit.String()[:12])
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tVERSION\tARCH\tCOMMIT\tHOST")
	for _, p := range res.Packages {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Architecture, p.Commit[:12], p.BuiltOn)
	}
	return w.Flush()
}

// projects resolves PROJECT names from [gachette "project.NAME"]; ref,
// if set, is every project's.
func (a *app) projects(names []string, ref string) ([]buildjob.Project, error) {
	seen := map[string]bool{}
	var out []buildjob.Project
	for _, n := range names {
		if err := remote.CheckKey(n); err != nil {
			return nil, fmt.Errorf("project: %w", err)
		}
		if seen[n] {
			return nil, fmt.Errorf("project %s is given twice", n)
		}
		seen[n] = true
		s, _ := a.settings.project(n)
		p := buildjob.Project{Name: n, URL: s.URL.Value, Missile: s.Missile.Value, Ref: s.Ref.Value}
		if p.URL == "" {
			return nil, fmt.Errorf("project %s is not configured; set at least its URL: git config --global gachette.project.%s.url URL", n, n)
		}
		if p.Missile == "" {
			p.Missile = ".missile.yml"
		}
		if ref != "" {
			p.Ref = ref
		}
		out = append(out, p)
	}
	return out, nil
}
