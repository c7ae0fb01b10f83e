package gitexec

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Ident is a git identity with its date, as git var prints it.
type Ident struct {
	Name, Email string
	When        time.Time
}

// IdentUnknownError says git has no identity to give: nothing configured,
// and nothing it could (or may) guess.
type IdentUnknownError struct {
	Var    string // GIT_AUTHOR_IDENT or GIT_COMMITTER_IDENT
	Reason string // git's own words
}

func (e *IdentUnknownError) Error() string {
	return fmt.Sprintf("no git identity: %s (git var %s). git-gachette records stack changes as commits, like git commit; tell git who you are:\n"+
		"  git config --global user.name \"Your Name\"\n"+
		"  git config --global user.email you@example.com", e.Reason, e.Var)
}

// Ident asks git for the author (GIT_AUTHOR_IDENT) or committer
// (GIT_COMMITTER_IDENT) identity git commit would use here: GIT_AUTHOR_*
// and GIT_COMMITTER_* variables, author.*/committer.*/user.* settings,
// EMAIL, user.useConfigOnly, and the date (GIT_*_DATE, else now), all as
// git decides.
func (g *Git) Ident(ctx context.Context, name string) (Ident, error) {
	cmd := g.Command(ctx, "var", name)
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANGUAGE=")
	out, err := run(cmd, nil)
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && ge.ExitCode > 0 {
			reason := lastFatal(ge.Stderr)
			if strings.Contains(ge.Stderr, "Please tell me who you are") || strings.Contains(reason, "auto-detect") ||
				strings.Contains(reason, "auto-detection is disabled") || strings.Contains(reason, "empty ident name") {
				return Ident{}, &IdentUnknownError{Var: name, Reason: reason}
			}
			return Ident{}, fmt.Errorf("git identity (git var %s): %s", name, reason)
		}
		return Ident{}, err
	}
	id, err := ParseIdent(strings.TrimSuffix(string(out), "\n"))
	if err != nil {
		return Ident{}, fmt.Errorf("git var %s: %w", name, err)
	}
	return id, nil
}

// ParseIdent reads git's "Name <email> <unix seconds> <+zzzz>". git keeps
// '<', '>' and newlines out of names and addresses, so the first '<' and
// the last '>' delimit the address.
func ParseIdent(s string) (Ident, error) {
	lt, gt := strings.IndexByte(s, '<'), strings.LastIndexByte(s, '>')
	if lt < 0 || gt < lt {
		return Ident{}, fmt.Errorf("%q is not \"Name <email> date\"", s)
	}
	id := Ident{Name: strings.TrimSpace(s[:lt]), Email: s[lt+1 : gt]}
	secs, zone, ok := strings.Cut(strings.TrimSpace(s[gt+1:]), " ")
	n, err := strconv.ParseInt(secs, 10, 64)
	if !ok || err != nil {
		return Ident{}, fmt.Errorf("%q has no \"<unix seconds> <+zzzz>\" date", s)
	}
	loc, err := parseZone(zone)
	if err != nil {
		return Ident{}, fmt.Errorf("%q: %w", s, err)
	}
	id.When = time.Unix(n, 0).In(loc)
	return id, nil
}

func parseZone(z string) (*time.Location, error) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, fmt.Errorf("time zone %q is not +hhmm or -hhmm", z)
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || m > 59 {
		return nil, fmt.Errorf("time zone %q is not +hhmm or -hhmm", z)
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone("", off), nil
}
