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
	} {
		var stdout, stderr bytes.Buffer
		a := &app{stdout: &stdout, stderr: &stderr, env: func(string) string { return "" }}
		code := a.run(tc.args)
		want := "Run '" + tc.hint + " --help' for usage.\n"
		if code != exitUsage || !strings.HasSuffix(stderr.String(), want) || !strings.HasPrefix(stderr.String(), "git-gachette: ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr.String(), want)
		}
	}
}
