package main

import (
	"fmt"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
	"github.com/spf13/cobra"
)

type logOptions struct {
	stack string
	max   int
	json  bool
}

func (a *app) newStackLogCmd() *cobra.Command {
	var o logOptions
	cmd := &cobra.Command{
		Use:   "log STACK",
		Short: "Show how a stack came to be, one line a change",
		Long: `Show the lineage of STACK, newest first: every change made to it and, before
its creation, to the stacks it was created from. git log -p <domain>/<stack>
shows the same with the stanzas.`,
		Example: `  git gachette stack log 124
  git gachette stack log backend/124 -n 5 --json`,
		Args: exactArgs("STACK"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stack = args[0]
			if err := maxCount(cmd, &o.max); err != nil {
				return err
			}
			return a.runStackLog(o)
		},
	}
	cmd.Flags().IntVarP(&o.max, "max-count", "n", 0, "show at most this many changes (all by default)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the lineage as JSON")
	return cmd
}

// maxSubject bounds a subject in the one-line view (--json has it whole).
const maxSubject = 200

// logEntryJSON is one change of stack log --json.
type logEntryJSON struct {
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Author  string `json:"author"`
	Stack   string `json:"stack"`
	Action  string `json:"action"`
	Subject string `json:"subject"`
	// ShallowBoundary: the history before this change is not in this
	// shallow clone.
	ShallowBoundary bool `json:"shallow_boundary,omitempty"`
}

func (a *app) runStackLog(o logOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	entries, err := r.Log(id, o.max)
	if err != nil {
		return err
	}
	if o.json {
		out := make([]logEntryJSON, len(entries))
		for i, e := range entries {
			out[i] = logEntryJSON{Commit: e.Commit.String(), Date: e.Date.Format("2006-01-02T15:04:05Z07:00"), Author: e.Author, Stack: e.Stack, Action: e.Action, Subject: e.Subject, ShallowBoundary: e.ShallowBoundary}
		}
		if err := a.printJSON(out); err != nil {
			return err
		}
	} else {
		for _, e := range entries {
			fmt.Fprintf(a.stdout, "%s %s %s\n", e.Commit.String()[:12], e.Date.Format("2006-01-02 15:04"), termtext.Escape(termtext.ShortenTo(e.Subject, maxSubject)))
		}
	}
	if n := len(entries); n > 0 && entries[n-1].ShallowBoundary {
		a.info("the lineage goes on before %s, but this shallow clone does not have it; get it with: git -C %s fetch --unshallow",
			entries[n-1].Commit.String()[:12], r.Dir)
	}
	return nil
}
