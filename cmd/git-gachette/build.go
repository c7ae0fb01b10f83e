package main

import (
	"fmt"
	"path"
	"sync"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
)

type buildOptions struct {
	missile          string
	versions         remote.Versions
	webCallback      string
	extraDescription string
	json             bool
}

func (a *app) newBuildCmd() *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build KEY [DEBS_PATH]",
		Short: "Build the .debs of a prepared working copy on the build host",
		Long: `Run the builder (gachette.builder: trebuchet, dpkg-buildpackage or command) in
the working copy KEY, check every .deb it made on the host (name, version and
architecture from its control file must match what the builder claimed) and
move them to DEBS_PATH (default: gachette.debsPath). A .deb there is never
replaced by another with the same name; the same commit built again with the
same settings is reused, not built. gachette.buildTimeout (e.g. 1h) stops a
build that runs longer; Ctrl-C stops it on the host.

Versions not given default to the version of the working copy's commit:
the tag (v1.4.0 → 1.4.0), or tag+N.g<hash> N commits after it, as the
last prepare of KEY on that host from this machine found it (kept here,
not on the host). The build runs on that commit's tree, exactly.`,
		Example: `  git gachette -H hero@192.168.1.5 build test_config_first_build /var/gachette/debs
  git gachette build app --app-version 2.1.0 --web-callback https://ci.example.com/hook`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			debs := ""
			if len(args) == 2 {
				debs = args[1]
			}
			return a.runBuild(args[0], debs, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.missile, "missile", ".missile.yml", "trebuchet's build description, relative to the working copy")
	f.StringVar(&o.versions.App, "app-version", "", "version of the application packages")
	f.StringVar(&o.versions.Env, "env-version", "", "version of the environment packages")
	f.StringVar(&o.versions.Service, "service-version", "", "version of the service packages")
	f.StringVar(&o.versions.Static, "static-version", "", "version of the static packages")
	f.StringVar(&o.webCallback, "web-callback", "", "URL trebuchet calls when the build is done")
	f.StringVar(&o.extraDescription, "extra-description", "", "text trebuchet adds to the package descriptions")
	f.BoolVar(&o.json, "json", false, "print the packages as JSON")
	return cmd
}

func (a *app) runBuild(key, debsPath string, o buildOptions) error {
	if err := a.load(); err != nil {
		return err
	}
	hosts, err := a.hostList()
	if err != nil {
		return err
	}
	if err := a.checkSettings(buildSettings...); err != nil {
		return err
	}
	if err := remote.CheckKey(key); err != nil {
		return err
	}
	if debsPath == "" {
		debsPath = a.hostPath("debsPath")
	} else if err := remote.CheckHostPath("debs path", debsPath); err != nil {
		return err
	}
	req := a.buildRequest(key, debsPath, o.missile)
	req.Versions, req.WebCallback, req.ExtraDescription = o.versions, o.webCallback, o.extraDescription
	if err := req.Validate(); err != nil {
		return err
	}
	conns := a.newConnections()
	defer conns.close()
	ctx, stop := a.interruptible()
	defer stop()
	ex, err := conns.get(ctx, hosts[0])
	if err != nil {
		return interrupted(ctx, err)
	}
	mu := &sync.Mutex{}
	log := a.remoteOutput(mu, "    ")
	defer log.flush()
	rec, version, err := a.loadPrepared(ex.Host(), req.Workdir, key, a.settings.get("baseVersion").Value)
	if err != nil {
		return err
	}
	fillVersions(&req.Versions, version)
	req.Commit = rec.Commit
	a.info("==> build %s (%s, version %s) on %s", key, req.Builder, req.Versions.App, ex.Host())
	res, err := remote.Build(ctx, ex, req, log)
	log.flush()
	if err != nil {
		return interrupted(ctx, err)
	}
	// nothing records them, but they are what was asked for
	if err := res.Keep(); err != nil {
		return err
	}
	if res.Reused {
		a.info("==> reused %s built before from commit %s with the same settings", count(len(res.Debs), "package"), rec.Commit)
	}
	if o.json {
		return a.printJSON(map[string]any{"key": key, "host": ex.Host(), "commit": rec.Commit, "debs_path": debsPath, "reused": res.Reused, "packages": res.Debs})
	}
	return a.printDebs(res.Debs)
}

// hostPath reads a path setting for the build host, cleaned lexically
// (a/b/../c is a/c), as a user who wrote it expects.
func (a *app) hostPath(key string) string {
	return cleanHostPath(a.settings.get(key).Value)
}

func cleanHostPath(p string) string {
	if p == "" {
		return p
	}
	return path.Clean(p)
}

// buildRequest fills a build request from the settings (checked before:
// checkSettings).
func (a *app) buildRequest(key, debsPath, missile string) remote.BuildRequest {
	timeout, _ := buildTimeout(a.settings.get("buildTimeout").Value)
	return remote.BuildRequest{
		Timeout:   timeout,
		Key:       key,
		Workdir:   a.hostPath("workdir"),
		DebsPath:  cleanHostPath(debsPath),
		Builder:   a.settings.get("builder").Value,
		Trebuchet: a.settings.get("trebuchet").Value,
		Command:   a.settings.get("buildCommand").Value,
		Missile:   missile,
		Arch:      a.settings.get("arch").Value,
		BuildUser: a.settings.get("buildUser").Value,
	}
}

// fillVersions gives every version not set the commit's version.
func fillVersions(v *remote.Versions, version string) {
	for _, p := range []*string{&v.App, &v.Env, &v.Service, &v.Static} {
		if *p == "" {
			*p = version
		}
	}
}

func (a *app) printDebs(debs []remote.Deb) error {
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tVERSION\tARCH\tFILENAME\tSIZE")
	for _, d := range debs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", d.Name, d.Version, d.Architecture, d.Filename, d.Size)
	}
	return w.Flush()
}
