package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// What "git gachette <TAB>" completes (see git gachette completion): the
// values of each command's arguments and flags, read from the stacks
// repository and the configuration as the command itself reads them
// (--stacks, --domain and the other flags already parsed).

// completer offers the values of one argument or flag, given the
// arguments before it and what is typed of it.
type completer func(a *app, args []string, toComplete string) ([]string, cobra.ShellCompDirective)

// positional is a command's arguments, in order; the last one repeats
// when more is set (stack show STACK PACKAGE...). A nil completer offers
// nothing.
type positional struct {
	args []completer
	more bool
}

// argCompletions: the commands whose arguments have values to offer;
// every other command's arguments offer none.
var argCompletions = map[string]positional{
	"init":         {args: []completer{dirs}},
	"stack add":    {args: []completer{stacks, files}, more: true},
	"stack delete": {args: []completer{stacks}, more: true},
	"stack rename": {args: []completer{stacks, nil}},
	"stack remove": {args: []completer{stacks, packages}, more: true},
	"stack show":   {args: []completer{stacks, packages}, more: true},
	"stack log":    {args: []completer{stacks}},
	"stack diff":   {args: []completer{stacks, stacks}},
	"push":         {args: []completer{stacks}, more: true},
	"import":       {args: []completer{dirs}},
	"export":       {args: []completer{stacks}, more: true},
	"promote":      {args: []completer{stacks, channels}},
	"rollback":     {args: []completer{channels}},
	"channel show": {args: []completer{channels}},
	"channel log":  {args: []completer{channels}},
	"quick":        {args: []completer{projects}, more: true},
	"help":         {args: []completer{commands}, more: true},
}

// flagCompletions: flags by command ("" for every command that has the
// flag) and what they complete.
var flagCompletions = map[string]map[string]completer{
	"": {
		"stacks": dirs,
		"domain": domains,
		"remote": remotes,
		"host":   hosts,
		"from":   stacks,
		"stack":  stacks,
	},
	"stack show":   {"format": words(packageFormats...)},
	"stack create": {"bump": words("major", "minor", "patch")},
	"export":       {"meta-path": dirs},
	"channel show": {"format": words(packageFormats...)},
	"rollback":     {"to": stacks},
}

// addCompletions gives every command under root what it completes.
func (a *app) addCompletions(root *cobra.Command) {
	root.InitDefaultHelpCmd() // help is in the tree from here on
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var names []string // below root: "stack show"
		for p := c; p.HasParent(); p = p.Parent() {
			names = append([]string{p.Name()}, names...)
		}
		path := strings.Join(names, " ")
		if p, ok := argCompletions[path]; ok {
			c.ValidArgsFunction = a.complete(func(args []string) completer {
				switch {
				case len(args) < len(p.args):
					return p.args[len(args)]
				case p.more:
					return p.args[len(p.args)-1]
				}
				return nil
			})
		} else if c.ValidArgsFunction == nil && len(c.ValidArgs) == 0 {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			comp, ok := flagCompletions[path][f.Name]
			if !ok {
				comp, ok = flagCompletions[""][f.Name]
			}
			if ok {
				c.RegisterFlagCompletionFunc(f.Name, a.complete(func([]string) completer { return comp }))
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// complete is a cobra completion function offering what pick says for the
// arguments given so far.
func (a *app) complete(pick func(args []string) completer) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c := pick(args); c != nil {
			return c(a, args, toComplete)
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}
