// Package remote runs the build steps of git-gachette on a build host, over
// SSH or on this machine: working copies, builders and .deb checks. Every
// value that reaches a shell is validated first, then quoted.
package remote

import (
	"fmt"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Quote returns s as one POSIX shell word: in single quotes, with each
// single quote written as '\”. Nothing inside is expanded by the shell.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkLine refuses what has no business in a one-line value for a shell:
// an empty or overlong value, what termtext.CheckLine refuses, and a
// leading '-', which a command could read as an option.
func checkLine(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > max {
		return fmt.Errorf("%s %q is longer than %d bytes", what, termtext.Shorten(s), max)
	}
	if err := termtext.CheckLine(what, s); err != nil {
		return err
	}
	if s[0] == '-' {
		return fmt.Errorf("%s %q starts with '-', which a command would read as an option", what, s)
	}
	return nil
}

// CheckKey validates a working-copy key: one path component of letters,
// digits, '.', '_', '+' and '-', not starting with '.' or '-'.
func CheckKey(key string) error {
	if err := checkLine("working copy key", key, 100); err != nil {
		return err
	}
	if key[0] == '.' {
		return fmt.Errorf("working copy key %q must not start with '.'", key)
	}
	for i, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '+' || r == '-') {
			return fmt.Errorf("working copy key %q has %q at position %d; use letters, digits, '.', '_', '+' and '-'", key, r, i+1)
		}
	}
	return nil
}

// CheckURL validates a repository URL for git clone: one line, no leading
// '-', no spaces, and none of git's command-running transports.
func CheckURL(url string) error {
	if err := checkLine("repository URL", url, 2048); err != nil {
		return err
	}
	if strings.ContainsAny(url, " \t") {
		return fmt.Errorf("repository URL %q contains whitespace", url)
	}
	if err := gitexec.CheckTransport(url); err != nil {
		return fmt.Errorf("repository URL %q %w: use ssh://, https://, git@host:path or a path", url, err)
	}
	return nil
}

// CheckRef validates REF: a branch (master, origin/master), a tag or a
// commit id, with git's ref-name rules (git check-ref-format).
func CheckRef(ref string) error {
	if err := checkLine("ref", ref, 255); err != nil {
		return err
	}
	bad := func(why string) error { return fmt.Errorf("ref %q is not a branch, tag or commit: %s", ref, why) }
	switch {
	case strings.Contains(ref, ".."):
		return bad(`it contains ".."`)
	case strings.Contains(ref, "@{"):
		return bad(`it contains "@{"`)
	case strings.Contains(ref, "//"):
		return bad(`it contains "//"`)
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/"):
		return bad("it starts or ends with '/'")
	case strings.HasSuffix(ref, ".") || strings.HasSuffix(ref, ".lock"):
		return bad(`it ends with "." or ".lock"`)
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") {
			return bad("a component starts with '.'")
		}
	}
	for _, r := range ref {
		if r == ' ' || strings.ContainsRune("~^:?*[\\$`'\"|;&<>(){}!#", r) {
			return bad(fmt.Sprintf("it contains %q", r))
		}
	}
	return nil
}

// CheckRelPath validates a path inside a working copy (the missile file):
// relative, without ".." components.
func CheckRelPath(what, p string) error {
	if err := checkLine(what, p, 1024); err != nil {
		return err
	}
	if strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s %q must be relative to the working copy", what, p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("%s %q must stay inside the working copy (no \"..\")", what, p)
		}
	}
	return nil
}

// CheckHostPath validates a directory on the build host (workdir, debs
// path): absolute, one line, no ".." components.
func CheckHostPath(what, p string) error {
	if err := checkLine(what, p, 1024); err != nil {
		return err
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("%s %q must be an absolute path on the build host", what, p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return fmt.Errorf("%s %q must not contain \"..\"", what, p)
		}
	}
	return nil
}

// CheckCallbackURL validates trebuchet's --web-callback: an http(s) URL on
// one line, without whitespace.
func CheckCallbackURL(u string) error {
	if err := checkLine("web callback", u, 2048); err != nil {
		return err
	}
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return fmt.Errorf("web callback %q is not an http:// or https:// URL", u)
	}
	if strings.ContainsAny(u, " \t") {
		return fmt.Errorf("web callback %q contains whitespace", u)
	}
	return nil
}

// CheckText validates free text passed as one argument (trebuchet's
// --extra-description): one line of printable characters.
func CheckText(what, s string) error {
	if s == "" {
		return nil
	}
	if err := checkLine(what, s, 4096); err != nil {
		return err
	}
	return nil
}
