package buildjob

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo"
)

// Project is one project to build, as configured ([gachette "project.NAME"]).
type Project struct {
	Name, URL, Missile string
	// Ref is a branch, tag or commit; empty, the remote's default branch.
	Ref string
}

// QuickRequest asks for Projects to be prepared, versioned and built,
// spread over the hosts in turn, and recorded in Stack in one commit, or
// not at all. It reads every setting.
type QuickRequest struct {
	Config
	Stack    stackrepo.StackID
	Projects []Project
	// Open opens the stacks repository, once the request is checked, and
	// says who writes to it; Quick closes it.
	Open func() (*stackrepo.Repo, stackrepo.Identity, error)
}

// QuickResult is what was recorded.
type QuickResult struct {
	Stack    stackrepo.StackID
	Record   *stackrepo.Result
	Packages []stackrepo.Package // by name
}

// built is what one project produced.
type built struct {
	Project
	host     string
	checkout *remote.Checkout
	build    *remote.BuildResult // to keep or undo once recorded, or not
	err      error
}

// attempts is how many times a project is prepared and built when
// another prepare moves its working copy before its build runs.
const attempts = 3

// Quick builds the projects of req concurrently and records every package
// they made in req.Stack, on the stack as it was before the builds: if it
// changed meanwhile, or anything fails, nothing is recorded and the .debs
// the builds put into the debs paths are taken back. When ctx is
// cancelled before the record starts, every build stops, nothing is
// recorded, and the error is ctx's; once started, the record completes.
func Quick(ctx context.Context, req QuickRequest) (*QuickResult, error) {
	for _, p := range req.Projects {
		if err := hostRequest(req.Settings, p.Name, req.DebsPath, p.Missile).Validate(); err != nil {
			return nil, fmt.Errorf("project %s: %w", p.Name, err)
		}
	}
	r, ident, err := req.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	id := req.Stack
	if err := r.CheckWritable(id); err != nil {
		return nil, err
	}
	// The stack as it is before anything is built: the record goes onto
	// this state, or nowhere (a builder on this machine could change the
	// stack while it runs).
	before, err := r.Stack(id)
	if err != nil {
		return nil, err
	}
	out := req.reporter()
	// The connections stay until the .debs are kept or taken back: the
	// sessions that moved them wait on them.
	p := newPool(req.Config)
	defer p.close()
	// The builds' context, cancelled when one fails, stays until then too.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := buildAll(bctx, cancel, req, p, out)
	// Until the record, any failure or Ctrl-C takes back the .debs this
	// run put into the debs paths: nothing records them.
	recorded := false
	defer func() {
		if !recorded {
			undo(out, results)
		}
	}()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	pkgs, err := packages(id, results)
	if err != nil {
		return nil, err
	}
	// What stacks record already is on this machine, where builders do not
	// write: a file they record is never recorded with other contents
	// (one a build replaced in the debs path, or a reuse of one).
	if err := r.CheckFiles(pkgs); err != nil {
		return nil, fmt.Errorf("nothing recorded in %s: %w", id, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// Once started, the record is not stopped by Ctrl-C: it is one git ref
	// transaction, which completes or changes nothing, and is reported.
	out.info("==> record %s in %s", count(len(pkgs), "package"), id)
	res, err := r.AddIfUnchanged(id, before, pkgs, ident)
	if err != nil {
		return nil, fmt.Errorf("built, but not recorded: %w", err)
	}
	recorded = true
	for _, b := range results {
		if b.build == nil {
			continue
		}
		if err := b.build.Keep(); err != nil {
			out.info("warning: %s: recorded, but: %v (the .debs stay in the debs path; the next build of this commit may not be reused)", b.Name, err)
		}
	}
	return &QuickResult{Stack: id, Record: res, Packages: pkgs}, nil
}

// buildAll builds every project concurrently, on the hosts in turn; the
// first failure stops the others.
func buildAll(ctx context.Context, cancel context.CancelFunc, req QuickRequest, p *pool, out *reporter) []built {
	results := make([]built, len(req.Projects))
	var wg sync.WaitGroup
	for i, proj := range req.Projects {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = buildOne(ctx, req, p, out, proj, req.Hosts[i%len(req.Hosts)])
			if results[i].err != nil {
				cancel() // one failure records nothing: stop the others
			}
		}()
	}
	wg.Wait()
	return results
}

// buildOne prepares, versions and builds one project on its host.
func buildOne(ctx context.Context, req QuickRequest, p *pool, out *reporter, proj Project, host string) built {
	res := built{Project: proj, host: host}
	ex, err := p.get(ctx, host)
	if err != nil {
		res.err = fmt.Errorf("%s: %w", proj.Name, err)
		return res
	}
	res.host = ex.Host()
	log := out.hostLog("[" + proj.Name + "] ")
	defer log.flush()
	// Another prepare of the same project on the same host (another quick,
	// someone's prepare) may move the working copy between this prepare and
	// this build: the build then refuses to run, and it is all done again.
	for attempt := 1; ; attempt++ {
		res.checkout, err = prepareOn(ctx, ex, req.Config, out, log, proj.Name, proj.URL, proj.Ref)
		if err != nil {
			res.err = err
			return res
		}
		r := hostRequest(req.Settings, proj.Name, req.DebsPath, proj.Missile)
		fillVersions(&r.Versions, res.checkout.Version)
		r.Commit = res.checkout.Commit
		out.info("==> build %s %s (%s) on %s", proj.Name, res.checkout.Version, r.Builder, ex.Host())
		var b *remote.BuildResult
		b, res.err = remote.Build(ctx, ex, r, log)
		if res.err == nil {
			res.build = b
			if b.Reused {
				out.info("==> %s: reused %s built before from commit %s with the same settings", proj.Name, count(len(b.Debs), "package"), res.checkout.Commit[:12])
			}
		}
		if !errors.Is(res.err, remote.ErrWorkingCopyMoved) || attempt == attempts {
			return res
		}
		out.info("==> %s: another prepare moved the working copy on %s; again (%d of %d)", proj.Name, ex.Host(), attempt+1, attempts)
	}
}

// packages is what the builds made, as the stack records it, sorted by
// name; or why nothing is recorded.
func packages(id stackrepo.StackID, results []built) ([]stackrepo.Package, error) {
	var failed []string
	for _, b := range results {
		if b.err != nil && !errors.Is(b.err, context.Canceled) {
			failed = append(failed, b.err.Error())
		}
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("nothing recorded in %s:\n  %s", id, strings.Join(failed, "\n  "))
	}
	made := map[string]string{} // package name → the project that made it
	var pkgs []stackrepo.Package
	for _, b := range results {
		if b.build == nil {
			continue
		}
		for _, d := range b.build.Debs {
			if other, ok := made[d.Name]; ok {
				return nil, fmt.Errorf("nothing recorded in %s: package %s is made by both project %s and project %s; a stack holds one version of each package", id, d.Name, other, b.Name)
			}
			made[d.Name] = b.Name
			pkgs = append(pkgs, b.record(d))
		}
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return pkgs, nil
}

// record is a .deb the project built, with where it came from.
func (b built) record(d remote.Deb) stackrepo.Package {
	return stackrepo.Package{
		Name: d.Name, Version: d.Version, Architecture: d.Architecture, Filename: d.Filename, SHA256: d.SHA256, Size: d.Size,
		Source: remote.RedactPassword(b.URL), Commit: b.checkout.Commit, Ref: b.checkout.Ref, BuiltOn: b.host,
	}
}

// undo takes back the .debs the builds put into the debs paths, when
// nothing records them.
func undo(out *reporter, results []built) {
	for _, b := range results {
		if b.build == nil {
			continue
		}
		if err := b.build.Undo(); err != nil {
			out.info("warning: %s: the .debs its build put into the debs path could not be taken back: %v", b.Name, err)
		}
	}
}
