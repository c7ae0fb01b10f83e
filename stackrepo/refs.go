package stackrepo

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// ErrRefNotFound is returned when a reference does not exist.
var ErrRefNotFound = errors.New("reference not found")

// RefChangedError says a compare-and-swap failed: the reference was not what
// the writer expected, because another writer got there first.
type RefChangedError struct {
	Name      string
	Want, Got plumbing.Hash // ZeroHash means "absent"
}

func (e *RefChangedError) Error() string {
	return fmt.Sprintf("%s changed concurrently (expected %s, found %s)", e.Name, hashOrAbsent(e.Want), hashOrAbsent(e.Got))
}

// RefLockedError says a reference's lock file stayed in place for the whole
// time a writer was willing to wait.
type RefLockedError struct {
	Name     string
	LockFile string
}

func (e *RefLockedError) Error() string {
	return fmt.Sprintf("cannot lock %s: %s exists. Another git-gachette or git process may be writing it; "+
		"if none is running, a process died while holding it: remove the file (rm %q) and try again",
		e.Name, e.LockFile, e.LockFile)
}

func hashOrAbsent(h plumbing.Hash) string {
	if h.IsZero() {
		return "absent"
	}
	return h.String()
}

// Ref is a reference name and the object it points at.
type Ref struct {
	Name string
	Hash plumbing.Hash
}

// RefUpdate is one compare-and-swap: set Name to New if it currently is Old.
// A zero Old means the reference must not exist; a zero New deletes it;
// New == Old only checks, within the transaction, that Name is Old.
type RefUpdate struct {
	Name string
	Old  plumbing.Hash
	New  plumbing.Hash
}

// RefStore reads and writes references. Update applies all its updates or,
// when any expectation fails, none of them.
type RefStore interface {
	Lookup(name string) (plumbing.Hash, error)
	List(prefix string) ([]Ref, error)
	Update(msg string, updates ...RefUpdate) error
	// UpdateChecked is Update with check run while every ref of updates
	// is locked and every expectation met, before the change commits: an
	// error from check cancels it and is returned as it is.
	UpdateChecked(msg string, check func() error, updates ...RefUpdate) error
}

var (
	_ RefStore = (*fileRefs)(nil)
	_ RefStore = (*gitRefs)(nil)
)

// fileRefs is a RefStore over git's files ref backend: reads are
// in-process (loose refs, then packed-refs, binary-searched), writes are
// git's own ref transactions (see updateRefs).
//
// go-git's SetReference/CheckAndSetReference rewrite the ref file in place
// under flock, with no <ref>.lock, no rename and no fsync (go-git issues
// #2399, #386): they are never used to write refs here.
type fileRefs struct {
	// dir is the common git directory, where refs are read.
	dir string
	// git writes the refs (see Update).
	git *gitexec.Git
}

func newFileRefs(dir string, git *gitexec.Git) *fileRefs {
	return &fileRefs{dir: dir, git: git}
}

func (f *fileRefs) path(name string) string {
	return filepath.Join(f.dir, filepath.FromSlash(name))
}

// Lookup reads a reference: the loose file, else its packed-refs line.
func (f *fileRefs) Lookup(name string) (plumbing.Hash, error) {
	h, err := f.readLoose(name)
	if err == nil || !errors.Is(err, ErrRefNotFound) {
		return h, err
	}
	p, err := f.readPacked()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer p.release()
	if h, ok := p.lookup(name); ok {
		return h, nil
	}
	return plumbing.ZeroHash, ErrRefNotFound
}

func (f *fileRefs) readLoose(name string) (plumbing.Hash, error) {
	b, err := os.ReadFile(f.path(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || isDirErr(err) {
			return plumbing.ZeroHash, ErrRefNotFound
		}
		return plumbing.ZeroHash, fmt.Errorf("read %s: %w", name, err)
	}
	return parseLoose(name, b)
}

// isDirErr reports errors that mean "a directory is in the way" (reading a
// directory, or a path whose parent is a file).
func isDirErr(err error) bool {
	return errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.ENOTDIR)
}

func parseLoose(name string, b []byte) (plumbing.Hash, error) {
	s := strings.TrimRight(string(b), "\n")
	if strings.HasPrefix(s, "ref: ") {
		return plumbing.ZeroHash, fmt.Errorf("%s is a symbolic reference (%s); git-gachette only reads direct references", name, s)
	}
	if !gitexec.IsHex(s, 40) {
		return plumbing.ZeroHash, fmt.Errorf("%s is broken: its file holds %q, not an object id; check it with git fsck", name, termtext.ShortenTo(s, 60))
	}
	return plumbing.NewHash(s), nil
}

// readPacked maps packed-refs into memory. git replaces the file by
// rename, never in place, so the mapping stays a consistent snapshot.
// Mapping it rather than reading it keeps a 10,000-tag lookup from
// allocating (and the GC from returning) a large buffer each time.
func (f *fileRefs) readPacked() (packedRefs, error) {
	fh, err := os.Open(filepath.Join(f.dir, "packed-refs"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return packedRefs{}, nil
		}
		return packedRefs{}, fmt.Errorf("read packed-refs: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return packedRefs{}, fmt.Errorf("read packed-refs: %w", err)
	}
	if st.Size() == 0 {
		return packedRefs{}, nil
	}
	if data, err := syscall.Mmap(int(fh.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
		return packedRefs{data: data, mapped: true}, nil
	}
	b, err := io.ReadAll(fh)
	if err != nil {
		return packedRefs{}, fmt.Errorf("read packed-refs: %w", err)
	}
	return packedRefs{data: b}, nil
}

// packedRefs is the content of a packed-refs file: a header line, then
// "<hex> <name>" lines, each optionally followed by a "^<hex>" peeled line.
// Callers release it when done (it may be a memory mapping).
type packedRefs struct {
	data   []byte
	mapped bool
}

func (p packedRefs) release() {
	if p.mapped {
		syscall.Munmap(p.data)
	}
}

// body is the records of the file (after its header line), and whether
// the header says they are sorted: git writes "# pack-refs with: peeled
// fully-peeled sorted " and, like git, only then is the file searched by
// bisection.
func (p packedRefs) body() ([]byte, bool) {
	data := p.data
	if !bytes.HasPrefix(data, []byte("# pack-refs with:")) {
		return data, false
	}
	end := bytes.IndexByte(data, '\n')
	if end < 0 {
		return nil, false
	}
	traits := string(data[len("# pack-refs with:"):end]) + " "
	return data[end+1:], strings.Contains(traits, " sorted ")
}

// startOfRecord and endOfRecord are git's find_start_of_record and
// find_end_of_record (refs/packed-backend.c): a record is a ref's line
// and the "^<peeled>" line that may follow it.
func startOfRecord(buf []byte, p int) int {
	for p > 0 && (buf[p-1] != '\n' || buf[p] == '^') {
		p--
	}
	return p
}

func endOfRecord(buf []byte, p int) int {
	for p++; p < len(buf) && (buf[p-1] != '\n' || buf[p] == '^'); p++ {
	}
	return p
}

// recordName is the ref name of the record at rec ("" when the line is
// not "<40 hex> <name>").
func recordName(buf []byte, rec int) []byte {
	line := buf[rec:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if len(line) < 42 || line[40] != ' ' {
		return nil
	}
	return line[41:]
}

// locate is git's find_reference_location: in a sorted file, the offset
// of the record of name, or (exact false) of the first record after it.
func locate(buf []byte, name string, exact bool) (int, bool) {
	lo, hi := 0, len(buf)
	for lo != hi {
		mid := lo + (hi-lo)/2
		rec := startOfRecord(buf, mid)
		switch c := bytes.Compare(recordName(buf, rec), []byte(name)); {
		case c < 0:
			lo = endOfRecord(buf, mid)
		case c > 0:
			hi = rec
		default:
			return rec, true
		}
	}
	return lo, !exact
}

// lookup finds name: by bisection in a sorted file, as git does, else
// with one substring search (refnames hold no spaces, so " <name>\n"
// preceded by 40 hex digits at a line start is exactly its line).
func (p packedRefs) lookup(name string) (plumbing.Hash, bool) {
	buf, sorted := p.body()
	if sorted {
		rec, ok := locate(buf, name, true)
		if !ok || len(buf)-rec < 41 || !gitexec.IsHex(string(buf[rec:rec+40]), 40) {
			return plumbing.ZeroHash, false
		}
		return plumbing.NewHash(string(buf[rec : rec+40])), true
	}
	needle := []byte(" " + name + "\n")
	data := p.data
	off := 0
	for {
		i := bytes.Index(data[off:], needle)
		if i < 0 {
			return plumbing.ZeroHash, false
		}
		at := off + i
		start := at - 40
		if start >= 0 && (start == 0 || data[start-1] == '\n') && gitexec.IsHex(string(data[start:at]), 40) {
			return plumbing.NewHash(string(data[start:at])), true
		}
		off = at + 1
	}
}

// each calls fn for every packed ref whose name starts with prefix. In a
// sorted file it starts at the first record not before prefix (by
// bisection) and stops after the last that has it.
func (p packedRefs) each(prefix string, fn func(name string, h plumbing.Hash)) {
	data, sorted := p.body()
	if sorted {
		start, _ := locate(data, prefix, false)
		data = data[start:]
	}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) < 42 || line[0] == '#' || line[0] == '^' || line[40] != ' ' {
			continue
		}
		name := line[41:]
		if !bytes.HasPrefix(name, []byte(prefix)) {
			if sorted && string(name) > prefix {
				return
			}
			continue
		}
		var h plumbing.Hash
		if _, err := hex.Decode(h[:], line[:40]); err == nil {
			fn(string(name), h)
		}
	}
}

// List returns the references under prefix (a full name prefix such as
// "refs/tags/main/"), loose ones overriding packed ones, sorted by name.
func (f *fileRefs) List(prefix string) ([]Ref, error) {
	// Loose references first, then packed-refs, as git does
	// (files_ref_iterator_begin): git pack-refs writes the new packed-refs
	// before it deletes the loose files, so a loose ref that vanishes
	// between the directory listing and its read is in the packed-refs
	// read after it. Read the other way round, a concurrent pack-refs
	// could hide a ref, or fail the listing.
	loose := map[string]plumbing.Hash{}
	base := prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	root := f.path(base)
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasSuffix(path, ".lock") {
			return nil
		}
		rel, err := filepath.Rel(f.dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) || isDirErr(err) {
				return nil // packed (or deleted) since the listing: see above
			}
			return fmt.Errorf("read %s: %w", name, err)
		}
		if bytes.HasPrefix(b, []byte("ref: ")) {
			// a symbolic ref (git clone's refs/remotes/origin/HEAD)
			// names a ref that is listed on its own
			return nil
		}
		h, err := parseLoose(name, b)
		if err != nil {
			return err
		}
		loose[name] = h
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := f.readPacked()
	if err != nil {
		return nil, err
	}
	var refs []Ref
	p.each(prefix, func(name string, h plumbing.Hash) { refs = append(refs, Ref{Name: name, Hash: h}) })
	p.release()
	// Loose references (usually few) override packed ones.
	if len(loose) > 0 {
		for i := range refs {
			if h, ok := loose[refs[i].Name]; ok {
				refs[i].Hash = h
				delete(loose, refs[i].Name)
			}
		}
		for n, h := range loose {
			refs = append(refs, Ref{Name: n, Hash: h})
		}
	}
	if !slices.IsSortedFunc(refs, compareRefs) {
		slices.SortFunc(refs, compareRefs)
	}
	return refs, nil
}

func compareRefs(a, b Ref) int { return strings.Compare(a.Name, b.Name) }

// Update applies updates in one git ref transaction: see updateRefs.
func (f *fileRefs) Update(msg string, updates ...RefUpdate) error {
	return updateRefs(f.git, f.Lookup, f.dir, msg, updates, nil)
}

func (f *fileRefs) UpdateChecked(msg string, check func() error, updates ...RefUpdate) error {
	return updateRefs(f.git, f.Lookup, f.dir, msg, updates, check)
}

// checkUpdates refuses a transaction that names a ref outside refs/ or not
// valid, or the same ref twice.
func checkUpdates(updates []RefUpdate) error {
	seen := map[string]bool{}
	for _, u := range updates {
		if err := plumbing.ReferenceName(u.Name).Validate(); err != nil || !strings.HasPrefix(u.Name, "refs/") {
			return fmt.Errorf("%q is not a valid reference name", u.Name)
		}
		if seen[u.Name] {
			return fmt.Errorf("reference %s updated twice in one transaction", u.Name)
		}
		seen[u.Name] = true
	}
	return nil
}

// updateRefs applies updates in one git ref transaction (git update-ref
// --stdin): git locks every ref, checks every expectation under the locks
// and commits all or nothing, with its reflogs, core.fsync,
// reference-transaction hook and ref backend. go-git's ref writes follow
// none of git's lock protocol (go-git #2399, #386), so they are never used.
//
// When the transaction fails, the refs are read again (with lookup) to
// tell why: one that is not what the caller expected is a
// *RefChangedError (another writer got there first); a lock file git
// could not create is a *RefLockedError (named relative to dir, the
// common git directory); anything else is git's own error.
func updateRefs(g *gitexec.Git, lookup func(string) (plumbing.Hash, error), dir, msg string, updates []RefUpdate, check func() error) error {
	if err := checkUpdates(updates); err != nil {
		return err
	}
	ups := make([]gitexec.RefUpdate, 0, len(updates))
	for _, u := range updates {
		ups = append(ups, gitexec.RefUpdate{Name: u.Name, Old: u.Old.String(), New: u.New.String()})
	}
	var checked error
	var wrapped func() error
	if check != nil {
		wrapped = func() error { checked = check(); return checked }
	}
	err := g.UpdateRefsChecked(context.Background(), msg, ups, wrapped)
	if err == nil || (checked != nil && err == checked) {
		return err
	}
	for _, u := range updates {
		cur, lerr := lookup(u.Name)
		if lerr != nil && !errors.Is(lerr, ErrRefNotFound) {
			continue
		}
		if cur != u.Old {
			return &RefChangedError{Name: u.Name, Want: u.Old, Got: cur}
		}
	}
	if lock := gitexec.LockFile(err); lock != "" {
		name := strings.TrimSuffix(lock, ".lock")
		if rel, rerr := filepath.Rel(dir, name); rerr == nil && !strings.HasPrefix(rel, "..") {
			name = filepath.ToSlash(rel)
		}
		return &RefLockedError{Name: name, LockFile: lock}
	}
	return err
}

// gitRefs is a RefStore that reads references through git too, for a ref
// backend fileRefs does not read (extensions.refStorage other than files):
// one git for-each-ref per read, slower but exact.
type gitRefs struct {
	git *gitexec.Git
}

func newGitRefs(g *gitexec.Git) *gitRefs { return &gitRefs{git: g} }

// forEachRef lists the refs git for-each-ref matches with pattern (a full
// name, or a prefix ending at a '/'), filtered by keep.
func (g *gitRefs) forEachRef(pattern string, keep func(name string) bool) ([]Ref, error) {
	out, err := g.git.Output(context.Background(), nil, "for-each-ref", "--format=%(objectname) %(refname)", "--", pattern)
	if err != nil {
		return nil, fmt.Errorf("read refs %s: %w", pattern, err)
	}
	var refs []Ref
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		hex, name, ok := strings.Cut(line, " ")
		if !ok || !gitexec.IsHex(hex, 40) || !keep(name) {
			continue
		}
		refs = append(refs, Ref{Name: name, Hash: plumbing.NewHash(hex)})
	}
	return refs, nil
}

func (g *gitRefs) Lookup(name string) (plumbing.Hash, error) {
	refs, err := g.forEachRef(name, func(n string) bool { return n == name })
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if len(refs) == 0 {
		return plumbing.ZeroHash, ErrRefNotFound
	}
	return refs[0].Hash, nil
}

func (g *gitRefs) List(prefix string) ([]Ref, error) {
	refs, err := g.forEachRef(strings.TrimSuffix(prefix, "/"), func(n string) bool { return strings.HasPrefix(n, prefix) })
	if err != nil {
		return nil, err
	}
	if !slices.IsSortedFunc(refs, compareRefs) {
		slices.SortFunc(refs, compareRefs)
	}
	return refs, nil
}

func (g *gitRefs) Update(msg string, updates ...RefUpdate) error {
	return updateRefs(g.git, g.Lookup, g.git.GitDir, msg, updates, nil)
}

func (g *gitRefs) UpdateChecked(msg string, check func() error, updates ...RefUpdate) error {
	return updateRefs(g.git, g.Lookup, g.git.GitDir, msg, updates, check)
}

// syncDir makes a rename durable. Errors are ignored: some filesystems do
// not support fsync on directories, and the rename itself has happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
