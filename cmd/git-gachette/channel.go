package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

func (a *app) newChannelCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Read channels: which stack each environment runs, and since when",
		Long: `A channel is <domain>/<env>: which stack an environment runs, with the
history of every promotion and rollback, kept as
refs/gachette/channels/<domain>/<env> (git gachette promote and rollback move
it). ENV arguments are channels of the default domain (--domain).`,
		Example: `  git gachette channel list
  git gachette channel show prod --format apt
  git gachette channel log prod --domain backend`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newChannelListCmd(), a.newChannelShowCmd(), a.newChannelLogCmd(), a.newChannelVerifyCmd())
	return cmd
}

type channelListOptions struct{ json bool }

func (a *app) newChannelListCmd() *cobra.Command {
	var o channelListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the channels of a domain: the stack each runs, when, who moved it",
		Example: `  git gachette channel list
  git gachette channel list --domain backend --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runChannelList(o) },
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the channels as JSON")
	return cmd
}

// moveEntryJSON is a channel's move: channel list --json (its current
// move) and channel log --json (each).
type moveEntryJSON struct {
	Action      string `json:"action"`
	Author      string `json:"author"`
	Channel     string `json:"channel"`
	Commit      string `json:"commit"`
	Committer   string `json:"committer"`
	Date        string `json:"date"`
	Env         string `json:"env"`
	Stack       string `json:"stack"`
	StackCommit string `json:"stack_commit"`
	Subject     string `json:"subject"`
	Was         string `json:"was"`
	// ShallowBoundary: the history before this move is not in this
	// shallow clone.
	ShallowBoundary bool `json:"shallow_boundary,omitempty"`
}

func moveEntry(env string, m stackrepo.Move) moveEntryJSON {
	j := moveEntryJSON{Action: m.Action, Author: m.Author, Channel: m.Channel, Commit: m.Commit.String(), Committer: m.Committer,
		Date: m.Date.Format("2006-01-02T15:04:05Z07:00"), Env: env, Stack: m.Stack.String(), StackCommit: m.StackCommit.String(),
		Subject: m.Subject, ShallowBoundary: m.ShallowBoundary}
	if m.Was != "" {
		j.Was = m.Stack.Domain + "/" + m.Was
	}
	return j
}

func (a *app) runChannelList(o channelListOptions) error {
	d, err := a.domain()
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	chans, err := r.Channels(d)
	if err != nil {
		return err
	}
	if o.json {
		out := make([]moveEntryJSON, len(chans))
		for i, c := range chans {
			out[i] = moveEntry(c.Env, c.Current)
		}
		return a.printJSON(out)
	}
	if len(chans) == 0 {
		a.info("domain %s has no channels; make one with: git gachette promote STACK ENV --domain %s", d, d)
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CHANNEL\tSTACK\tSINCE\tBY")
	for _, c := range chans {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", c.Env, c.Current.Stack.Name, c.Current.Date.Format("2006-01-02 15:04"), termtext.Escape(termtext.ShortenTo(c.Current.Author, 60)))
	}
	return w.Flush()
}
