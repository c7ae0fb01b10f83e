package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// What cobra and pflag refuse, said in our words: their own messages name
// Go functions (strconv.ParseInt: parsing "abc") and the binary
// (git-gachette), not the command the user typed.

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
			c, rest, err := root.Find(args)
			if err != nil || c == nil || len(args) > 0 && c == root || len(rest) > 0 {
				// help stack nosuch: "stack" has no command "nosuch"
				return unknownCommand(root, args)
			}
			return c.Help()
		},
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
