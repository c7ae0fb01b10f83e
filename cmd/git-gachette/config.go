package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

func (a *app) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the effective settings, or write a commented template",
		Long: `Settings live in git config under [gachette] (git config --global gachette.domain
backend), with one [gachette "project.NAME"] subsection per project. They
are read with git config, in the stacks repository, so every git rule
holds (includes, includeIf, worktree config, git -c, GIT_CONFIG_*).
Precedence: flags > GACHETTE_* environment > git config > defaults.`,
		Example: `  git gachette config show
  git gachette config init
  git config --global gachette.stacks ~/stacks.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	var asJSON bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Print every effective setting and where it came from",
		Example: `  git gachette config show
  git gachette --domain backend config show --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runConfigShow(asJSON) },
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	var file string
	var local bool
	initCmd := &cobra.Command{
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
	initCmd.Flags().StringVar(&file, "file", "", "config file to write")
	initCmd.Flags().BoolVar(&local, "local", false, "write the config of the repository you stand in")
	initCmd.MarkFlagsMutuallyExclusive("file", "local")
	cmd.AddCommand(show, initCmd)
	return cmd
}

func (a *app) runConfigShow(asJSON bool) error {
	if err := a.load(); err != nil {
		return err
	}
	if a.stacksNamed.Value != "" && a.stacksErr != nil {
		return a.stacksErr // the settings would be those of another repository
	}
	vals := a.settings.all()
	for i := range vals {
		vals[i].Value = remote.RedactPassword(vals[i].Value)
	}
	if asJSON {
		return a.printJSON(vals)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, v := range vals {
		shown := v.Value
		if shown == "" {
			shown = `""`
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", v.Key, shown, v.Origin)
	}
	return w.Flush()
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
		file = globalConfigFile(a.env)
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

// globalConfigFile is the file git config --global writes, by git's
// documented rule (git-config(1), FILES): GIT_CONFIG_GLOBAL; else
// ~/.gitconfig, unless only $XDG_CONFIG_HOME/git/config exists. git has
// no command that prints it without creating it (git config --global
// --edit would), so the rule is followed here.
func globalConfigFile(env func(string) string) string {
	if g := env("GIT_CONFIG_GLOBAL"); g != "" {
		return g
	}
	home := env("HOME")
	gitconfig := filepath.Join(home, ".gitconfig")
	if _, err := os.Stat(gitconfig); err == nil {
		return gitconfig
	}
	xdg := env("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	if _, err := os.Stat(filepath.Join(xdg, "git", "config")); err == nil {
		return filepath.Join(xdg, "git", "config")
	}
	return gitconfig
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
