package main

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// The values "git gachette <TAB>" offers (see complete.go). A repository
// or configuration that cannot be read offers nothing: completion is no
// place for its error, which the command itself reports.

func words(values ...string) completer {
	return func(*app, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

func files(*app, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveDefault
}

func dirs(*app, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// stacks offers the stacks of the default domain, and "DOMAIN/" for each
// domain; once a domain is typed (backend/1.<TAB>), that domain's stacks.
// A domain alone takes no space after it, so that its stacks follow.
func stacks(a *app, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	r, err := a.openStacks()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer r.Close()
	var out []string
	if d, _, ok := strings.Cut(toComplete, "/"); ok {
		list, _ := r.List(d, false)
		for _, s := range list {
			out = append(out, s.ID.String())
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	if d, err := a.domain(); err == nil {
		list, _ := r.List(d, false)
		for _, s := range list {
			if strings.HasPrefix(s.ID.Name, toComplete) {
				out = append(out, s.ID.Name)
			}
		}
	}
	ds, _ := r.Domains()
	onlyDomains := len(out) == 0
	for _, d := range ds {
		if strings.HasPrefix(d+"/", toComplete) {
			out = append(out, d+"/")
		}
	}
	if onlyDomains {
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// packages offers the packages of the stack given as the first argument.
func packages(a *app, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if id, err := a.stackID(args[0]); err == nil {
		if r, err := a.openStacks(); err == nil {
			defer r.Close()
			_, pkgs, _ := r.Show(id, nil)
			for _, p := range pkgs {
				out = append(out, p.Name)
			}
		}
	}
	return slices.DeleteFunc(out, func(n string) bool { return slices.Contains(args[1:], n) }), cobra.ShellCompDirectiveNoFileComp
}

func domains(a *app, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if r, err := a.openStacks(); err == nil {
		defer r.Close()
		out, _ = r.Domains()
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// remotes offers the remotes of the stacks repository.
func remotes(a *app, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	if a.load() != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.cfg.Subsections("remote", ""), cobra.ShellCompDirectiveNoFileComp
}

// hosts offers local and the configured build host.
func hosts(a *app, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	out := []string{"local"}
	if a.load() == nil && !slices.Contains(out, a.settings.Host.Value) {
		out = append(out, a.settings.Host.Value)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// projects offers the configured projects.
func projects(a *app, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if a.load() == nil {
		for _, p := range a.settings.Projects {
			out = append(out, p.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// commands offers the commands below those named in args (help stack <TAB>).
func commands(a *app, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if c, rest, err := a.root.Find(args); err == nil && len(rest) == 0 {
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				out = append(out, s.Name())
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// channels offers the channels (envs) of the default domain, and the
// envs the configuration names (gates).
func channels(a *app, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
	var out []string
	if d, err := a.domain(); err == nil {
		if r, err := a.openStacks(); err == nil {
			defer r.Close()
			chans, _ := r.Channels(d)
			for _, c := range chans {
				out = append(out, c.Env)
			}
		}
		for _, c := range a.settings.Channels {
			out = append(out, c.Env)
			if c.Requires.Value != "" {
				out = append(out, c.Requires.Value)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), cobra.ShellCompDirectiveNoFileComp
}
