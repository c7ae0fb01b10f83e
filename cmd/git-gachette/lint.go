package main

import (
	"fmt"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
)

func (a *app) newLintCmd() *cobra.Command {
	var missile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "lint KEY [--missile F]",
		Short: "List the packages a build of a prepared working copy would make",
		Long:  `Run trebuchet lint on the missile of the working copy KEY and print the packages it would build, one per line.`,
		Example: `  git gachette -H hero@192.168.1.5 lint test_config_first_build
  git gachette lint app --missile deploy/.missile.yml --json`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runLint(args[0], missile, asJSON)
		},
	}
	cmd.Flags().StringVar(&missile, "missile", ".missile.yml", "trebuchet's build description, relative to the working copy")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func (a *app) runLint(key, missile string, asJSON bool) error {
	hosts, err := a.hostList()
	if err != nil {
		return err
	}
	if err := a.checkSettings("workdir", "trebuchet", "forwardAgent"); err != nil {
		return err
	}
	if err := remote.CheckKey(key); err != nil {
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
	log := a.remoteOutput(&sync.Mutex{}, "    ")
	names, err := remote.Lint(ctx, ex, a.hostPath("workdir"), key, a.settings.get("trebuchet").Value, missile, log)
	log.flush()
	if err != nil {
		return interrupted(ctx, err)
	}
	if asJSON {
		return a.printJSON(map[string]any{"key": key, "host": ex.Host(), "packages": nonNilStrings(names)})
	}
	for _, n := range names {
		fmt.Fprintln(a.stdout, n)
	}
	return nil
}
