package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/export"
)

type showOptions struct {
	stack string
	only  []string
	packagesFormat
}

func (a *app) newStackShowCmd() *cobra.Command {
	var o showOptions
	cmd := &cobra.Command{
		Use:   "show STACK [PACKAGE...] [--format table|json|control|apt|apt-pin|ansible|puppet]",
		Short: "Print the packages of a stack",
		Long: `Print the packages of STACK, or only the PACKAGEs named.

  table    a table for people (default)
  json     the stack and every field of every package
  control  the stanzas, one per package, separated by blank lines (a Packages-style file)
  apt      name=version pairs, one per line, ready for apt-get install
  apt-pin  an apt_preferences(5) file pinning every version (Pin-Priority 1001: a rollback downgrades)
  ansible  YAML vars: gachette_stack, gachette_packages (name=version items for ansible.builtin.apt)
  puppet   package resources, each ensure => its exact version`,
		Example: `  git gachette stack show 124
  apt-get install $(git gachette stack show backend/124 --format apt)
  git gachette stack show 124 --format control > Packages
  git gachette stack show 124 dh-app-config --format control
  git gachette stack show backend/124 --format apt-pin > /etc/apt/preferences.d/gachette-backend.pref
  git gachette stack show backend/124 --format ansible > group_vars/all/gachette.yml
  git gachette stack show backend/124 --format puppet > manifests/gachette.pp`,
		Args: minArgs("STACK", "[PACKAGE...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stack, o.only = args[0], args[1:]
			if err := o.resolve(cmd); err != nil {
				return err
			}
			return a.runStackShow(o)
		},
	}
	o.register(cmd)
	return cmd
}

// stackJSON is stack show --json.
type stackJSON struct {
	Commit   string              `json:"commit"`
	Date     time.Time           `json:"date"`
	Domain   string              `json:"domain"`
	Name     string              `json:"name"`
	Packages []stackrepo.Package `json:"packages"`
	Stack    string              `json:"stack"`
	Tag      string              `json:"tag"`
}

func (a *app) runStackShow(o showOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	if r.RequireSigned, err = a.settings.RequireSigned.bool(); err != nil {
		return err
	}
	s, pkgs, err := r.Show(id, o.only)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		if pkgs == nil {
			pkgs = []stackrepo.Package{}
		}
		return a.printJSON(stackJSON{
			Stack: id.String(), Domain: id.Domain, Name: id.Name,
			Commit: s.Commit.String(), Tag: s.Tag.String(), Date: s.Date, Packages: pkgs,
		})
	case "table":
		if len(pkgs) == 0 {
			a.info("stack %s is empty", id)
			return nil
		}
	}
	return a.renderPackages(o.format, export.Origin{Stack: id, Commit: s.Commit.String()}, pkgs)
}

// packageFormats are the formats of stack show and channel show.
var packageFormats = append([]string{"table", "json"}, export.Formats...)

// renderPackages prints pkgs in format: the table for people, or one of
// the exports (stackrepo/export) of the stack or channel origin names.
// (json is each command's own.)
func (a *app) renderPackages(format string, origin export.Origin, pkgs []stackrepo.Package) error {
	if format != "table" {
		return export.Render(a.stdout, format, origin, pkgs)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tVERSION\tARCH\tFILENAME")
	for _, p := range pkgs {
		arch := p.Architecture
		if arch == "" {
			arch = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, p.Version, arch, p.Filename)
	}
	return w.Flush()
}
