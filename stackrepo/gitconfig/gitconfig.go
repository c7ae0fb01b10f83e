// Package gitconfig reads git's configuration the way git does for a
// command run in a repository: system, global and local files (with
// include.path and includeIf "gitdir:"), then `git -c` values passed down
// in the environment. It only reads; it never writes a config file.
package gitconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-git/gcfg"
)

// Scope says which level of configuration an entry comes from.
type Scope string

// The scopes, lowest precedence first.
const (
	System  Scope = "system"
	Global  Scope = "global"
	Local   Scope = "local"
	Command Scope = "command"
)

// Entry is one key = value with where it was read.
type Entry struct {
	Key    string // "section.name" or "section.subsection.name"; section and name lowercase
	Value  string
	Origin string // file path, or "command line"
	Scope  Scope
	// Implicit is true for a key written without "= value", which git reads as true.
	Implicit bool
}

// Config is every entry in precedence order: a later entry wins.
type Config struct {
	Entries []Entry
}

// Env abstracts the environment so tests and callers control it.
type Env func(string) string

// Load reads the configuration a git command run in gitDir would see (gitDir
// may be "" outside a repository). home is the user's home directory.
func Load(gitDir string, env Env) (*Config, error) {
	c := &Config{}
	l := loader{cfg: c, env: env, gitDir: gitDir}
	if !isTrue(env("GIT_CONFIG_NOSYSTEM")) {
		sys := env("GIT_CONFIG_SYSTEM")
		if sys == "" {
			sys = "/etc/gitconfig"
		}
		if err := l.file(sys, System, 0); err != nil {
			return nil, err
		}
	}
	if g := env("GIT_CONFIG_GLOBAL"); g != "" {
		if err := l.file(g, Global, 0); err != nil {
			return nil, err
		}
	} else {
		home := env("HOME")
		xdg := env("XDG_CONFIG_HOME")
		if xdg == "" && home != "" {
			xdg = filepath.Join(home, ".config")
		}
		if xdg != "" {
			if err := l.file(filepath.Join(xdg, "git", "config"), Global, 0); err != nil {
				return nil, err
			}
		}
		if home != "" {
			if err := l.file(filepath.Join(home, ".gitconfig"), Global, 0); err != nil {
				return nil, err
			}
		}
	}
	if gitDir != "" {
		if err := l.file(filepath.Join(gitDir, "config"), Local, 0); err != nil {
			return nil, err
		}
	}
	if err := l.command(); err != nil {
		return nil, err
	}
	return c, nil
}

// GlobalFile is the file `git config --global` writes to.
func GlobalFile(env Env) string {
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

type loader struct {
	cfg    *Config
	env    Env
	gitDir string
}

const maxIncludeDepth = 10

func (l *loader) file(path string, scope Scope, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("git config %s: includes nested more than %d deep (an include loop?)", path, maxIncludeDepth)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || (depth > 0 && errors.Is(err, os.ErrPermission)) {
			return nil
		}
		return fmt.Errorf("read git config %s: %w", path, err)
	}
	var includeErr error
	cb := func(section, subsection, key, value string, blank bool) error {
		if key == "" {
			return nil
		}
		section, key = strings.ToLower(section), strings.ToLower(key)
		full := section + "." + key
		if subsection != "" {
			full = section + "." + subsection + "." + key
		}
		l.cfg.Entries = append(l.cfg.Entries, Entry{Key: full, Value: value, Origin: path, Scope: scope, Implicit: blank})
		if key != "path" || blank {
			return nil
		}
		include := section == "include" && subsection == ""
		if section == "includeif" && subsection != "" {
			include = l.condition(subsection, path)
		}
		if include {
			if err := l.file(l.resolve(value, path), scope, depth+1); err != nil && includeErr == nil {
				includeErr = err
			}
		}
		return nil
	}
	if err := gcfg.ReadWithCallback(bytes.NewReader(data), cb); err != nil {
		return fmt.Errorf("cannot parse git config %s: %v", path, err)
	}
	return includeErr
}

// resolve expands "~/" and makes a relative include path relative to the
// directory of the file that includes it, as git does.
func (l *loader) resolve(p, from string) string {
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(l.env("HOME"), p[2:])
	}
	if !filepath.IsAbs(p) {
		return filepath.Join(filepath.Dir(from), p)
	}
	return p
}

// condition evaluates an includeIf condition. gitdir: and gitdir/i: are
// supported; others (onbranch:, hasconfig:) are treated as false, since
// they do not bear on the settings git-gachette reads.
func (l *loader) condition(cond, from string) bool {
	var pattern string
	fold := false
	switch {
	case strings.HasPrefix(cond, "gitdir:"):
		pattern = cond[len("gitdir:"):]
	case strings.HasPrefix(cond, "gitdir/i:"):
		pattern, fold = cond[len("gitdir/i:"):], true
	default:
		return false
	}
	if l.gitDir == "" || pattern == "" {
		return false
	}
	switch {
	case strings.HasPrefix(pattern, "~/"):
		pattern = filepath.Join(l.env("HOME"), pattern[2:]) + suffixSlash(pattern)
	case strings.HasPrefix(pattern, "./"):
		pattern = filepath.Join(filepath.Dir(from), pattern[2:]) + suffixSlash(pattern)
	case !filepath.IsAbs(pattern):
		pattern = "**/" + pattern
	}
	if strings.HasSuffix(pattern, "/") {
		pattern += "**"
	}
	dir, err := filepath.Abs(l.gitDir)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	re, err := globRegexp(pattern, fold)
	if err != nil {
		return false
	}
	return re.MatchString(dir) || re.MatchString(dir+"/")
}

func suffixSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return "/"
	}
	return ""
}

// globRegexp turns a wildmatch pattern (*, ?, **) into a regexp.
func globRegexp(pattern string, fold bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case strings.HasPrefix(pattern[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// command adds the values of `git -c k=v` (GIT_CONFIG_PARAMETERS, which git
// passes to external commands) and of GIT_CONFIG_COUNT/KEY_n/VALUE_n.
func (l *loader) command() error {
	if p := l.env("GIT_CONFIG_PARAMETERS"); p != "" {
		pairs, err := parseParameters(p)
		if err != nil {
			return fmt.Errorf("GIT_CONFIG_PARAMETERS: %w", err)
		}
		for _, kv := range pairs {
			l.add(kv[0], kv[1], kv[2] == "")
		}
	}
	if n := l.env("GIT_CONFIG_COUNT"); n != "" {
		count, err := strconv.Atoi(n)
		if err != nil || count < 0 {
			return fmt.Errorf("GIT_CONFIG_COUNT %q is not a count", n)
		}
		for i := 0; i < count; i++ {
			k := l.env(fmt.Sprintf("GIT_CONFIG_KEY_%d", i))
			if k == "" {
				return fmt.Errorf("GIT_CONFIG_KEY_%d is not set (GIT_CONFIG_COUNT is %d)", i, count)
			}
			l.add(k, l.env(fmt.Sprintf("GIT_CONFIG_VALUE_%d", i)), false)
		}
	}
	return nil
}

func (l *loader) add(key, value string, implicit bool) {
	l.cfg.Entries = append(l.cfg.Entries, Entry{Key: normalizeKey(key), Value: value, Origin: "command line", Scope: Command, Implicit: implicit})
}

// parseParameters decodes git's GIT_CONFIG_PARAMETERS: shell-single-quoted
// words separated by spaces, each either 'key=value' (old form) or
// 'key'='value' (new form). The third element is "" for a bare key.
func parseParameters(s string) ([][3]string, error) {
	var out [][3]string
	i := 0
	word := func() (string, error) {
		if i >= len(s) || s[i] != '\'' {
			return "", fmt.Errorf("expected a quoted word at offset %d", i)
		}
		i++
		var b strings.Builder
		for {
			j := strings.IndexByte(s[i:], '\'')
			if j < 0 {
				return "", fmt.Errorf("unterminated quote")
			}
			b.WriteString(s[i : i+j])
			i += j + 1
			if strings.HasPrefix(s[i:], `\''`) {
				b.WriteByte('\'')
				i += 3
				continue
			}
			return b.String(), nil
		}
	}
	for {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		k, err := word()
		if err != nil {
			return nil, err
		}
		if i < len(s) && s[i] == '=' {
			i++
			v, err := word()
			if err != nil {
				return nil, err
			}
			out = append(out, [3]string{k, v, "="})
			continue
		}
		if key, v, ok := strings.Cut(k, "="); ok {
			out = append(out, [3]string{key, v, "="})
		} else {
			out = append(out, [3]string{k, "", ""})
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

// Get returns the winning entry for key.
func (c *Config) Get(key string) (Entry, bool) {
	key = normalizeKey(key)
	for i := len(c.Entries) - 1; i >= 0; i-- {
		if c.Entries[i].Key == key {
			return c.Entries[i], true
		}
	}
	return Entry{}, false
}

// Value returns the winning value for key, or "".
func (c *Config) Value(key string) string {
	e, _ := c.Get(key)
	return e.Value
}

// Subsections lists, in first-seen order, the subsections of section that
// start with prefix (e.g. section "gachette", prefix "project.").
func (c *Config) Subsections(section, prefix string) []string {
	section = strings.ToLower(section) + "."
	seen := map[string]bool{}
	var out []string
	for _, e := range c.Entries {
		if !strings.HasPrefix(e.Key, section) {
			continue
		}
		rest := e.Key[len(section):]
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

// Bool interprets an entry as git does: true/yes/on/1, false/no/off/0/"",
// and a bare key as true.
func (e Entry) Bool() (bool, error) {
	if e.Implicit {
		return true, nil
	}
	switch strings.ToLower(e.Value) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("%s = %q (from %s) is not a boolean; use true or false", e.Key, e.Value, e.Origin)
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// ReadFile reads one config file (and what it includes); a missing file
// reads as empty.
func ReadFile(path string, env Env) (*Config, error) {
	c := &Config{}
	l := loader{cfg: c, env: env}
	if err := l.file(path, "file", 0); err != nil {
		return nil, err
	}
	return c, nil
}
