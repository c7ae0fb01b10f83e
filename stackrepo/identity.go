package stackrepo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/stackrepo/gitconfig"
)

// Identity is who writes a change: the commit's author and committer (the
// committer also tags).
type Identity struct {
	Author    object.Signature
	Committer object.Signature
}

// IdentityFromConfig takes author and committer exactly where `git commit`
// does: GIT_AUTHOR_* / GIT_COMMITTER_* first, then author.* / committer.*,
// then user.*, then EMAIL for the address; dates from GIT_*_DATE, else now.
// Unlike git, it never guesses a name from the system: a missing identity
// is an error that says how to set it.
func IdentityFromConfig(cfg *gitconfig.Config, env gitconfig.Env, now time.Time) (Identity, error) {
	author, err := signature(cfg, env, "author", now)
	if err != nil {
		return Identity{}, err
	}
	committer, err := signature(cfg, env, "committer", now)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Author: author, Committer: committer}, nil
}

func signature(cfg *gitconfig.Config, env gitconfig.Env, role string, now time.Time) (object.Signature, error) {
	upper := strings.ToUpper(role)
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	name := first(env("GIT_"+upper+"_NAME"), cfg.Value(role+".name"), cfg.Value("user.name"))
	email := first(env("GIT_"+upper+"_EMAIL"), cfg.Value(role+".email"), cfg.Value("user.email"), env("EMAIL"))
	if strings.TrimSpace(name) == "" || strings.TrimSpace(email) == "" {
		missing := "user.name"
		if strings.TrimSpace(name) != "" {
			missing = "user.email"
		}
		return object.Signature{}, fmt.Errorf("no git identity: %s is not set (git-gachette records stack changes as commits, like git commit). Set it with:\n"+
			"  git config --global user.name \"Your Name\"\n"+
			"  git config --global user.email you@example.com", missing)
	}
	for _, v := range []struct{ what, s string }{{"name", name}, {"email", email}} {
		if strings.ContainsAny(v.s, "<>\n\x00") {
			return object.Signature{}, fmt.Errorf("git identity: %s %s %q contains '<', '>', a newline or NUL, which a commit cannot hold", role, v.what, v.s)
		}
	}
	when := now
	if d := env("GIT_" + upper + "_DATE"); d != "" {
		t, err := ParseGitDate(d)
		if err != nil {
			return object.Signature{}, fmt.Errorf("GIT_%s_DATE %q: %w", upper, d, err)
		}
		when = t
	}
	return object.Signature{Name: strings.TrimSpace(name), Email: strings.TrimSpace(email), When: when}, nil
}

// ParseGitDate reads the date formats git documents for GIT_*_DATE: git's
// internal format ("<unix> <+zzzz>", optionally "@"-prefixed), RFC 2822 and
// ISO 8601.
func ParseGitDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if secs, zone, ok := strings.Cut(strings.TrimPrefix(s, "@"), " "); ok || strings.HasPrefix(s, "@") {
		if !ok {
			secs, zone = strings.TrimPrefix(s, "@"), "+0000"
		}
		if n, err := strconv.ParseInt(secs, 10, 64); err == nil {
			loc, err := parseZone(zone)
			if err != nil {
				return time.Time{}, err
			}
			return time.Unix(n, 0).In(loc), nil
		}
	}
	layouts := []string{
		time.RFC1123Z, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700",
		time.RFC3339, "2006-01-02T15:04:05-0700", "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05 -07:00",
		"2006-01-02T15:04:05", "2006-01-02 15:04:05",
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date git understands; use \"<unix seconds> +0000\", RFC 2822 or ISO 8601")
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
