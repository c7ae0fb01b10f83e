package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote/buildjob"
)

type lintOptions struct {
	key, missile string
	json         bool
}

func (a *app) newLintCmd() *cobra.Command {
	var o lintOptions
	cmd := &cobra.Command{
		Use:   "lint KEY [--missile F]",
		Short: "List the packages a build of a prepared working copy would make",
		Long:  `Run trebuchet lint on the missile of the working copy KEY and print the packages it would build, one per line.`,
		Example: `  git gachette -H hero@192.168.1.5 lint test_config_first_build
  git gachette lint app --missile deploy/.missile.yml --json`,
		Args: exactArgs("KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.key = args[0]
			return a.runLint(o)
		},
	}
	cmd.Flags().StringVar(&o.missile, "missile", ".missile.yml", "trebuchet's build description, relative to the working copy")
	cmd.Flags().BoolVar(&o.json, "json", false, "print as JSON")
	return cmd
}

// lintJSON is lint's --json output (keys in the order they were printed
// from a map).
type lintJSON struct {
	Host     string   `json:"host"`
	Key      string   `json:"key"`
	Packages []string `json:"packages"`
}

func (a *app) runLint(o lintOptions) error {
	c, err := a.hostConfig(forLint)
	if err != nil {
		return err
	}
	ctx, stop := a.interruptible()
	defer stop()
	res, err := buildjob.Lint(ctx, buildjob.LintRequest{Config: c, Key: o.key, Missile: o.missile})
	if err != nil {
		return interrupted(ctx, err)
	}
	if o.json {
		return a.printJSON(lintJSON{Key: o.key, Host: res.Host, Packages: res.Packages})
	}
	for _, n := range res.Packages {
		fmt.Fprintln(a.stdout, n)
	}
	return nil
}
