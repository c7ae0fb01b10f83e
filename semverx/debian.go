package semverx

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
	"pault.ag/go/debian/version"
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
		if c >= 'A' && c <= 'Z' {
			hint += fmt.Sprintf(" (lowercase: %q)", strings.ToLower(name))
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

// ParseDebianVersion parses s as a Debian version ([epoch:]upstream[-revision])
// with dpkg's rules. It refuses what dpkg refuses, and also surrounding
// whitespace, which the underlying parser would silently trim.
func ParseDebianVersion(s string) (version.Version, error) {
	if s == "" {
		return version.Version{}, fmt.Errorf("version is empty")
	}
	if len(s) > MaxVersionLen {
		return version.Version{}, fmt.Errorf("version %q is longer than %d bytes", termtext.Shorten(s), MaxVersionLen)
	}
	if strings.TrimSpace(s) != s {
		return version.Version{}, fmt.Errorf("version %q has surrounding whitespace", s)
	}
	for i, r := range s {
		if r < 0x20 || r == 0x7f {
			return version.Version{}, fmt.Errorf("version %q has the control character %U at position %d", s, r, i+1)
		}
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

// CheckDebianVersion reports whether s is a valid Debian version.
func CheckDebianVersion(s string) error {
	_, err := ParseDebianVersion(s)
	return err
}

// CompareDebian orders two Debian versions as dpkg --compare-versions does:
// negative when a < b, zero when equal, positive when a > b.
func CompareDebian(a, b string) (int, error) {
	va, err := ParseDebianVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseDebianVersion(b)
	if err != nil {
		return 0, err
	}
	return version.Compare(va, vb), nil
}
