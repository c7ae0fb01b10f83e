package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

func (a *app) newStackShowCmd() *cobra.Command {
	var format string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show STACK [PACKAGE...] [--format table|json|control|apt]",
		Short: "Print the packages of a stack",
		Long: `Print the packages of STACK, or only the PACKAGEs named.

  table    a table for people (default)
  json     the stack and every field of every package
  control  the stanzas, one per package, separated by blank lines (a Packages-style file)
  apt      name=version pairs, one per line, ready for apt-get install`,
		Example: `  git gachette stack show 124
  apt-get install $(git gachette stack show backend/124 --format apt)
  git gachette stack show 124 --format control > Packages
  git gachette stack show 124 dh-app-config --format control`,
		Args: minArgs("STACK", "[PACKAGE...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				format = "json"
			}
			return a.runStackShow(args[0], args[1:], format)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table, json, control or apt")
	cmd.Flags().BoolVar(&asJSON, "json", false, "same as --format json")
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

func (a *app) runStackShow(stack string, only []string, format string) error {
	switch format {
	case "table", "json", "control", "apt":
	default:
		return &usageError{fmt.Errorf("--format %q is not one of table, json, control, apt", format)}
	}
	id, err := a.stackID(stack)
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := r.Stack(id)
	if err != nil {
		return err
	}
	var pkgs []stackrepo.Package
	if len(only) == 0 {
		pkgs, err = r.Packages(s)
		if err != nil {
			return err
		}
	}
	for _, name := range only {
		p, ok, err := r.Package(s, name)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("stack %s has no package %q; see its packages with git gachette stack show %s", id, name, id)
		}
		pkgs = append(pkgs, p)
	}
	switch format {
	case "json":
		if pkgs == nil {
			pkgs = []stackrepo.Package{}
		}
		return a.printJSON(stackJSON{
			Stack: id.String(), Domain: id.Domain, Name: id.Name,
			Commit: s.Commit.String(), Tag: s.Tag.String(), Date: s.Date, Packages: pkgs,
		})
	case "control":
		for i, p := range pkgs {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			a.stdout.Write(p.Stanza())
		}
	case "apt":
		for _, p := range pkgs {
			fmt.Fprintf(a.stdout, "%s=%s\n", p.Name, p.Version)
		}
	default:
		if len(pkgs) == 0 {
			a.info("stack %s is empty", id)
			return nil
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
	return nil
}
