#!/bin/sh
# Build the Debian package of git-gachette from this repository:
#   packaging/build-deb.sh [OUTDIR]
# writes OUTDIR/git-gachette_<version>_<arch>.deb (OUTDIR: default the
# current directory) and prints its path. Install it with
#   apt install ./git-gachette_<version>_<arch>.deb
#
# The version is the repository's, as git-gachette versions projects: on
# tag v1.4.0, 1.4.0; 3 commits after it, 1.4.0+3.g1a2b3c4; without a
# version tag, 0.0.0+<commits>.g<commit>; ".dirty" when tracked files
# differ from the commit. The architecture is dpkg's; the binary is built
# for it without cgo, so that it needs no libc (Depends: git only).
# Needs go, git, dpkg-deb and gzip. DEBFULLNAME and DEBEMAIL name the
# maintainer.
set -eu
umask 022

src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# the version
if desc=$(git -C "$src" describe --tags --match 'v[0-9]*' --long --abbrev=7 2>/dev/null); then
	tag=${desc%-*-g*}
	rest=${desc#"$tag"-}
	count=${rest%%-*}
	version=$(printf '%s\n' "${tag#v}" | tr '-' '~')
	[ "$count" = 0 ] || version="$version+$count.${rest#*-}"
else
	version="0.0.0+$(git -C "$src" rev-list --count HEAD).g$(git -C "$src" rev-parse --short=7 HEAD)"
fi
git -C "$src" diff --quiet HEAD -- || version="$version.dirty"
dpkg --validate-version "$version" || {
	echo "build-deb: version $version (from git describe) is not a Debian version" >&2
	exit 1
}

# the architecture, and Go's name for it
arch=$(dpkg --print-architecture)
case $arch in
amd64 | arm64 | riscv64 | s390x | mips64el) goarch=$arch ;;
i386) goarch=386 ;;
armhf | armel) goarch=arm ;;
ppc64el) goarch=ppc64le ;;
*)
	echo "build-deb: no Go architecture for dpkg's $arch" >&2
	exit 1
	;;
esac

# dates in the package and the manual: the commit's
SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct)
export SOURCE_DATE_EPOCH

root=$(mktemp -d)
chmod 755 "$root"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/usr/share/man/man1" \
	"$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions"

bin="$root/usr/bin/git-gachette"
(cd "$src" && CGO_ENABLED=0 GOOS=linux GOARCH=$goarch go build -ldflags "-X main.version=$version" -o "$bin" ./cmd/git-gachette)

# The manual, the completions: made by the binary just built (a binary
# for another architecture than this machine's cannot run here).
"$bin" -q install-man --dir "$root/usr/share/man/man1"
gzip -9n "$root/usr/share/man/man1/"*.1
# one file for "git-gachette <TAB>" and for git's completion, which loads
# it by this name to find _git_gachette for "git gachette <TAB>"
"$bin" completion bash >"$root/usr/share/bash-completion/completions/git-gachette"
"$bin" completion zsh >"$root/usr/share/zsh/vendor-completions/_git-gachette"

cat >"$root/DEBIAN/control" <<EOF
Package: git-gachette
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-git-gachette developers} <${DEBEMAIL:-dev@gachette.invalid}>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: git
Section: vcs
Priority: optional
Homepage: https://github.com/ops-hero/git-gachette
Description: record sets of Debian package versions in git (git gachette)
 git-gachette keeps stacks, named and versioned sets of Debian package
 versions that work together, as commits and annotated tags in a plain
 git repository: git log audits every change, git push publishes stacks,
 and deploy tools read them with git alone. It also builds .debs on build
 hosts over SSH and records them in a stack in one command.
 .
 Run it as "git gachette"; "git gachette --help" shows its manual.
EOF

deb="$out/git-gachette_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
