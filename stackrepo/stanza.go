package stackrepo

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Package is one entry of a stack: a Debian package at one version, with the
// provenance known for it. Package, Version and Filename are required.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture,omitempty"`
	Filename     string `json:"filename"`
	SHA256       string `json:"sha256,omitempty"`
	Size         int64  `json:"size,omitempty"`
	Source       string `json:"source,omitempty"`
	Commit       string `json:"commit,omitempty"`
	Ref          string `json:"ref,omitempty"`
	BuiltOn      string `json:"built_on,omitempty"`
}

// Validate checks every field against the format, naming the first bad one.
func (p Package) Validate() error {
	if err := checkPackageName(p.Name); err != nil {
		return err
	}
	if err := checkVersion(p.Version); err != nil {
		return err
	}
	if err := CheckFileName(p.Filename); err != nil {
		return err
	}
	if p.Architecture != "" {
		if err := debian.CheckArch(p.Architecture); err != nil {
			return err
		}
	}
	if p.SHA256 != "" {
		if err := debian.CheckSHA256(p.SHA256); err != nil {
			return err
		}
	}
	if p.Size < 0 {
		return fmt.Errorf("size %d is negative", p.Size)
	}
	if p.Commit != "" && !gitexec.IsObjectName(p.Commit) {
		return fmt.Errorf("commit %q is not a full commit id (40 or 64 lowercase hex digits)", termtext.ShortenTo(p.Commit, 70))
	}
	for _, f := range []struct{ name, value string }{{"source", p.Source}, {"ref", p.Ref}, {"built-on", p.BuiltOn}} {
		if err := checkField(f.name, f.value); err != nil {
			return err
		}
	}
	return nil
}

// stanzaFields is the fixed order of fields in a stanza.
var stanzaFields = []string{"Package", "Version", "Architecture", "Filename", "SHA256", "Size", "Source", "Commit", "Ref", "Built-On"}

func (p Package) field(name string) string {
	switch name {
	case "Package":
		return p.Name
	case "Version":
		return p.Version
	case "Architecture":
		return p.Architecture
	case "Filename":
		return p.Filename
	case "SHA256":
		return p.SHA256
	case "Size":
		if p.Size > 0 {
			return strconv.FormatInt(p.Size, 10)
		}
		return ""
	case "Source":
		return p.Source
	case "Commit":
		return p.Commit
	case "Ref":
		return p.Ref
	case "Built-On":
		return p.BuiltOn
	}
	return ""
}

// Stanza encodes the package as a Debian-control style stanza: fields in
// the fixed order, empty ones left out, LF line ends, a trailing newline.
func (p Package) Stanza() []byte {
	var b bytes.Buffer
	for _, f := range stanzaFields {
		if v := p.field(f); v != "" {
			b.WriteString(f)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// ParseStanza decodes a stanza written by Stanza. It refuses what the format
// does not allow (continuation lines, duplicate fields, bad values) and
// ignores fields it does not know, so that later minor additions still read.
func ParseStanza(data []byte) (Package, error) {
	var p Package
	if len(data) == 0 {
		return p, fmt.Errorf("stanza is empty")
	}
	if data[len(data)-1] != '\n' {
		return p, fmt.Errorf("stanza does not end with a newline")
	}
	seen := map[string]bool{}
	for n, line := range strings.Split(string(data[:len(data)-1]), "\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return p, fmt.Errorf("stanza line %d %q is not \"Field: value\"", n+1, termtext.ShortenTo(line, 60))
		}
		if seen[name] {
			return p, fmt.Errorf("stanza field %s appears twice", name)
		}
		seen[name] = true
		switch name {
		case "Package":
			p.Name = value
		case "Version":
			p.Version = value
		case "Architecture":
			p.Architecture = value
		case "Filename":
			p.Filename = value
		case "SHA256":
			p.SHA256 = value
		case "Size":
			size, err := strconv.ParseInt(value, 10, 64)
			if err != nil || size <= 0 {
				return p, fmt.Errorf("stanza field Size %q is not a positive number", termtext.ShortenTo(value, 40))
			}
			p.Size = size
		case "Source":
			p.Source = value
		case "Commit":
			p.Commit = value
		case "Ref":
			p.Ref = value
		case "Built-On":
			p.BuiltOn = value
		}
	}
	for _, f := range []string{"Package", "Version", "Filename"} {
		if !seen[f] {
			return p, fmt.Errorf("stanza has no %s field", f)
		}
	}
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("stanza: %w", err)
	}
	return p, nil
}
