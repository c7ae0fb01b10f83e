package stackrepo

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// objectReader reads objects from a git directory: loose objects, then
// packs. It exists because go-git's filesystem storage decodes every pack
// .idx in full and inverts it into an offset→hash map on the first object
// read (idxfile.MemoryIndex.genOffsetHash; it needs FindHash(offset) for
// every OFS_DELTA base), which costs O(objects in the repository) per
// process: ~10 ms at 50,000 objects, growing with history. Here the .idx
// is mapped and binary-searched (O(log n)), and delta bases are found by
// offset, so a read costs what the object costs. Delta patching is
// go-git's (packfile.PatchDelta); objects are decoded by go-git's object
// package. Writes still go through go-git.
type objectReader struct {
	// dirs are the object directories: the repository's, then its
	// alternates' (objects/info/alternates), as git reads them.
	dirs  []string
	packs []*packIndex
	// loaded says whether the pack list was read; a miss re-reads it once,
	// since a concurrent repack may have replaced the packs.
	loaded bool
	bases  map[baseKey]rawObject
	// zr is reused across objects: a new inflater costs ~40 KB.
	zr io.ReadCloser
}

type baseKey struct {
	pack   *packIndex
	offset int64
}

type rawObject struct {
	typ  plumbing.ObjectType
	data []byte
}

// maxBaseCache bounds the delta-base cache (entries, not bytes: stack
// objects are small).
const maxBaseCache = 4096

// newObjectReader reads the objects of the git directory dir.
func newObjectReader(dir string) *objectReader {
	objects := filepath.Join(dir, "objects")
	return &objectReader{dirs: append([]string{objects}, alternates(objects, 0)...), bases: map[baseKey]rawObject{}}
}

// maxAlternateDepth is how deep git follows alternates of alternates.
const maxAlternateDepth = 5

// alternates lists the object directories objects/info/alternates names
// (one a line; relative to objects; # comments; C-quoted when quoted),
// and theirs in turn.
func alternates(objects string, depth int) []string {
	if depth >= maxAlternateDepth {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(objects, "info", "alternates"))
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '"' {
			if u, err := strconv.Unquote(line); err == nil {
				line = u
			}
		}
		if !filepath.IsAbs(line) {
			line = filepath.Join(objects, line)
		}
		line = filepath.Clean(line)
		out = append(out, line)
		out = append(out, alternates(line, depth+1)...)
	}
	return out
}

func (o *objectReader) close() {
	for _, p := range o.packs {
		p.close()
	}
	o.packs = nil
	o.loaded = false
}

// read returns an object's type and content. Like C git it looks in the
// packs, then among loose objects, then (a concurrent repack may have
// just moved the object) in a fresh list of packs.
func (o *objectReader) read(h plumbing.Hash) (rawObject, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if !o.loaded || attempt == 1 {
			if err := o.loadPacks(); err != nil {
				return rawObject{}, err
			}
		}
		for _, p := range o.packs {
			if off, ok := p.find(h); ok {
				obj, err := o.readPacked(p, off, 0)
				if err != nil {
					return rawObject{}, fmt.Errorf("pack %s, offset %d: %w", filepath.Base(p.packPath), off, err)
				}
				return obj, nil
			}
		}
		if obj, err := o.readLoose(h); err == nil || !errors.Is(err, plumbing.ErrObjectNotFound) {
			return obj, err
		}
	}
	return rawObject{}, plumbing.ErrObjectNotFound
}

// has reports whether the object is here (in a pack or loose), without
// reading it.
func (o *objectReader) has(h plumbing.Hash) bool {
	if !o.loaded {
		if err := o.loadPacks(); err != nil {
			return false
		}
	}
	for _, p := range o.packs {
		if _, ok := p.find(h); ok {
			return true
		}
	}
	hex := h.String()
	for _, d := range o.dirs {
		if _, err := os.Stat(filepath.Join(d, hex[:2], hex[2:])); err == nil {
			return true
		}
	}
	return false
}

func (o *objectReader) readLoose(h plumbing.Hash) (rawObject, error) {
	hex := h.String()
	var f *os.File
	for _, d := range o.dirs {
		var err error
		if f, err = os.Open(filepath.Join(d, hex[:2], hex[2:])); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return rawObject{}, err
		}
	}
	if f == nil {
		return rawObject{}, plumbing.ErrObjectNotFound
	}
	defer f.Close()
	zr, err := o.inflater(bufio.NewReader(f))
	if err != nil {
		return rawObject{}, fmt.Errorf("loose object %s: %w", h, err)
	}
	br := bufio.NewReader(zr)
	header, err := br.ReadString(0)
	if err != nil {
		return rawObject{}, fmt.Errorf("loose object %s: bad header: %w", h, err)
	}
	typName, sizeStr, ok := strings.Cut(strings.TrimSuffix(header, "\x00"), " ")
	typ, terr := plumbing.ParseObjectType(typName)
	size, serr := strconv.ParseInt(sizeStr, 10, 64)
	if !ok || terr != nil || serr != nil || size < 0 {
		return rawObject{}, fmt.Errorf("loose object %s: bad header %q", h, header)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(br, data); err != nil {
		return rawObject{}, fmt.Errorf("loose object %s: %w", h, err)
	}
	return rawObject{typ: typ, data: data}, nil
}

func (o *objectReader) loadPacks() error {
	o.close()
	o.loaded = true
	for _, objects := range o.dirs {
		dir := filepath.Join(objects, "pack")
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return err
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasPrefix(name, "pack-") || !strings.HasSuffix(name, ".idx") {
				continue
			}
			p, err := openPackIndex(filepath.Join(dir, name))
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					continue // removed by a concurrent repack
				}
				return err
			}
			o.packs = append(o.packs, p)
		}
	}
	// Newest packs first: recent objects are the likely ones.
	sort.Slice(o.packs, func(i, j int) bool { return o.packs[i].mtime > o.packs[j].mtime })
	return nil
}

// maxDeltaDepth guards against malformed packs with delta cycles.
const maxDeltaDepth = 10000

func (o *objectReader) readPacked(p *packIndex, off int64, depth int) (rawObject, error) {
	if depth > maxDeltaDepth {
		return rawObject{}, fmt.Errorf("delta chain deeper than %d", maxDeltaDepth)
	}
	if obj, ok := o.bases[baseKey{p, off}]; ok {
		return obj, nil
	}
	typ, size, baseOff, baseHash, r, err := p.entry(off)
	if err != nil {
		return rawObject{}, err
	}
	data, err := o.inflate(r, size)
	if err != nil {
		return rawObject{}, err
	}
	var obj rawObject
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
		obj = rawObject{typ: typ, data: data}
	case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
		var base rawObject
		if typ == plumbing.OFSDeltaObject {
			base, err = o.readPacked(p, baseOff, depth+1)
		} else if bo, ok := p.find(baseHash); ok {
			base, err = o.readPacked(p, bo, depth+1)
		} else {
			base, err = o.read(baseHash)
		}
		if err != nil {
			return rawObject{}, fmt.Errorf("delta base: %w", err)
		}
		patched, err := packfile.PatchDelta(base.data, data)
		if err != nil {
			return rawObject{}, err
		}
		obj = rawObject{typ: base.typ, data: patched}
	default:
		return rawObject{}, fmt.Errorf("unknown pack entry type %d", typ)
	}
	if len(o.bases) >= maxBaseCache {
		clear(o.bases)
	}
	o.bases[baseKey{p, off}] = obj
	return obj, nil
}

// inflater returns the reusable zlib reader, reset onto r.
func (o *objectReader) inflater(r io.Reader) (io.Reader, error) {
	if o.zr == nil {
		zr, err := zlib.NewReader(r)
		if err != nil {
			return nil, err
		}
		o.zr = zr
		return zr, nil
	}
	return o.zr, o.zr.(zlib.Resetter).Reset(r, nil)
}

func (o *objectReader) inflate(r io.Reader, size int64) ([]byte, error) {
	zr, err := o.inflater(r)
	if err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(zr, data); err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	return data, nil
}

// packIndex is a pack's version-2 .idx and its .pack, both mapped into
// memory: reading an entry from the mapping costs no system call and no
// buffer (a 4 KiB bufio.Reader and a pread per object before: show -1.2 ms,
// -220 page faults, in issue 13).
type packIndex struct {
	packPath string
	idx      []byte
	unmap    func()
	// data is the mapped .pack; pack is the open .pack where it could not
	// be mapped.
	data      []byte
	unmapPack func()
	pack      *os.File
	count     int
	mtime     int64
}

func openPackIndex(path string) (*packIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	p := &packIndex{packPath: strings.TrimSuffix(path, ".idx") + ".pack", mtime: st.ModTime().UnixNano()}
	size := int(st.Size())
	if size < 8+256*4+40 {
		return nil, fmt.Errorf("%s: too short for a pack index", path)
	}
	if data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
		p.idx, p.unmap = data, func() { syscall.Munmap(data) }
	} else if p.idx, err = io.ReadAll(f); err != nil {
		return nil, err
	}
	if !bytes.Equal(p.idx[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		p.close()
		return nil, fmt.Errorf("%s: not a version 2 pack index", path)
	}
	p.count = int(binary.BigEndian.Uint32(p.idx[8+255*4:]))
	if len(p.idx) < 8+256*4+p.count*(20+4+4)+40 {
		p.close()
		return nil, fmt.Errorf("%s: truncated pack index", path)
	}
	pf, err := os.Open(p.packPath)
	if err != nil {
		p.close()
		return nil, err
	}
	if pst, err := pf.Stat(); err == nil && pst.Size() > 0 && int64(int(pst.Size())) == pst.Size() {
		if data, err := syscall.Mmap(int(pf.Fd()), 0, int(pst.Size()), syscall.PROT_READ, syscall.MAP_SHARED); err == nil {
			pf.Close()
			p.data, p.unmapPack = data, func() { syscall.Munmap(data) }
			return p, nil
		}
	}
	p.pack = pf
	return p, nil
}

func (p *packIndex) close() {
	if p.unmap != nil {
		p.unmap()
		p.unmap = nil
	}
	if p.unmapPack != nil {
		p.unmapPack()
		p.unmapPack, p.data = nil, nil
	}
	if p.pack != nil {
		p.pack.Close()
		p.pack = nil
	}
}

// find returns the pack offset of h: the fanout table narrows the range to
// the hashes with h's first byte, then a binary search.
func (p *packIndex) find(h plumbing.Hash) (int64, bool) {
	const fanout = 8
	names := fanout + 256*4
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(p.idx[fanout+(int(h[0])-1)*4:]))
	}
	hi := int(binary.BigEndian.Uint32(p.idx[fanout+int(h[0])*4:]))
	i := lo + sort.Search(hi-lo, func(i int) bool {
		return bytes.Compare(p.idx[names+(lo+i)*20:names+(lo+i)*20+20], h[:]) >= 0
	})
	if i >= hi || !bytes.Equal(p.idx[names+i*20:names+i*20+20], h[:]) {
		return 0, false
	}
	offsets := names + p.count*20 + p.count*4
	off := binary.BigEndian.Uint32(p.idx[offsets+i*4:])
	if off&0x80000000 == 0 {
		return int64(off), true
	}
	large := offsets + p.count*4 + int(off&0x7fffffff)*8
	if large+8 > len(p.idx) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p.idx[large:])), true
}

// entry parses the pack entry header at off and returns a reader of its
// compressed data.
func (p *packIndex) entry(off int64) (typ plumbing.ObjectType, size, baseOff int64, baseHash plumbing.Hash, r io.Reader, err error) {
	var br interface {
		io.Reader
		io.ByteReader
	}
	if p.data != nil {
		if off < 0 || off >= int64(len(p.data)) {
			err = fmt.Errorf("offset past the end of the pack")
			return
		}
		// a bytes.Reader is an io.ByteReader: flate reads it directly
		br = bytes.NewReader(p.data[off:])
	} else {
		br = bufio.NewReaderSize(io.NewSectionReader(p.pack, off, 1<<62), 4096)
	}
	c, err := br.ReadByte()
	if err != nil {
		return
	}
	typ = plumbing.ObjectType((c >> 4) & 7)
	size = int64(c & 0x0f)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if c, err = br.ReadByte(); err != nil {
			return
		}
		size |= int64(c&0x7f) << shift
	}
	switch typ {
	case plumbing.OFSDeltaObject:
		if c, err = br.ReadByte(); err != nil {
			return
		}
		rel := int64(c & 0x7f)
		for c&0x80 != 0 {
			if c, err = br.ReadByte(); err != nil {
				return
			}
			rel = ((rel + 1) << 7) | int64(c&0x7f)
		}
		baseOff = off - rel
		if rel <= 0 || baseOff < 0 {
			err = fmt.Errorf("bad delta base offset")
			return
		}
	case plumbing.REFDeltaObject:
		if _, err = io.ReadFull(br, baseHash[:]); err != nil {
			return
		}
	}
	return typ, size, baseOff, baseHash, br, nil
}
