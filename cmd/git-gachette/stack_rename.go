package main

import (
	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type renameOptions struct {
	from, to string
	json     bool
}

func (a *app) newStackRenameCmd() *cobra.Command {
	var o renameOptions
	cmd := &cobra.Command{
		Use:   "rename OLD NEW",
		Short: "Give a stack that no remote has and no channel ran another name",
		Long: `Rename stack OLD to NEW, in its domain (NEW is a name, or domain/name in
OLD's domain). Only a stack that is not published (no remote has it: not
pushed, fetched or reachable from a remote-tracking branch) and that no
channel ran may be renamed; for the others, make a stack of the new name
from it (git gachette stack create NEW --from OLD).

The stack under its new name is a commit on the old one, with the same
packages ("NEW: rename from OLD"), and a new tag; the old tag is deleted in
the same ref transaction. The domain branch follows when it pointed at OLD.

When a fetch says a remote has another stack under a name of yours, rename
yours, then fetch and push again.`,
		Example: `  git gachette stack rename 1.3.0 1.3.1
  git gachette stack rename backend/1.3.0 1.3.1 --json`,
		Args: exactArgs("OLD", "NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.from, o.to = args[0], args[1]
			return a.runStackRename(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// renameJSON is stack rename --json: the stack under its new name.
type renameJSON struct {
	Attempts int             `json:"attempts"`
	Branch   *branchMoveJSON `json:"branch,omitempty"`
	Commit   string          `json:"commit"`
	Domain   string          `json:"domain"`
	From     string          `json:"from"`
	Name     string          `json:"name"`
	Stack    string          `json:"stack"`
	Subject  string          `json:"subject"`
	Tag      string          `json:"tag"`
}

func (a *app) runStackRename(o renameOptions) error {
	from, err := a.stackID(o.from)
	if err != nil {
		return err
	}
	to, err := stackrepo.ParseStackID(o.to, from.Domain)
	if err != nil {
		return err
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Rename(from, to, ident)
	if err != nil {
		return err
	}
	if o.json {
		out := renameJSON{Attempts: res.Attempts, Commit: res.Commit.String(), Domain: to.Domain, From: from.String(),
			Name: to.Name, Stack: to.String(), Subject: res.Subject, Tag: res.Tag.String()}
		if res.Branch != nil {
			b := branchMove(*res.Branch)
			out.Branch = &b
		}
		return a.printJSON(out)
	}
	a.info("%s [%s]", res.Subject, res.Commit.String()[:12])
	if res.Branch != nil {
		a.branchMoved(*res.Branch)
	}
	return nil
}
