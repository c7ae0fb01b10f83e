package buildjob

import (
	"context"
	"path"

	"github.com/ops-hero/git-gachette/remote"
)

// BuildRequest asks for a build of the working copy Key, as its last
// prepare from this machine left it, on the first build host. It reads
// every setting but Hosts' others.
type BuildRequest struct {
	Config
	Key string
	// DebsPath is where the .debs go on the host; empty, the settings'.
	// It is checked as written (a path with ".." is refused, not cleaned).
	DebsPath string
	Missile  string
	// Versions not set are the version of the working copy's commit.
	Versions                      remote.Versions
	WebCallback, ExtraDescription string
}

// BuildResult is what a build left in the debs path.
type BuildResult struct {
	Host     string
	Commit   string
	DebsPath string // as the request gave it, else the settings'
	// Reused is true when the .debs of an earlier build of the same
	// commit with the same settings were taken, not built again.
	Reused bool
	Debs   []remote.Deb
}

// Build builds the working copy of req on the first host, checks the
// .debs there and moves them into the debs path, where they stay (nothing
// records them, but they are what was asked for).
func Build(ctx context.Context, req BuildRequest) (*BuildResult, error) {
	if err := remote.CheckKey(req.Key); err != nil {
		return nil, err
	}
	debsPath := req.DebsPath
	if debsPath == "" {
		debsPath = req.Settings.DebsPath
	} else if err := remote.CheckHostPath("debs path", debsPath); err != nil {
		return nil, err
	}
	r := hostRequest(req.Settings, req.Key, debsPath, req.Missile)
	r.Versions, r.WebCallback, r.ExtraDescription = req.Versions, req.WebCallback, req.ExtraDescription
	if err := r.Validate(); err != nil {
		return nil, err
	}
	p := newPool(req.Config)
	defer p.close()
	ex, err := p.first(ctx)
	if err != nil {
		return nil, err
	}
	out := req.reporter()
	log := out.hostLog("    ")
	defer log.flush()
	store, err := preparedStore(req.Env)
	if err != nil {
		return nil, err
	}
	rec, version, err := store.Load(ex.Host(), r.Workdir, req.Key, req.BaseVersion)
	if err != nil {
		return nil, err
	}
	fillVersions(&r.Versions, version)
	r.Commit = rec.Commit
	out.info("==> build %s (%s, version %s) on %s", req.Key, r.Builder, r.Versions.App, ex.Host())
	res, err := remote.Build(ctx, ex, r, log)
	log.flush()
	if err != nil {
		return nil, err
	}
	if err := res.Keep(); err != nil {
		return nil, err
	}
	if res.Reused {
		out.info("==> reused %s built before from commit %s with the same settings", count(len(res.Debs), "package"), rec.Commit)
	}
	return &BuildResult{Host: ex.Host(), Commit: rec.Commit, DebsPath: debsPath, Reused: res.Reused, Debs: res.Debs}, nil
}

// hostRequest is a build of key with the settings.
func hostRequest(s Settings, key, debsPath, missile string) remote.BuildRequest {
	return remote.BuildRequest{
		Timeout:   s.BuildTimeout,
		Key:       key,
		Workdir:   s.Workdir,
		DebsPath:  CleanHostPath(debsPath),
		Builder:   s.Builder,
		Trebuchet: s.Trebuchet,
		Command:   s.BuildCommand,
		Missile:   missile,
		Arch:      s.Arch,
		BuildUser: s.BuildUser,
	}
}

// CleanHostPath cleans a path on the build host lexically (a/b/../c is a/c),
// as a user who wrote it expects.
func CleanHostPath(p string) string {
	if p == "" {
		return p
	}
	return path.Clean(p)
}

// fillVersions gives every version not set the commit's version.
func fillVersions(v *remote.Versions, version string) {
	for _, p := range []*string{&v.App, &v.Env, &v.Service, &v.Static} {
		if *p == "" {
			*p = version
		}
	}
}
