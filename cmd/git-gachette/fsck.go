package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

type fsckOptions struct {
	oneDomain bool
	json      bool
}

func (a *app) newFsckCmd() *cobra.Command {
	var o fsckOptions
	cmd := &cobra.Command{
		Use:   "fsck",
		Short: "Check every stack of every domain against the stacks format",
		Long: `Check every stack of every domain (or of --domain) against the stacks format:
each stack tag is an annotated tag of a git-gachette commit of a format this
version reads, naming the stack; every package is a stanza that parses and
names its file; every object is present; each domain has its branch. Each
problem is printed as "WHERE: PROBLEM". Exit status 1 when there is any.

It reads the current state of each stack; git fsck --strict checks the
objects and the history.`,
		Example: `  git gachette fsck
  git gachette fsck --domain backend --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.oneDomain = cmd.Flags().Changed("domain")
			return a.runFsck(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func (a *app) runFsck(o fsckOptions) error {
	var domains []string
	if o.oneDomain {
		d, err := a.domain()
		if err != nil {
			return err
		}
		domains = []string{d}
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	rep, err := r.Fsck(domains...)
	if err != nil {
		return err
	}
	if o.json {
		if rep.Domains == nil {
			rep.Domains = []string{}
		}
		if err := a.printJSON(rep); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintf(a.stdout, "%s: %s\n", termtext.Escape(p.Where), termtext.Escape(p.Problem))
		}
	}
	problems := "no problems"
	if len(rep.Problems) > 0 {
		problems = count(len(rep.Problems), "problem")
	}
	a.info("checked %s in %s, %s: %s", count(rep.Stacks, "stack"), count(len(rep.Domains), "domain"), count(rep.Packages, "package"), problems)
	if len(rep.Problems) > 0 {
		return &exitError{code: 1}
	}
	return nil
}
