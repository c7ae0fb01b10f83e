package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/cmd/git-gachette/clidoc"
	"github.com/ops-hero/git-gachette/stackrepo"
)

type installManOptions struct {
	dir string
}

func (a *app) newInstallManCmd() *cobra.Command {
	var o installManOptions
	cmd := &cobra.Command{
		Use:   "install-man [--dir DIR]",
		Short: `Install the manual pages, which "git gachette --help" shows`,
		Long: `Write the manual of git-gachette into DIR: git-gachette.1, the page that
"git gachette --help" and "man git-gachette" open, which describes every
command, and one page per command (git-gachette-stack-add.1 …).

The default DIR is share/man/man1 beside the directory git-gachette is in:
for ~/go/bin/git-gachette (go install), ~/go/share/man/man1, where man
looks because ~/go/bin is on your PATH. The Debian package of git-gachette
installs the pages itself.`,
		Example: `  git gachette install-man
  git gachette install-man --dir ~/.local/share/man/man1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("dir") && o.dir == "" {
				return &usageError{errors.New("--dir is empty: give it a value, or leave the flag out for the default")}
			}
			return a.runInstallMan(o)
		},
	}
	cmd.Flags().StringVar(&o.dir, "dir", "", "directory to write the pages into (default: share/man/man1 beside the binary's directory)")
	return cmd
}

func (a *app) runInstallMan(o installManOptions) error {
	header, err := a.manHeader()
	if err != nil {
		return err
	}
	if o.dir == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot tell where git-gachette is installed (%v): pass --dir DIR", err)
		}
		o.dir = clidoc.ManDirBeside(exe)
	}
	paths, err := clidoc.WriteManPages(o.dir, clidoc.ManPages(a.root, header))
	if err != nil {
		return err
	}
	a.info("installed %s in %s", count(len(paths), "manual page"), o.dir)
	// advice, not a failure: the pages are there for when man looks
	switch found, err := clidoc.ManFinds(a.root.Name(), paths[0]); {
	case err != nil:
		a.info("%v: the pages are there for when it is", err)
	case !found:
		top := filepath.Dir(o.dir)
		a.info("man does not look in %s; to make it: export MANPATH=%s", top, stackrepo.ShellWord(top+":"))
	default:
		a.info("man git-gachette and git gachette --help show it")
	}
	return nil
}

// manHeader is what the manual says of git-gachette beyond its commands.
// Its date is SOURCE_DATE_EPOCH's, when set (reproducible builds), else
// none.
func (a *app) manHeader() (clidoc.Header, error) {
	h := clidoc.Header{Command: "git gachette", Version: version}
	if v := a.env("SOURCE_DATE_EPOCH"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return h, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
		}
		h.Date = time.Unix(sec, 0)
	}
	conf := clidoc.Section{Title: "CONFIGURATION", Text: `Settings are read with git config in the stacks repository, under
[gachette]. Precedence: flags, then the GACHETTE_* environment variable,
then git config, then the default. "git gachette config show" prints
every effective setting and where it came from.`}
	for _, k := range knownSettings {
		text := k.help
		if k.def != "" {
			text += fmt.Sprintf(" (default %s)", k.def)
		}
		conf.Items = append(conf.Items, clidoc.Item{Term: "gachette." + k.key + ", " + envName(k.key), Text: text})
	}
	h.Extra = []clidoc.Section{
		conf,
		{Title: "EXIT STATUS", Text: `0 on success, 1 on failure, 2 on a usage error, 130 when interrupted.
"stack diff" follows diff(1): 0 equal, 1 different, 2 trouble.`},
		{Title: "SHELL COMPLETION", Text: `"git gachette completion bash" and "git gachette completion zsh" print the
completion scripts, which complete both "git gachette <TAB>", through git's
own completion, and "git-gachette <TAB>".`},
	}
	return h, nil
}
