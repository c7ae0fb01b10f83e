package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/metapath"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

type exportOptions struct {
	dir    string
	stacks []string
	json   bool
}

func (a *app) newExportCmd() *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export --meta-path DIR [STACK...]",
		Short: "Write stacks as an original gachette meta_path tree, for deploy tools that read it",
		Long: `Write the STACKs (every stack of the domain when none is given) into DIR as
the original gachette laid its meta_path tree out:

  domain/<domain>/stacks/<stack>/packages/<package>/version   the version
  packages/<package>/version/<version>/file                   the .deb's file name
  domains -> domain                                           mise-a-feu's name

DIR is made if missing; stacks it has that are not exported are left alone.
Everything is checked before anything is written: a file name that another
.deb already has in DIR for the same package version, or a part of the tree
that is not a directory, is named and nothing is written.

A reader never sees a half-written stack: the package files are written
first (each through a temporary file renamed into place), then each stack
into a temporary directory beside the others (.gachette-tmp-*), renamed into
place. A stack DIR has with other versions is swapped for the new one in one
step (renameat2 RENAME_EXCHANGE; where the system lacks it, the old one is
renamed aside first, and for that instant the stack is missing), then the
old copy is removed. When domains is a directory of its own rather than the
symlink, the stacks are written there too.`,
		Example: `  git gachette export --meta-path /var/gachette
  git gachette export --meta-path /var/gachette 124 125 --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stacks = args
			return a.runExport(o)
		},
	}
	cmd.Flags().StringVar(&o.dir, "meta-path", "", "the meta_path directory to write (required)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// exportJSON is export --json.
type exportJSON struct {
	Domains   string   `json:"domains"`
	Files     int      `json:"files"`
	MetaPath  string   `json:"meta_path"`
	Replaced  []string `json:"replaced"`
	Unchanged []string `json:"unchanged"`
	Written   []string `json:"written"`
}

func (a *app) runExport(o exportOptions) error {
	if o.dir == "" {
		return &usageError{errors.New("export needs the directory to write: --meta-path DIR")}
	}
	d, err := a.domain()
	if err != nil {
		return err
	}
	req := metapath.ExportRequest{Dir: o.dir, Domain: d}
	for _, s := range o.stacks {
		id, err := stackrepo.ParseStackID(s, d)
		if err != nil {
			return err
		}
		req.Stacks = append(req.Stacks, id)
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := metapath.Export(r, req)
	if err != nil {
		return err
	}
	if o.json {
		return a.printJSON(exportJSON{Domains: res.Domains, Files: res.Files, MetaPath: o.dir,
			Replaced: stackNames(res.Replaced), Unchanged: stackNames(res.Unchanged), Written: stackNames(res.Written)})
	}
	a.info("exported %s to %s: %d new, %d replaced, %d unchanged; %s written; domains is a %s",
		count(len(res.Written)+len(res.Replaced)+len(res.Unchanged), "stack"), termtext.Escape(o.dir),
		len(res.Written), len(res.Replaced), len(res.Unchanged), count(res.Files, "package file"), res.Domains)
	return nil
}

// stackNames is the stacks' domain/name, never nil (JSON lists are [] when empty).
func stackNames(ids []stackrepo.StackID) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, id.String())
	}
	return out
}
