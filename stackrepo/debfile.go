package stackrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// ReadDeb reads the .deb file at file into the entry a stack records for
// it: Package, Version and Architecture from its control file, the
// SHA-256 and size of the file, and its base name as Filename (file may
// be any path to it). Errors name the file.
func ReadDeb(file string) (Package, error) {
	p, err := readDeb(file)
	if err != nil {
		return Package{}, fmt.Errorf("%s: %w", file, err)
	}
	return p, nil
}

func readDeb(file string) (Package, error) {
	f, err := os.Open(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Package{}, errors.New("no such file")
		}
		return Package{}, fmt.Errorf("cannot read it: %w", errors.Unwrap(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Package{}, err
	}
	if st.IsDir() {
		return Package{}, errors.New("is a directory, not a .deb file")
	}
	if !st.Mode().IsRegular() {
		return Package{}, errors.New("is not a regular file")
	}
	para, err := debian.ReadDebControl(f)
	if err != nil {
		return Package{}, err
	}
	p := Package{Filename: filepath.Base(file)}
	for _, field := range []struct {
		name     string
		to       *string
		required bool
	}{{"Package", &p.Name, true}, {"Version", &p.Version, true}, {"Architecture", &p.Architecture, false}} {
		v, ok := para.Value(field.name)
		if !ok && field.required {
			return Package{}, fmt.Errorf("its control file has no %s field", field.name)
		}
		*field.to = v
	}
	if err := p.checkRead(); err != nil {
		return Package{}, fmt.Errorf("its control file: %w", err)
	}
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Package{}, err
	}
	n, err := io.Copy(h, f)
	if err != nil {
		return Package{}, fmt.Errorf("cannot read it: %w", err)
	}
	p.SHA256, p.Size = hex.EncodeToString(h.Sum(nil)), n
	if err := CheckFileName(p.Filename); err != nil {
		return Package{}, err
	}
	return p, nil
}

// checkRead validates the fields a .deb or a Packages index gives.
func (p Package) checkRead() error {
	if err := checkPackageName(p.Name); err != nil {
		return err
	}
	if err := checkVersion(p.Version); err != nil {
		return err
	}
	if p.Architecture != "" {
		return debian.CheckArch(p.Architecture)
	}
	return nil
}

// maxIndexErrors bounds the bad stanzas ReadPackagesIndex names.
const maxIndexErrors = 20

// ReadPackagesIndex reads a Debian Packages index (what dpkg-scanpackages,
// apt-ftparchive or aptly write) into one entry per stanza: Package,
// Version, Architecture, SHA256 and Size as given, and the base name of
// Filename (pool/main/d/dh-app/dh-app_1.0_all.deb records
// dh-app_1.0_all.deb, as a .deb read by ReadDeb does). Other fields are
// left out; its Source names the Debian source package, not where the
// package was built from. Every bad stanza is named by name (the file,
// in messages) and line, up to 20; a package given twice is refused: a
// stack holds one version of each.
func ReadPackagesIndex(r io.Reader, name string) ([]Package, error) {
	var (
		pkgs  []Package
		errs  []error
		more  int
		first = map[string]int{}
	)
	bad := func(line int, pkg string, err error) {
		if len(errs) == maxIndexErrors {
			more++
			return
		}
		where := fmt.Sprintf("%s line %d", name, line)
		if pkg != "" {
			where += " (" + termtext.ShortenTo(pkg, 60) + ")"
		}
		errs = append(errs, fmt.Errorf("%s: %w", where, err))
	}
	err := debian.ReadParagraphs(r, func(para *debian.Paragraph) error {
		p, err := indexEntry(para)
		if l, dup := first[p.Name]; dup && err == nil {
			err = fmt.Errorf("package %s is given a second time (first at line %d); a stack holds one version of each package", p.Name, l)
		} else if !dup && p.Name != "" {
			first[p.Name] = para.Line
		}
		if err != nil {
			bad(para.Line, p.Name, err)
			return nil
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("%s %w", name, err))
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("%s: and %d more bad stanzas", name, more))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s has no package stanza: is it a Packages file (dpkg-scanpackages DIR > Packages)?", name)
	}
	return pkgs, nil
}

// indexEntry is the entry of one stanza of a Packages index; on error,
// the returned package has the stanza's name when it has one.
func indexEntry(para *debian.Paragraph) (Package, error) {
	var p Package
	get := func(field string, required bool) (string, error) {
		v, ok := para.Value(field)
		if !ok && required {
			return "", fmt.Errorf("no %s field", field)
		}
		return v, nil
	}
	var err error
	if p.Name, err = get("Package", true); err != nil {
		return p, err
	}
	if p.Version, err = get("Version", true); err != nil {
		return p, err
	}
	if p.Architecture, err = get("Architecture", false); err != nil {
		return p, err
	}
	if err := p.checkRead(); err != nil {
		return p, err
	}
	file, err := get("Filename", true)
	if err != nil {
		return p, err
	}
	p.Filename = path.Base(file)
	if strings.HasSuffix(file, "/") || p.Filename == "." {
		return p, fmt.Errorf("the Filename %q names a directory, not a .deb file", termtext.ShortenTo(file, 80))
	}
	if err := CheckFileName(p.Filename); err != nil {
		return p, err
	}
	if p.SHA256, err = get("SHA256", false); err != nil {
		return p, err
	}
	if p.SHA256 != "" {
		if err := debian.CheckSHA256(p.SHA256); err != nil {
			return p, err
		}
	}
	if size, ok := para.Value("Size"); ok {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n <= 0 {
			return p, fmt.Errorf("the Size %q is not a positive number of bytes", termtext.ShortenTo(size, 40))
		}
		p.Size = n
	}
	return p, nil
}
