package stackrepo

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// AddRequest is what a stack add records, in one commit: entries given
// field by field, .deb files to read, or a Packages index to read (one
// of the three), with provenance that applies to every entry.
type AddRequest struct {
	// Packages are entries given field by field. An entry without an
	// Architecture takes the one its Debian file name gives
	// (name_version_arch.deb).
	Packages []Package
	// Debs are .deb files, read with ReadDeb.
	Debs []string
	// Index is a Packages file, read with ReadPackagesIndex; "-" reads
	// Stdin.
	Index string
	Stdin io.Reader
	// Source, Commit, Ref and BuiltOn, when set, are recorded in every
	// entry.
	Source, Commit, Ref, BuiltOn string
	// Replace lets an entry replace one of the same version (as dpkg
	// compares them) that records fields it lacks; without it such a
	// replacement is refused with a *SameVersionError. Replacing by
	// another version, or changing fields, is always allowed, and named.
	Replace bool
}

// Entries is the request's entries, read and checked; every bad input
// is named (all of them, not the first only).
func (q AddRequest) Entries() ([]Package, error) {
	forms := 0
	for _, given := range []bool{len(q.Packages) > 0, len(q.Debs) > 0, q.Index != ""} {
		if given {
			forms++
		}
	}
	if forms != 1 {
		return nil, errors.New("give the packages one way: field by field, as .deb files, or as a Packages file")
	}
	if err := CheckSourceURL(q.Source); err != nil {
		return nil, err
	}
	var pkgs []Package
	switch {
	case len(q.Packages) > 0:
		pkgs = append(pkgs, q.Packages...)
		for i, p := range pkgs {
			if err := CheckFileName(p.Filename); err != nil && strings.Contains(p.Filename, "/") && strings.HasSuffix(p.Filename, ".deb") {
				return nil, fmt.Errorf("%w; or give the .deb file alone after the stack, to read its fields from it", err)
			}
			arch, ok := debian.FileNameArch(p.Filename, p.Name, p.Version)
			switch {
			case !ok:
			case p.Architecture == "":
				pkgs[i].Architecture = arch
			case p.Architecture != arch:
				return nil, fmt.Errorf("architecture %s conflicts with the file name %s, which says %s: give the architecture the file is for, or leave --arch out", p.Architecture, p.Filename, arch)
			}
		}
	case len(q.Debs) > 0:
		var errs []error
		from := map[string]string{}
		for _, f := range q.Debs {
			p, err := ReadDeb(f)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if other, ok := from[p.Name]; ok {
				errs = append(errs, fmt.Errorf("%s: package %s is given twice (%s is %s too); a stack holds one version of each package", f, p.Name, other, p.Name))
				continue
			}
			from[p.Name] = f
			pkgs = append(pkgs, p)
		}
		if len(errs) > 0 {
			return nil, errors.Join(errs...)
		}
	default:
		var err error
		if pkgs, err = q.readIndex(); err != nil {
			return nil, err
		}
	}
	for i := range pkgs {
		p := &pkgs[i]
		for _, f := range []struct {
			to *string
			v  string
		}{{&p.Source, q.Source}, {&p.Commit, q.Commit}, {&p.Ref, q.Ref}, {&p.BuiltOn, q.BuiltOn}} {
			if f.v != "" {
				*f.to = f.v
			}
		}
	}
	return pkgs, nil
}

// CheckSourceURL refuses a source URL that carries a password (in its
// user information: https://user:secret@host/x.git, or user:secret@host:x.git
// in scp-like form): a password in a URL is never recorded nor printed.
// The error shows the URL without its user information.
func CheckSourceURL(s string) error {
	var userinfo, shown string
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		authority, _, _ := strings.Cut(rest, "/")
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			userinfo, shown = authority[:at], scheme+"://"+rest[at+1:]
		}
	} else if at := strings.IndexByte(s, '@'); at >= 0 && !strings.Contains(s[:at], "/") {
		userinfo, shown = s[:at], s[at+1:]
	}
	if !strings.Contains(userinfo, ":") {
		return nil
	}
	return fmt.Errorf("--source %s (user name and password left out here) carries a password: give the URL without credentials (git takes them from a credential helper); a password in a URL is never recorded", termtext.Shorten(Redact(shown)))
}

func (q AddRequest) readIndex() ([]Package, error) {
	if q.Index == "-" {
		if q.Stdin == nil {
			return nil, errors.New("no standard input to read the Packages file from")
		}
		return ReadPackagesIndex(q.Stdin, "standard input")
	}
	f, err := os.Open(q.Index)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such file", q.Index)
		}
		return nil, fmt.Errorf("%s: cannot read it: %w", q.Index, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory; give its Packages file (dpkg-scanpackages %s > Packages)", q.Index, ShellWord(q.Index))
	}
	return ReadPackagesIndex(f, q.Index)
}

// AddPackages records what req gives in the stack, in one commit (see
// Add), refusing a replacement at the same version that would drop
// recorded fields unless req.Replace is set.
func (r *Repo) AddPackages(id StackID, req AddRequest, ident Identity) (*Result, error) {
	pkgs, err := req.Entries()
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	res, err := r.add(id, pkgs, ident, addOptions{replace: req.Replace})
	if err != nil {
		return nil, err
	}
	res.Packages = pkgs
	return res, nil
}

// Replacement is an entry a stack add replaced: its version before, and
// the stanza fields (other than Package and Version) whose value changed,
// that it gained, and that it lost.
type Replacement struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	PreviousVersion string   `json:"previous_version"`
	Changed         []string `json:"changed"`
	Added           []string `json:"added"`
	Removed         []string `json:"removed"`
}

// replacement compares the entry recorded (old) with the one replacing it.
func replacement(old, p Package) Replacement {
	rep := Replacement{Name: p.Name, Version: p.Version, PreviousVersion: old.Version, Changed: []string{}, Added: []string{}, Removed: []string{}}
	for _, f := range stanzaFields[2:] {
		a, b := old.field(f), p.field(f)
		switch {
		case a == b:
		case a == "":
			rep.Added = append(rep.Added, f)
		case b == "":
			rep.Removed = append(rep.Removed, f)
		default:
			rep.Changed = append(rep.Changed, f)
		}
	}
	return rep
}

// sameVersion is whether the replacement keeps the version, as dpkg
// compares versions (1.0 and 1.00 are the same).
func (rep Replacement) sameVersion() bool {
	c, err := debian.Compare(rep.PreviousVersion, rep.Version)
	return err == nil && c == 0
}

// Details says which fields change: "Filename, SHA256 changed; Size
// added; Source removed" ("" when only the version does).
func (rep Replacement) Details() string {
	var parts []string
	for _, l := range []struct {
		fields []string
		verb   string
	}{{rep.Changed, "changed"}, {rep.Added, "added"}, {rep.Removed, "removed"}} {
		if len(l.fields) > 0 {
			parts = append(parts, strings.Join(l.fields, ", ")+" "+l.verb)
		}
	}
	return strings.Join(parts, "; ")
}

// String is the line a commit message has for it: "dh-worker 1.0 (was
// 1.0): Architecture, SHA256 removed".
func (rep Replacement) String() string {
	s := rep.Name + " " + rep.Version + " (was " + rep.PreviousVersion + ")"
	if d := rep.Details(); d != "" {
		s += ": " + d
	}
	return s
}

// SameVersionError refuses a stack add that would replace entries with
// others at the same version that lack fields the stack records for them:
// the same version is the same package, and what is known of it (its
// Source, Commit, Built-On, SHA256, Size...) would be lost.
type SameVersionError struct {
	ID      StackID
	Entries []Replacement
}

func (e *SameVersionError) Error() string {
	parts := make([]string, len(e.Entries))
	names := make([]string, len(e.Entries))
	for i, rep := range e.Entries {
		parts[i] = rep.Name + " " + rep.PreviousVersion + " (" + strings.Join(rep.Removed, ", ") + ")"
		names[i] = rep.Name
	}
	return fmt.Sprintf("stack %s records more of %s than this entry says, at the same version; nothing recorded. "+
		"Give what the stack records too (see it with: git gachette stack show %s %s --format control), or a new version; "+
		"or add --replace to record the entry as given and drop the rest (the old entry stays in the history: git gachette stack log %s)",
		e.ID, strings.Join(parts, ", "), e.ID, strings.Join(names, " "), e.ID)
}
