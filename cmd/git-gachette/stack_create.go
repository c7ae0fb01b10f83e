package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo"
)

type createOptions struct {
	from  string
	bump  string
	empty bool
	json  bool
}

func (a *app) newStackCreateCmd() *cobra.Command {
	var o createOptions
	cmd := &cobra.Command{
		Use:   "create (STACK [--from S] | --bump major|minor|patch [--empty])",
		Short: "Create a stack, empty or from another one",
		Long: `Create a stack. With --from it starts as a copy of another stack, whose
commit becomes its parent; without, it starts empty (a root commit).

--bump names the stack after the domain's highest stack named as a semantic
version (124 → 125, 1.4.0 → 1.5.0 on minor) and starts from it unless --empty.
The domain branch moves to the new stack.`,
		Example: `  git gachette stack create foobar1
  git gachette stack create 124 --from 123
  git gachette stack create --bump minor
  git gachette stack create --bump major --empty --domain frontend`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runStackCreate(args, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "start from this stack (name or domain/name)")
	f.StringVar(&o.bump, "bump", "", "name the stack after the highest semver stack, bumped: major, minor or patch")
	f.BoolVar(&o.empty, "empty", false, "with --bump: start empty instead of from the highest stack")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runStackCreate(args []string, o createOptions) error {
	switch {
	case o.bump == "" && len(args) == 0:
		return &usageError{fmt.Errorf("stack create needs a STACK name or --bump major|minor|patch")}
	case o.bump != "" && len(args) > 0:
		return &usageError{fmt.Errorf("stack create takes either a STACK name or --bump, not both")}
	case o.bump != "" && o.from != "":
		return &usageError{fmt.Errorf("--bump starts from the highest stack already; use --empty to start empty, not --from")}
	case o.empty && o.bump == "":
		return &usageError{fmt.Errorf("--empty goes with --bump; a named stack without --from starts empty")}
	}
	// The arguments are checked before the repository is opened: a bad
	// name is named first, whatever else is missing.
	var (
		part   semverx.Part
		domain string
		id     stackrepo.StackID
		from   *stackrepo.StackID
		err    error
	)
	if o.bump != "" {
		if part, err = semverx.ParsePart(o.bump); err != nil {
			return &usageError{err}
		}
		if domain, err = a.domain(); err != nil {
			return err
		}
	} else {
		if id, err = a.stackID(args[0]); err != nil {
			return err
		}
		if o.from != "" {
			f, err := a.stackID(o.from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			from = &f
		}
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	var res *stackrepo.Result
	if o.bump != "" {
		res, err = r.CreateBump(domain, part, o.empty, ident)
	} else {
		res, err = r.Create(id, from, ident)
	}
	if err != nil {
		return err
	}
	if err := a.printResult(res, o.json); err != nil || o.json {
		return err
	}
	// The name on stdout lets scripts capture what --bump chose.
	_, err = fmt.Fprintln(a.stdout, res.ID)
	return err
}

// resultJSON is stack create, add and remove --json: the write.
type resultJSON struct {
	Attempts  int    `json:"attempts"`
	Commit    string `json:"commit"`
	Domain    string `json:"domain"`
	Name      string `json:"name"`
	Stack     string `json:"stack"`
	Subject   string `json:"subject"`
	Tag       string `json:"tag"`
	Unchanged bool   `json:"unchanged"`
}

// printResult reports a write: the commit subject on stderr, or the whole
// result as JSON on stdout.
func (a *app) printResult(res *stackrepo.Result, asJSON bool) error {
	if asJSON {
		return a.printJSON(resultJSON{
			Stack: res.ID.String(), Domain: res.ID.Domain, Name: res.ID.Name,
			Commit: res.Commit.String(), Tag: res.Tag.String(), Subject: res.Subject,
			Unchanged: res.Unchanged, Attempts: res.Attempts,
		})
	}
	if res.Unchanged {
		a.info("%s", res.Subject)
		return nil
	}
	a.info("%s [%s]", res.Subject, res.Commit.String()[:12])
	return nil
}
