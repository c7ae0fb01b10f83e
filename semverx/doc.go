// Package semverx holds the version rules of git-gachette: stack names that
// are semantic versions (ordering and bumps, with Masterminds/semver), Debian
// package names and versions (validation and dpkg ordering, with
// pault.ag/go/debian/version), and package versions derived from commits.
package semverx
