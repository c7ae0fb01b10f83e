package stackrepo

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// StackID names a stack: a domain and a name, each one git ref component.
type StackID struct {
	Domain string
	Name   string
}

// String returns "<domain>/<name>".
func (id StackID) String() string { return id.Domain + "/" + id.Name }

// TagRef is the full name of the stack's annotated tag.
func (id StackID) TagRef() string { return "refs/tags/" + id.Domain + "/" + id.Name }

// publishedRef records that the stack was pushed to or fetched from a remote.
func (id StackID) publishedRef() string {
	return "refs/gachette/published/" + id.Domain + "/" + id.Name
}

// BranchRef is the full name of a domain's branch.
func BranchRef(domain string) string { return "refs/heads/" + domain }

// ParseStackID reads "name" (in defaultDomain) or "domain/name".
func ParseStackID(s, defaultDomain string) (StackID, error) {
	domain, name := defaultDomain, s
	if i := strings.IndexByte(s, '/'); i >= 0 {
		domain, name = s[:i], s[i+1:]
		if err := CheckName("domain", domain); err != nil {
			// the input named, not only its first part
			return StackID{}, fmt.Errorf("stack %q (domain/name): %w", termtext.ShortenTo(s, 120), err)
		}
	} else if err := CheckName("domain", domain); err != nil {
		return StackID{}, err
	}
	if err := CheckName("stack", name); err != nil {
		return StackID{}, err
	}
	return StackID{Domain: domain, Name: name}, nil
}

// maxNameLen bounds stack and domain names; ref names become file names.
const maxNameLen = 100

// CheckName validates a stack or domain name (kind says which, for the
// message): one git ref component (git check-ref-format), restricted to
// ASCII letters, digits, '.', '_', '+' and '-' so that names are the same
// on every filesystem and cannot be confused with look-alike characters.
func CheckName(kind, s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%s name %q is not valid: %s", kind, s, why)
	}
	switch {
	case s == "":
		return fmt.Errorf("%s name is empty", kind)
	case len(s) > maxNameLen:
		return fmt.Errorf("%s name %q is longer than %d bytes", kind, termtext.ShortenTo(s, 40), maxNameLen)
	case s == "@":
		return bad(`"@" alone is reserved by git`)
	case s[0] == '-':
		return bad("it must not start with '-'")
	case s[0] == '.':
		return bad("it must not start with '.'")
	case strings.HasSuffix(s, "."):
		return bad("it must not end with '.'")
	case strings.HasSuffix(s, ".lock"):
		return bad(`it must not end with ".lock"`)
	case strings.Contains(s, ".."):
		return bad(`it must not contain ".."`)
	}
	for i, r := range s {
		if r == '/' {
			return bad("it must be a single name without '/'")
		}
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '+' || r == '-') {
			return bad(fmt.Sprintf("%s at position %d; use letters, digits, '.', '_', '+' and '-'", termtext.DescribeRune(r), i+1))
		}
	}
	return nil
}

// CheckFileName validates a .deb file name as recorded in a stanza: a plain
// file name, no directory parts, no "..", nothing unprintable.
func CheckFileName(s string) error {
	if s == "" {
		return fmt.Errorf("file name is empty")
	}
	if len(s) > 255 {
		return fmt.Errorf("file name %q is longer than 255 bytes", termtext.ShortenTo(s, 40))
	}
	if s == "." {
		return fmt.Errorf(`file name "." is not a file name; give the bare file name, e.g. dh-app_1.0_all.deb`)
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf(`file name %q must not contain ".."; give the bare file name, e.g. dh-app_1.0_all.deb`, s)
	}
	for i, r := range s {
		if r == '/' || r == '\\' {
			return fmt.Errorf("file name %q must not contain %q; give the bare file name, e.g. dh-app_1.0_all.deb", s, r)
		}
		if r <= ' ' || r == 0x7f || r > 0x7e {
			return fmt.Errorf("file name %q has %s at position %d; use printable ASCII without spaces", s, termtext.DescribeRune(r), i+1)
		}
	}
	return nil
}

// checkField validates a free-form stanza value (source URL, ref, host):
// one line of printable characters (termtext.CheckLine), no leading or
// trailing space.
func checkField(field, s string) error {
	if len(s) > 4096 {
		return fmt.Errorf("%s %q is longer than 4096 bytes", field, termtext.ShortenTo(s, 40))
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s %q has leading or trailing whitespace", field, termtext.ShortenTo(s, 60))
	}
	if err := termtext.CheckLine(field, s); err != nil {
		return fmt.Errorf("%w; a stanza field is one line of printable text", err)
	}
	return nil
}

// checkPackageName and checkVersion wrap debian so stackrepo errors read alike.
func checkPackageName(name string) error { return debian.CheckPackageName(name) }
func checkVersion(v string) error        { return debian.CheckVersion(v) }

// shellSafe matches a word a POSIX shell reads as it is (a leading ~/ is
// expanded, as meant).
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./~+:@%,=-]+$`)

// ShellWord is s as one word to paste into a shell, in a hint: as it is
// when nothing in it is special to the shell, else in single quotes.
func ShellWord(s string) string {
	if shellSafe.MatchString(s) && !strings.HasPrefix(s, "-") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
