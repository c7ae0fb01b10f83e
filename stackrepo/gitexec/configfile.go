package gitexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
)

// SectionExistsError is AppendConfigSection refusing a file that has the
// section already: Key is a setting it has (empty when the file holds
// the section's first line as a comment, which git config does not
// list).
type SectionExistsError struct {
	File    string
	Section string
	Key     string
}

func (e *SectionExistsError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("%s already has %s settings (%s); nothing written. Edit them with: git config --file %s --edit", e.File, e.Section, e.Key, e.File)
	}
	return fmt.Sprintf("%s has the [%s] template already; nothing written. Edit it with: git config --file %s --edit", e.File, e.Section, e.File)
}

// AppendConfigSection appends text, a commented section whose first line
// is text's, to the git config file file, as git writes config files:
// through a symbolic link, at its target, under git's lock (file.lock),
// replaced whole. Nothing is overwritten: a file in which git config
// finds a key in section (its includes read too), or that holds text's
// first line already, is left as it is (*SectionExistsError). It returns
// the file written.
func (g *Git) AppendConfigSection(ctx context.Context, file, section, text string) (string, error) {
	prefix := strings.ToLower(section) + "."
	first, _, _ := strings.Cut(text, "\n")
	if first == "" {
		return "", errors.New("AppendConfigSection: text has no first line")
	}
	// git writes a config file that is a symbolic link (dotfiles) through
	// the link, at its target: so does this
	if target, err := filepath.EvalSymlinks(file); err == nil {
		file = target
	}
	old, err := os.ReadFile(file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return "", err
	default:
		out, err := g.Output(ctx, nil, "config", "--file", file, "--includes", "--list", "-z", "--show-origin", "--show-scope")
		if err != nil {
			return "", err
		}
		existing, err := ParseConfig(out, filepath.Dir(file))
		if err != nil {
			return "", err
		}
		for _, e := range existing.Entries {
			if strings.HasPrefix(e.Key, prefix) {
				return "", &SectionExistsError{File: file, Section: section, Key: e.Key}
			}
		}
	}
	content := string(old)
	for _, l := range strings.Split(content, "\n") {
		if l == first {
			return "", &SectionExistsError{File: file, Section: section}
		}
	}
	if content != "" && !strings.HasSuffix(content, "\n") {
		content += "\n"
	}
	content += text
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.WriteLocked(file, []byte(content)); err != nil {
		return "", err
	}
	return file, nil
}
