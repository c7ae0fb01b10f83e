package main

import (
	"github.com/spf13/cobra"
)

func (a *app) newStackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Create, change and read stacks",
		Long: `A stack is a named, versioned set of package versions: <domain>/<name>.
STACK arguments are a name in the default domain (--domain, gachette.domain,
else main) or domain/name.`,
		Example: `  git gachette stack create 124 --from 123
  git gachette stack add 124 dh-app 2.1.0 dh-app_2.1.0_all.deb
  git gachette stack diff 123 124`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		a.newStackCreateCmd(),
		a.newStackAddCmd(),
		a.newStackRemoveCmd(),
		a.newStackDeleteCmd(),
		a.newStackRenameCmd(),
		a.newStackShowCmd(),
		a.newStackListCmd(),
		a.newStackLogCmd(),
		a.newStackDiffCmd(),
		a.newStackVerifyCmd(),
	)
	return cmd
}
