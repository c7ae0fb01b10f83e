package main

import (
	"errors"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type fetchOptions struct {
	remote string
	json   bool
}

func (a *app) newFetchCmd() *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch [--remote R]",
		Short: "Bring the stacks of a remote here",
		Long: `Fetch every stack of remote R (default: gachette.remote, else origin) with
git fetch, which reaches it as it does for you (credential helpers,
~/.ssh/config, core.sshCommand, insteadOf, proxies, TLS). New stacks are
added here and published (sealed) at once; stacks that exist here
identically are kept; a stack that differs under the same name is reported
and left alone. Tags of the remote that are not stacks (lightweight tags,
tags of other objects, other names) are skipped and listed. Domain
branches are created or moved to the remote's when that is a fast-forward
or a newer stack; channels are fast-forwarded. A fetch that brings nothing
new writes nothing.`,
		Example: `  git gachette fetch
  git gachette fetch --remote /srv/stacks.git`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runFetch(o)
		},
	}
	cmd.Flags().StringVarP(&o.remote, "remote", "r", "", "remote name or URL (default: gachette.remote, else origin)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

// fetchJSON is what fetch --json prints:
//
//	{"remote": "origin", "new": ["main/3"], "known": ["main/1", "main/2"], "differ": [],
//	 "skipped": [{"tag": "main/0-hotfix", "reason": "a lightweight tag (...)"}],
//	 "branches": ["main"], "channels": [], "warnings": []}
//
// error is set when fetch fails (differ lists the stacks that make it fail).
type fetchJSON struct {
	Remote   string        `json:"remote"`
	New      []string      `json:"new"`
	Known    []string      `json:"known"`
	Differ   []string      `json:"differ"`
	Skipped  []skippedJSON `json:"skipped"`
	Branches []string      `json:"branches"`
	Channels []string      `json:"channels"`
	Warnings []string      `json:"warnings"`
	Error    string        `json:"error,omitempty"`
}

type skippedJSON struct {
	Tag    string `json:"tag"`
	Reason string `json:"reason"`
}

func (a *app) runFetch(o fetchOptions) error {
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	rm, origin, err := a.remote(o.remote)
	if err != nil {
		return err
	}
	ctx, stop := a.interruptible()
	defer stop()
	res, err := r.Fetch(ctx, rm, a.remoteOptions())
	err = a.remoteFailure(err, origin, r)
	if o.json {
		out := fetchJSON{Remote: rm.String(), New: []string{}, Known: []string{}, Differ: []string{}, Skipped: []skippedJSON{}, Branches: []string{}, Channels: []string{}, Warnings: []string{}}
		if res != nil {
			out.New, out.Known, out.Differ = idStrings(res.New), idStrings(res.Known), idStrings(res.Differ)
			out.Branches, out.Channels, out.Warnings = nonNilStrings(res.Branches), nonNilStrings(res.Channels), nonNilStrings(res.Warnings)
			for _, s := range res.Skipped {
				out.Skipped = append(out.Skipped, skippedJSON{Tag: s.Tag, Reason: s.Reason})
			}
		}
		if err != nil {
			out.Error = err.Error()
		}
		if jerr := a.printJSON(out); jerr != nil {
			return jerr
		}
		return err
	}
	var conflict *stackrepo.ConflictError
	if res == nil || err != nil && !errors.As(err, &conflict) {
		return err
	}
	for i, id := range res.New {
		if i == maxNamed {
			a.info("… and %s more new stacks (git gachette stack list)", thousands(len(res.New)-maxNamed))
			break
		}
		a.info("new stack %s", id)
	}
	for _, d := range res.Branches {
		a.info("domain branch %s updated", d)
	}
	for _, c := range res.Channels {
		a.info("channel %s updated", c)
	}
	a.info("fetched from %s: %d new, %d already here", rm, len(res.New), len(res.Known))
	for _, s := range res.Skipped {
		a.warn("skipped tag %s of %s: %s; not created here", s.Tag, rm, s.Reason)
	}
	for _, w := range res.Warnings {
		a.warn("%s", w)
	}
	return err
}

// maxNamed is how many new stacks a fetch names one by one; the rest are
// counted (a first fetch can bring thousands).
const maxNamed = 20

// thousands writes n with a comma between groups of three digits (4,981).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
