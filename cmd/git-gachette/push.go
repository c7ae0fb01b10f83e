package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo"
)

func (a *app) newPushCmd() *cobra.Command {
	var remote string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "push [STACK...] [--remote R]",
		Short: "Publish stacks (tags) and their domain branches to a remote",
		Long: `Push stacks and the branches of their domains to remote R: a remote of the
stacks repository (default: gachette.remote, else origin) or any git URL —
a path, file://, ssh://. Without STACK, every stack of the domain is pushed.

Stacks are never overwritten: if the remote has a different stack under the
same name, nothing is pushed. Pushed stacks are published: they no longer
change in place.`,
		Example: `  git gachette push 124
  git gachette push --remote origin
  git gachette push backend/124 --remote ssh://git@deploy.example.com/srv/stacks.git`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runPush(args, remote, asJSON)
		},
	}
	cmd.Flags().StringVarP(&remote, "remote", "r", "", "remote name or URL (default: gachette.remote, else origin)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runPush(args []string, remoteArg string, asJSON bool) error {
	var ids []stackrepo.StackID
	for _, arg := range args {
		id, err := a.stackID(arg)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	r, err := a.openStacks()
	if err != nil {
		return err
	}
	defer r.Close()
	rm, err := a.remote(r, remoteArg)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		domain, err := a.domain()
		if err != nil {
			return err
		}
		list, err := r.List(domain, false)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return fmt.Errorf("domain %s has no stack to push; create one with: git gachette stack create NAME", domain)
		}
		for _, s := range list {
			ids = append(ids, s.ID)
		}
	}
	res, err := r.Push(context.Background(), rm, ids)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(map[string]any{"remote": rm.String(), "pushed": idStrings(res.Pushed), "up_to_date": idStrings(res.UpToDate), "branches": nonNilStrings(res.Branches), "warnings": nonNilStrings(res.Warnings)})
	}
	for _, id := range res.Pushed {
		a.info("pushed %s to %s", id, rm)
	}
	for _, d := range res.Branches {
		a.info("pushed domain branch %s to %s", d, rm)
	}
	if len(res.Pushed) == 0 && len(res.Branches) == 0 {
		a.info("%s is up to date (%d stacks)", rm, len(res.UpToDate))
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(a.stderr, "warning: %s\n", w)
	}
	return nil
}

// remote resolves --remote: a remote configured in the stacks repository,
// else a URL or path.
func (a *app) remote(r *stackrepo.Repo, arg string) (stackrepo.Remote, error) {
	if err := a.load(); err != nil {
		return stackrepo.Remote{}, err
	}
	origin := "flag --remote"
	if arg == "" {
		v := a.settings.get("remote")
		arg, origin = v.Value, v.Origin
	}
	if arg == "" || strings.HasPrefix(arg, "-") || strings.IndexFunc(arg, unicode.IsControl) >= 0 || len(arg) > 2048 {
		return stackrepo.Remote{}, fmt.Errorf("remote %q (from %s) is not a remote name, URL or path", semverx.Shorten(arg), origin)
	}
	if helper := transportHelper.FindString(arg); helper != "" {
		return stackrepo.Remote{}, fmt.Errorf("remote %q (from %s) uses git's %s transport, which is not supported (it can run commands); use a path, file://, ssh://, https:// or git@host:path", semverx.Shorten(arg), origin, helper)
	}
	cfg := r.Config()
	if stackrepo.CheckName("remote", arg) == nil {
		if url := cfg.Value("remote." + arg + ".url"); url != "" {
			if strings.HasPrefix(url, "-") {
				return stackrepo.Remote{}, fmt.Errorf("remote %s has URL %q, which starts with '-'; fix it with git remote set-url", arg, url)
			}
			if helper := transportHelper.FindString(url); helper != "" {
				return stackrepo.Remote{}, fmt.Errorf("remote %s has URL %q, which uses git's %s transport (not supported: it can run commands); fix it with git remote set-url", arg, semverx.Shorten(url), helper)
			}
			return stackrepo.Remote{Name: arg, URL: url}, nil
		}
	}
	if strings.ContainsAny(arg, "/:") || isDir(arg) {
		return stackrepo.Remote{URL: arg}, nil
	}
	return stackrepo.Remote{}, fmt.Errorf("remote %q (from %s) is not configured in the stacks repository %s and is not a URL or path; "+
		"add it with: git -C %s remote add %s URL, or pass --remote URL", arg, origin, r.Dir, r.Dir, arg)
}

// transportHelper matches git's "<transport>::<address>" remote syntax
// (ext::, fd::, and the remote helpers), which go-git does not speak and
// which, for ext::, runs a command.
var transportHelper = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*::`)

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func idStrings(ids []stackrepo.StackID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
