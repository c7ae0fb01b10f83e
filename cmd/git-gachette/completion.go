package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/cmd/git-gachette/clidoc"
)

func (a *app) newCompletionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh",
		Short: "Print the shell completion script (git gachette <TAB> and git-gachette <TAB>)",
		Long: `Print the completion script for bash or zsh. It completes "git gachette <TAB>"
through git's own completion, and "git-gachette <TAB>": commands, flags,
stack names, domains, remotes, projects and --format values.

bash, with the bash-completion package (it loads the file when needed):
  mkdir -p ~/.local/share/bash-completion/completions
  git gachette completion bash > ~/.local/share/bash-completion/completions/git-gachette
without it, after git's completion in ~/.bashrc:
  source <(git gachette completion bash)

zsh (git's completion in zsh lists it among git's commands):
  mkdir -p ~/.zfunc
  git gachette completion zsh > ~/.zfunc/_git-gachette
and in ~/.zshrc, before compinit:
  fpath=(~/.zfunc $fpath)

The Debian package of git-gachette installs both.`,
		Example: `  git gachette completion bash > ~/.local/share/bash-completion/completions/git-gachette
  git gachette completion zsh > ~/.zfunc/_git-gachette`,
		ValidArgs: []string{"bash", "zsh"},
		Args:      exactArgs("SHELL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runCompletion(args[0])
		},
	}
}

func (a *app) runCompletion(shell string) error {
	switch shell {
	case "bash":
		return clidoc.BashCompletion(a.root, a.stdout)
	case "zsh":
		return clidoc.ZshCompletion(a.root, a.stdout)
	}
	return &usageError{fmt.Errorf("shell %q is not one of bash, zsh", shell)}
}
