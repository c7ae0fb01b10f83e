package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

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
	// printedJSON: the command printed its JSON (see run: a command
	// asked for JSON that fails before printing it prints its error as
	// JSON).
	printedJSON bool

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
