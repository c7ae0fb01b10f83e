package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type promoteOptions struct {
	stack, env string
	json       bool
}

func (a *app) newPromoteCmd() *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote STACK ENV",
		Short: "Make a channel (an environment) run a stack",
		Long: `Make channel <domain>/ENV run STACK: one commit on
refs/gachette/channels/<domain>/ENV whose tree is the stack's, whose first
parent is the previous move and whose second is the stack's commit, so that
git log --first-parent of the channel says who moved what, when. A stack a
channel runs or ran is sealed: it never changes in place.

With gachette.channel.ENV.requires = staging, only a stack that channel
<domain>/staging has run may be promoted to ENV. Promoting the stack the
channel runs already writes nothing.`,
		Example: `  git gachette promote 124 staging
  git gachette promote backend/124 prod
  git config gachette.channel.prod.requires staging`,
		Args: exactArgs("STACK", "ENV"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stack, o.env = args[0], args[1]
			return a.runPromote(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the move as JSON")
	return cmd
}

func (a *app) runPromote(o promoteOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	gate := a.settings.gate(o.env)
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Promote(stackrepo.PromoteRequest{Stack: id, Env: o.env, Requires: gate.Value, RequiresKey: gate.Key, Identity: ident})
	if err != nil {
		return err
	}
	return a.printMove(res, o.json)
}

type rollbackOptions struct {
	env, to string
	json    bool
}

func (a *app) newRollbackCmd() *cobra.Command {
	var o rollbackOptions
	cmd := &cobra.Command{
		Use:   "rollback ENV [--to STACK]",
		Short: "Make a channel run again a stack it ran",
		Long: `Make channel <domain>/ENV run again the stack it ran before the one it runs
now (the newest move of another stack, down its history), or with --to a
stack it ran. A rollback is a move like a promotion (action rollback); gates
do not apply, since the channel ran the stack.`,
		Example: `  git gachette rollback prod
  git gachette rollback prod --to 123 --domain backend`,
		Args: exactArgs("ENV"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env = args[0]
			return a.runRollback(o)
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "the stack to run again (one the channel ran)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the move as JSON")
	return cmd
}

func (a *app) runRollback(o rollbackOptions) error {
	d, err := a.domain()
	if err != nil {
		return err
	}
	to := ""
	if o.to != "" {
		id, err := stackrepo.ParseStackID(o.to, d)
		if err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		if id.Domain != d {
			return &usageError{fmt.Errorf("--to %s is a stack of domain %s, and channel %s/%s runs stacks of domain %s; give --domain %s to roll back %s/%s", o.to, id.Domain, d, o.env, d, id.Domain, id.Domain, o.env)}
		}
		to = id.Name
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Rollback(stackrepo.RollbackRequest{Domain: d, Env: o.env, To: to, Identity: ident})
	if err != nil {
		return err
	}
	return a.printMove(res, o.json)
}

// moveJSON is promote and rollback --json: the channel's move.
type moveJSON struct {
	Action    string `json:"action"`
	Attempts  int    `json:"attempts"`
	Channel   string `json:"channel"`
	Commit    string `json:"commit"`
	Ref       string `json:"ref"`
	Stack     string `json:"stack"`
	Subject   string `json:"subject"`
	Unchanged bool   `json:"unchanged"`
	Was       string `json:"was"`
}

// printMove reports a move: its subject on stderr, or the move as JSON.
func (a *app) printMove(res *stackrepo.MoveResult, asJSON bool) error {
	if asJSON {
		j := moveJSON{Action: res.Action, Attempts: res.Attempts, Channel: res.Channel, Commit: res.Commit.String(), Ref: res.Ref,
			Stack: res.Stack.String(), Subject: res.Subject, Unchanged: res.Unchanged}
		if res.Was != "" {
			j.Was = res.Stack.Domain + "/" + res.Was
		}
		return a.printJSON(j)
	}
	if res.Unchanged {
		a.info("channel %s already runs %s; nothing to do", res.Channel, res.Stack)
		return nil
	}
	a.info("%s [%s]", res.Subject, res.Commit.String()[:12])
	return nil
}
