package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

func (a *app) newConfigInitCmd() *cobra.Command {
	var file string
	var local bool
	cmd := &cobra.Command{
		Use:   "init [--file F | --local]",
		Short: "Write a commented [gachette] template into your git config",
		Long: `Append a commented [gachette] section to your global git config (or --file F,
or --local: the config of the repository you stand in). Nothing is
overwritten: a file that already has gachette settings is left as it is.`,
		Example: `  git gachette config init
  git gachette config init --local`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runConfigInit(file, local) },
	}
	cmd.Flags().StringVar(&file, "file", "", "config file to write")
	cmd.Flags().BoolVar(&local, "local", false, "write the config of the repository you stand in")
	cmd.MarkFlagsMutuallyExclusive("file", "local")
	return cmd
}

func (a *app) runConfigInit(file string, local bool) error {
	if err := a.load(); err != nil {
		return err
	}
	ctx := context.Background()
	switch {
	case local:
		here := (*gitexec.Repository)(nil)
		if a.here != nil {
			here = a.here.Repo
		} else if repo, err := (&gitexec.Git{}).Repository(ctx); err == nil {
			here = repo
		}
		if here == nil {
			return fmt.Errorf("--local: you are not inside a git repository")
		}
		file = filepath.Join(here.CommonDir, "config")
	case file == "":
		file = gitexec.GlobalConfigFile(a.env)
	}
	// git writes a config file that is a symbolic link (dotfiles) through
	// the link, at its target: so does this
	if target, err := filepath.EvalSymlinks(file); err == nil {
		file = target
	}
	if _, err := os.Stat(file); err == nil {
		out, err := (&gitexec.Git{}).Output(ctx, nil, "config", "--file", file, "--includes", "--list", "-z", "--show-origin", "--show-scope")
		if err != nil {
			return configError(err)
		}
		existing, err := gitexec.ParseConfig(out, filepath.Dir(file))
		if err != nil {
			return err
		}
		for _, e := range existing.Entries {
			if strings.HasPrefix(e.Key, "gachette.") {
				return fmt.Errorf("%s already has gachette settings (%s); nothing written. Edit them with: git config --file %s --edit", file, e.Key, file)
			}
		}
	}
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	content := string(old)
	if strings.Contains(content, templateFirstLine) {
		return fmt.Errorf("%s has the [gachette] template already; nothing written. Edit it with: git config --file %s --edit", file, file)
	}
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	content += configTemplate()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteLocked(file, []byte(content)); err != nil {
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
		"#\tref = origin/master\n")
	return b.String()
}
