// Package debian holds the rules for Debian package fields: names,
// versions (parsed and ordered as dpkg does), architectures and .deb
// checksums. Each rule is one function with one message; values are
// checked where they enter (a flag, a stanza, a builder's output) and
// trusted after.
package debian

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"pault.ag/go/debian/version"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// MaxNameLen and MaxVersionLen bound package names and versions: Debian
// sets no limit, but both go into file names (at most 255 bytes) and into
// every message that names them.
const (
	MaxNameLen    = 100
	MaxVersionLen = 128
)

// CheckPackageName reports whether name is a Debian package name as policy
// §5.6.1 defines it: lowercase letters, digits, '+', '-' and '.', at least
// two characters, starting with a letter or digit.
func CheckPackageName(name string) error {
	if name == "" {
		return fmt.Errorf("package name is empty")
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("package name %q is longer than %d bytes", termtext.Shorten(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isLowerAlnum(c) || c == '+' || c == '-' || c == '.' {
			continue
		}
		hint := "Debian package names use only a-z, 0-9, '+', '-' and '.'"
		if s := suggestName(name); s != "" {
			hint += fmt.Sprintf(" (perhaps %q)", s)
		}
		return fmt.Errorf("package name %q has %s: %s", name, describeByte(name, i), hint)
	}
	if !isLowerAlnum(name[0]) {
		return fmt.Errorf("package name %q must start with a lowercase letter or digit", name)
	}
	if len(name) < 2 {
		return fmt.Errorf("package name %q is too short: Debian package names have at least two characters", name)
	}
	return nil
}

// suggestName is a valid package name close to name (lowercase, '_' and
// ' ' as '-'), or "" when there is none.
func suggestName(name string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r == '_' || r == ' ':
			return '-'
		}
		return r
	}, name)
	if s == name || CheckPackageName(s) != nil {
		return ""
	}
	return s
}

func isLowerAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
}

// describeByte names the character at s[i] for an error message, so that a
// control character or a space is visible.
func describeByte(s string, i int) string {
	r := []rune(s[i:])[0]
	if r < 0x20 || r == 0x7f || r == ' ' {
		return fmt.Sprintf("the character %U", r)
	}
	return fmt.Sprintf("the character %q", r)
}

// ParseVersion parses s as a Debian version ([epoch:]upstream[-revision])
// with dpkg's rules. It refuses what dpkg refuses, and also surrounding
// whitespace, which the underlying parser would silently trim.
func ParseVersion(s string) (version.Version, error) {
	if s == "" {
		return version.Version{}, fmt.Errorf("version is empty")
	}
	if len(s) > MaxVersionLen {
		return version.Version{}, fmt.Errorf("version %q is longer than %d bytes", termtext.Shorten(s), MaxVersionLen)
	}
	if strings.TrimSpace(s) != s {
		return version.Version{}, fmt.Errorf("version %q has surrounding whitespace", s)
	}
	if err := termtext.CheckLine("version", s); err != nil {
		return version.Version{}, err
	}
	if epoch, _, ok := strings.Cut(s, ":"); ok {
		if !isDigits(epoch) {
			return version.Version{}, fmt.Errorf("version %q is not a Debian version: the epoch before ':' must be a number", s)
		}
		// dpkg keeps the epoch in an int and refuses more ("epoch in
		// version is too big").
		if e, err := strconv.ParseInt(epoch, 10, 64); err != nil || e > math.MaxInt32 {
			return version.Version{}, fmt.Errorf("version %q is not a Debian version: the epoch before ':' is too big (dpkg's limit is %d)", termtext.Shorten(s), math.MaxInt32)
		}
	}
	if strings.HasSuffix(s, "-") {
		return version.Version{}, fmt.Errorf("version %q is not a Debian version: revision number is empty", s)
	}
	v, err := version.Parse(s)
	if err != nil {
		return version.Version{}, fmt.Errorf("version %q is not a Debian version: %v", s, err)
	}
	if v.Version == "" {
		return version.Version{}, fmt.Errorf("version %q is not a Debian version: upstream version is empty", s)
	}
	return v, nil
}

// CheckVersion reports whether s is a valid Debian version.
func CheckVersion(s string) error {
	_, err := ParseVersion(s)
	return err
}

// Compare orders two Debian versions as dpkg --compare-versions does:
// negative when a < b, zero when equal, positive when a > b.
func Compare(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return version.Compare(va, vb), nil
}

// CheckArch reports whether a is a Debian architecture name (all, amd64,
// arm64, …): lowercase letters, digits and '-', not starting with '-'.
func CheckArch(a string) error {
	if a == "" {
		return errors.New("architecture is empty: give one (all, amd64, arm64, ...)")
	}
	if len(a) > 64 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || a[0] == '-' {
		return fmt.Errorf("architecture %q is not a Debian architecture (lowercase letters, digits and '-', e.g. all, amd64)", termtext.Shorten(a))
	}
	return nil
}

// IsSHA256 reports whether s is a SHA-256 checksum as a .deb's is
// recorded: 64 lowercase hex digits.
func IsSHA256(s string) bool { return gitexec.IsHex(s, 64) }

// CheckSHA256 is IsSHA256 with the message for a value given by a user or
// read from a stanza.
func CheckSHA256(s string) error {
	if !IsSHA256(s) {
		return fmt.Errorf("sha256 %q is not 64 lowercase hex digits", termtext.ShortenTo(s, 70))
	}
	return nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
