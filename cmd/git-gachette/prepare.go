package main

import (
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
)

func (a *app) newPrepareCmd() *cobra.Command {
	var asJSON bool
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
			ref := ""
			if len(args) == 3 {
				ref = args[2]
			}
			return a.runPrepare(args[0], args[1], ref, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runPrepare(key, url, ref string, asJSON bool) error {
	if err := a.load(); err != nil {
		return err
	}
	hosts, err := a.hostList()
	if err != nil {
		return err
	}
	if err := a.checkSettings("workdir", "baseVersion", "forwardAgent"); err != nil {
		return err
	}
	if err := remote.CheckPrepare(a.hostPath("workdir"), key, url, ref); err != nil {
		return err
	}
	conns := a.newConnections()
	defer conns.close()
	ctx, stop := a.interruptible()
	defer stop()
	ex, err := conns.get(ctx, hosts[0])
	if err != nil {
		return interrupted(ctx, err)
	}
	a.info("==> prepare %s on %s", key, ex.Host())
	log := a.remoteOutput(&sync.Mutex{}, "    ")
	a.forgetPrepared(ex.Host(), a.hostPath("workdir"), key)
	co, err := remote.Prepare(ctx, ex, a.hostPath("workdir"), key, url, ref, a.settings.get("baseVersion").Value, log)
	log.flush()
	if err != nil {
		return interrupted(ctx, err)
	}
	a.savePrepared(ex.Host(), a.hostPath("workdir"), co)
	if asJSON {
		return a.printJSON(map[string]string{"key": key, "url": remote.RedactPassword(url), "ref": co.Ref, "host": ex.Host(), "dir": co.Dir, "commit": co.Commit, "version": co.Version})
	}
	a.info("%s is at %s (version %s)", co.Dir, co.Commit, co.Version)
	_, err = fmt.Fprintln(a.stdout, co.Commit)
	return err
}
