package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo"
)

type quickOptions struct {
	stack string
	ref   string
	json  bool
}

func (a *app) newQuickCmd() *cobra.Command {
	var o quickOptions
	cmd := &cobra.Command{
		Use:   "quick PROJECT... --stack S [--ref R]",
		Short: "Prepare, version, build and record projects in a stack, in one command",
		Long: `For each PROJECT (configured as [gachette "project.NAME"] url, missile, ref):
prepare its working copy on a build host, version it from its commit, build
it, check the .debs, then record every package in stack S in one commit —
or, if anything fails, record nothing. The stack must exist and not be
published. Projects build concurrently, spread over the hosts that
gachette.host lists. A prepare or build of a project waits for any other
one of the same project on the same host; if another prepare moved the
working copy before this build, it is prepared and built again. A commit
built before with the same settings is reused, not built again — unless a
stack records one of its .debs with another SHA-256. The record goes onto
the stack as it was before the builds: if it changed meanwhile, nothing is
recorded. Ctrl-C stops every build, on every host, takes back the .debs it
put into the debs path, and records nothing; once the record has started,
it completes.`,
		Example: `  git config --global gachette.project.app.url git@github.com:ops-hero/app.git
  git gachette quick app --stack 124
  git gachette -H build1,build2 quick app app-config --stack backend/124 --ref origin/release`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.stack == "" {
				return &usageError{fmt.Errorf("quick needs --stack S: the stack that records the packages")}
			}
			return a.runQuick(args, o)
		},
	}
	cmd.Flags().StringVarP(&o.stack, "stack", "s", "", "stack that records the packages (must exist)")
	cmd.Flags().StringVar(&o.ref, "ref", "", "branch, tag or commit to build, for every project (default: the project's ref, else the remote's default branch)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the recorded packages as JSON")
	return cmd
}

// project is one PROJECT argument resolved from the configuration.
type project struct {
	name, url, missile, ref, host string
}

// quickResult is what one project produced.
type quickResult struct {
	project
	checkout *remote.Checkout
	debs     []remote.Deb
	built    *remote.BuildResult // to keep or undo once recorded, or not
	err      error
}

func (a *app) runQuick(names []string, o quickOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	if o.ref != "" {
		if err := remote.CheckRef(o.ref); err != nil {
			return err
		}
	}
	hosts, err := a.hostList()
	if err != nil {
		return err
	}
	if err := a.checkSettings(buildSettings...); err != nil {
		return err
	}
	projects, err := a.projects(names, o.ref, hosts)
	if err != nil {
		return err
	}
	for _, p := range projects {
		if err := a.buildRequest(p.name, a.hostPath("debsPath"), p.missile).Validate(); err != nil {
			return fmt.Errorf("project %s: %w", p.name, err)
		}
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.CheckWritable(id); err != nil {
		return err
	}
	// The stack as it is before anything is built: the record goes onto
	// this state, or nowhere (a builder on this machine could change the
	// stack while it runs).
	before, err := r.Stack(id)
	if err != nil {
		return err
	}

	conns := a.newConnections()
	defer conns.close()
	sigCtx, stop := a.interruptible()
	defer stop()
	ctx, cancel := context.WithCancel(sigCtx)
	defer cancel()
	mu := &sync.Mutex{}
	results := make([]quickResult, len(projects))
	var wg sync.WaitGroup
	for i, p := range projects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = a.quickOne(ctx, conns, mu, p)
			if results[i].err != nil {
				cancel() // one failure records nothing: stop the others
			}
		}()
	}
	wg.Wait()
	// Until the record, any failure or Ctrl-C takes back the .debs this
	// run put into the debs paths: nothing records them.
	recorded := false
	defer func() {
		if !recorded {
			a.undoBuilds(mu, results)
		}
	}()
	if sigCtx.Err() != nil {
		return interrupted(sigCtx, sigCtx.Err())
	}
	var failed []string
	for _, res := range results {
		if res.err != nil && !errors.Is(res.err, context.Canceled) {
			failed = append(failed, res.err.Error())
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("nothing recorded in %s:\n  %s", id, strings.Join(failed, "\n  "))
	}
	made := map[string]string{} // package name → the project that made it
	for _, res := range results {
		for _, d := range res.debs {
			if other, ok := made[d.Name]; ok {
				return fmt.Errorf("nothing recorded in %s: package %s is made by both project %s and project %s; a stack holds one version of each package", id, d.Name, other, res.name)
			}
			made[d.Name] = res.name
		}
	}
	var pkgs []stackrepo.Package
	for _, res := range results {
		for _, d := range res.debs {
			pkgs = append(pkgs, stackrepo.Package{
				Name: d.Name, Version: d.Version, Architecture: d.Architecture, Filename: d.Filename,
				SHA256: d.SHA256, Size: d.Size, Source: remote.RedactPassword(res.url), Commit: res.checkout.Commit, Ref: res.checkout.Ref, BuiltOn: res.host,
			})
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	// What stacks record already is on this machine, where builders do not
	// write: a file they record is never recorded with other contents
	// (one a build replaced in the debs path, or a reuse of one).
	if err := r.CheckFiles(pkgs); err != nil {
		return fmt.Errorf("nothing recorded in %s: %w", id, err)
	}
	if sigCtx.Err() != nil {
		return interrupted(sigCtx, sigCtx.Err())
	}

	// Once started, the record is not stopped by Ctrl-C: it is one git ref
	// transaction, which completes or changes nothing, and is reported.
	a.info("==> record %s in %s", count(countDebs(results), "package"), id)
	res, err := r.AddIfUnchanged(id, before, pkgs, ident)
	if err != nil {
		return fmt.Errorf("built, but not recorded: %w", err)
	}
	recorded = true
	for _, q := range results {
		if q.built == nil {
			continue
		}
		if err := q.built.Keep(); err != nil {
			a.infoLocked(mu, "warning: %s: recorded, but: %v (the .debs stay in the debs path; the next build of this commit may not be reused)", q.name, err)
		}
	}
	if o.json {
		return a.printJSON(map[string]any{"stack": id.String(), "commit": res.Commit.String(), "unchanged": res.Unchanged, "packages": pkgs})
	}
	a.info("%s [%s]", res.Subject, res.Commit.String()[:12])
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tVERSION\tARCH\tCOMMIT\tHOST")
	for _, p := range pkgs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, p.Architecture, p.Commit[:12], p.BuiltOn)
	}
	return w.Flush()
}

// undoBuilds takes back the .debs the builds of results put into the
// debs paths, when nothing records them.
func (a *app) undoBuilds(mu *sync.Mutex, results []quickResult) {
	for _, q := range results {
		if q.built == nil {
			continue
		}
		if err := q.built.Undo(); err != nil {
			a.infoLocked(mu, "warning: %s: the .debs its build put into the debs path could not be taken back: %v", q.name, err)
		}
	}
}

func countDebs(results []quickResult) int {
	n := 0
	for _, r := range results {
		n += len(r.debs)
	}
	return n
}

// projects resolves PROJECT names from [gachette "project.NAME"] and
// spreads them over the hosts in turn.
func (a *app) projects(names []string, ref string, hosts []string) ([]project, error) {
	seen := map[string]bool{}
	var out []project
	for i, n := range names {
		if err := remote.CheckKey(n); err != nil {
			return nil, fmt.Errorf("project: %w", err)
		}
		if seen[n] {
			return nil, fmt.Errorf("project %s is given twice", n)
		}
		seen[n] = true
		sub := "gachette.project." + n + "."
		p := project{name: n, url: a.cfg.Value(sub + "url"), missile: a.cfg.Value(sub + "missile"), ref: a.cfg.Value(sub + "ref"), host: hosts[i%len(hosts)]}
		if p.url == "" {
			return nil, fmt.Errorf("project %s is not configured; set at least its URL: git config --global gachette.project.%s.url URL", n, n)
		}
		if p.missile == "" {
			p.missile = ".missile.yml"
		}
		if ref != "" {
			p.ref = ref
		}
		out = append(out, p)
	}
	return out, nil
}

// quickOne prepares, versions and builds one project on its host.
func (a *app) quickOne(ctx context.Context, conns *connections, mu *sync.Mutex, p project) quickResult {
	res := quickResult{project: p}
	ex, err := conns.get(ctx, p.host)
	if err != nil {
		res.err = fmt.Errorf("%s: %w", p.name, err)
		return res
	}
	res.host = ex.Host()
	log := a.remoteOutput(mu, "["+p.name+"] ")
	defer log.flush()
	// Another prepare of the same project on the same host (another quick,
	// someone's prepare) may move the working copy between this prepare and
	// this build: the build then refuses to run, and it is all done again.
	const attempts = 3
	for attempt := 1; ; attempt++ {
		a.infoLocked(mu, "==> prepare %s on %s", p.name, ex.Host())
		a.forgetPrepared(ex.Host(), a.hostPath("workdir"), p.name)
		res.checkout, err = remote.Prepare(ctx, ex, a.hostPath("workdir"), p.name, p.url, p.ref, a.settings.get("baseVersion").Value, log)
		if err != nil {
			res.err = err
			return res
		}
		a.savePrepared(ex.Host(), a.hostPath("workdir"), res.checkout)
		req := a.buildRequest(p.name, a.hostPath("debsPath"), p.missile)
		fillVersions(&req.Versions, res.checkout.Version)
		req.Commit = res.checkout.Commit
		a.infoLocked(mu, "==> build %s %s (%s) on %s", p.name, res.checkout.Version, req.Builder, ex.Host())
		var built *remote.BuildResult
		built, res.err = remote.Build(ctx, ex, req, log)
		if res.err == nil {
			res.debs, res.built = built.Debs, built
			if built.Reused {
				a.infoLocked(mu, "==> %s: reused %s built before from commit %s with the same settings", p.name, count(len(built.Debs), "package"), res.checkout.Commit[:12])
			}
		}
		if !errors.Is(res.err, remote.ErrWorkingCopyMoved) || attempt == attempts {
			return res
		}
		a.infoLocked(mu, "==> %s: another prepare moved the working copy on %s; again (%d of %d)", p.name, ex.Host(), attempt+1, attempts)
	}
}

// infoLocked is info for concurrent callers sharing mu with the output.
func (a *app) infoLocked(mu *sync.Mutex, format string, args ...any) {
	mu.Lock()
	defer mu.Unlock()
	a.info(format, args...)
}
