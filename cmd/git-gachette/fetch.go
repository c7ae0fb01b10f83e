package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

func (a *app) newFetchCmd() *cobra.Command {
	var remote string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "fetch [--remote R]",
		Short: "Bring the stacks of a remote here",
		Long: `Fetch every stack of remote R (default: gachette.remote, else origin): new
stacks are added here, stacks that exist here identically are kept, and a
stack that differs under the same name is reported and left alone. Local
domain branches are created or fast-forwarded. Fetched stacks are published:
they no longer change in place.`,
		Example: `  git gachette fetch
  git gachette fetch --remote /srv/stacks.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runFetch(remote, asJSON)
		},
	}
	cmd.Flags().StringVarP(&remote, "remote", "r", "", "remote name or URL (default: gachette.remote, else origin)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runFetch(remoteArg string, asJSON bool) error {
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	rm, err := a.remote(r, remoteArg)
	if err != nil {
		return err
	}
	res, err := r.Fetch(context.Background(), rm)
	var conflict *stackrepo.ConflictError
	if err != nil && !errors.As(err, &conflict) {
		return err
	}
	if asJSON {
		if jerr := a.printJSON(map[string]any{"remote": rm.String(), "new": idStrings(res.New), "known": idStrings(res.Known), "branches": nonNilStrings(res.Branches), "warnings": nonNilStrings(res.Warnings)}); jerr != nil {
			return jerr
		}
		return err
	}
	for _, id := range res.New {
		a.info("new stack %s", id)
	}
	for _, d := range res.Branches {
		a.info("domain branch %s updated", d)
	}
	a.info("fetched from %s: %d new, %d already here", rm, len(res.New), len(res.Known))
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return err
}
