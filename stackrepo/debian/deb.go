package debian

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"
	"pault.ag/go/debian/deb"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Bounds on what ReadDeb reads of a .deb: a control file is a few
// kilobytes; the control archive also holds maintainer scripts. The data
// archive is read to its end (its compression's checksums and its tar
// structure are checked), up to maxDataArchive bytes decompressed and
// maxDataRatio times its compressed size (plus maxControlArchive), so
// that a decompression bomb is refused, not inflated.
const (
	maxControlFile    = 1 << 20
	maxControlArchive = 64 << 20
	maxDataArchive    = 16 << 30
	maxDataRatio      = 1024
	maxArMembers      = 16
	// maxZstdWindow is zstd's own default limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT).
	maxZstdWindow = 1 << 27
	arHeader      = 60
)

// ReadDeb checks that the size bytes of f are a whole binary package (a
// .deb, as deb(5) defines it: an ar archive of debian-binary 2.x, then
// control.tar[.gz|.xz|.zst], then data.tar[.gz|.xz|.zst|.bz2|.lzma], with
// members named _... an older reader ignores in between, and any after)
// and returns the paragraph of its control file. Every ar member must be
// there whole; the control and data archives are read to their ends
// through their decompressors and tar readers, so a truncated or
// corrupted file is refused, as dpkg-deb refuses it. The ar archive is
// read with pault.ag/go/debian/deb; the checks of its order and sizes,
// and the bounds on what is decompressed, are ours.
func ReadDeb(f io.ReaderAt, size int64) (*Paragraph, error) {
	ar, err := deb.LoadAr(io.NewSectionReader(f, 0, size))
	if err != nil {
		return nil, errors.New("not a Debian package: it is not an ar archive (it does not start with !<arch>)")
	}
	var (
		para       *Paragraph
		data       bool
		off        = int64(len("!<arch>\n"))
		controlErr = errors.New("not a Debian package: it has no control.tar member")
	)
	for i := 0; ; i++ {
		m, err := ar.Next()
		if err == io.EOF {
			if off < size {
				return nil, fmt.Errorf("it is cut short: it ends inside the header of its member %d (%d bytes of %d)", i+1, size-off, arHeader)
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a Debian package: its ar archive is damaged: %v", err)
		}
		if i == maxArMembers {
			return nil, fmt.Errorf("not a Debian package: it has more than %d ar members", maxArMembers)
		}
		name := termtext.Shorten(m.Name)
		if m.Size < 0 {
			return nil, fmt.Errorf("not a Debian package: its ar member %q has a negative size", name)
		}
		if have := size - off - arHeader; m.Size > have {
			return nil, fmt.Errorf("it is cut short: its member %s is %d bytes, of which %d are there", name, m.Size, max(have, 0))
		}
		off += arHeader + m.Size + m.Size%2
		isControl := m.Name == "control.tar" || strings.HasPrefix(m.Name, "control.tar.")
		isData := m.Name == "data.tar" || strings.HasPrefix(m.Name, "data.tar.")
		switch {
		case i == 0:
			if m.Name != "debian-binary" {
				return nil, fmt.Errorf("not a Debian package: its first member is %q, not debian-binary", name)
			}
			if err := checkFormat(m); err != nil {
				return nil, err
			}
		case (isControl && para != nil) || (isData && data):
			return nil, fmt.Errorf("not a Debian package: it has a second %s member (%s)", map[bool]string{true: "control.tar", false: "data.tar"}[isControl], name)
		case data, strings.HasPrefix(m.Name, "_"):
			// deb(5): members an older reader safely ignores, and
			// members after data.tar.
		case para == nil:
			if !isControl {
				return nil, fmt.Errorf("not a Debian package: member %q comes where control.tar belongs", name)
			}
			if para, err = readControlMember(m); err != nil {
				return nil, err
			}
			controlErr = errors.New("not a Debian package: it has no data.tar member (it may be cut short)")
		case !isData:
			return nil, fmt.Errorf("not a Debian package: member %q comes where data.tar belongs", name)
		default:
			if err := readDataMember(m); err != nil {
				return nil, err
			}
			data = true
		}
	}
	if !data {
		return nil, controlErr
	}
	return para, nil
}

// checkFormat checks debian-binary: its first line is the format, 2.x
// (deb(5): a reader accepts a higher minor number, and lines after).
func checkFormat(m *deb.ArEntry) error {
	v := make([]byte, min(m.Size, 16))
	n, _ := io.ReadFull(m.Data, v)
	first, _, _ := strings.Cut(string(v[:n]), "\n")
	if minor, ok := strings.CutPrefix(first, "2."); !ok || minor == "" || strings.Trim(minor, "0123456789") != "" {
		return fmt.Errorf("not a Debian package of format 2.x: debian-binary says %q", termtext.Shorten(string(v[:n])))
	}
	return nil
}

// decompress is the decompressing reader of a member compressed as ext
// says ("" for none); zstd is read with one goroutine, the window zstd
// itself allows, and closed.
func decompress(ext string, r io.Reader) (io.ReadCloser, error) {
	if ext == ".zst" {
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return deb.DecompressorFor(ext)(r)
}

// errTooBig is what a boundedReader returns past its limit.
var errTooBig = errors.New("too big")

// boundedReader reads r up to n bytes, then fails with errTooBig.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// readArchive reads the tar archive of member m (compressed as its name's
// extension says) to its end, and its decompressed stream to its end
// (where gzip, xz and zstd keep their checksums), calling fn for each
// entry; at most limit bytes are decompressed.
func readArchive(m *deb.ArEntry, ext string, limit int64, fn func(*tar.Header, *tar.Reader) error) error {
	name := termtext.Shorten(m.Name)
	dec, err := decompress(ext, m.Data)
	if err != nil {
		return fmt.Errorf("its member %s does not decompress: %v", name, err)
	}
	defer dec.Close()
	br := &boundedReader{r: dec, n: limit}
	damaged := func(err error) error {
		if errors.Is(err, errTooBig) {
			return fmt.Errorf("its member %s decompresses to more than %d bytes (a bound against decompression bombs)", name, limit)
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("its member %s is damaged: %v", name, err)
	}
	tr := tar.NewReader(br)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return damaged(err)
		}
		if err := fn(h, tr); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return damaged(err)
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return damaged(err)
	}
	return nil
}

// readControlMember finds ./control in the control archive, and reads
// the archive to its end.
func readControlMember(m *deb.ArEntry) (*Paragraph, error) {
	ext := strings.TrimPrefix(m.Name, "control.tar")
	switch ext {
	case "", ".gz", ".xz", ".zst":
	default:
		return nil, fmt.Errorf("its control member %s is compressed with %q, which dpkg does not use for it (gz, xz, zst or none)", termtext.Shorten(m.Name), ext)
	}
	var para *Paragraph
	err := readArchive(m, ext, maxControlArchive, func(h *tar.Header, tr *tar.Reader) error {
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "control" {
			return nil
		}
		if para != nil {
			return fmt.Errorf("its control member %s has two control files", m.Name)
		}
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("its control file is not a regular file in %s", m.Name)
		}
		if h.Size > maxControlFile {
			return fmt.Errorf("its control file is %d bytes, more than a control file's %d", h.Size, maxControlFile)
		}
		var paras []*Paragraph
		if err := ReadParagraphs(tr, func(p *Paragraph) error {
			paras = append(paras, p)
			return nil
		}); err != nil {
			return fmt.Errorf("its control file: %w", err)
		}
		if len(paras) != 1 {
			return fmt.Errorf("its control file has %d paragraphs, not one", len(paras))
		}
		para = paras[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	if para == nil {
		return nil, fmt.Errorf("its control member %s has no control file", m.Name)
	}
	return para, nil
}

// readDataMember reads the data archive to its end, bounded.
func readDataMember(m *deb.ArEntry) error {
	ext := strings.TrimPrefix(m.Name, "data.tar")
	switch ext {
	case "", ".gz", ".xz", ".zst", ".bz2", ".lzma":
	default:
		return fmt.Errorf("its data member %s is compressed with %q, which dpkg does not read (gz, xz, zst, bz2, lzma or none)", termtext.Shorten(m.Name), ext)
	}
	limit := min(maxDataArchive, maxControlArchive+maxDataRatio*m.Size)
	return readArchive(m, ext, limit, func(*tar.Header, *tar.Reader) error { return nil })
}

// ParseFileName splits a Debian file name, NAME_VERSION_ARCH.deb (the
// version without its epoch, or with it written %3a as apt writes it),
// into its parts; ok is false when file is not so named.
func ParseFileName(file string) (name, version, arch string, ok bool) {
	base, found := strings.CutSuffix(file, ".deb")
	parts := strings.Split(base, "_")
	if !found || len(parts) != 3 {
		return "", "", "", false
	}
	name, version, arch = parts[0], strings.ReplaceAll(parts[1], "%3a", ":"), parts[2]
	if CheckPackageName(name) != nil || CheckVersion(version) != nil || CheckArch(arch) != nil {
		return "", "", "", false
	}
	return name, version, arch, true
}

// SameFileVersion is whether the version of a Debian file name (see
// ParseFileName) is version: the same, or the same without its epoch.
func SameFileVersion(fileVersion, version string) bool {
	if fileVersion == version {
		return true
	}
	_, v, found := strings.Cut(version, ":")
	return found && !strings.Contains(fileVersion, ":") && fileVersion == v
}

// FileNameArch returns the architecture a Debian file name gives for the
// package name at version: file is name_version_arch.deb, with the
// version's epoch left out (as dpkg-name and dpkg-buildpackage name
// files). ok is false when file is not so named.
func FileNameArch(file, name, version string) (arch string, ok bool) {
	if _, v, found := strings.Cut(version, ":"); found {
		version = v
	}
	rest, found := strings.CutPrefix(file, name+"_"+version+"_")
	if !found {
		return "", false
	}
	arch, found = strings.CutSuffix(rest, ".deb")
	if !found || CheckArch(arch) != nil || arch == "" {
		return "", false
	}
	return arch, true
}
