package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
)

type addOptions struct {
	pkg  stackrepo.Package
	json bool
}

func (a *app) newStackAddCmd() *cobra.Command {
	var o addOptions
	cmd := &cobra.Command{
		Use:   "add STACK NAME VERSION FILE",
		Short: "Add a package to a stack (or change its version)",
		Long: `Record package NAME at VERSION, built as FILE, in STACK: one commit. A package
already in the stack is replaced, and the commit message says which version
it was. Adding exactly what is there already changes nothing.

Published stacks (pushed or fetched) cannot change in place: create a new
stack from them.`,
		Example: `  git gachette stack add 124 dh-app 2.1.0 dh-app_2.1.0_all.deb
  git gachette stack add backend/124 dh-app 2.1.0 dh-app_2.1.0_all.deb \
      --arch all --sha256 9f86d08… --size 2368 \
      --source git@github.com:ops-hero/app.git --commit 1a2b3c4d…`,
		Args: exactArgs("STACK", "NAME", "VERSION", "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.pkg.Name, o.pkg.Version, o.pkg.Filename = args[1], args[2], args[3]
			if cmd.Flags().Changed("size") && o.pkg.Size == 0 {
				return fmt.Errorf("size 0 is not the size of a .deb file; leave --size out when it is not known")
			}
			return a.runStackAdd(args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.pkg.Architecture, "arch", "", "architecture of the package (e.g. all, amd64)")
	f.StringVar(&o.pkg.SHA256, "sha256", "", "SHA-256 of the .deb file")
	f.Int64Var(&o.pkg.Size, "size", 0, "size of the .deb file in bytes")
	f.StringVar(&o.pkg.Source, "source", "", "source repository URL")
	f.StringVar(&o.pkg.Commit, "commit", "", "full source commit id")
	f.StringVar(&o.pkg.Ref, "ref", "", "the ref the build was asked for")
	f.StringVar(&o.pkg.BuiltOn, "built-on", "", "build host")
	f.BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func (a *app) runStackAdd(stack string, o addOptions) error {
	id, err := a.stackID(stack)
	if err != nil {
		return err
	}
	if err := o.pkg.Validate(); err != nil {
		return fmt.Errorf("stack %s: %w", id, err)
	}
	r, ident, err := a.openForWrite()
	if err != nil {
		return err
	}
	defer r.Close()
	res, err := r.Add(id, []stackrepo.Package{o.pkg}, ident)
	if err != nil {
		return err
	}
	return a.printResult(res, o.json)
}
