package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
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
	env            func(string) string

	flags struct {
		stacks       string
		domain       string
		host         string
		quiet        bool
		acceptNew    bool
		forwardAgent bool
	}
	root *cobra.Command

	// cfg is git's configuration where the stacks repository is (else
	// where the user stands): see load.
	cfg      *gitexec.Config
	settings *settings
	// stacks is the stacks repository as git found it (nil: stacksErr
	// says why there is none), and the setting that named it.
	stacks      *gitexec.Repository
	stacksErr   error
	stacksNamed value
	// here is what git says where the user stands (nil until asked).
	here *gitexec.Probe
	// writeNote names the stacks repository after a write, when it is
	// not the repository the user stands in.
	writeNote string
	// signals are SIGINT and SIGTERM, caught from the start (nil when
	// not run through Main).
	signals *signals
}

// Main runs git-gachette with args and returns the process exit code. It is
// the only entry point; main exits with what it returns.
func Main(args []string) int {
	sigs := catchSignals()
	// Data goes out in one write at the end (a stack of 200 stanzas is one
	// write, not 400); messages on stderr stay unbuffered.
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	a := &app{stdout: out, stderr: os.Stderr, env: os.Getenv, signals: sigs}
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
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(a.stderr, "git-gachette: %s\n", termtext.EscapeLines(ee.err.Error()))
		}
		return ee.code
	}
	fmt.Fprintf(a.stderr, "git-gachette: %s\n", termtext.EscapeLines(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", userPath(findCommand(root, args)))
		return exitUsage
	}
	return exitFailure
}

// emptyFlags refuses an empty --stacks, --remote, --domain or --host
// (--stacks "$UNSET" in a script): an empty value is no repository, remote,
// domain or host, and quietly taking the default instead could write to
// or publish from the wrong place.
func emptyFlags(cmd *cobra.Command) error {
	for _, name := range []string{"stacks", "remote", "domain", "host"} {
		if f := cmd.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
			return &usageError{fmt.Errorf("--%s is empty: give it a value, or leave the flag out for the default", name)}
		}
	}
	return nil
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
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if a.signals != nil {
			a.signals.decide(cmd.Name())
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

// load asks git, once, where the stacks repository is and what the
// configuration says (SPEC §3, §7). The stacks repository is --stacks,
// else GACHETTE_STACKS, else gachette.stacks as git config reads it where
// the user stands, else the repository git finds there (GIT_DIR, git
// --git-dir and -C, gitfiles, worktrees, GIT_CEILING_DIRECTORIES and
// safe.directory all as git decides). The configuration is git's in the
// stacks repository, whichever way it was named, so its own config
// applies. Each question is one round of two concurrent git commands
// (git rev-parse and git config -l): one round when the stacks
// repository is named by flag or environment or is the one you stand in,
// two when gachette.stacks names it.
func (a *app) load() error {
	if a.settings != nil {
		return nil
	}
	ctx := context.Background()
	named := value{Key: "gachette.stacks", Origin: "default"}
	if f := a.root.PersistentFlags().Lookup("stacks"); f != nil && f.Changed {
		named.Value, named.Origin = f.Value.String(), "flag --stacks"
	} else if v := a.env(envName("stacks")); v != "" {
		named.Value, named.Origin = v, "environment "+envName("stacks")
	} else {
		here, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			return configError(err)
		}
		a.here, a.cfg = here, here.Config
		if e, ok := here.Config.Get("gachette.stacks"); ok {
			named.Value, named.Origin = e.Value, "git config ("+e.Where()+")"
		}
		if named.Value == "" {
			a.stacks, a.stacksErr = here.Repo, hereError(here.RepoErr)
		}
	}
	a.stacksNamed = named
	if named.Value != "" {
		p, err := stackrepo.Find(ctx, named.Value, nil, a.probeCache())
		switch {
		case err != nil:
			a.stacksErr = err
		case p.RepoErr != nil:
			a.stacksErr = p.RepoErr
			a.cfg = p.Config
		default:
			a.stacks, a.cfg = p.Repo, p.Config
		}
		var unsafe *gitexec.UnsafeRepositoryError
		if errors.As(a.stacksErr, &unsafe) {
			// git's hint ends the message, so that it can be copied.
			a.stacksErr = fmt.Errorf("stacks repository from %s: %w", named.Origin, a.stacksErr)
		} else if a.stacksErr != nil {
			a.stacksErr = fmt.Errorf("%w (stacks repository from %s)", a.stacksErr, named.Origin)
		}
	}
	if a.cfg == nil {
		// The named repository could not be asked about: the settings
		// are git's where the user stands.
		here, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			return configError(err)
		}
		a.here, a.cfg = here, here.Config
	}
	a.settings = resolveSettings(a.cfg, a.env, a.root, named)
	return nil
}

// probeCache is where git's answers about repositories and configuration
// are kept between runs ($XDG_CACHE_HOME/git-gachette/git, else
// ~/.cache/…): nil, and no cache, with GACHETTE_NO_CACHE set or no home.
func (a *app) probeCache() *gitexec.ProbeCache {
	if a.env("GACHETTE_NO_CACHE") != "" {
		return nil
	}
	dir := a.env("XDG_CACHE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env("HOME")
		if home == "" || !filepath.IsAbs(home) {
			return nil
		}
		dir = filepath.Join(home, ".cache")
	}
	return &gitexec.ProbeCache{Dir: filepath.Join(dir, "git-gachette", "git")}
}

// configError says that git could not read its configuration.
func configError(err error) error {
	var ge *gitexec.Error
	if errors.As(err, &ge) && ge.Stderr != "" {
		return fmt.Errorf("git cannot read its configuration: %s", strings.TrimPrefix(ge.Stderr, "fatal: "))
	}
	return fmt.Errorf("git cannot read its configuration: %w", err)
}

// hereError says why the repository the user stands in cannot be the
// stacks repository (nil: it can).
func hereError(err error) error {
	var nr *gitexec.NotRepositoryError
	if errors.As(err, &nr) && !nr.Named {
		return errors.New("no stacks repository: you are not inside a git repository and gachette.stacks is not set. " +
			"Create one and make it the default:\n  git gachette init ~/stacks.git\n  git config --global gachette.stacks ~/stacks.git\n" +
			"or pass --stacks PATH")
	}
	return err
}

// domain is the effective default domain.
func (a *app) domain() (string, error) {
	if err := a.load(); err != nil {
		return "", err
	}
	d := a.settings.Domain.Value
	if err := stackrepo.CheckName("domain", d); err != nil {
		return "", fmt.Errorf("%w (from %s)", err, a.settings.Domain.Origin)
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

// openStacks opens the stacks repository git found (see load).
func (a *app) openStacks() (*stackrepo.Repo, error) {
	if err := a.load(); err != nil {
		return nil, err
	}
	if a.stacksErr != nil {
		return nil, a.stacksErr
	}
	r, err := stackrepo.OpenFound(a.stacks, a.cfg)
	if err != nil && a.stacksNamed.Value != "" {
		return nil, fmt.Errorf("%w (stacks repository from %s)", err, a.stacksNamed.Origin)
	}
	return r, err
}

// openForWrite opens the stacks repository and asks git who commits to
// it, as git commit would there. When the stacks repository is not the
// one the user stands in, a successful command names it on stderr. The
// caller closes the repository.
func (a *app) openForWrite() (*stackrepo.Repo, stackrepo.Identity, error) {
	r, err := a.openStacks()
	if err != nil {
		return nil, stackrepo.Identity{}, err
	}
	ctx := context.Background()
	here := make(chan *gitexec.Repository, 1)
	go func() {
		if a.here != nil {
			here <- a.here.Repo
			return
		}
		p, err := (&gitexec.Git{Cache: a.probeCache()}).Probe(ctx)
		if err != nil {
			here <- nil // no answer: not where the stacks are, as far as we know
			return
		}
		here <- p.Repo
	}()
	ident, err := r.Identity(ctx)
	if h := <-here; h == nil || !sameDir(h.CommonDir, r.Dir) {
		a.writeNote = fmt.Sprintf("stacks repository: %s (from %s)", r.Dir, a.stacksNamed.Origin)
	}
	if err != nil {
		r.Close()
		return nil, stackrepo.Identity{}, err
	}
	return r, ident, nil
}

// sameDir reports whether two paths name the same directory.
func sameDir(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// info prints a progress or result message to stderr unless --quiet.
func (a *app) info(format string, args ...any) {
	if !a.flags.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

// warn prints a warning to stderr, even with --quiet; what it quotes from
// elsewhere (a remote's names and messages) is escaped for the terminal.
func (a *app) warn(format string, args ...any) {
	fmt.Fprintf(a.stderr, "warning: %s\n", termtext.EscapeLines(fmt.Sprintf(format, args...)))
}

// printJSON prints v as indented JSON. Strings keep their exact value,
// but what a terminal would obey is written as a JSON escape (\u202e),
// which every JSON reader turns back into the character: encoding/json
// escapes C0 controls only.
func (a *app) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(escapeJSON(data), '\n'))
	return err
}

// escapeJSON writes DEL, C1 and bidirectional controls of encoded JSON as
// \uNNNN escapes (outside strings, JSON has none of them).
func escapeJSON(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == 0x7f || r >= 0x80 && termtext.IsTerminalControl(r) {
			if out == nil {
				out = append(make([]byte, 0, len(data)+16), data[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return data
	}
	return out
}
