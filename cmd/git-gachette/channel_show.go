package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/export"
)

type channelShowOptions struct {
	env  string
	only []string
	packagesFormat
}

func (a *app) newChannelShowCmd() *cobra.Command {
	var o channelShowOptions
	cmd := &cobra.Command{
		Use:   "show ENV [PACKAGE...] [--format table|json|control|apt|apt-pin|ansible|puppet]",
		Short: "Print the packages a channel runs",
		Long: `Print the packages channel <domain>/ENV runs (or only the PACKAGEs named):
the stack its newest move ran, as that move recorded it (the move's tree,
which git show refs/gachette/channels/<domain>/ENV:packages/NAME reads too).
The formats are stack show's.`,
		Example: `  git gachette channel show prod
  apt-get install $(git gachette channel show prod --domain backend --format apt)
  git gachette channel show staging --json`,
		Args: minArgs("ENV", "[PACKAGE...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.env, o.only = args[0], args[1:]
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.runChannelShow(o)
		},
	}
	o.register(cmd)
	return cmd
}

// channelShowJSON is channel show --json: the channel's newest move and
// the packages it runs.
type channelShowJSON struct {
	Author      string              `json:"author"`
	Channel     string              `json:"channel"`
	Commit      string              `json:"commit"`
	Date        time.Time           `json:"date"`
	Domain      string              `json:"domain"`
	Env         string              `json:"env"`
	Packages    []stackrepo.Package `json:"packages"`
	Stack       string              `json:"stack"`
	StackCommit string              `json:"stack_commit"`
}

func (a *app) runChannelShow(o channelShowOptions) error {
	d, err := a.domain()
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	if r.RequireSigned, err = a.settings.RequireSigned.bool(); err != nil {
		return err
	}
	m, _, pkgs, err := r.ChannelShow(d, o.env, o.only)
	if err != nil {
		return err
	}
	if o.format == "json" {
		if pkgs == nil {
			pkgs = []stackrepo.Package{}
		}
		return a.printJSON(channelShowJSON{Author: m.Author, Channel: m.Channel, Commit: m.Commit.String(), Date: m.Date, Domain: d, Env: o.env,
			Packages: pkgs, Stack: m.Stack.String(), StackCommit: m.StackCommit.String()})
	}
	if len(pkgs) == 0 && o.format == "table" {
		a.info("channel %s runs %s, which is empty", m.Channel, m.Stack)
		return nil
	}
	return a.renderPackages(o.format, export.Origin{Stack: m.Stack, Commit: m.StackCommit.String(), Channel: m.Channel}, pkgs)
}
