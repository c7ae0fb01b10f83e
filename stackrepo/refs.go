package stackrepo

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ops-hero/git-gachette/semverx"
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
// A zero Old means the reference must not exist; a zero New deletes it.
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
	Update(updates ...RefUpdate) error
}

var (
	_ RefStore = (*fileRefs)(nil)
	_ RefStore = (*memRefs)(nil)
)

// fileRefs is a RefStore over a git directory on disk that follows git's own
// lock-file protocol, so C git running at the same time is excluded too.
//
// go-git's SetReference/CheckAndSetReference rewrite the ref file in place
// under flock, with no <ref>.lock, no rename and no fsync (go-git issues
// #2399, #386): they are never used to write refs here.
type fileRefs struct {
	dir string
	// lockTimeout is how long to wait for a lock held by someone else, as
	// git's core.filesRefLockTimeout (100 ms by default).
	lockTimeout time.Duration
}

func newFileRefs(dir string) *fileRefs {
	return &fileRefs{dir: dir, lockTimeout: 100 * time.Millisecond}
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
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		return strings.Contains(s, "is a directory") || strings.Contains(s, "not a directory")
	}
	return false
}

func parseLoose(name string, b []byte) (plumbing.Hash, error) {
	s := strings.TrimRight(string(b), "\n")
	if strings.HasPrefix(s, "ref: ") {
		return plumbing.ZeroHash, fmt.Errorf("%s is a symbolic reference (%s); git-gachette only reads direct references", name, s)
	}
	if !isHex(s, 40) {
		return plumbing.ZeroHash, fmt.Errorf("%s is broken: its file holds %q, not an object id; check it with git fsck", name, semverx.ShortenTo(s, 60))
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

// lookup finds name with one substring search: refnames hold no spaces, so
// " <name>\n" preceded by 40 hex digits at a line start is exactly its line.
func (p packedRefs) lookup(name string) (plumbing.Hash, bool) {
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
		if start >= 0 && (start == 0 || data[start-1] == '\n') && isHex(string(data[start:at]), 40) {
			return plumbing.NewHash(string(data[start:at])), true
		}
		off = at + 1
	}
}

// each calls fn for every packed ref whose name starts with prefix. It
// jumps to the first line naming the prefix; when the file says it is
// sorted (git writes "# pack-refs with: ... sorted"), the matching lines are
// contiguous and the scan stops after them.
func (p packedRefs) each(prefix string, fn func(name string, h plumbing.Hash)) {
	data := p.data
	sorted := false
	if bytes.HasPrefix(data, []byte("# pack-refs with:")) {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			return
		}
		sorted = bytes.Contains(data[:end], []byte(" sorted"))
	}
	i := bytes.Index(data, []byte(" "+prefix))
	if i < 0 {
		return
	}
	if start := bytes.LastIndexByte(data[:i], '\n'); start >= 0 {
		data = data[start+1:]
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
	p, err := f.readPacked()
	if err != nil {
		return nil, err
	}
	var refs []Ref
	p.each(prefix, func(name string, h plumbing.Hash) { refs = append(refs, Ref{Name: name, Hash: h}) })
	p.release()
	// Loose references (usually few) override packed ones.
	loose := map[string]plumbing.Hash{}
	base := prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	root := f.path(base)
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
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
			return fmt.Errorf("read %s: %w", name, err)
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

// lockFile is a held <name>.lock.
type lockFile struct {
	name      string
	path      string
	file      *os.File
	committed bool // renamed into place
}

// lock creates <ref>.lock exclusively, waiting up to lockTimeout with
// backoff when someone else holds it, as C git does.
func (f *fileRefs) lock(name string) (*lockFile, error) {
	p := f.path(name) + ".lock"
	if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
		return nil, fmt.Errorf("cannot create %s: a reference named like one of its parent directories exists (%v)", name, err)
	}
	deadline := time.Now().Add(f.lockTimeout)
	wait := time.Millisecond
	for recreated := 0; ; {
		fh, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return &lockFile{name: name, path: p, file: fh}, nil
		}
		// git pack-refs removes directories it emptied: one may vanish
		// between MkdirAll and the open. Make it again, as C git does.
		if errors.Is(err, os.ErrNotExist) && recreated < 100 {
			recreated++
			if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("lock %s: %w", name, err)
			}
			continue
		}
		if !errors.Is(err, os.ErrExist) {
			if isDirErr(err) {
				return nil, fmt.Errorf("cannot create %s: a reference named like one of its parent directories exists", name)
			}
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return nil, &RefLockedError{Name: name, LockFile: p}
		}
		time.Sleep(wait)
		wait = min(wait*2, 20*time.Millisecond)
	}
}

// release gives up a lock that was not committed. Once renamed into
// place the path is no longer ours: another writer may already hold a new
// lock file there, and removing it would break that writer's update.
func (l *lockFile) release() {
	if l.file != nil {
		l.file.Close()
		l.file = nil
	}
	if !l.committed {
		os.Remove(l.path)
	}
}

// Update applies updates atomically with respect to other writers that use
// git's lock files: it locks every ref (in name order, so two writers never
// deadlock), checks every expectation under the locks, writes and fsyncs
// each new value into its lock file, then renames the lock files into place.
// Deletions also remove the name from packed-refs, under packed-refs.lock.
func (f *fileRefs) Update(updates ...RefUpdate) error {
	ups := append([]RefUpdate(nil), updates...)
	sort.Slice(ups, func(i, j int) bool { return ups[i].Name < ups[j].Name })
	for i, u := range ups {
		if err := plumbing.ReferenceName(u.Name).Validate(); err != nil || !strings.HasPrefix(u.Name, "refs/") {
			return fmt.Errorf("%q is not a valid reference name", u.Name)
		}
		if i > 0 && ups[i-1].Name == u.Name {
			return fmt.Errorf("reference %s updated twice in one transaction", u.Name)
		}
	}
	var locks []*lockFile
	defer func() {
		for _, l := range locks {
			l.release()
		}
	}()
	for _, u := range ups {
		l, err := f.lock(u.Name)
		if err != nil {
			return err
		}
		locks = append(locks, l)
	}
	deleting := false
	for _, u := range ups {
		deleting = deleting || u.New.IsZero()
	}
	var packedLock *lockFile
	if deleting {
		l, err := f.lock("packed-refs")
		if err != nil {
			return err
		}
		packedLock = l
		locks = append(locks, l)
	}
	packed, err := f.readPacked()
	if err != nil {
		return err
	}
	defer packed.release()
	for _, u := range ups {
		cur, err := f.readLoose(u.Name)
		if errors.Is(err, ErrRefNotFound) {
			cur, _ = packed.lookup(u.Name)
			err = nil
		}
		if err != nil {
			return err
		}
		if cur != u.Old {
			return &RefChangedError{Name: u.Name, Want: u.Old, Got: cur}
		}
		if u.Old.IsZero() && !u.New.IsZero() {
			if err := f.checkNameConflict(u.Name, packed); err != nil {
				return err
			}
		}
	}
	if packedLock != nil {
		if err := f.writePackedWithout(packedLock, packed, ups); err != nil {
			return err
		}
	}
	for i, u := range ups {
		if u.New.IsZero() {
			continue
		}
		l := locks[i]
		if _, err := l.file.WriteString(u.New.String() + "\n"); err != nil {
			return fmt.Errorf("write %s: %w", l.path, err)
		}
		if err := l.file.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", l.path, err)
		}
		if err := l.file.Close(); err != nil {
			return fmt.Errorf("close %s: %w", l.path, err)
		}
		l.file = nil
	}
	dirs := map[string]bool{}
	for i, u := range ups {
		l := locks[i]
		target := f.path(u.Name)
		if u.New.IsZero() {
			if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("delete %s: %w", u.Name, err)
			}
			continue
		}
		if err := os.Rename(l.path, target); err != nil {
			return fmt.Errorf("update %s: %w", u.Name, err)
		}
		l.committed = true
		dirs[filepath.Dir(target)] = true
	}
	if packedLock != nil {
		if err := os.Rename(packedLock.path, filepath.Join(f.dir, "packed-refs")); err != nil {
			return fmt.Errorf("update packed-refs: %w", err)
		}
		packedLock.committed = true
		dirs[f.dir] = true
	}
	for d := range dirs {
		syncDir(d)
	}
	return nil
}

// checkNameConflict refuses to create name when a ref already exists at one
// of its parent paths or below it, as git does (a file and a directory
// cannot share a path).
func (f *fileRefs) checkNameConflict(name string, packed packedRefs) error {
	parts := strings.Split(name, "/")
	for i := 2; i < len(parts); i++ {
		parent := strings.Join(parts[:i], "/")
		if _, ok := packed.lookup(parent); ok {
			return fmt.Errorf("cannot create %s: reference %s exists", name, parent)
		}
		if st, err := os.Stat(f.path(parent)); err == nil && !st.IsDir() {
			return fmt.Errorf("cannot create %s: reference %s exists", name, parent)
		}
	}
	var child string
	packed.each(name+"/", func(n string, _ plumbing.Hash) { child = n })
	if child != "" {
		return fmt.Errorf("cannot create %s: reference %s exists below it", name, child)
	}
	if st, err := os.Stat(f.path(name)); err == nil && st.IsDir() {
		return fmt.Errorf("cannot create %s: references exist below it (%s is a directory)", name, f.path(name))
	}
	return nil
}

// writePackedWithout writes packed-refs minus the deleted names (and their
// peeled lines) into the held packed-refs.lock.
func (f *fileRefs) writePackedWithout(l *lockFile, packed packedRefs, ups []RefUpdate) error {
	gone := map[string]bool{}
	for _, u := range ups {
		if u.New.IsZero() {
			gone[u.Name] = true
		}
	}
	var out bytes.Buffer
	data := packed.data
	skipPeeled := false
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		if line[0] == '^' {
			if !skipPeeled {
				out.Write(line)
			}
			continue
		}
		skipPeeled = false
		if len(line) > 41 && line[0] != '#' && gone[strings.TrimRight(string(line[41:]), "\n")] {
			skipPeeled = true
			continue
		}
		out.Write(line)
	}
	if _, err := l.file.Write(out.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", l.path, err)
	}
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", l.path, err)
	}
	err := l.file.Close()
	l.file = nil
	return err
}

// syncDir makes a rename durable. Errors are ignored: some filesystems do
// not support fsync on directories, and the rename itself has happened.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// memRefs is a RefStore in memory, for tests and in-memory repositories.
type memRefs struct {
	mu   sync.Mutex
	refs map[string]plumbing.Hash
}

func newMemRefs() *memRefs { return &memRefs{refs: map[string]plumbing.Hash{}} }

func (m *memRefs) Lookup(name string) (plumbing.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.refs[name]
	if !ok {
		return plumbing.ZeroHash, ErrRefNotFound
	}
	return h, nil
}

func (m *memRefs) List(prefix string) ([]Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var refs []Ref
	for n, h := range m.refs {
		if strings.HasPrefix(n, prefix) {
			refs = append(refs, Ref{Name: n, Hash: h})
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, nil
}

func (m *memRefs) Update(updates ...RefUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	for _, u := range updates {
		if err := plumbing.ReferenceName(u.Name).Validate(); err != nil || !strings.HasPrefix(u.Name, "refs/") {
			return fmt.Errorf("%q is not a valid reference name", u.Name)
		}
		if seen[u.Name] {
			return fmt.Errorf("reference %s updated twice in one transaction", u.Name)
		}
		seen[u.Name] = true
		if cur := m.refs[u.Name]; cur != u.Old {
			return &RefChangedError{Name: u.Name, Want: u.Old, Got: cur}
		}
		if u.Old.IsZero() {
			for n := range m.refs {
				if strings.HasPrefix(n, u.Name+"/") || strings.HasPrefix(u.Name, n+"/") {
					return fmt.Errorf("cannot create %s: reference %s exists", u.Name, n)
				}
			}
		}
	}
	for _, u := range updates {
		if u.New.IsZero() {
			delete(m.refs, u.Name)
		} else {
			m.refs[u.Name] = u.New
		}
	}
	return nil
}

func isHex[T string | []byte](s T, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
