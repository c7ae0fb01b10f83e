package debian

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"pault.ag/go/debian/deb"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Bounds on what ReadDebControl reads of a .deb: a control file is a few
// kilobytes; the control archive also holds maintainer scripts.
const (
	maxControlFile    = 1 << 20
	maxControlArchive = 64 << 20
	maxArMembers      = 16
)

// ReadDebControl reads the control file of a binary package (a .deb, as
// deb(5) defines it: an ar archive of debian-binary 2.x, then
// control.tar[.gz|.xz|.zst], then data.tar.*) and returns its paragraph.
// The archive is read with pault.ag/go/debian/deb; the checks of its
// order and the bounds on what is decompressed are ours, so that a
// damaged or hostile file is refused, not looped over or inflated.
func ReadDebControl(f io.ReaderAt) (*Paragraph, error) {
	ar, err := deb.LoadAr(f)
	if err != nil {
		return nil, errors.New("not a Debian package: it is not an ar archive (it does not start with !<arch>)")
	}
	for i := 0; i < maxArMembers; i++ {
		m, err := ar.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a Debian package: its ar archive is damaged: %v", err)
		}
		if m.Size < 0 {
			return nil, fmt.Errorf("not a Debian package: its ar member %q has a negative size", termtext.Shorten(m.Name))
		}
		name := m.Name
		switch {
		case i == 0:
			if name != "debian-binary" {
				return nil, fmt.Errorf("not a Debian package: its first member is %q, not debian-binary", termtext.Shorten(name))
			}
			v := make([]byte, min(m.Size, 16))
			if _, err := io.ReadFull(m.Data, v); err != nil || !strings.HasPrefix(string(v), "2.") {
				return nil, fmt.Errorf("not a Debian package of format 2.x: debian-binary says %q", termtext.Shorten(string(v)))
			}
		case strings.HasPrefix(name, "_"):
			// deb(5): members an older reader safely ignores.
		case name == "control.tar" || strings.HasPrefix(name, "control.tar."):
			return readControlMember(m)
		default:
			return nil, fmt.Errorf("not a Debian package: member %q comes where control.tar belongs", termtext.Shorten(name))
		}
	}
	return nil, errors.New("not a Debian package: it has no control.tar member")
}

// readControlMember finds ./control in the control archive.
func readControlMember(m *deb.ArEntry) (*Paragraph, error) {
	ext := strings.TrimPrefix(m.Name, "control.tar")
	switch ext {
	case "", ".gz", ".xz", ".zst":
	default:
		return nil, fmt.Errorf("its control member %s is compressed with %q, which dpkg does not use for it (gz, xz, zst or none)", termtext.Shorten(m.Name), ext)
	}
	dec, err := deb.DecompressorFor(ext)(m.Data)
	if err != nil {
		return nil, fmt.Errorf("its control member %s does not decompress: %v", m.Name, err)
	}
	defer dec.Close()
	tr := tar.NewReader(io.LimitReader(dec, maxControlArchive))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("its control member %s has no control file", m.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("its control member %s is damaged: %v", m.Name, err)
		}
		if path.Clean(strings.TrimPrefix(h.Name, "./")) != "control" {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("its control file is not a regular file in %s", m.Name)
		}
		if h.Size > maxControlFile {
			return nil, fmt.Errorf("its control file is %d bytes, more than a control file's %d", h.Size, maxControlFile)
		}
		var paras []*Paragraph
		if err := ReadParagraphs(tr, func(p *Paragraph) error {
			paras = append(paras, p)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("its control file: %w", err)
		}
		if len(paras) != 1 {
			return nil, fmt.Errorf("its control file has %d paragraphs, not one", len(paras))
		}
		return paras[0], nil
	}
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
