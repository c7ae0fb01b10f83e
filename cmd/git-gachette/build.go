package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/remote/buildjob"
)

type buildOptions struct {
	key, debsPath    string
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
			o.key = args[0]
			if len(args) == 2 {
				o.debsPath = args[1]
			}
			return a.runBuild(o)
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

// buildJSON is build's --json output (keys in the order they were printed
// from a map).
type buildJSON struct {
	Commit   string       `json:"commit"`
	DebsPath string       `json:"debs_path"`
	Host     string       `json:"host"`
	Key      string       `json:"key"`
	Packages []remote.Deb `json:"packages"`
	Reused   bool         `json:"reused"`
}

func (a *app) runBuild(o buildOptions) error {
	c, err := a.hostConfig(forBuild)
	if err != nil {
		return err
	}
	ctx, stop := a.interruptible()
	defer stop()
	res, err := buildjob.Build(ctx, buildjob.BuildRequest{Config: c, Key: o.key, DebsPath: o.debsPath, Missile: o.missile,
		Versions: o.versions, WebCallback: o.webCallback, ExtraDescription: o.extraDescription})
	if err != nil {
		return interrupted(ctx, err)
	}
	if o.json {
		return a.printJSON(buildJSON{Commit: res.Commit, DebsPath: res.DebsPath, Host: res.Host, Key: o.key, Packages: res.Debs, Reused: res.Reused})
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PACKAGE\tVERSION\tARCH\tFILENAME\tSIZE")
	for _, d := range res.Debs {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", d.Name, d.Version, d.Architecture, d.Filename, d.Size)
	}
	return w.Flush()
}
