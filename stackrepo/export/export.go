// Package export writes a stack's packages in the forms deploy tools take
// (SPEC §6, README "Exports"): apt's name=version pairs, an
// apt_preferences(5) file that pins every version, YAML vars for Ansible's
// apt module, Puppet package resources, and the stanzas themselves.
// stack show and channel show both render through Render; their JSON is
// each command's own.
package export

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// Formats are the formats Render writes, in the order help lists them.
var Formats = []string{"apt", "apt-pin", "ansible", "puppet", "control"}

// Known says whether Render writes format.
func Known(format string) bool {
	for _, f := range Formats {
		if f == format {
			return true
		}
	}
	return false
}

// PinPriority is the Pin-Priority of apt-pin's stanzas: above 1000, apt
// installs the pinned version even when the installed one is newer, so
// a rollback downgrades (apt_preferences(5), "How APT Interprets
// Priorities").
const PinPriority = 1001

// Origin says what is exported: a stack, and the channel it was read
// from when it was (channel show).
type Origin struct {
	Stack stackrepo.StackID
	// Commit is the stack's commit (hex); "" leaves it out.
	Commit string
	// Channel is "<domain>/<env>" when the stack is what a channel runs.
	Channel string
}

// check refuses an origin whose names are not stack, domain and channel
// names, or whose commit is not hex: what Render writes then holds no
// character that a target language gives a meaning to (not even
// Ansible's "{{").
func (o Origin) check() error {
	if err := stackrepo.CheckName("domain", o.Stack.Domain); err != nil {
		return err
	}
	if err := stackrepo.CheckName("stack", o.Stack.Name); err != nil {
		return err
	}
	if strings.Trim(o.Commit, "0123456789abcdef") != "" {
		return fmt.Errorf("commit %q of stack %s is not a hexadecimal object name", termtext.Shorten(o.Commit), o.Stack)
	}
	if o.Channel != "" {
		d, env, ok := strings.Cut(o.Channel, "/")
		if !ok {
			return fmt.Errorf("channel %q is not <domain>/<env>", termtext.Shorten(o.Channel))
		}
		if err := stackrepo.CheckName("domain", d); err != nil {
			return err
		}
		if err := stackrepo.CheckName("channel", env); err != nil {
			return err
		}
	}
	return nil
}

// describe is the origin in one line, for a comment.
func (o Origin) describe() string {
	s := "stack " + o.Stack.String()
	if o.Commit != "" {
		s += " (commit " + o.Commit + ")"
	}
	if o.Channel != "" {
		s = "channel " + o.Channel + " runs " + s
	}
	return termtext.Escape(s)
}

// Render writes pkgs, the packages of the stack o names, in format (one
// of Formats). Every package name and version is checked as Debian's
// first, and quoted for the target language: a package that could not be
// written faithfully is an error naming it, and nothing is written.
func Render(w io.Writer, format string, o Origin, pkgs []stackrepo.Package) error {
	if !Known(format) {
		return fmt.Errorf("export format %q is not one of %s", format, strings.Join(Formats, ", "))
	}
	if err := o.check(); err != nil {
		return err
	}
	if format != "control" {
		for _, p := range pkgs {
			if err := debian.CheckPackageName(p.Name); err != nil {
				return fmt.Errorf("%s cannot be exported as %s: %w", o.Stack, format, err)
			}
			if err := debian.CheckVersion(p.Version); err != nil {
				return fmt.Errorf("%s cannot be exported as %s: package %s: %w", o.Stack, format, p.Name, err)
			}
		}
	}
	var b bytes.Buffer
	switch format {
	case "apt":
		for _, p := range pkgs {
			fmt.Fprintf(&b, "%s=%s\n", p.Name, p.Version)
		}
	case "apt-pin":
		aptPin(&b, o, pkgs)
	case "ansible":
		ansible(&b, o, pkgs)
	case "puppet":
		puppet(&b, o, pkgs)
	case "control":
		for i, p := range pkgs {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.Write(p.Stanza())
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// aptPin writes an apt_preferences(5) file: a comment naming the stack,
// then one stanza per package, separated by blank lines.
func aptPin(b *bytes.Buffer, o Origin, pkgs []stackrepo.Package) {
	fmt.Fprintf(b, "# git gachette: %s\n", o.describe())
	fmt.Fprintf(b, "# Pin-Priority %d: apt installs these versions even over newer ones, so a rollback downgrades.\n", PinPriority)
	for _, p := range pkgs {
		fmt.Fprintf(b, "\nPackage: %s\nPin: version %s\nPin-Priority: %d\n", p.Name, p.Version, PinPriority)
	}
}

// ansible writes YAML vars for ansible.builtin.apt: the stack, and its
// packages as name=version items.
func ansible(b *bytes.Buffer, o Origin, pkgs []stackrepo.Package) {
	fmt.Fprintf(b, "# git gachette: %s\n", o.describe())
	b.WriteString("# ansible.builtin.apt: name: \"{{ gachette_packages }}\", with allow_downgrade: true so a rollback downgrades.\n")
	b.WriteString("---\n")
	fmt.Fprintf(b, "gachette_stack: %s\n", yamlQuote(o.Stack.String()))
	if o.Commit != "" {
		fmt.Fprintf(b, "gachette_commit: %s\n", yamlQuote(o.Commit))
	}
	if o.Channel != "" {
		fmt.Fprintf(b, "gachette_channel: %s\n", yamlQuote(o.Channel))
	}
	if len(pkgs) == 0 {
		b.WriteString("gachette_packages: []\n")
		return
	}
	b.WriteString("gachette_packages:\n")
	for _, p := range pkgs {
		fmt.Fprintf(b, "  - %s\n", yamlQuote(p.Name+"="+p.Version))
	}
}

// puppet writes one package resource per package, its ensure the exact
// version.
func puppet(b *bytes.Buffer, o Origin, pkgs []stackrepo.Package) {
	fmt.Fprintf(b, "# git gachette: %s\n", o.describe())
	for _, p := range pkgs {
		fmt.Fprintf(b, "package { %s: ensure => %s }\n", puppetQuote(p.Name), puppetQuote(p.Version))
	}
}

// yamlQuote is s as a YAML double-quoted scalar that YAML 1.1 and 1.2
// readers (PyYAML, which Ansible uses) read back as s: printable ASCII as
// it is but '"' and '\', which are escaped, and everything else as a
// \u or \U escape (bytes that are not UTF-8 as U+FFFD). Nothing in it is
// then a line break, a comment, a Jinja2 delimiter's way out of the
// string, or a character a YAML reader refuses.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == utf8.RuneError:
			b.WriteString(`\uFFFD`)
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// puppetQuote is s as a Puppet single-quoted string, whose only escapes
// are a backslash before a backslash or a single quote (a backslash
// before anything else stays a backslash, but one at the end would
// escape the closing quote, so every backslash is doubled).
// Single-quoted strings interpolate nothing.
func puppetQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' || s[i] == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
