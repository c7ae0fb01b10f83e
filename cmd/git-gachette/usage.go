package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Usage errors: wrong arguments and flags exit 2 with a hint, recognised
// by type (usageError), never by cobra's wording.

// emptyFlags refuses an empty --stacks, --remote, --domain, --host or
// --arch (--stacks "$UNSET" in a script): an empty value is no repository,
// remote, domain, host or architecture, and quietly taking the default
// instead could write to or publish from the wrong place (or record a
// package without its architecture).
func emptyFlags(cmd *cobra.Command) error {
	for _, name := range []string{"stacks", "remote", "domain", "host", "arch"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
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

// unknownCommand says, in our words, what in args names no command: an
// unknown flag before the command (cobra takes the word after it as its
// value, and then blames the next one), else the first word that is no
// command of the one before it, with cobra's suggestions.
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") {
		if err := root.ParseFlags(args); err != nil {
			return flagError(err)
		}
	}
	c := root
	for _, arg := range args {
		if strings.HasPrefix(arg, "-") {
			continue
		}
		next := c
		for _, sub := range c.Commands() {
			if sub.Name() == arg || sub.HasAlias(arg) {
				next = sub
				break
			}
		}
		if next == c {
			err := argCountError(c, []string{arg})
			if s := c.SuggestionsFor(arg); len(s) > 0 {
				err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
			}
			return &usageError{err}
		}
		c = next
	}
	return &usageError{fmt.Errorf("%s: no such command", strings.Join(args, " "))}
}

// helpCommand is help [COMMAND...]: the help of the command named, or a
// usage error naming what is no command.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND...]",
		Short: "Help about any command",
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			c, _, err := root.Find(args)
			if err != nil || c == nil || len(args) > 0 && c == root {
				return unknownCommand(root, args)
			}
			return c.Help()
		},
	}
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

// flagError says in our words what pflag refused (its errors are typed;
// their own text names Go functions: strconv.ParseInt: parsing "abc").
func flagError(err error) error {
	var (
		invalid  *pflag.InvalidValueError
		required *pflag.ValueRequiredError
		unknown  *pflag.NotExistError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		what := "is not a valid value"
		switch f.Value.Type() {
		case "int", "int64", "uint", "uint64", "int32":
			what = "is not a whole number"
			if errors.Is(err, strconv.ErrRange) {
				what = "is too large"
			}
		case "bool":
			what = "is not true or false"
		case "duration":
			what = "is not a duration such as 45m or 2h"
		}
		return &usageError{fmt.Errorf("%s %q %s", flagName(f), invalid.GetValue(), what)}
	case errors.As(err, &required):
		return &usageError{fmt.Errorf("%s needs a value", flagName(required.GetFlag()))}
	case errors.As(err, &unknown):
		if s := unknown.GetSpecifiedShortnames(); s != "" {
			return &usageError{fmt.Errorf("unknown flag in -%s", s)}
		}
		return &usageError{fmt.Errorf("unknown flag --%s", unknown.GetSpecifiedName())}
	case errors.As(err, &syntax):
		return &usageError{fmt.Errorf("%q is not a flag (flags are -x or --name)", syntax.GetSpecifiedFlag())}
	}
	return &usageError{err}
}

// flagName is "--name", or "-n/--name" for a flag with a shorthand.
func flagName(f *pflag.Flag) string {
	if f == nil {
		return "a flag"
	}
	if f.Shorthand != "" {
		return "-" + f.Shorthand + "/--" + f.Name
	}
	return "--" + f.Name
}

// argCountError says, in our words, that cmd was given the wrong number
// of arguments (cobra's validators say it in theirs).
func argCountError(cmd *cobra.Command, args []string) error {
	if cmd.HasAvailableSubCommands() && len(args) > 0 {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return fmt.Errorf("%s has no command %q; its commands: %s", userPath(cmd), args[0], strings.Join(names, ", "))
	}
	want := strings.TrimSpace(strings.TrimPrefix(cmd.Use, cmd.Name()))
	if want == "" {
		return fmt.Errorf("%s takes no arguments; got %s", userPath(cmd), count(len(args), "argument"))
	}
	return fmt.Errorf("%s takes %s; got %s", userPath(cmd), want, count(len(args), "argument"))
}
