package main

import (
	"github.com/spf13/cobra"
)

type removeOptions struct {
	stack string
	names []string
	json  bool
}

func (a *app) newStackRemoveCmd() *cobra.Command {
	var o removeOptions
	cmd := &cobra.Command{
		Use:     "remove STACK NAME...",
		Aliases: []string{"rm"},
		Short:   "Remove packages from a stack",
		Long:    `Remove the named packages from STACK in one commit. Every NAME must be in the stack.`,
		Example: `  git gachette stack remove 124 dh-app
  git gachette stack remove backend/124 dh-app dh-app-config`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stack, o.names = args[0], args[1:]
			return a.runStackRemove(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runStackRemove(o removeOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Remove(id, o.names, ident)
	if err != nil {
		return err
	}
	return a.printResult(res, o.json)
}
