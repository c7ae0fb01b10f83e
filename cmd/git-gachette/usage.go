package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// Usage errors: wrong arguments and flags exit 2 with a hint, recognised
// by type (usageError), never by cobra's wording.

// emptyFlags refuses an empty --stacks, --remote, --domain, --host,
// --arch, --from or --bump (--stacks "$UNSET" in a script): an empty
// value is no repository, remote, domain, host, architecture or stack,
// and quietly taking the default instead could write to or publish from
// the wrong place (or record a package without its architecture, or make
// an empty stack where a copy was asked for).
func emptyFlags(cmd *cobra.Command) error {
	for _, name := range []string{"stacks", "remote", "domain", "host", "arch", "from", "bump"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
			switch name {
			case "from":
				return &usageError{errors.New("--from is empty: give the stack to start from, or leave the flag out to start empty")}
			case "bump":
				return &usageError{errors.New("--bump is empty: give major, minor or patch")}
			}
			return &usageError{fmt.Errorf("--%s is empty: give it a value, or leave the flag out for the default", name)}
		}
	}
	return nil
}

// isUnknownCommand reports whether args name no command: cobra's Find
// refuses them, and Execute returns that refusal as it is (the one usage
// error cobra gives no hook for; flag errors go through the root's
// FlagErrorFunc, argument counts through usageArgs, flag groups through
// the root's PersistentPreRunE).
func isUnknownCommand(root *cobra.Command, args []string) bool {
	_, _, err := root.Find(args)
	return err != nil
}

// usageArgs makes the argument validator of cmd and of every command below
// it return a usageError, so that cobra's own (cobra.NoArgs, MaximumNArgs
// …) exit 2 with a hint, like ours.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				var ue *usageError
				if errors.As(err, &ue) {
					return err
				}
				return &usageError{argCountError(c, args)}
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		usageArgs(c)
	}
}

// findCommand is the command args name, else root.
func findCommand(root *cobra.Command, args []string) *cobra.Command {
	c, _, err := root.Find(args)
	if err != nil || c == nil || c.Name() == "help" {
		return root
	}
	return c
}

// exactArgs is cobra.ExactArgs with the names of the arguments in the
// message and a usage error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return &usageError{fmt.Errorf("%s takes %s, %s; got %d", userPath(cmd), count(len(names), "argument"), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// userPath is the command as the user types it: "git gachette stack add".
// (The root's display name is "git gachette".)
func userPath(cmd *cobra.Command) string {
	return cmd.CommandPath()
}

// minArgs takes the first name's argument, then any number more.
func minArgs(first, rest string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < 1 {
			return &usageError{fmt.Errorf("%s takes %s %s; got no argument", userPath(cmd), first, rest)}
		}
		return nil
	}
}
