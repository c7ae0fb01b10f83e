package main

import (
	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type pushOptions struct {
	stacks []string
	remote string
	json   bool
	sign   bool
}

func (a *app) newPushCmd() *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   "push [STACK...] [--remote R]",
		Short: "Publish stacks (tags), their domain branches and channels to a remote",
		Long: `Push stacks and the branches of their domains to remote R, with git push:
a remote of the stacks repository (default: gachette.remote, else origin)
or any URL or path git takes. git reaches it as it does for you: credential
helpers, ~/.ssh/config, core.sshCommand, url.<base>.insteadOf,
remote.<name>.pushurl, proxies and TLS settings. Without STACK, every stack
of the domain is pushed.

Each stack goes as the exact tag object read when the push starts, and is
never overwritten: a stack the remote has under the same name with other
contents is refused. Where the remote supports it the push is atomic (all
or nothing); otherwise each ref lands or not on its own, and push says so.
The domain branch moves on the remote to the newest stack it has, with a
lease on where it was; the domain's channels go along, fast-forward only. The stacks the remote accepted are published here:
they no longer change in place. The server's messages (remote: ...) are
shown as they come. With --sign (or gachette.sign), each stack no remote
has yet whose tag is unsigned is first given a signed tag (git tag -s,
git's signing settings): every tag the push publishes is signed.`,
		Example: `  git gachette push 124
  git gachette push --remote origin
  git gachette push backend/124 --remote ssh://git@deploy.example.com/srv/stacks.git`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.stacks = args
			return a.runPush(o)
		},
	}
	cmd.Flags().StringVarP(&o.remote, "remote", "r", "", "remote name or URL (default: gachette.remote, else origin)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&o.sign, "sign", false, "first sign (git tag -s) every unsigned stack tag no remote has yet (default: gachette.sign)")
	return cmd
}

// pushJSON is what push --json prints:
//
//	{"remote": "origin", "atomic": true, "pushed": ["main/2"], "up_to_date": ["main/1"],
//	 "branches": ["main"], "channels": ["main/prod"], "rejected": [], "changed": [], "warnings": []}
//
// rejected lists {"ref", "stack", "reason"}; error is set when push fails.
type pushJSON struct {
	Remote   string          `json:"remote"`
	Atomic   bool            `json:"atomic"`
	Pushed   []string        `json:"pushed"`
	UpToDate []string        `json:"up_to_date"`
	Branches []string        `json:"branches"`
	Channels []string        `json:"channels"`
	Rejected []rejectionJSON `json:"rejected"`
	Changed  []string        `json:"changed"`
	Warnings []string        `json:"warnings"`
	Error    string          `json:"error,omitempty"`
}

type rejectionJSON struct {
	Ref    string `json:"ref"`
	Stack  string `json:"stack,omitempty"`
	Reason string `json:"reason"`
}

func (a *app) runPush(o pushOptions) error {
	var ids []stackrepo.StackID
	for _, arg := range o.stacks {
		id, err := a.stackID(arg)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	var domain string
	if len(ids) == 0 {
		d, err := a.domain()
		if err != nil {
			return err
		}
		domain = d
	}
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
	opt := a.remoteOptions()
	if opt.Sign, err = a.settings.Sign.bool(); err != nil {
		return err
	}
	opt.Sign = opt.Sign || o.sign
	var res *stackrepo.PushResult
	if len(ids) == 0 {
		res, err = r.PushDomain(ctx, rm, domain, opt)
	} else {
		res, err = r.Push(ctx, rm, ids, opt)
	}
	err = a.remoteFailure(err, origin, r)
	if o.json {
		out := pushJSON{Remote: rm.String(), Atomic: true, Pushed: []string{}, UpToDate: []string{}, Branches: []string{}, Channels: []string{}, Rejected: []rejectionJSON{}, Changed: []string{}, Warnings: []string{}}
		if res != nil {
			out.Atomic, out.Pushed, out.UpToDate, out.Changed = res.Atomic, idStrings(res.Pushed), idStrings(res.UpToDate), idStrings(res.Changed)
			out.Branches, out.Channels, out.Warnings = nonNilStrings(res.Branches), nonNilStrings(res.Channels), nonNilStrings(res.Warnings)
			for _, rj := range res.Rejected {
				out.Rejected = append(out.Rejected, rejectionJSON{Ref: rj.Ref, Stack: rj.Stack, Reason: rj.Reason})
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
	if res != nil {
		for _, id := range res.Pushed {
			a.info("pushed %s to %s", id, rm)
		}
		for _, d := range res.Branches {
			a.info("pushed domain branch %s to %s", d, rm)
		}
		for _, c := range res.Channels {
			a.info("pushed channel %s to %s", c, rm)
		}
		if len(res.Pushed) == 0 && len(res.Branches) == 0 && len(res.Channels) == 0 && err == nil {
			if res.Contacted {
				a.info("%s is up to date (%d stacks)", rm, len(res.UpToDate))
			} else {
				a.info("%s is up to date (%d stacks, as last pushed or fetched)", rm, len(res.UpToDate))
			}
		}
		for _, w := range res.Warnings {
			a.warn("%s", w)
		}
	}
	return err
}
