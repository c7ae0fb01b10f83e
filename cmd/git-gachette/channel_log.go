package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

type channelLogOptions struct {
	env  string
	max  int
	json bool
}

func (a *app) newChannelLogCmd() *cobra.Command {
	var o channelLogOptions
	cmd := &cobra.Command{
		Use:   "log ENV",
		Short: "Show every move of a channel, newest first: when, who, action, stack",
		Long: `Show the history of channel <domain>/ENV, newest first: each promotion and
rollback, when, by whom, and the stack it ran from then on. It is the
channel's first-parent history (git log --first-parent
refs/gachette/channels/<domain>/ENV), down to its first move.`,
		Example: `  git gachette channel log prod
  git gachette channel log prod --domain backend -n 10 --json`,
		Args: exactArgs("ENV"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env = args[0]
			if err := maxCount(cmd, &o.max); err != nil {
				return err
			}
			return a.runChannelLog(o)
		},
	}
	cmd.Flags().IntVarP(&o.max, "max-count", "n", 0, "show at most this many moves (all by default)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the moves as JSON")
	return cmd
}

func (a *app) runChannelLog(o channelLogOptions) error {
	d, err := a.domain()
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	moves, err := r.ChannelLog(d, o.env, o.max)
	if err != nil {
		return err
	}
	if o.json {
		out := make([]moveEntryJSON, len(moves))
		for i, m := range moves {
			out[i] = moveEntry(o.env, m)
		}
		return a.printJSON(out)
	}
	for _, m := range moves {
		fmt.Fprintf(a.stdout, "%s %s %-8s %s  %s\n", m.Commit.String()[:12], m.Date.Format("2006-01-02 15:04"), termtext.Escape(termtext.ShortenTo(m.Action, 20)), m.Stack.Name,
			termtext.Escape(termtext.ShortenTo(m.Author, 60)))
	}
	if n := len(moves); n > 0 && moves[n-1].ShallowBoundary {
		a.info("the channel's history goes on before %s, but this shallow clone does not have it; get it with: git -C %s fetch --unshallow",
			moves[n-1].Commit.String()[:12], r.Dir)
	}
	return nil
}
