package main

import (
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
		Args: func(cmd *cobra.Command, args []string) error {
			if err := o.parse(cmd, args); err != nil {
				return &usageError{err} // its own words (usageArgs would say only the count)
			}
			return nil
		},
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
