package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

func (a *app) newInitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init [DIR]",
		Short: "Create a stacks repository (bare; HEAD names the default domain's branch)",
		Long: `Create a bare git repository for stacks in DIR (default: the current
directory, which must be empty). Its HEAD names the default domain's branch,
so a plain "git clone" of it checks out the newest stack of that domain.`,
		Example: `  git gachette init ~/stacks.git
  git config --global gachette.stacks ~/stacks.git`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return a.runInit(dir)
		},
	}
}

func (a *app) runInit(dir string) error {
	domain, err := a.domain()
	if err != nil {
		return err
	}
	r, err := stackrepo.Init(dir, domain)
	if err != nil {
		return err
	}
	defer r.Close()
	abs, _ := filepath.Abs(dir)
	a.info("Initialized empty stacks repository in %s (domain %s)", abs, domain)
	if a.stacksNamed.Value != "" {
		return nil // a default is set: this one may be for pushing to
	}
	if home, err := os.UserHomeDir(); err == nil {
		if rel, err := filepath.Rel(home, abs); err == nil && filepath.IsLocal(rel) {
			abs = "~/" + rel
		}
	}
	a.info("No default stacks repository is set; to make this one the default: git config --global gachette.stacks %s", stackrepo.ShellWord(abs))
	return nil
}
