package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
)

func (a *app) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the effective settings, or write a commented template",
		Long: `Settings live in git config under [gachette] (git config --global gachette.domain
backend), with one [gachette "project.NAME"] subsection per project. They
are read with git config, in the stacks repository, so every git rule
holds (includes, includeIf, worktree config, git -c, GIT_CONFIG_*).
Precedence: flags > GACHETTE_* environment > git config > defaults.`,
		Example: `  git gachette config show
  git gachette config init
  git config --global gachette.stacks ~/stacks.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print every effective setting and where it came from",
		Example: `  git gachette config show
  git gachette --domain backend config show --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runConfigShow(asJSON) },
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(show, a.newConfigInitCmd())
	return cmd
}

func (a *app) runConfigShow(asJSON bool) error {
	if err := a.load(); err != nil {
		return err
	}
	if a.stacksNamed.Value != "" && a.stacksErr != nil {
		return a.stacksErr // the settings would be those of another repository
	}
	vals := a.settings.all()
	for i := range vals {
		vals[i].Value = remote.RedactPassword(vals[i].Value)
	}
	if asJSON {
		return a.printJSON(vals)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, v := range vals {
		shown := v.Value
		if shown == "" {
			shown = `""`
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", v.Key, shown, v.Origin)
	}
	return w.Flush()
}
