package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// What push and fetch share: the remote they talk to, how its failures
// read, and how git may ask for credentials.

// remote resolves --remote: the flag, else gachette.remote, else origin.
// git itself resolves what it names (a configured remote, a URL, a path).
// It also returns where the value came from, for messages.
func (a *app) remote(arg string) (stackrepo.Remote, string, error) {
	if err := a.load(); err != nil {
		return stackrepo.Remote{}, "", err
	}
	origin := "flag --remote"
	if arg == "" {
		v := a.settings.Remote
		arg, origin = v.Value, v.Origin
	}
	rm, err := stackrepo.ParseRemote(arg)
	var bad *stackrepo.RemoteArgError
	if errors.As(err, &bad) {
		return rm, origin, fmt.Errorf("remote %q (from %s) %s", termtext.Shorten(stackrepo.Redact(bad.Arg)), origin, bad.Why)
	}
	return rm, origin, err
}

// remoteFailure adds to a push or fetch error what only the command knows:
// where the remote's name came from, and the exit status of an interrupt.
func (a *app) remoteFailure(err error, origin string, r *stackrepo.Repo) error {
	var nsr *stackrepo.NoSuchRemoteError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return &exitError{code: exitInterrupted, err: err}
	case errors.As(err, &nsr):
		return fmt.Errorf("remote %q (from %s) is not configured in the stacks repository %s and is not a URL or path; "+
			"add it with: git -C %s remote add %s URL, or pass --remote URL", nsr.Name, origin, r.Dir, r.Dir, nsr.Name)
	}
	return err
}

// remoteOptions: git may ask for credentials only when someone is there to
// answer (standard input and error are a terminal); the server's messages
// go to standard error.
func (a *app) remoteOptions() stackrepo.RemoteOptions {
	return stackrepo.RemoteOptions{Messages: a.stderr, Interactive: isTerminal(os.Stdin) && isTerminal(os.Stderr)}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func idStrings(ids []stackrepo.StackID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
