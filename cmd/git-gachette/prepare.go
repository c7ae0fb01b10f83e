package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote/buildjob"
)

type prepareOptions struct {
	key, url, ref string
	json          bool
}

func (a *app) newPrepareCmd() *cobra.Command {
	var o prepareOptions
	cmd := &cobra.Command{
		Use:   "prepare KEY URL [REF]",
		Short: "Make a working copy of a project at a branch, tag or commit on the build host",
		Long: `Clone URL on the build host into <workdir>/working_copy/KEY (or fetch, when
that working copy exists), check REF out (forced, detached), remove every
untracked file, update submodules, and print the full commit.

REF is a branch (master, origin/master), a tag, or a full or short commit
id; without it, the remote's default branch.`,
		Example: `  git gachette -H hero@192.168.1.5 prepare test_config_first_build git@github.com:ops-config/test_config master
  git gachette --host local prepare app ~/src/app v1.4.0`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key, o.url = args[0], args[1]
			if len(args) == 3 {
				o.ref = args[2]
			}
			return a.runPrepare(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// prepareJSON is prepare's --json output (keys in the order they were
// printed from a map).
type prepareJSON struct {
	Commit  string `json:"commit"`
	Dir     string `json:"dir"`
	Host    string `json:"host"`
	Key     string `json:"key"`
	Ref     string `json:"ref"`
	URL     string `json:"url"`
	Version string `json:"version"`
}

func (a *app) runPrepare(o prepareOptions) error {
	c, err := a.hostConfig(forPrepare)
	if err != nil {
		return err
	}
	ctx, stop := a.interruptible()
	defer stop()
	res, err := buildjob.Prepare(ctx, buildjob.PrepareRequest{Config: c, Key: o.key, URL: o.url, Ref: o.ref})
	if err != nil {
		return interrupted(ctx, err)
	}
	co := res.Checkout
	if o.json {
		return a.printJSON(prepareJSON{Key: o.key, URL: co.URL, Ref: co.Ref, Host: res.Host, Dir: co.Dir, Commit: co.Commit, Version: co.Version})
	}
	a.info("%s is at %s (version %s)", co.Dir, co.Commit, co.Version)
	_, err = fmt.Fprintln(a.stdout, co.Commit)
	return err
}
