package gitexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ConfigEntry is one key = value of git's configuration, with where git
// read it.
type ConfigEntry struct {
	// Key is "section.name" or "section.subsection.name", with section and
	// name in lower case, as git prints them.
	Key   string
	Value string
	// Origin is git's --show-origin: "file:<absolute path>", "command
	// line:", "blob:<id>", "standard input:".
	Origin string
	// Scope is git's --show-scope: system, global, local, worktree,
	// command.
	Scope string
	// Implicit is true for a key written without "= value", which git
	// reads as true.
	Implicit bool
}

// Where says where the entry comes from, for messages: "global:
// /home/u/.gitconfig", "command: command line".
func (e ConfigEntry) Where() string {
	origin := strings.TrimPrefix(e.Origin, "file:")
	origin = strings.TrimSuffix(origin, ":")
	return e.Scope + ": " + origin
}

// Bool reads the entry as git reads a boolean (git config --type=bool).
func (e ConfigEntry) Bool() (bool, error) {
	if e.Implicit {
		return true, nil
	}
	b, err := ParseBool(e.Value)
	if err != nil {
		return false, fmt.Errorf("%s = %q (from %s) is not a boolean; use true or false", e.Key, e.Value, e.Where())
	}
	return b, nil
}

// ParseBool reads a boolean as git does: true/yes/on, false/no/off and ""
// (any case), and integers (non-zero is true, with an optional k, m or g
// unit).
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off", "":
		return false, nil
	}
	num := s
	if n := len(num); n > 1 && strings.ContainsRune("kKmMgG", rune(num[n-1])) {
		num = num[:n-1]
	}
	if v, err := strconv.ParseInt(num, 10, 64); err == nil {
		return v != 0, nil
	}
	return false, errors.New("not a boolean")
}

// Config is git's configuration as one command sees it: every entry in
// the order git reads them, so a later entry wins.
type Config struct {
	Entries []ConfigEntry
}

// configArgs list every entry with its origin and scope, NUL-separated.
var configArgs = []string{"config", "--list", "-z", "--show-origin", "--show-scope"}

// config reads the configuration as git config -l sees it where g runs:
// system, global, the repository's local and worktree files, includes
// and every includeIf condition (gitdir, onbranch, hasconfig) as git
// evaluates them, git -c and GIT_CONFIG_* settings. File origins may be
// relative: see resolveOrigins.
func (g *Git) config(ctx context.Context) (*Config, error) {
	out, err := run(g.Command(ctx, configArgs...), nil)
	if err != nil {
		return nil, err
	}
	return ParseConfig(out, "")
}

// ParseConfig reads the output of git config --list -z --show-origin
// --show-scope: for each entry "scope NUL origin NUL key [NL value] NUL".
// File origins relative to dir are made absolute (dir "": left as they
// are).
func ParseConfig(out []byte, dir string) (*Config, error) {
	c := &Config{}
	fields := bytes.Split(out, []byte{0})
	if len(fields) > 0 && len(fields[len(fields)-1]) == 0 {
		fields = fields[:len(fields)-1]
	}
	if len(fields)%3 != 0 {
		return nil, fmt.Errorf("git %s: unexpected output (%d fields)", strings.Join(configArgs, " "), len(fields))
	}
	for i := 0; i < len(fields); i += 3 {
		e := ConfigEntry{Scope: string(fields[i]), Origin: string(fields[i+1])}
		key, value, ok := bytes.Cut(fields[i+2], []byte{'\n'})
		e.Key, e.Value, e.Implicit = string(key), string(value), !ok
		if p, ok := strings.CutPrefix(e.Origin, "file:"); ok && !filepath.IsAbs(p) && dir != "" {
			e.Origin = "file:" + filepath.Join(dir, p)
		}
		c.Entries = append(c.Entries, e)
	}
	return c, nil
}

// resolveOrigins makes relative file origins absolute. git prints a file
// as it opened it: relative to the directory it works in once it has found
// the repository — the top of the work tree, the git directory, or where
// it started (with GIT_DIR) — so the base is the one that makes the local
// file's origin the repository's config file.
func (c *Config) resolveOrigins(repo *Repository, start string) {
	base := start
	if repo != nil {
		base = ""
		local := filepath.Join(repo.CommonDir, "config")
		for _, e := range c.Entries {
			p, ok := strings.CutPrefix(e.Origin, "file:")
			if !ok || e.Scope != "local" || filepath.IsAbs(p) {
				continue
			}
			for _, b := range []string{repo.WorkTree, start, repo.GitDir, repo.CommonDir, filepath.Dir(repo.CommonDir)} {
				if b != "" && filepath.Join(b, p) == local {
					base = b
					break
				}
			}
			break
		}
		if base == "" {
			base = repo.WorkTree
		}
		if base == "" {
			base = repo.GitDir
		}
	}
	for i, e := range c.Entries {
		if p, ok := strings.CutPrefix(e.Origin, "file:"); ok && !filepath.IsAbs(p) {
			c.Entries[i].Origin = "file:" + filepath.Join(base, p)
		}
	}
}

// normalizeKey lowercases the section and the name of a key, keeping the
// subsection's case, as git does.
func normalizeKey(key string) string {
	first := strings.IndexByte(key, '.')
	last := strings.LastIndexByte(key, '.')
	if first < 0 {
		return strings.ToLower(key)
	}
	return strings.ToLower(key[:first]) + key[first:last] + strings.ToLower(key[last:])
}

// Get returns the winning entry for key (any case for section and name).
func (c *Config) Get(key string) (ConfigEntry, bool) {
	if c == nil {
		return ConfigEntry{}, false
	}
	key = normalizeKey(key)
	for i := len(c.Entries) - 1; i >= 0; i-- {
		if c.Entries[i].Key == key {
			return c.Entries[i], true
		}
	}
	return ConfigEntry{}, false
}

// Value returns the winning value for key, or "".
func (c *Config) Value(key string) string {
	e, _ := c.Get(key)
	return e.Value
}

// Subsections lists, in first-seen order, the subsections of section that
// start with prefix (section "gachette", prefix "project.").
func (c *Config) Subsections(section, prefix string) []string {
	if c == nil {
		return nil
	}
	section = strings.ToLower(section) + "."
	seen := map[string]bool{}
	var out []string
	for _, e := range c.Entries {
		rest, ok := strings.CutPrefix(e.Key, section)
		if !ok {
			continue
		}
		last := strings.LastIndexByte(rest, '.')
		if last < 0 {
			continue
		}
		sub := rest[:last]
		if strings.HasPrefix(sub, prefix) && !seen[sub] {
			seen[sub] = true
			out = append(out, sub)
		}
	}
	return out
}

// PathValue reads value, the value of key, as git reads a path setting
// (git config --type=path): a leading "~/" or "~user/" is a home
// directory, "%(prefix)/" git's runtime prefix. Only such a value costs a
// git command; any other is returned as it is. A relative result stays
// relative: the caller decides what it is relative to.
func (g *Git) PathValue(ctx context.Context, key, value string) (string, error) {
	if !strings.HasPrefix(value, "~") && !strings.HasPrefix(value, "%(") {
		return value, nil
	}
	out, err := g.Output(ctx, nil, "-c", key+"="+value, "config", "--type=path", "--get", key)
	if err != nil {
		return "", fmt.Errorf("%s = %q: %w", key, value, err)
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// GlobalConfigFile is the file git config --global writes, by git's
// documented rule (git-config(1), FILES): GIT_CONFIG_GLOBAL; else
// ~/.gitconfig, unless only $XDG_CONFIG_HOME/git/config exists. git has
// no command that prints it without creating it (git config --global
// --edit would), so the rule is followed here.
func GlobalConfigFile(env func(string) string) string {
	if g := env("GIT_CONFIG_GLOBAL"); g != "" {
		return g
	}
	home := env("HOME")
	gitconfig := filepath.Join(home, ".gitconfig")
	if _, err := os.Stat(gitconfig); err == nil {
		return gitconfig
	}
	xdg := env("XDG_CONFIG_HOME")
	if xdg == "" {
		xdg = filepath.Join(home, ".config")
	}
	if _, err := os.Stat(filepath.Join(xdg, "git", "config")); err == nil {
		return filepath.Join(xdg, "git", "config")
	}
	return gitconfig
}
