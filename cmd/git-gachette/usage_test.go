package main

import (
	"bytes"
	"strings"
	"testing"
)

// Every way of calling a command wrongly, cobra's own refusals as well as
// ours, exits 2 with a hint naming the command's help.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hint string // the command whose --help the hint names
	}{
		{[]string{"nope"}, "git gachette"},
		{[]string{"stack", "list", "--nope"}, "git gachette stack list"},
		{[]string{"stack", "list", "-Z"}, "git gachette stack list"},
		{[]string{"stack", "list", "---x"}, "git gachette stack list"},
		{[]string{"stack", "log", "1.0.0", "--max-count"}, "git gachette stack log"},
		{[]string{"stack", "log", "1.0.0", "--max-count", "abc"}, "git gachette stack log"},
		{[]string{"stack", "nope"}, "git gachette stack"},
		{[]string{"stack", "list", "x", "y"}, "git gachette stack list"},
		{[]string{"stack", "add", "1.0.0"}, "git gachette stack add"},
		{[]string{"version", "extra"}, "git gachette version"},
		{[]string{"init", "a", "b"}, "git gachette init"},
		{[]string{"fetch", "a", "b"}, "git gachette fetch"},
		{[]string{"config", "init", "--file", "f", "--local"}, "git gachette config init"},
		{[]string{"help", "nope"}, "git gachette"},
		{[]string{"--bogus", "stack", "list"}, "git gachette"},
		{[]string{"stak", "list"}, "git gachette"},
		{[]string{"stack", "remove", "1"}, "git gachette stack remove"},
		{[]string{"stack", "show", "1", "--format", "apt", "--json"}, "git gachette stack show"},
		{[]string{"stack", "list", "--json=maybe"}, "git gachette stack list"},
		{[]string{"stack", "create", "a", "b"}, "git gachette stack create"},
		{[]string{"help", "stack", "nosuch"}, "git gachette"},
		{[]string{"stack", "create", "x", "--from", ""}, "git gachette stack create"},
		{[]string{"stack", "create", "--bump", ""}, "git gachette stack create"},
	} {
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr, env: func(string) string { return "" }}
		code := a.run(tc.args)
		want := "Run '" + tc.hint + " -h' for usage.\n"
		if code != exitUsage || !strings.HasSuffix(stderr.String(), want) || !strings.HasPrefix(stderr.String(), "git-gachette: ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), want)
		}
		// our words, never cobra's or Go's
		for _, theirs := range []string{"arg(s)", "strconv.", "for \"git-gachette", "Did you mean", "invalid argument", "flag needs", "git-gachette [command]", "Unknown help topic"} {
			if strings.Contains(stderr.String(), theirs) {
				t.Errorf("%q: stderr %q says %q", tc.args, stderr.String(), theirs)
			}
		}
	}
}
