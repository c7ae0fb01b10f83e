package stackrepo

import (
	"bufio"
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
	if st, err := os.Lstat(file); err == nil && st.Mode()&os.ModeSymlink != 0 {
		to, _ := os.Readlink(file)
		return Package{}, fmt.Errorf("is a symbolic link (to %s): give the file itself, whose name is recorded as Filename", termtext.ShortenTo(to, 200))
	}
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
	para, err := debian.ReadDeb(f, st.Size())
	if err != nil {
		return Package{}, err
	}
	p := Package{Filename: filepath.Base(file)}
	for _, field := range []struct {
		name string
		to   *string
	}{{"Package", &p.Name}, {"Version", &p.Version}, {"Architecture", &p.Architecture}} {
		v, ok := para.Value(field.name)
		if !ok {
			return Package{}, fmt.Errorf("its control file has no %s field", field.name)
		}
		*field.to = v
	}
	if err := p.checkRead(); err != nil {
		return Package{}, fmt.Errorf("its control file: %w", err)
	}
	if err := checkDebFileName(p); err != nil {
		return Package{}, err
	}
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Package{}, err
	}
	n, err := io.Copy(h, f)
	if err != nil {
		return Package{}, fmt.Errorf("cannot read it: %w", err)
	}
	if n != st.Size() {
		return Package{}, fmt.Errorf("it changed while it was read (%d bytes, then %d)", st.Size(), n)
	}
	p.SHA256, p.Size = hex.EncodeToString(h.Sum(nil)), n
	if err := CheckFileName(p.Filename); err != nil {
		return Package{}, err
	}
	return p, nil
}

// checkDebFileName refuses a .deb whose Debian file name
// (NAME_VERSION_ARCH.deb) says another package, version or architecture
// than its control file.
func checkDebFileName(p Package) error {
	name, version, arch, ok := debian.ParseFileName(p.Filename)
	if !ok || (name == p.Name && debian.SameFileVersion(version, p.Version) && arch == p.Architecture) {
		return nil
	}
	return fmt.Errorf("its file name says %s %s %s, its control file %s %s %s: "+
		"check it is the package meant, and name it as its control file says (dpkg-name renames it)",
		name, version, arch, p.Name, p.Version, p.Architecture)
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

// maxIndexErrors bounds the problems ReadPackagesIndex names.
const maxIndexErrors = 20

// compressions are the magic numbers of the compressions a Packages
// index is published with, and the command that decompresses each.
var compressions = []struct{ magic, name, cat string }{
	{"\x1f\x8b", "gzip", "zcat"},
	{"\xfd7zXZ\x00", "xz", "xzcat"},
	{"\x28\xb5\x2f\xfd", "zstd", "zstdcat"},
	{"BZh", "bzip2", "bzcat"},
}

// ReadPackagesIndex reads a Debian Packages index (what dpkg-scanpackages,
// apt-ftparchive or aptly write) into one entry per stanza: Package,
// Version, Architecture, SHA256 and Size as given, and the base name of
// Filename (pool/main/d/dh-app/dh-app_1.0_all.deb records
// dh-app_1.0_all.deb, as a .deb read by ReadDeb does). Other fields are
// left out; its Source names the Debian source package, not where the
// package was built from. Every problem of every stanza is named by name
// (the file, in messages) and line, up to 20; a package given twice is
// refused: a stack holds one version of each. A compressed index
// (Packages.gz, .xz, .zst) is refused, saying how to decompress it.
func ReadPackagesIndex(r io.Reader, name string) ([]Package, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(6)
	for _, c := range compressions {
		if strings.HasPrefix(string(head), c.magic) {
			file := "FILE"
			if name != "standard input" {
				file = ShellWord(name)
			}
			return nil, fmt.Errorf("%s is %s-compressed: decompress it first (%s %s | git gachette stack add STACK --packages -)", name, c.name, c.cat, file)
		}
	}
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
	err := debian.ReadParagraphs(br, func(para *debian.Paragraph) error {
		p, problems := indexEntry(para)
		if l, dup := first[p.Name]; dup && len(problems) == 0 {
			problems = append(problems, indexProblem{para.Line, fmt.Errorf("package %s is given a second time (first at line %d); a stack holds one version of each package", p.Name, l)})
		} else if !dup && p.Name != "" {
			first[p.Name] = para.Line
		}
		for _, pr := range problems {
			bad(pr.line, p.Name, pr.err)
		}
		if len(problems) == 0 {
			pkgs = append(pkgs, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("%s %w", name, err))
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("%s: and %d more problems", name, more))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s has no package stanza: is it a Packages file (dpkg-scanpackages DIR > Packages)?", name)
	}
	return pkgs, nil
}

// indexProblem is one problem of a stanza, at the line of its field (the
// stanza's first line for a field it lacks).
type indexProblem struct {
	line int
	err  error
}

// indexEntry is the entry of one stanza of a Packages index, and every
// problem with it; the returned package has the stanza's name when it
// has one.
func indexEntry(para *debian.Paragraph) (Package, []indexProblem) {
	var (
		p        Package
		problems []indexProblem
	)
	field := func(name string) (value string, line int, ok bool) {
		for _, f := range para.Fields {
			if strings.EqualFold(f.Name, name) {
				return f.Value, f.Line, true
			}
		}
		return "", para.Line, false
	}
	check := func(name string, required bool, to *string, fn func(v string) error) {
		v, line, ok := field(name)
		if !ok {
			if required {
				problems = append(problems, indexProblem{line, fmt.Errorf("no %s field", name)})
			}
			return
		}
		if err := fn(v); err != nil {
			problems = append(problems, indexProblem{line, err})
			return
		}
		if to != nil {
			*to = v
		}
	}
	p.Name, _, _ = field("Package")
	check("Package", true, nil, checkPackageName)
	check("Version", true, &p.Version, checkVersion)
	check("Architecture", false, &p.Architecture, debian.CheckArch)
	check("Filename", true, nil, func(file string) error {
		p.Filename = path.Base(file)
		if strings.HasSuffix(file, "/") || p.Filename == "." {
			return fmt.Errorf("the Filename %q names a directory, not a .deb file", termtext.ShortenTo(file, 80))
		}
		return CheckFileName(p.Filename)
	})
	check("SHA256", false, &p.SHA256, debian.CheckSHA256)
	check("Size", false, nil, func(size string) error {
		n, err := strconv.ParseInt(size, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("the Size %q is not a positive number of bytes", termtext.ShortenTo(size, 40))
		}
		p.Size = n
		return nil
	})
	return p, problems
}
