package main

import (
	"fmt"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/spf13/cobra"
)

// parse tells the three forms apart: --packages; every argument after
// STACK ending in .deb; else exactly NAME VERSION FILE.
func (o *addOptions) parse(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s takes STACK, then .deb files, --packages FILE, or NAME VERSION FILE; got no argument", userPath(cmd))
	}
	o.stack, args = args[0], args[1:]
	fieldFlags, debs := "", 0 // the first of --arch, --sha256, --size given; the .deb arguments
	for _, name := range []string{"size", "sha256", "arch"} {
		if cmd.Flags().Changed(name) {
			fieldFlags = "--" + name
		}
	}
	for _, arg := range args {
		if strings.HasSuffix(arg, ".deb") {
			debs++
		}
	}
	switch {
	case cmd.Flags().Changed("packages"):
		if o.req.Index == "" {
			return fmt.Errorf("--packages is empty: give a Packages file, or - for standard input")
		}
		if len(args) > 0 {
			return fmt.Errorf("--packages reads every package from its file: give no other argument after STACK (got %s)", strings.Join(args, " "))
		}
		if fieldFlags != "" {
			return fmt.Errorf("%s is read from the Packages file: leave it out with --packages", fieldFlags)
		}
	case len(args) > 0 && debs == len(args):
		if fieldFlags != "" {
			return fmt.Errorf("%s is read from the .deb files: leave it out, or give NAME VERSION FILE instead of files", fieldFlags)
		}
		o.req.Debs = args
	case len(args) == 3 && !strings.HasSuffix(args[0], ".deb") && !strings.HasSuffix(args[1], ".deb"):
		if cmd.Flags().Changed("size") && o.pkg.Size == 0 {
			return fmt.Errorf("size 0 is not the size of a .deb file; leave --size out when it is not known")
		}
		o.pkg.Name, o.pkg.Version, o.pkg.Filename = args[0], args[1], args[2]
		o.req.Packages = []stackrepo.Package{o.pkg}
	case debs > 0:
		return fmt.Errorf("%s mixes .deb files with other arguments (%s): give either .deb files only, whose fields are read from them, or NAME VERSION FILE", userPath(cmd), strings.Join(args, " "))
	default:
		return fmt.Errorf("%s takes 4 arguments, STACK NAME VERSION FILE; got %d (or STACK FILE.deb... to read packages from .deb files, or STACK --packages FILE)", userPath(cmd), len(args)+1)
	}
	if o.req.Index == "-" {
		o.req.Stdin = cmd.InOrStdin()
	}
	return nil
}
