package main

import (
	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type deleteOptions struct {
	stacks []string
	json   bool
}

func (a *app) newStackDeleteCmd() *cobra.Command {
	var o deleteOptions
	cmd := &cobra.Command{
		Use:   "delete STACK...",
		Short: "Delete stacks that no remote has and no channel ran",
		Long: `Delete the STACKs, all in one ref transaction or none. Only a stack that is
not published (no remote has it: not pushed, fetched or reachable from a
remote-tracking branch) and that no channel ran may go; for the others, make
the stack you want from them (git gachette stack create NEW --from STACK).

A domain branch that points at a deleted stack moves to the newest stack
left in its domain (the first of stack list), or is deleted with the
domain's last stack. The commits stay in the lineage of the stacks made
from them, and in git's reflogs.`,
		Example: `  git gachette stack delete 1.3.0
  git gachette stack delete backend/1.3.0 backend/1.3.0-rc1 --json`,
		Args: minArgs("STACK", "[STACK...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stacks = args
			return a.runStackDelete(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// deleteJSON is stack delete --json.
type deleteJSON struct {
	Attempts int              `json:"attempts"`
	Branches []branchMoveJSON `json:"branches"`
	Deleted  []deletedJSON    `json:"deleted"`
}

// deletedJSON is a stack deleted: its tag and commit as they were.
type deletedJSON struct {
	Commit string `json:"commit"`
	Domain string `json:"domain"`
	Name   string `json:"name"`
	Stack  string `json:"stack"`
	Tag    string `json:"tag"`
}

// branchMoveJSON is a domain branch that followed a delete or rename
// (to and stack are left out when it was deleted).
type branchMoveJSON struct {
	Domain string `json:"domain"`
	From   string `json:"from"`
	Stack  string `json:"stack,omitempty"`
	To     string `json:"to,omitempty"`
}

func (a *app) runStackDelete(o deleteOptions) error {
	ids := make([]stackrepo.StackID, len(o.stacks))
	for i, s := range o.stacks {
		id, err := a.stackID(s)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	r, _, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Delete(ids)
	if err != nil {
		return err
	}
	if o.json {
		out := deleteJSON{Attempts: res.Attempts, Branches: []branchMoveJSON{}, Deleted: []deletedJSON{}}
		for _, d := range res.Deleted {
			out.Deleted = append(out.Deleted, deletedJSON{Stack: d.ID.String(), Domain: d.ID.Domain, Name: d.ID.Name, Tag: d.Tag.String(), Commit: d.Commit.String()})
		}
		for _, b := range res.Branches {
			out.Branches = append(out.Branches, branchMove(b))
		}
		return a.printJSON(out)
	}
	for _, d := range res.Deleted {
		a.info("deleted %s (was %s)", d.ID, d.Commit.String()[:12])
	}
	for _, b := range res.Branches {
		a.branchMoved(b)
	}
	return nil
}

func branchMove(b stackrepo.BranchMove) branchMoveJSON {
	j := branchMoveJSON{Domain: b.Domain, From: b.From.String()}
	if !b.To.IsZero() {
		j.To, j.Stack = b.To.String(), b.Stack.String()
	}
	return j
}

// branchMoved says where a domain branch went.
func (a *app) branchMoved(b stackrepo.BranchMove) {
	if b.To.IsZero() {
		a.info("deleted domain branch %s: no stack is left in domain %s", b.Domain, b.Domain)
		return
	}
	a.info("domain branch %s now at %s", b.Domain, b.Stack)
}
