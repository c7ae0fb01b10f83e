package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

// version is set at build time with -ldflags "-X main.version=…"; without
// it, the module version from the build info is used.
var version = ""

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func init() {
	version = versionString()
}

// versionJSON is version --json.
type versionJSON struct {
	Format  string `json:"format"`
	Go      string `json:"go"`
	Version string `json:"version"`
}

func (a *app) newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version of git-gachette and of the stacks format",
		Example: `  git gachette version`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON {
				return a.printJSON(versionJSON{Format: stackrepo.FormatVersion, Go: runtime.Version(), Version: version})
			}
			_, err := fmt.Fprintf(a.stdout, "git-gachette %s (stacks format %s, %s)\n", version, stackrepo.FormatVersion, runtime.Version())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
