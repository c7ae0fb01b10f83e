package main

import (
	"github.com/spf13/cobra"
)

func (a *app) newStackRemoveCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "remove STACK NAME...",
		Aliases: []string{"rm"},
		Short:   "Remove packages from a stack",
		Long:    `Remove the named packages from STACK in one commit. Every NAME must be in the stack.`,
		Example: `  git gachette stack remove 124 dh-app
  git gachette stack remove backend/124 dh-app dh-app-config`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runStackRemove(args[0], args[1:], asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runStackRemove(stack string, names []string, asJSON bool) error {
	id, err := a.stackID(stack)
	if err != nil {
		return err
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Remove(id, names, ident)
	if err != nil {
		return err
	}
	return a.printResult(res, asJSON)
}
