package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitconfig"
)

func (a *app) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the effective settings, or write a commented template",
		Long: `Settings live in git config under [gachette] (git config --global gachette.domain
backend), with one [gachette "project.NAME"] subsection per project.
Precedence: flags > GACHETTE_* environment > repository config > global config > defaults.`,
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
	vals := a.settings.all()
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
	switch {
	case local:
		if a.cwdRepo == "" {
			return fmt.Errorf("--local: you are not inside a git repository")
		}
		dir, err := stackrepo.GitDir(a.cwdRepo)
		if err != nil {
			return err
		}
		file = filepath.Join(dir, "config")
	case file == "":
		file = gitconfig.GlobalFile(a.env)
	}
	existing, err := gitconfig.ReadFile(file, a.env)
	if err != nil {
		return err
	}
	for _, e := range existing.Entries {
		if strings.HasPrefix(e.Key, "gachette.") {
			return fmt.Errorf("%s already has gachette settings (%s); nothing written. Edit them with: git config --file %s --edit", file, e.Key, file)
		}
	}
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	content := string(old)
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	content += configTemplate()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := writeConfigFile(file, []byte(content)); err != nil {
		return err
	}
	a.info("wrote a commented [gachette] section to %s; edit it with: git config --file %s --edit", file, file)
	return nil
}

func configTemplate() string {
	var b strings.Builder
	b.WriteString("# git-gachette settings; git gachette config show prints the effective ones.\n[gachette]\n")
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

// writeConfigFile replaces a config file as git config does: through
// <file>.lock, created exclusively, then renamed into place.
func writeConfigFile(path string, data []byte) error {
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: another git config may be running; if not, remove it and try again", lock)
		}
		return err
	}
	if st, err := os.Stat(path); err == nil {
		f.Chmod(st.Mode().Perm())
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(lock)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(lock, path)
}
