package main

import (
	"bufio"
	"fmt"

	"github.com/spf13/cobra"
)

type listOptions struct {
	json bool
}

func (a *app) newStackListCmd() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the stacks of a domain, newest first",
		Long: `List the stacks of the domain (--domain), newest first: names that are
semantic versions by precedence (1.10.0 after 1.9.0), then the others by date.`,
		Example: `  git gachette stack list
  git gachette stack list --domain frontend --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runStackList(o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print the list as JSON, with dates")
	return cmd
}

// listItemJSON is one stack of stack list --json.
type listItemJSON struct {
	Stack  string `json:"stack"`
	Domain string `json:"domain"`
	Name   string `json:"name"`
	Tag    string `json:"tag"`
	Date   string `json:"date,omitempty"`
}

func (a *app) runStackList(o listOptions) error {
	domain, err := a.domain()
	if err != nil {
		return err
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	list, err := r.List(domain, o.json)
	if err != nil {
		return err
	}
	if o.json {
		out := make([]listItemJSON, len(list))
		for i, s := range list {
			out[i] = listItemJSON{Stack: s.ID.String(), Domain: s.ID.Domain, Name: s.ID.Name, Tag: s.Tag.String()}
			if !s.Date.IsZero() {
				out[i].Date = s.Date.Format("2006-01-02T15:04:05Z07:00")
			}
		}
		return a.printJSON(out)
	}
	w := bufio.NewWriter(a.stdout)
	for _, s := range list {
		fmt.Fprintln(w, s.ID.Name)
	}
	return w.Flush()
}
