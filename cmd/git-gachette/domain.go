package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

func (a *app) newDomainCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "domain",
		Short: "List the domains of the stacks repository",
		Long: `A domain is a group of stacks that cover the same set of projects
(backend, frontend, …); the default domain is --domain, gachette.domain,
else main.`,
		Example: `  git gachette domain list`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.newDomainListCmd())
	return cmd
}

type domainListOptions struct {
	json bool
}

func (a *app) newDomainListCmd() *cobra.Command {
	var o domainListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the domains that have stacks, with their number of stacks and newest",
		Long: `List the domains that have stacks, by name: each with its number of stacks
and its newest stack (the first of git gachette stack list -d DOMAIN); the
default domain is marked.`,
		Example: `  git gachette domain list
  git gachette domain list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDomainList(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the list as JSON")
	return cmd
}

// domainJSON is one domain of domain list --json.
type domainJSON struct {
	Default bool   `json:"default"`
	Domain  string `json:"domain"`
	Newest  string `json:"newest"`
	Stacks  int    `json:"stacks"`
}

func (a *app) runDomainList(o domainListOptions) error {
	def, err := a.domain()
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	ds, err := r.DomainList()
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		a.info("no domains: %s", stackrepo.DomainsHint(ds))
	}
	if o.json {
		out := make([]domainJSON, len(ds))
		for i, d := range ds {
			out[i] = domainJSON{Domain: d.Name, Stacks: d.Stacks, Newest: d.Newest.String(), Default: d.Name == def}
		}
		return a.printJSON(out)
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	for _, d := range ds {
		mark := ""
		if d.Name == def {
			mark = "\t(default)"
		}
		fmt.Fprintf(w, "%s\t%s\tnewest %s%s\n", d.Name, count(d.Stacks, "stack"), d.Newest.Name, mark)
	}
	return w.Flush()
}
