package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type listOptions struct {
	allDomains bool
	oneDomain  bool
	json       bool
}

func (a *app) newStackListCmd() *cobra.Command {
	var o listOptions
	cmd := &cobra.Command{
		Use:     "list [--all-domains]",
		Aliases: []string{"ls"},
		Short:   "List the stacks of a domain, newest first, with their marks",
		Long: `List the stacks of the domain (--domain), or of every domain (--all-domains,
as domain/name, domains by name), newest first: names that are semantic
versions by precedence (1.10.0 after 1.9.0), then the others by date.

Each stack is followed by its marks:
  published    a remote has it (pushed or fetched, or reachable from a
               remote-tracking branch): it no longer changes
  not pushed   the repository has a remote, and no remote has it as last
               pushed or fetched: git gachette push sends it
  in ENV…      the channels that run it now
  was in ENV…  the channels that ran it before

With no stack in the domain, it says which domains have stacks.`,
		Example: `  git gachette stack list
  git gachette stack list --domain frontend --json
  git gachette stack list --all-domains`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.oneDomain = cmd.Flags().Changed("domain")
			return a.runStackList(o)
		},
	}
	cmd.Flags().BoolVar(&o.allDomains, "all-domains", false, "list the stacks of every domain")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the list as JSON, with dates")
	return cmd
}

// listItemJSON is one stack of stack list --json.
type listItemJSON struct {
	Stack        string   `json:"stack"`
	Domain       string   `json:"domain"`
	Name         string   `json:"name"`
	Tag          string   `json:"tag"`
	Date         string   `json:"date,omitempty"`
	Published    bool     `json:"published"`
	Unpushed     bool     `json:"unpushed"`
	Channels     []string `json:"channels"`
	PastChannels []string `json:"past_channels"`
}

func (a *app) runStackList(o listOptions) error {
	if o.allDomains && o.oneDomain {
		return &usageError{fmt.Errorf("--all-domains lists every domain: leave out --domain")}
	}
	req := stackrepo.ListRequest{AllDomains: o.allDomains, Dates: o.json}
	if !o.allDomains {
		d, err := a.domain()
		if err != nil {
			return err
		}
		req.Domain = d
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	l, err := r.ListStacks(req)
	if err != nil {
		return err
	}
	if len(l.Stacks) == 0 {
		if o.allDomains {
			a.info("%s", stackrepo.DomainsHint(l.Domains))
		} else {
			a.info("no stacks in domain %s; %s", req.Domain, stackrepo.DomainsHint(l.Domains))
		}
	}
	if o.json {
		out := make([]listItemJSON, len(l.Stacks))
		for i, s := range l.Stacks {
			m := l.Marks[i]
			out[i] = listItemJSON{Stack: s.ID.String(), Domain: s.ID.Domain, Name: s.ID.Name, Tag: s.Tag.String(),
				Published: m.Published != "", Unpushed: m.Unpushed, Channels: orEmpty(m.Channels), PastChannels: orEmpty(m.PastChannels)}
			if !s.Date.IsZero() {
				out[i].Date = s.Date.Format("2006-01-02T15:04:05Z07:00")
			}
		}
		return a.printJSON(out)
	}
	names := make([]string, len(l.Stacks))
	width := 0
	for i, s := range l.Stacks {
		names[i] = s.ID.Name
		if o.allDomains {
			names[i] = s.ID.String()
		}
		width = max(width, len(names[i]))
	}
	w := bufio.NewWriter(a.stdout)
	for i := range l.Stacks {
		if m := listMarks(l.Marks[i]); m != "" {
			fmt.Fprintf(w, "%-*s  %s\n", width, names[i], m)
		} else {
			fmt.Fprintln(w, names[i])
		}
	}
	return w.Flush()
}

// listMarks is a stack's marks in stack list: "published; in prod".
func listMarks(s stackrepo.StackMarks) string {
	var m []string
	if s.Published != "" {
		m = append(m, "published")
	}
	if s.Unpushed {
		m = append(m, "not pushed")
	}
	if len(s.Channels) > 0 {
		m = append(m, "in "+strings.Join(s.Channels, ", "))
	}
	if len(s.PastChannels) > 0 {
		m = append(m, "was in "+strings.Join(s.PastChannels, ", "))
	}
	return strings.Join(m, "; ")
}

// orEmpty is a list for JSON: [] rather than null.
func orEmpty(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
