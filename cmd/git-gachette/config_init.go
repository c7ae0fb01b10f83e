package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

type configInitOptions struct {
	file  string
	local bool
}

func (a *app) newConfigInitCmd() *cobra.Command {
	var o configInitOptions
	cmd := &cobra.Command{
		Use:   "init [--file F | --local]",
		Short: "Write a commented [gachette] template into your git config",
		Long: `Append a commented [gachette] section to your global git config (or --file F,
or --local: the config of the repository you stand in). Nothing is
overwritten: a file that already has gachette settings is left as it is.`,
		Example: `  git gachette config init
  git gachette config init --local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runConfigInit(o) },
	}
	cmd.Flags().StringVar(&o.file, "file", "", "config file to write")
	cmd.Flags().BoolVar(&o.local, "local", false, "write the config of the repository you stand in")
	cmd.MarkFlagsMutuallyExclusive("file", "local")
	return cmd
}

func (a *app) runConfigInit(o configInitOptions) error {
	if err := a.load(); err != nil {
		return err
	}
	ctx := context.Background()
	switch {
	case o.local:
		here := (*gitexec.Repository)(nil)
		if a.here != nil {
			here = a.here.Repo
		} else if repo, err := (&gitexec.Git{}).Repository(ctx); err == nil {
			here = repo
		}
		if here == nil {
			return fmt.Errorf("--local: you are not inside a git repository")
		}
		o.file = filepath.Join(here.CommonDir, "config")
	case o.file == "":
		o.file = gitexec.GlobalConfigFile(a.env)
	}
	file, err := (&gitexec.Git{}).AppendConfigSection(ctx, o.file, "gachette", configTemplate())
	var ge *gitexec.Error
	if errors.As(err, &ge) {
		return configError(err)
	}
	if err != nil {
		return err
	}
	a.info("wrote a commented [gachette] section to %s; edit it with: git config --file %s --edit", file, file)
	return nil
}

// templateFirstLine starts the template: a file that has it has the
// template (its settings are comments, which git config does not list).
const templateFirstLine = "# git-gachette settings; git gachette config show prints the effective ones.\n"

func configTemplate() string {
	var b strings.Builder
	b.WriteString(templateFirstLine + "[gachette]\n")
	for _, s := range knownSettings {
		def := s.def
		if def == "" {
			def = "..."
		}
		fmt.Fprintf(&b, "\t# %s = %s\t; %s\n", s.key, def, s.help)
	}
	b.WriteString("# One subsection per project, for git gachette quick:\n" +
		"# [gachette \"project.test_config\"]\n" +
		"#\turl = git@github.com:ops-hero/test_config.git\n" +
		"#\tmissile = .missile.yml\n" +
		"#\tref = origin/master\n" +
		"# A gate: promote to prod only a stack the domain's staging channel ran:\n" +
		"# [gachette \"channel.prod\"]\n" +
		"#\trequires = staging\n")
	return b.String()
}
