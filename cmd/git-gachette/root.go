package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitconfig"
)

// Exit codes: 0 success, 1 failure, 2 usage error (SPEC §4).
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

// app is what every command shares: where it writes, its environment, the
// global flags, and what is loaded lazily from them.
type app struct {
	stdout, stderr io.Writer
	env            gitconfig.Env
	now            func() time.Time

	flags struct {
		stacks       string
		domain       string
		host         string
		quiet        bool
		acceptNew    bool
		forwardAgent bool
	}
	root *cobra.Command

	cfg      *gitconfig.Config
	cwdRepo  string // the repository the user stands in ("" if none)
	settings *settings
}

// Main runs git-gachette with args and returns the process exit code. It is
// the only entry point; main exits with what it returns.
func Main(args []string) int {
	// Data goes out in one write at the end (a stack of 200 stanzas is one
	// write, not 400); messages on stderr stay unbuffered.
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	a := &app{stdout: out, stderr: os.Stderr, env: os.Getenv, now: time.Now}
	code := a.run(args)
	if err := out.Flush(); err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "git-gachette: writing the output: %v\n", err)
		code = 1
	}
	return code
}

func (a *app) run(args []string) int {
	root := a.newRootCmd()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(a.stderr, "git-gachette: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(a.stderr, "git-gachette: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", userPath(findCommand(root, args)))
		return exitUsage
	}
	return exitFailure
}

// isCobraUsage recognises cobra's own errors about flags and arguments.
func isCobraUsage(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "requires exactly", "bad flag syntax", "if any flags in the group"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

// findCommand is the command args name, else root.
func findCommand(root *cobra.Command, args []string) *cobra.Command {
	c, _, err := root.Find(args)
	if err != nil || c == nil {
		return root
	}
	return c
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
	}
	root.SetVersionTemplate("git-gachette {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.flags.stacks, "stacks", "", "stacks repository (default: gachette.stacks, else the repository you stand in)")
	pf.StringVarP(&a.flags.domain, "domain", "d", "", "domain of the stacks (default: gachette.domain, else main)")
	pf.BoolVarP(&a.flags.quiet, "quiet", "q", false, "print only errors and requested data")
	pf.StringVarP(&a.flags.host, "host", "H", "", "build host: [user@]host[:port], an ~/.ssh/config alias, or local (default: gachette.host)")
	pf.BoolVar(&a.flags.acceptNew, "accept-new-host-key", false, "add the key of a build host not yet in known_hosts (never a changed key)")
	pf.BoolVar(&a.flags.forwardAgent, "forward-agent", false, "forward your ssh-agent to the build host (default: gachette.forwardAgent)")
	root.CompletionOptions.HiddenDefaultCmd = true
	a.root = root
	root.AddCommand(
		a.newInitCmd(),
		a.newStackCmd(),
		a.newPushCmd(),
		a.newFetchCmd(),
		a.newConfigCmd(),
		a.newVersionCmd(),
		a.newPrepareCmd(),
		a.newBuildCmd(),
		a.newLintCmd(),
		a.newQuickCmd(),
		a.newFsckCmd(),
	)
	return root
}

// exactArgs is cobra.ExactArgs with the names of the arguments in the
// message and a usage error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return &usageError{fmt.Errorf("%s takes %s, %s; got %d", userPath(cmd), count(len(names), "argument"), strings.Join(names, " "), len(args))}
		}
		return nil
	}
}

// userPath is the command as the user types it: "git gachette stack add".
func userPath(cmd *cobra.Command) string {
	return "git gachette" + strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name())
}

// minArgs takes the first name's argument, then any number more.
func minArgs(first, rest string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < 1 {
			return &usageError{fmt.Errorf("%s takes %s %s; got no argument", userPath(cmd), first, rest)}
		}
		return nil
	}
}

// load reads git configuration once: the repository the user stands in and
// the system and global files.
func (a *app) load() error {
	if a.settings != nil {
		return nil
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	gitDir := ""
	if path, err := stackrepo.Discover(cwd); err == nil {
		a.cwdRepo = path
		if gd, err := stackrepo.GitDir(path); err == nil {
			gitDir = gd
		}
	}
	a.cfg, err = gitconfig.Load(gitDir, a.env)
	if err != nil {
		return err
	}
	a.settings = newSettings(a.cfg, a.env, a.root)
	return nil
}

// domain is the effective default domain.
func (a *app) domain() (string, error) {
	if err := a.load(); err != nil {
		return "", err
	}
	d := a.settings.get("domain").Value
	if err := stackrepo.CheckName("domain", d); err != nil {
		return "", fmt.Errorf("%w (from %s)", err, a.settings.get("domain").Origin)
	}
	return d, nil
}

// stackID parses a STACK argument in the effective domain.
func (a *app) stackID(arg string) (stackrepo.StackID, error) {
	d, err := a.domain()
	if err != nil {
		return stackrepo.StackID{}, err
	}
	return stackrepo.ParseStackID(arg, d)
}

// openStacks opens the stacks repository found as SPEC §5 says.
func (a *app) openStacks() (*stackrepo.Repo, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	s := a.settings.get("stacks")
	path := s.Value
	if path == "" {
		if a.cwdRepo == "" {
			return nil, errors.New("no stacks repository: you are not inside a git repository and gachette.stacks is not set. " +
				"Create one and make it the default:\n  git gachette init ~/stacks.git\n  git config --global gachette.stacks ~/stacks.git\n" +
				"or pass --stacks PATH")
		}
		path = a.cwdRepo
	}
	r, err := stackrepo.Open(path)
	if err != nil {
		if s.Value != "" {
			return nil, fmt.Errorf("%w (stacks repository from %s)", err, s.Origin)
		}
		return nil, err
	}
	return r, nil
}

// openForWrite opens the stacks repository and reads who commits to it,
// from its config, as git commit would in that repository. The caller
// closes the repository.
func (a *app) openForWrite() (*stackrepo.Repo, stackrepo.Identity, error) {
	r, err := a.openStacks()
	if err != nil {
		return nil, stackrepo.Identity{}, err
	}
	cfg, err := gitconfig.Load(r.Dir, a.env)
	if err == nil {
		var ident stackrepo.Identity
		if ident, err = stackrepo.IdentityFromConfig(cfg, a.env, a.now()); err == nil {
			return r, ident, nil
		}
	}
	r.Close()
	return nil, stackrepo.Identity{}, err
}

// info prints a progress or result message to stderr unless --quiet.
func (a *app) info(format string, args ...any) {
	if !a.flags.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
