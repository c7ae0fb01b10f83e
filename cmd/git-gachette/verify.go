package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

func (a *app) newStackVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify STACK...",
		Short: "Check with git that each stack's tag is signed and good",
		Long: `Check each STACK's tag with git verify-tag, with git's verification
settings (gpg.ssh.allowedSignersFile for ssh signatures, the gpg keyring
for OpenPGP). Prints who signed each. Exits 0 when every one is signed and
git accepts it, 1 when one is unsigned or badly signed (naming it).`,
		Example: `  git gachette stack verify 124
  git gachette stack verify backend/123 backend/124`,
		Args: minArgs("STACK", "[STACK...]"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runVerify(func(r *stackrepo.Repo, arg string) (*stackrepo.Verification, error) {
				id, err := a.stackID(arg)
				if err != nil {
					return nil, err
				}
				return r.VerifyStack(context.Background(), id)
			}, args, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verdicts as JSON")
	return cmd
}

func (a *app) newChannelVerifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify ENV",
		Short: "Check with git that a channel's newest move is a signed, good commit",
		Long: `Check the newest move of channel <domain>/ENV with git verify-commit, with
git's verification settings. Prints who signed it. Exits 0 when it is signed
and git accepts it, 1 when it is unsigned or badly signed.`,
		Example: `  git gachette channel verify prod --domain backend`,
		Args:    exactArgs("ENV"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runVerify(func(r *stackrepo.Repo, env string) (*stackrepo.Verification, error) {
				d, err := a.domain()
				if err != nil {
					return nil, err
				}
				return r.VerifyChannel(context.Background(), d, env)
			}, args, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	return cmd
}

// runVerify verifies each argument with check and prints what git said:
// exit 1 when one is unsigned or bad.
// verifyJSON is one verdict of stack verify --json and channel verify
// --json (a list).
type verifyJSON struct {
	What   string `json:"what"`
	Object string `json:"object"`
	Signed bool   `json:"signed"`
	Good   bool   `json:"good"`
	Signer string `json:"signer"`
}

func (a *app) runVerify(check func(*stackrepo.Repo, string) (*stackrepo.Verification, error), args []string, asJSON bool) error {
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	var bad []string
	out := []verifyJSON{}
	for _, arg := range args {
		v, err := check(r, arg)
		if err != nil {
			return err
		}
		if asJSON {
			out = append(out, verifyJSON{What: v.What, Object: v.Object.String(), Signed: v.Signed, Good: v.Good, Signer: v.Signer})
			if !v.Signed || !v.Good {
				bad = append(bad, v.What+" is not signed, or its signature is not good")
			}
			continue
		}
		signer := termtext.Escape(v.Signer)
		switch {
		case !v.Signed:
			fmt.Fprintf(a.stdout, "%s: not signed (%s)\n", v.What, v.Object)
			bad = append(bad, v.What+" is not signed")
		case !v.Good:
			if signer == "" {
				signer = "unknown signer"
			}
			fmt.Fprintf(a.stdout, "%s: BAD signature (%s, %s)\n", v.What, signer, v.Object)
			for _, line := range strings.Split(strings.TrimSpace(v.Output), "\n") {
				a.info("  %s", termtext.Escape(line))
			}
			bad = append(bad, v.What+" has a signature git does not accept")
		default:
			if signer == "" {
				signer = "a key git accepts"
			}
			fmt.Fprintf(a.stdout, "%s: good signature by %s (%s)\n", v.What, signer, v.Object)
		}
	}
	if asJSON {
		if err := a.printJSON(out); err != nil {
			return err
		}
	}
	if len(bad) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%s", strings.Join(bad, "; "))}
	}
	return nil
}
