package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Flags that several commands take, registered and resolved once.

// packagesFormat is --format and --json of the commands that print a set
// of packages: stack show and channel show.
type packagesFormat struct {
	format string
	json   bool
}

func (f *packagesFormat) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.format, "format", "f", "table", "output format: table, json, control, apt, apt-pin, ansible or puppet")
	cmd.Flags().BoolVar(&f.json, "json", false, "same as --format json")
}

// resolve makes --json --format json (beside another --format: a usage
// error), and refuses a format that is not one of packageFormats.
func (f *packagesFormat) resolve(cmd *cobra.Command) error {
	if f.json {
		if cmd.Flags().Changed("format") && f.format != "json" {
			return &usageError{fmt.Errorf("--json and --format %s ask for two formats; give one", f.format)}
		}
		f.format = "json"
	}
	if !slices.Contains(packageFormats, f.format) {
		return &usageError{fmt.Errorf("--format %q is not one of %s", f.format, strings.Join(packageFormats, ", "))}
	}
	return nil
}

// maxCount resolves -n/--max-count into n: all (-1) when it is not given,
// a usage error when it is negative (0 prints nothing, as git log -n 0).
func maxCount(cmd *cobra.Command, n *int) error {
	if !cmd.Flags().Changed("max-count") {
		*n = -1
		return nil
	}
	if *n < 0 {
		return &usageError{fmt.Errorf("--max-count %d is negative", *n)}
	}
	return nil
}
