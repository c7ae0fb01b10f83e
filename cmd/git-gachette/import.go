package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/metapath"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

type importOptions struct {
	metaPath string
	// domain is the tree's domain to import; "" for all of them.
	domain string
	json   bool
}

func (a *app) newImportCmd() *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import META_PATH",
		Short: "Bring the stacks of an original gachette meta_path tree over",
		Long: `Read the tree the original gachette kept its stacks in (the meta_path given
to stack_create):

  domain/<domain>/stacks/<stack>/packages/<package>/version   the version
  packages/<package>/version/<version>/file                   the .deb's file name

(domains/ is read too, as mise-a-feu names it), and make each stack that is
not here yet a stack of this repository: one commit holding its packages
(Package, Version, Filename), all stacks in one ref transaction. Every
domain of the tree is imported, or only the one --domain names. A symlink
from one stack to another (latest -> 124) is skipped.

The whole tree is checked first: every bad domain, stack or package name,
bad or missing version, missing file name, and symlink is named, and then
nothing is imported. Importing again changes nothing: stacks already here
with the same packages are left alone; one here with other packages is not
overwritten, but named, and the command exits 1.`,
		Example: `  git gachette import /var/gachette
  git gachette import /var/gachette --domain backend --json`,
		Args: exactArgs("META_PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.metaPath = args[0]
			if cmd.Flags().Changed("domain") {
				d, err := a.domain()
				if err != nil {
					return err
				}
				o.domain = d
			}
			return a.runImport(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// importJSON is import --json.
type importJSON struct {
	Aliases   []aliasJSON      `json:"aliases"`
	Attempts  int              `json:"attempts"`
	Branches  []branchMoveJSON `json:"branches"`
	Created   []importedJSON   `json:"created"`
	Different []differentJSON  `json:"different"`
	Error     string           `json:"error,omitempty"`
	Identical []string         `json:"identical"`
	MetaPath  string           `json:"meta_path"`
}

// importedJSON is a stack import made.
type importedJSON struct {
	Commit   string `json:"commit"`
	Packages int    `json:"packages"`
	Stack    string `json:"stack"`
	Tag      string `json:"tag"`
}

// differentJSON is a stack here with other packages than the tree's.
type differentJSON struct {
	Differences []string `json:"differences"`
	Stack       string   `json:"stack"`
}

// aliasJSON is a symlink to a stack that import skipped.
type aliasJSON struct {
	Path   string `json:"path"`
	Target string `json:"target"`
}

func (a *app) runImport(o importOptions) error {
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := metapath.Import(r, metapath.ImportRequest{MetaPath: o.metaPath, Domain: o.domain}, ident)
	var diff *metapath.DifferentError
	if err != nil && !errors.As(err, &diff) {
		return err
	}
	if o.json {
		out := importJSON{Aliases: []aliasJSON{}, Attempts: res.Attempts, Branches: []branchMoveJSON{}, Created: []importedJSON{},
			Different: []differentJSON{}, Identical: []string{}, MetaPath: o.metaPath}
		for _, c := range res.Created {
			out.Created = append(out.Created, importedJSON{Commit: c.Commit.String(), Packages: len(c.Packages), Stack: c.ID.String(), Tag: c.Tag.String()})
		}
		for _, b := range res.Branches {
			out.Branches = append(out.Branches, branchMove(b))
		}
		for _, id := range res.Identical {
			out.Identical = append(out.Identical, id.String())
		}
		for _, d := range res.Different {
			out.Different = append(out.Different, differentJSON{Differences: d.Lines, Stack: d.ID.String()})
		}
		for _, al := range res.Aliases {
			out.Aliases = append(out.Aliases, aliasJSON{Path: al.Path, Target: al.Target})
		}
		if err != nil {
			out.Error = err.Error()
		}
		if jerr := a.printJSON(out); jerr != nil {
			return jerr
		}
		return err
	}
	for _, c := range res.Created {
		a.info("%s [%s]", c.Subject, c.Commit.String()[:12])
	}
	for _, b := range res.Branches {
		a.branchMoved(b)
	}
	for _, al := range res.Aliases {
		a.info("skipped %s: a symlink to stack %s", termtext.Escape(al.Path), termtext.Escape(al.Target))
	}
	if n := len(res.Identical); n > 0 {
		a.info("%s already here, identical: %s", count(n, "stack"), shortList(res.Identical))
	}
	a.info("imported %s from %s", count(len(res.Created), "stack"), termtext.Escape(o.metaPath))
	return err
}
