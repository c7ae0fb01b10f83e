package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Exit codes: 0 success, 1 failure, 2 usage error.
const (
	exitFailure = 1
	exitUsage   = 2
)

// exitError carries a specific exit code (stack diff's "different" is 1
// without being a failure; its failures are 2, like diff(1)).
type exitError struct {
	code int
	err  error // nil: nothing to print
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageError marks errors in how a command was called.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func (a *app) run(args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.Execute()
	if a.signals != nil && a.signals.pending() {
		// a signal before the command was known (or none ran)
		fmt.Fprintln(a.stderr, "git-gachette: interrupted")
		return exitInterrupted
	}
	if err == nil {
		if a.writeNote != "" {
			a.info("%s", a.writeNote)
		}
		return 0
	}
	var ee *exitError
	if !a.printedJSON && wantsJSON(root, args) && (!errors.As(err, &ee) || ee.err != nil) {
		// the error goes to stderr as always, and into the JSON asked for
		a.printJSON(errorJSON{Error: err.Error()})
	}
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(a.stderr, "git-gachette: %s\n", termtext.EscapeLines(ee.err.Error()))
		}
		return ee.code
	}
	var ue *usageError
	if !errors.As(err, &ue) && isUnknownCommand(root, args) {
		err = unknownCommand(root, args)
	}
	fmt.Fprintf(a.stderr, "git-gachette: %s\n", termtext.EscapeLines(err.Error()))
	if errors.As(err, &ue) {
		fmt.Fprintf(a.stderr, "Run '%s -h' for usage.\n", userPath(findCommand(root, args)))
		return exitUsage
	}
	return exitFailure
}

func (a *app) newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "git-gachette",
		Short: "Build Debian packages on build hosts and record them in stacks kept in git",
		Long: `git-gachette records sets of Debian package versions that work together —
stacks — as commits and annotated tags in a plain git repository, so that
git log audits every change and git push publishes stacks for deploy tools.

Run it as "git gachette <command>" once git-gachette is on your PATH.`,
		Example: `  git gachette init ~/stacks.git
  git config --global gachette.stacks ~/stacks.git
  git gachette stack create 1.0.0
  git gachette stack add 1.0.0 dh-app 2.1.0 dh-app_2.1.0_all.deb
  git gachette stack show 1.0.0 --format apt`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		// usage lines as the user types them: git gachette stack add …
		Annotations: map[string]string{cobra.CommandDisplayNameAnnotation: "git gachette"},
	}
	root.SetVersionTemplate("git-gachette {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError(err) })
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if a.signals != nil {
			a.signals.decide(cmd.Name())
		}
		// cobra checks flag groups (--file or --local …) after this hook;
		// checked here first, the refusal is a usage error.
		if err := cmd.ValidateFlagGroups(); err != nil {
			return &usageError{err}
		}
		return emptyFlags(cmd)
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.stacks, "stacks", "", "stacks repository (default: gachette.stacks, else the repository you stand in)")
	pf.StringVarP(&a.flags.domain, "domain", "d", "", "domain of the stacks (default: gachette.domain, else main)")
	pf.BoolVarP(&a.flags.quiet, "quiet", "q", false, "print only errors and requested data")
	pf.StringVarP(&a.flags.host, "host", "H", "", "build host: [user@]host[:port], an ~/.ssh/config alias, or local (default: gachette.host)")
	pf.BoolVar(&a.flags.acceptNew, "accept-new-host-key", false, "add the key of a build host not yet in known_hosts (never a changed key)")
	pf.BoolVar(&a.flags.forwardAgent, "forward-agent", false, "forward your ssh-agent to the build host (default: gachette.forwardAgent)")
	// ours plugs into git's completion (git gachette completion)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(helpCommand())
	a.root = root
	root.AddCommand(
		a.newInitCmd(),
		a.newStackCmd(),
		a.newDomainCmd(),
		a.newPromoteCmd(),
		a.newRollbackCmd(),
		a.newChannelCmd(),
		a.newPushCmd(),
		a.newFetchCmd(),
		a.newConfigCmd(),
		a.newVersionCmd(),
		a.newPrepareCmd(),
		a.newBuildCmd(),
		a.newLintCmd(),
		a.newQuickCmd(),
		a.newFsckCmd(),
		a.newImportCmd(),
		a.newExportCmd(),
		a.newCompletionCmd(),
		a.newInstallManCmd(),
	)
	usageArgs(root)
	a.addCompletions(root)
	return root
}
