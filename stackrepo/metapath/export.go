package metapath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// ExportRequest asks Export to write stacks as a meta_path tree.
type ExportRequest struct {
	// Dir is the tree's root; it is made if missing.
	Dir string
	// Stacks are the stacks written; when empty, every stack of Domain.
	Stacks []stackrepo.StackID
	Domain string
}

// ExportResult tells what Export did.
type ExportResult struct {
	// Written are the stacks that were not in the tree.
	Written []stackrepo.StackID
	// Replaced are the stacks the tree had with other versions, swapped
	// for this repository's.
	Replaced []stackrepo.StackID
	// Unchanged are the stacks the tree had already, the same.
	Unchanged []stackrepo.StackID
	// Files counts the packages/<p>/version/<v>/file files written (the
	// others were there, the same).
	Files int
	// Domains is how the tree has domains/ (mise-a-feu's name): "symlink"
	// (to domain, made or found) or "directory" (a copy, written too).
	Domains string
}

// ExportError lists every reason the tree cannot take the stacks;
// nothing was written.
type ExportError struct {
	Dir      string
	Problems []Problem
}

func (e *ExportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "meta_path %s: nothing exported:", e.Dir)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", termtext.Escape(p.Path), p.Reason)
	}
	return b.String()
}

// Export writes stacks as gachette's meta_path tree in req.Dir, for the
// deploy tools that read it. Everything is checked before anything is
// written (*ExportError). Then the packages/<p>/version/<v>/file files
// are written, each through a temporary file renamed into place, so that
// every file a stack names is there before the stack is; then each stack
// is written into a temporary directory beside the stacks and renamed
// into place. A stack the tree has with other versions is swapped in one
// step (renameat2 RENAME_EXCHANGE; where the system has no such call, the
// old directory is renamed aside first, and a reader may find no
// directory of that name for the instant between the two renames), then
// the old copy is removed. A reader thus finds a stack whole, old or new,
// never a mix; one that is inside the old directory when it is removed
// may see its files go. Stacks of the tree that are not exported are left
// as they are. domains is made a symlink to domain when absent; when it
// is a directory of its own, each stack is written there too.
func Export(r *stackrepo.Repo, req ExportRequest) (*ExportResult, error) {
	ids := req.Stacks
	if len(ids) == 0 {
		list, err := r.List(req.Domain, false)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("domain %s has no stacks to export; see the domains with: git gachette domain list", req.Domain)
		}
		for _, s := range list {
			ids = append(ids, s.ID)
		}
	}
	var stacks []Stack
	seen := map[stackrepo.StackID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		st, err := r.Stack(id)
		if err != nil {
			return nil, err
		}
		pkgs, err := r.Packages(st)
		if err != nil {
			return nil, err
		}
		s := Stack{ID: id}
		for _, p := range pkgs {
			s.Packages = append(s.Packages, stackrepo.Package{Name: p.Name, Version: p.Version, Filename: p.Filename})
		}
		stacks = append(stacks, s)
	}
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("meta_path %s: %w", req.Dir, err)
	}
	w := &writer{dir: req.Dir, refs: map[string]string{}, owner: map[string]stackrepo.StackID{}}
	plan := w.check(stacks)
	if len(w.problems) > 0 {
		return nil, &ExportError{Dir: req.Dir, Problems: w.problems}
	}
	res := &ExportResult{Domains: "symlink"}
	if w.domainsDir {
		res.Domains = "directory"
	}
	for _, rel := range sortedKeys(w.newFiles) {
		if err := w.writeFile(rel, w.newFiles[rel]+"\n"); err != nil {
			return res, err
		}
		res.Files++
	}
	for _, sp := range plan {
		switch {
		case sp.same:
			res.Unchanged = append(res.Unchanged, sp.s.ID)
			continue
		case sp.exists:
			res.Replaced = append(res.Replaced, sp.s.ID)
		default:
			res.Written = append(res.Written, sp.s.ID)
		}
		bases := []string{domainDir}
		if w.domainsDir {
			bases = append(bases, domainsDir)
		}
		for _, base := range bases {
			if err := w.writeStack(base, sp.s); err != nil {
				return res, err
			}
		}
	}
	if !w.domainsDir {
		if _, err := os.Lstat(filepath.Join(req.Dir, domainsDir)); errors.Is(err, fs.ErrNotExist) {
			if err := os.Symlink(domainDir, filepath.Join(req.Dir, domainsDir)); err != nil {
				return res, fmt.Errorf("meta_path %s: %w", req.Dir, err)
			}
		}
	}
	return res, nil
}

// writer checks and writes one tree.
type writer struct {
	dir      string
	problems []Problem
	// refs are the file names of the package versions exported, by
	// packages/<p>/version/<v>/file path; owner the stack that first
	// recorded each; newFiles the ones the tree lacks.
	refs     map[string]string
	owner    map[string]stackrepo.StackID
	newFiles map[string]string
	// domainsDir is true when domains is a directory of its own.
	domainsDir bool
}

type stackPlan struct {
	s      Stack
	exists bool // the tree has a directory of that stack
	same   bool // ... with the same versions
}

func (w *writer) problem(rel, format string, args ...any) {
	w.problems = append(w.problems, Problem{Path: rel, Reason: fmt.Sprintf(format, args...)})
}

// check finds everything that would stop the export, before any write.
func (w *writer) check(stacks []Stack) []stackPlan {
	w.newFiles = map[string]string{}
	if fi, err := os.Lstat(filepath.Join(w.dir, domainsDir)); err == nil {
		target, _ := os.Readlink(filepath.Join(w.dir, domainsDir))
		switch {
		case fi.Mode()&fs.ModeSymlink != 0 && path.Clean(target) != domainDir:
			w.problem(domainsDir, "is a symlink to %q; it must be absent, a symlink to %s, or a directory", termtext.Shorten(target), domainDir)
		case fi.Mode()&fs.ModeSymlink == 0 && !fi.IsDir():
			w.problem(domainsDir, "is not a directory")
		case fi.IsDir():
			w.domainsDir = true
		}
	}
	var plan []stackPlan
	for _, s := range stacks {
		for _, p := range s.Packages {
			rel := path.Join(packagesDir, p.Name, versionDir, p.Version, fileFile)
			if have, ok := w.refs[rel]; ok {
				if have != p.Filename {
					w.problem(rel, "stack %s records %s %s as %s, stack %s as %s; one package version has one file: make the two agree (git gachette stack add)",
						w.owner[rel], p.Name, p.Version, have, s.ID, p.Filename)
				}
				continue
			}
			w.refs[rel], w.owner[rel] = p.Filename, s.ID
			w.checkDirs(path.Dir(rel))
			old, ok := w.existingLine(rel)
			switch {
			case !ok:
			case old == "":
				w.newFiles[rel] = p.Filename
			case old != p.Filename:
				w.problem(rel, "holds %q, but stack %s records %s %s as %s; remove the file if no stack of the tree uses that name any more, and export again",
					termtext.Shorten(old), s.ID, p.Name, p.Version, p.Filename)
			}
		}
		sp := stackPlan{s: s, same: true}
		bases := []string{domainDir}
		if w.domainsDir {
			bases = append(bases, domainsDir)
		}
		for _, base := range bases {
			srel := path.Join(base, s.ID.Domain, stacksDir)
			w.checkDirs(srel)
			rel := path.Join(srel, s.ID.Name)
			fi, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(rel)))
			switch {
			case errors.Is(err, fs.ErrNotExist):
				sp.same = false
				continue
			case err != nil:
				w.problem(rel, "%v", unwrapPath(err))
				continue
			case !fi.IsDir():
				w.problem(rel, "is not a directory (a symlink, a file); move it away and export again")
				continue
			}
			sp.exists = true
			rd := &reader{root: w.dir, versionsOnly: true}
			if have, ok := rd.stack(rel, s.ID); !ok || !sameVersions(have.Packages, s.Packages) {
				sp.same = false
			}
		}
		plan = append(plan, sp)
	}
	return plan
}

// checkDirs names each existing part of rel that is not a directory.
func (w *writer) checkDirs(rel string) {
	parts := strings.Split(rel, "/")
	for i := range parts {
		sub := strings.Join(parts[:i+1], "/")
		fi, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(sub)))
		if errors.Is(err, fs.ErrNotExist) {
			return
		}
		if err != nil {
			w.problem(sub, "%v", unwrapPath(err))
			return
		}
		if !fi.IsDir() {
			w.problem(sub, "is not a directory (a symlink, a file); a meta_path tree holds directories and files only")
			return
		}
	}
}

// existingLine reads a one-line file the tree may have: "" and true when
// it is absent; false when it is there but not a readable one-line file
// (a problem is named).
func (w *writer) existingLine(rel string) (string, bool) {
	if _, err := os.Lstat(filepath.Join(w.dir, filepath.FromSlash(rel))); errors.Is(err, fs.ErrNotExist) {
		return "", true
	}
	rd := &reader{root: w.dir}
	s, ok := rd.line(rel, "file name")
	if !ok {
		for _, p := range rd.problems {
			w.problem(p.Path, "%s; move it away and export again", p.Reason)
		}
	}
	return s, ok
}

// writeFile writes a file of the tree through a temporary file renamed
// into place, making its directories.
func (w *writer) writeFile(rel, content string) error {
	p := filepath.Join(w.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("meta_path %s: %w", w.dir, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("meta_path %s: %w", w.dir, err)
	}
	err = fill(tmp, content)
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("meta_path %s: write %s: %w", w.dir, rel, err)
	}
	return nil
}

// fill writes content to a new file, world-readable (a web server serves
// the tree), flushed to disk, and closes it.
func fill(f *os.File, content string) error {
	_, err := f.WriteString(content)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeStack writes one stack into a temporary directory beside the
// stacks and renames it into place (see Export).
func (w *writer) writeStack(base string, s Stack) error {
	stacks := filepath.Join(w.dir, base, s.ID.Domain, stacksDir)
	if err := os.MkdirAll(stacks, 0o755); err != nil {
		return fmt.Errorf("meta_path %s: %w", w.dir, err)
	}
	tmp, err := os.MkdirTemp(stacks, tmpPrefix+s.ID.Name+"-")
	if err != nil {
		return fmt.Errorf("meta_path %s: %w", w.dir, err)
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		return fmt.Errorf("meta_path %s: write stack %s: %w", w.dir, s.ID, err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fail(err)
	}
	for _, p := range s.Packages {
		d := filepath.Join(tmp, packagesDir, p.Name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fail(err)
		}
		f, err := os.OpenFile(filepath.Join(d, versionFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fail(err)
		}
		if err := fill(f, p.Version+"\n"); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(tmp, packagesDir), 0o755); err != nil {
		return fail(err)
	}
	dst := filepath.Join(stacks, s.ID.Name)
	if _, err := os.Lstat(dst); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(tmp, dst); err != nil {
			return fail(err)
		}
		return nil
	}
	if err := exchange(tmp, dst); err == nil {
		// tmp now holds the old stack
		return removeOld(tmp, w.dir, s.ID)
	}
	aside, err := os.MkdirTemp(stacks, oldPrefix+s.ID.Name+"-")
	if err != nil {
		return fail(err)
	}
	if err := os.Rename(dst, aside); err != nil {
		os.Remove(aside)
		return fail(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		// put the old one back rather than leave no stack
		os.Rename(aside, dst)
		return fail(err)
	}
	return removeOld(aside, w.dir, s.ID)
}

func removeOld(dir, root string, id stackrepo.StackID) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("meta_path %s: stack %s is written, but its old copy %s could not be removed: %w", root, id, dir, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sameVersions compares two package lists, sorted by name, by names and
// versions: what a stack directory records.
func sameVersions(a, b []stackrepo.Package) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Version != b[i].Version {
			return false
		}
	}
	return true
}
