package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type addOptions struct {
	stack string
	pkg   stackrepo.Package // NAME VERSION FILE and --arch, --sha256, --size
	req   stackrepo.AddRequest
	json  bool
}

func (a *app) newStackAddCmd() *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add STACK (FILE.deb... | --packages FILE | NAME VERSION FILE)",
		Short: "Add packages to a stack (or change their version)",
		Long: `Record packages in STACK, all in one commit, given one of three ways:
  FILE.deb...       every argument after STACK ends in .deb: each file is read
                    (Package, Version, Architecture from its control file; its
                    SHA-256 and size); Filename is its base name
  --packages FILE   a Packages index (dpkg-scanpackages, aptly; - reads standard
                    input): Package, Version, Architecture, SHA256, Size, and
                    the base name of Filename
  NAME VERSION FILE one package, field by field; FILE is the name recorded, and
                    its architecture, unless --arch, what a Debian file name
                    (NAME_VERSION_ARCH.deb) says
--source, --commit, --ref and --built-on go into every entry.

A package in the stack already is replaced; the commit message says which
version it was and which fields changed, were added or removed. The same
version without fields the stack records for it (SHA256, Size, Source,
Commit, Built-On...) is refused unless --replace. Adding what is there
changes nothing. Published stacks cannot change: create a new stack.`,
		Example: `  git gachette stack add 124 ./dh-app_2.1.0_all.deb ../build/dh-app-config_1.0.0_all.deb
  dpkg-scanpackages debs > Packages && git gachette stack add 124 --packages Packages
  git gachette stack add 124 dh-app 2.1.0 dh-app_2.1.0_all.deb
  git gachette stack add backend/124 dh-app 2.1.0 dh-app_2.1.0_all.deb \
      --sha256 9f86d08… --size 2368 \
      --source git@github.com:ops-hero/app.git --commit 1a2b3c4d…`,
		Args: o.parse, // usage errors (usageArgs)
		RunE: func(*cobra.Command, []string) error { return a.runStackAdd(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.pkg.Architecture, "arch", "", "architecture of the package (NAME VERSION FILE form; e.g. all, amd64)")
	f.StringVar(&o.pkg.SHA256, "sha256", "", "SHA-256 of the .deb file (NAME VERSION FILE form)")
	f.Int64Var(&o.pkg.Size, "size", 0, "size of the .deb file in bytes (NAME VERSION FILE form)")
	f.StringVar(&o.req.Index, "packages", "", `read the packages from this Packages file ("-": standard input)`)
	f.StringVar(&o.req.Source, "source", "", "source repository URL")
	f.StringVar(&o.req.Commit, "commit", "", "full source commit id")
	f.StringVar(&o.req.Ref, "ref", "", "the ref the build was asked for")
	f.StringVar(&o.req.BuiltOn, "built-on", "", "build host")
	f.BoolVar(&o.req.Replace, "replace", false, "record an entry of the same version even when it lacks fields the stack records")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

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

func (a *app) runStackAdd(o addOptions) error {
	id, err := a.stackID(o.stack)
	if err != nil {
		return err
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.AddPackages(id, o.req, ident)
	if err != nil {
		return err
	}
	if o.json {
		return a.printJSON(addJSON{
			Stack: res.ID.String(), Domain: res.ID.Domain, Name: res.ID.Name,
			Commit: res.Commit.String(), Tag: res.Tag.String(), Subject: res.Subject,
			Unchanged: res.Unchanged, Attempts: res.Attempts,
			Packages: res.Packages, Replaced: append([]stackrepo.Replacement{}, res.Replaced...),
		})
	}
	if err := a.printResult(res, false); err != nil {
		return err
	}
	for _, rep := range res.Replaced {
		if rep.Details() != "" && !strings.HasSuffix(res.Subject, rep.String()) {
			a.info("  %s", rep)
		}
	}
	return nil
}

// addJSON is stack add --json: the write, the entries recorded, and the
// entries replaced with the fields that changed.
type addJSON struct {
	Attempts  int                     `json:"attempts"`
	Commit    string                  `json:"commit"`
	Domain    string                  `json:"domain"`
	Name      string                  `json:"name"`
	Packages  []stackrepo.Package     `json:"packages"`
	Replaced  []stackrepo.Replacement `json:"replaced"`
	Stack     string                  `json:"stack"`
	Subject   string                  `json:"subject"`
	Tag       string                  `json:"tag"`
	Unchanged bool                    `json:"unchanged"`
}
