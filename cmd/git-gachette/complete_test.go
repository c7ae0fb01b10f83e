package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCompletionTables: every command and flag the completion tables
// name exists (a renamed command would silently lose its completion),
// and no positional table is longer than the command takes.
func TestCompletionTables(t *testing.T) {
	a := &app{env: func(string) string { return "" }}
	root := a.newRootCmd()
	find := func(path string) *cobra.Command {
		c, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) > 0 || c == root {
			t.Errorf("completion table: no command %q", path)
			return nil
		}
		return c
	}
	for path := range argCompletions {
		if c := find(path); c != nil && c.ValidArgsFunction == nil {
			t.Errorf("%s: no ValidArgsFunction", path)
		}
	}
	for path, flags := range flagCompletions {
		for name := range flags {
			if path == "" {
				if !anyFlag(root, name) {
					t.Errorf("completion table: no command has --%s", name)
				}
				continue
			}
			if c := find(path); c != nil && c.Flags().Lookup(name) == nil {
				t.Errorf("completion table: %s has no --%s", path, name)
			}
		}
	}
}

func anyFlag(c *cobra.Command, name string) bool {
	if c.LocalFlags().Lookup(name) != nil {
		return true
	}
	for _, s := range c.Commands() {
		if anyFlag(s, name) {
			return true
		}
	}
	return false
}
