// Package metapath reads and writes the original gachette's meta_path
// tree, so that stacks come over from it (Import) and deploy tools that
// read it keep working (Export).
//
// The tree, as gachette's StackOperator writes it (each file one line,
// ending in a newline, as echo writes it):
//
//	domain/<domain>/stacks/<stack>/packages/<package>/version   the version
//	packages/<package>/version/<version>/file                   the .deb's file name
//
// mise-a-feu reads the same tree under domains/<domain>/…; Export writes
// domains as a symlink to domain, and Import reads either.
package metapath

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Names of the tree's parts.
const (
	domainDir   = "domain"
	domainsDir  = "domains"
	stacksDir   = "stacks"
	packagesDir = "packages"
	versionFile = "version"
	versionDir  = "version"
	fileFile    = "file"
	// tmpPrefix and oldPrefix name the directories Export works in, beside
	// the stacks; a reader skips them (a crash may leave one behind).
	tmpPrefix = ".gachette-tmp-"
	oldPrefix = ".gachette-old-"
)

// maxLine bounds a version or file file: one short line.
const maxLine = 4096

// Stack is a stack as the tree holds it: each package's name, version
// and file name, sorted by name.
type Stack struct {
	ID       stackrepo.StackID
	Packages []stackrepo.Package
}

// Alias is a symlink in a stacks directory to a sibling stack (like
// latest -> 124): the same stack under another name, which Import skips.
type Alias struct {
	// Path is the symlink, relative to the tree's root.
	Path   string
	Target string
}

// Problem is one bad input of a tree: the path, relative to the tree's
// root, and what is wrong with it.
type Problem struct {
	Path   string
	Reason string
}

// TreeError lists every problem found in a tree; nothing was written.
type TreeError struct {
	Root     string
	Problems []Problem
}

func (e *TreeError) Error() string {
	var b strings.Builder
	n := len(e.Problems)
	noun := "problems"
	if n == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "meta_path %s: %d %s, nothing imported; fix them (or move those stacks out of the tree) and import again:", e.Root, n, noun)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", termtext.Escape(p.Path), p.Reason)
	}
	return b.String()
}

// reader walks one tree, collecting problems rather than stopping at the
// first, so that one import names them all.
type reader struct {
	root     string
	problems []Problem
	// files caches packages/<p>/version/<v>/file reads, by "<p>\x00<v>".
	files map[string]fileRead
	// versionsOnly skips the packages/ files: Export compares the stack
	// directories it replaces by their versions.
	versionsOnly bool
}

type fileRead struct {
	name string
	ok   bool
}

func (rd *reader) problem(rel, format string, args ...any) {
	rd.problems = append(rd.problems, Problem{Path: rel, Reason: fmt.Sprintf(format, args...)})
}

// Read reads every stack of the tree at root (only domain's stacks when
// domain is not ""). Bad input is a *TreeError naming each problem.
func Read(root, domain string) ([]Stack, []Alias, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, fmt.Errorf("meta_path %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("meta_path %s is not a directory; give the directory gachette kept its stacks in (the meta_path given to stack_create)", root)
	}
	rd := &reader{root: root, files: map[string]fileRead{}}
	byID := map[stackrepo.StackID]int{}
	var stacks []Stack
	var aliases []Alias
	bases := 0
	seenDomain := false
	for _, base := range []string{domainDir, domainsDir} {
		fi, err := os.Lstat(filepath.Join(root, base))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			rd.problem(base, "%v", err)
			continue
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(filepath.Join(root, base))
			if base == domainsDir && path.Clean(target) == domainDir {
				continue // the same tree, under mise-a-feu's name
			}
			rd.problem(base, "is a symlink to %q; a meta_path tree holds directories and files only (domains may be a symlink to domain)", termtext.Shorten(target))
			continue
		case !fi.IsDir():
			rd.problem(base, "is not a directory")
			continue
		}
		bases++
		for _, d := range rd.dirs(base) {
			if domain != "" && d != domain {
				continue
			}
			seenDomain = true
			drel := path.Join(base, d)
			if err := stackrepo.CheckName("domain", d); err != nil {
				rd.problem(drel, "%v", err)
				continue
			}
			got, al := rd.domain(drel, d)
			aliases = append(aliases, al...)
			for _, s := range got {
				if i, ok := byID[s.ID]; ok {
					if !samePackages(stacks[i].Packages, s.Packages) {
						rd.problem(path.Join(drel, stacksDir, s.ID.Name), "differs from %s/%s/%s/%s; keep one of the two", domainDir, d, stacksDir, s.ID.Name)
					}
					continue
				}
				byID[s.ID] = len(stacks)
				stacks = append(stacks, s)
			}
		}
	}
	if bases == 0 && len(rd.problems) == 0 {
		return nil, nil, fmt.Errorf("meta_path %s has no %s/ directory: is it gachette's meta_path (the directory given to stack_create, holding domain/<domain>/stacks/)?", root, domainDir)
	}
	if domain != "" && !seenDomain && len(rd.problems) == 0 {
		return nil, nil, fmt.Errorf("meta_path %s has no domain %s (no %s/%s/); see the domains it has with: ls %s/%s", root, domain, domainDir, domain, root, domainDir)
	}
	if len(rd.problems) > 0 {
		return nil, nil, &TreeError{Root: root, Problems: rd.problems}
	}
	sort.Slice(stacks, func(i, j int) bool {
		if stacks[i].ID.Domain != stacks[j].ID.Domain {
			return stacks[i].ID.Domain < stacks[j].ID.Domain
		}
		return stacks[i].ID.Name < stacks[j].ID.Name
	})
	return stacks, aliases, nil
}

// entries lists a directory of the tree, sorted; a failure is a problem.
func (rd *reader) entries(rel string) []fs.DirEntry {
	ents, err := os.ReadDir(filepath.Join(rd.root, filepath.FromSlash(rel)))
	if err != nil {
		rd.problem(rel, "cannot be read: %v", unwrapPath(err))
		return nil
	}
	return ents
}

// dirs lists the subdirectories of rel, naming anything else (a file, a
// symlink) as a problem.
func (rd *reader) dirs(rel string) []string {
	var out []string
	for _, e := range rd.entries(rel) {
		erel := path.Join(rel, e.Name())
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			rd.problem(erel, "is a symlink; a meta_path tree holds directories and files only")
		case !e.IsDir():
			rd.problem(erel, "is not a directory")
		default:
			out = append(out, e.Name())
		}
	}
	return out
}

// only names every entry of rel but want as a problem.
func (rd *reader) only(rel string, ents []fs.DirEntry, want string) {
	for _, e := range ents {
		if e.Name() != want {
			rd.problem(path.Join(rel, e.Name()), "is not part of a meta_path tree here (only %s belongs in %s)", want, rel)
		}
	}
}

func (rd *reader) domain(drel, d string) ([]Stack, []Alias) {
	ents := rd.entries(drel)
	rd.only(drel, ents, stacksDir)
	srel := path.Join(drel, stacksDir)
	if !hasDir(ents, stacksDir) {
		rd.problem(srel, "is missing or not a directory")
		return nil, nil
	}
	sents := rd.entries(srel)
	names := map[string]bool{}
	for _, e := range sents {
		if e.IsDir() {
			names[e.Name()] = true
		}
	}
	var stacks []Stack
	var aliases []Alias
	for _, e := range sents {
		name := e.Name()
		rel := path.Join(srel, name)
		if strings.HasPrefix(name, tmpPrefix) || strings.HasPrefix(name, oldPrefix) {
			continue // an export's work in progress, or left by a crash
		}
		if e.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(filepath.Join(rd.root, filepath.FromSlash(rel)))
			if !strings.Contains(target, "/") && names[target] {
				aliases = append(aliases, Alias{Path: rel, Target: target})
				continue
			}
			rd.problem(rel, "is a symlink to %q, not to a stack beside it; a meta_path tree holds directories and files only", termtext.Shorten(target))
			continue
		}
		if !e.IsDir() {
			rd.problem(rel, "is not a directory")
			continue
		}
		if err := stackrepo.CheckName("stack", name); err != nil {
			rd.problem(rel, "%v", err)
			continue
		}
		if s, ok := rd.stack(rel, stackrepo.StackID{Domain: d, Name: name}); ok {
			stacks = append(stacks, s)
		}
	}
	return stacks, aliases
}

// stack reads one stack directory; ok is false when it had problems.
func (rd *reader) stack(rel string, id stackrepo.StackID) (Stack, bool) {
	before := len(rd.problems)
	ents := rd.entries(rel)
	rd.only(rel, ents, packagesDir)
	prel := path.Join(rel, packagesDir)
	if !hasDir(ents, packagesDir) {
		rd.problem(prel, "is missing or not a directory (gachette's stack_create makes it, empty for an empty stack)")
		return Stack{}, false
	}
	s := Stack{ID: id}
	for _, name := range rd.dirs(prel) {
		pkrel := path.Join(prel, name)
		if err := debian.CheckPackageName(name); err != nil {
			rd.problem(pkrel, "%v", err)
			continue
		}
		pents := rd.entries(pkrel)
		rd.only(pkrel, pents, versionFile)
		if !hasEntry(pents, versionFile) {
			rd.problem(path.Join(pkrel, versionFile), "is missing: it holds the package's version in the stack")
			continue
		}
		v, ok := rd.line(path.Join(pkrel, versionFile), "version")
		if !ok {
			continue
		}
		if err := debian.CheckVersion(v); err != nil {
			rd.problem(path.Join(pkrel, versionFile), "%v", err)
			continue
		}
		var file string
		if !rd.versionsOnly {
			if file, ok = rd.file(name, v); !ok {
				continue
			}
		}
		s.Packages = append(s.Packages, stackrepo.Package{Name: name, Version: v, Filename: file})
	}
	return s, len(rd.problems) == before
}

// file reads packages/<name>/version/<v>/file, once per package version.
func (rd *reader) file(name, v string) (string, bool) {
	key := name + "\x00" + v
	if f, ok := rd.files[key]; ok {
		return f.name, f.ok
	}
	rel := path.Join(packagesDir, name, versionDir, v, fileFile)
	f := fileRead{}
	// every directory on the way is a directory, not a symlink out of the tree
	ok := true
	for _, dir := range []string{packagesDir, path.Join(packagesDir, name), path.Join(packagesDir, name, versionDir), path.Join(packagesDir, name, versionDir, v)} {
		fi, err := os.Lstat(filepath.Join(rd.root, filepath.FromSlash(dir)))
		if err != nil {
			rd.problem(rel, "is missing (%s %s is recorded in a stack, and this file holds its .deb's file name)", name, v)
			ok = false
			break
		}
		if !fi.IsDir() {
			what := "is not a directory"
			if fi.Mode()&fs.ModeSymlink != 0 {
				what = "is a symlink; a meta_path tree holds directories and files only"
			}
			rd.problem(dir, "%s", what)
			ok = false
			break
		}
	}
	if ok {
		var file string
		if file, ok = rd.line(rel, "file name"); ok {
			if err := stackrepo.CheckFileName(file); err != nil {
				rd.problem(rel, "%v", err)
				ok = false
			} else if fn, fv, _, debianName := debian.ParseFileName(file); debianName && (fn != name || !debian.SameFileVersion(fv, v)) {
				// as stack add refuses a .deb whose Debian name says
				// another package or version
				rd.problem(rel, "names %s, whose Debian file name says %s %s, not %s %s", file, fn, fv, name, v)
				ok = false
			}
			f.name = file
		}
	}
	f.ok = ok
	rd.files[key] = f
	return f.name, f.ok
}

// line reads a one-line file (a version, a file name): a regular file, not
// a symlink, one line with or without its final newline.
func (rd *reader) line(rel, what string) (string, bool) {
	p := filepath.Join(rd.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if err != nil {
		rd.problem(rel, "is missing: it holds the %s", what)
		return "", false
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		rd.problem(rel, "is a symlink; a meta_path tree holds directories and files only")
		return "", false
	}
	if !fi.Mode().IsRegular() {
		rd.problem(rel, "is not a regular file")
		return "", false
	}
	f, err := os.Open(p)
	if err != nil {
		rd.problem(rel, "cannot be read: %v", unwrapPath(err))
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxLine+1))
	if err != nil {
		rd.problem(rel, "cannot be read: %v", unwrapPath(err))
		return "", false
	}
	if len(b) > maxLine {
		rd.problem(rel, "is longer than %d bytes; it holds one line, the %s", maxLine, what)
		return "", false
	}
	s := strings.TrimSuffix(string(b), "\n")
	switch {
	case s == "":
		rd.problem(rel, "is empty; it holds the %s", what)
		return "", false
	case strings.ContainsAny(s, "\n\r"):
		rd.problem(rel, "has more than one line; it holds one line, the %s", what)
		return "", false
	case strings.TrimSpace(s) != s:
		rd.problem(rel, "has leading or trailing spaces around the %s %q", what, termtext.Shorten(s))
		return "", false
	}
	return s, true
}

func hasEntry(ents []fs.DirEntry, name string) bool {
	for _, e := range ents {
		if e.Name() == name {
			return true
		}
	}
	return false
}

func hasDir(ents []fs.DirEntry, name string) bool {
	for _, e := range ents {
		if e.Name() == name {
			return e.IsDir() && e.Type()&fs.ModeSymlink == 0
		}
	}
	return false
}

// unwrapPath drops the path an *fs.PathError repeats (the problem names it).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// samePackages compares what a meta_path tree records of two package
// lists (name, version, file name), both sorted by name.
func samePackages(a, b []stackrepo.Package) bool {
	return len(differences(a, b, "", "")) == 0
}

// differences says, package by package, how a (here) and b (there)
// differ in what a meta_path tree records; both are sorted by name.
func differences(a, b []stackrepo.Package, here, there string) []string {
	var out []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].Name < b[j].Name:
			out = append(out, fmt.Sprintf("%s %s only %s", a[i].Name, a[i].Version, here))
			i++
		case i == len(a) || b[j].Name < a[i].Name:
			out = append(out, fmt.Sprintf("%s %s only %s", b[j].Name, b[j].Version, there))
			j++
		default:
			if a[i].Version != b[j].Version {
				out = append(out, fmt.Sprintf("%s: %s %s, %s %s", a[i].Name, a[i].Version, here, b[j].Version, there))
			} else if a[i].Filename != b[j].Filename {
				out = append(out, fmt.Sprintf("%s %s: file %s %s, %s %s", a[i].Name, a[i].Version, a[i].Filename, here, b[j].Filename, there))
			}
			i++
			j++
		}
	}
	return out
}
