# shellcheck shell=sh
# Shared by every script git-gachette runs on a build host: it is put in
# front of each one. remote/protocol.go reads the EXIT_ and LINE_ names
# below, so both sides name each exit status and each output line once.
#
# Output lines on stdout are a word, then fields separated by tabs.

tab=$(printf '\t')
nl='
'

# shellcheck disable=SC2034 # each script uses some of them
{
# Exit statuses.
EXIT_NO_WORKING_COPY=3
EXIT_CLONE=10
EXIT_FETCH=11
EXIT_REF=12
EXIT_CHECKOUT=13
EXIT_SUBMODULE=14
EXIT_LOCK=15
EXIT_LOCK_BUSY=16
EXIT_DEBS_PATH=17
EXIT_MOVED=18
EXIT_NO_SETSID=19
EXIT_RESET=20
EXIT_CONFLICT=21
EXIT_MOVE=22
EXIT_NO_STAGING=23
EXIT_NOT_PREPARED=24
EXIT_NO_VERDICT=25
EXIT_INTERRUPTED=26
EXIT_NO_SUDO=27
EXIT_BUILD_USER=28

# Output lines.
LINE_REF=ref
LINE_COMMIT=commit
LINE_DESCRIBE=describe
LINE_COUNT=count
LINE_HEAD='head'
LINE_DEB=deb
LINE_HAVE=have
LINE_NOT_FILE=notfile
LINE_NOT_DEB=notdeb
LINE_BAD_NAME=badname
LINE_CHECKED=checked
LINE_CONFLICT=conflict
LINE_MOVED=moved
LINE_KEPT=kept
LINE_UNDONE=undone
LINE_SPARSE=sparse
LINE_REUSED=reused
LINE_STARTED=started
}


# line WORD FIELD...: one output line.
line() {
	(IFS=$tab; printf '%s\n' "$*")
}

# git_in DIR ARGS...: git in the working copy DIR, with no hook, no
# fsmonitor, no replace object, no commit-graph (a build could write a
# false one, which git describe would believe; writing one again at each
# prepare cost more than describing without) and no automatic gc or
# maintenance (which would go on in the background), whatever its
# configuration says; children (submodules) inherit all of it. It never
# holds the lock (fd 9).
git_in() {
	dir=$1
	shift
	command git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c core.commitGraph=false -c gc.auto=0 -c maintenance.auto=false \
		--no-replace-objects -C "$dir" "$@" 9>&-
}

# take_lock LOCK KEY WAIT: take the working copy's lock on fd 9 with
# flock(1): the kernel releases it when its holder dies, so it is never
# stale. Commands that must not hold it run with 9>&-. A host without
# flock(1) (util-linux) runs unlocked; builds still check the commit they
# were asked for.
take_lock() {
	command -v flock >/dev/null 2>&1 || return 0
	{ mkdir -p -- "$(dirname -- "$1")" && true >>"$1"; } >&2 || exit "$EXIT_LOCK"
	exec 9>>"$1"
	if ! flock -n 9; then
		echo "gachette: waiting for another prepare or build of $2 on this host to finish (it holds $1)" >&2
		flock -w "$3" 9 || exit "$EXIT_LOCK_BUSY"
	fi
}

# watch_caller: the caller keeps our stdin open for as long as it wants
# us to run; when it ends (git-gachette was interrupted, or the connection
# dropped: sshd passes no signal to a session that has none to give), we
# and everything in our process group get SIGTERM (the script's own trap
# runs only once the command it waits for has ended: a git clone that
# waits on the network would keep it waiting). Commands get /dev/null as
# stdin instead. The watcher's pid is $watch: kill it before a normal end.
watch_caller() {
	exec 8<&0 0</dev/null
	{
		cat >/dev/null
		kill -s TERM 0
	} <&8 >/dev/null 2>&1 9>&- &
	watch=$!
	exec 8<&-
}

# stop_all_on_signals: when the script is stopped (SIGTERM from
# watch_caller or from the caller), so is every command it started: they
# are in its process group (sshd and the local executor give it one of its
# own). A normal end stops the watcher.
# shellcheck disable=SC2317 # not every script uses it
stop_all_on_signals() {
	trap 'trap - HUP INT TERM; kill -s TERM 0' HUP INT TERM
	trap 'kill "$watch" 2>/dev/null' EXIT
	watch_caller
}

# safe_name NAME: whether NAME is a file name that can travel in an output
# line and means nothing to a shell or an option parser.
safe_name() {
	case $1 in
	'' | .* | -* | *[!A-Za-z0-9._+~-]*) return 1 ;;
	esac
	return 0
}

# regular PATH: a regular file, not a symbolic link.
regular() {
	[ -f "$1" ] && [ ! -L "$1" ]
}

# holes FILE: whether FILE (of more than 64 MiB) has far fewer bytes on
# disk than its size (an eighth): a sparse file, which a build makes to
# pass a small file for a huge one that takes minutes to read. It prints
# the size and the bytes on disk.
# shellcheck disable=SC2317 # not every script uses it
holes() {
	size=$(wc -c <"$1") && kib=$(du -k -- "$1") || return 1
	kib=${kib%%[!0-9]*}
	sparse "$size" "$kib" || return 1
	printf '%s\t%s\n' "$((size + 0))" "$((kib * 1024))"
}

# sparse SIZE KIB: whether a file of SIZE bytes (more than 64 MiB) with
# KIB KiB on disk has fewer than an eighth of its bytes on disk.
# shellcheck disable=SC2317 # not every script uses it
sparse() {
	[ "$1" -gt 67108864 ] && [ $(($2 * 1024 * 8)) -lt "$1" ]
}

# sha256 FILE: the file's SHA-256, read once from its contents.
sha256() {
	set -- "$(sha256sum <"$1")" || return 1
	printf '%s\n' "${1%% *}"
}

# check_deb FILE: the deb line of FILE (a regular file named safely):
# Package, Version and Architecture from dpkg-deb, SHA-256 and size; else
# a notdeb line.
check_deb() {
	# shellcheck disable=SC2016 # dpkg-deb's own ${Field} syntax
	if ! fields=$(dpkg-deb --showformat='${Package}\t${Version}\t${Architecture}' --show -- "$1") ||
		! sum=$(sha256 "$1") || ! size=$(wc -c <"$1"); then
		line "$LINE_NOT_DEB" "$(basename -- "$1")"
		return 1
	fi
	case $fields in
	*"$nl"* | *"$(printf '\r')"*)
		line "$LINE_NOT_DEB" "$(basename -- "$1")"
		return 1
		;;
	esac
	line "$LINE_DEB" "$(basename -- "$1")" "$fields" "$sum" "$((size + 0))"
}

# reset_gitdir DIR [URL]: the git directory DIR keeps its objects, refs
# and HEAD, and nothing else a build could have written into it: a new
# config (the object and ref formats kept; remote origin at URL, else as
# it was), no hooks, no info/ (attributes, excludes, grafts,
# sparse-checkout), no index, no shallow file, no alternates, no
# commit-graph or multi-pack-index (their data would be believed), no
# linked worktrees or common dir. It fails if DIR is not a plain git
# directory, which is then made again.
# shellcheck disable=SC2317 # not every script uses it
reset_gitdir() {
	gd=$1
	for d in "$gd" "$gd/objects" "$gd/refs"; do
		{ [ -d "$d" ] && [ ! -L "$d" ]; } || return 1
	done
	fmt='' refs='' origin=$2
	kept=$(git config --file "$gd/config" --get-regexp '^(extensions\.(objectformat|refstorage)|remote\.origin\.url)$') || kept=''
	while read -r k v; do
		case $k in
		extensions.objectformat) fmt=$v ;;
		extensions.refstorage) refs=$v ;;
		remote.origin.url) origin=${origin:-$v} ;;
		esac
	done <<-EOT
		$kept
	EOT
	case $fmt/$refs in
	/ | sha1/ | sha256/ | /files | sha1/files | sha256/files | /reftable | sha1/reftable | sha256/reftable) ;;
	*) return 1 ;;
	esac
	# (lock files too: no git of ours runs here while we hold the lock,
	# and one a build left, even as a directory, would stop the next)
	rm -rf -- "$gd/config" "$gd/config.worktree" "$gd/hooks" "$gd/info" "$gd/index" "$gd/shallow" \
		"$gd/commondir" "$gd/worktrees" "$gd/objects/info/alternates" "$gd/objects/info/http-alternates" \
		"$gd/objects/info/grafts" "$gd/objects/info/commit-graph" "$gd/objects/info/commit-graphs" \
		"$gd/objects/pack/multi-pack-index" "$gd"/*.lock "$gd/gachette-verify.index" || return 1
	find "$gd/refs" -name '*.lock' -prune -exec rm -rf -- {} + || return 1
	{
		printf '[core]\n\trepositoryformatversion = %s\n\tbare = false\n' "$([ -z "$fmt$refs" ] && echo 0 || echo 1)"
		[ -z "$fmt$refs" ] || printf '[extensions]\n'
		[ -z "$fmt" ] || printf '\tobjectformat = %s\n' "$fmt"
		[ -z "$refs" ] || printf '\trefstorage = %s\n' "$refs"
		[ -z "$origin" ] || printf '[remote "origin"]\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'
	} >"$gd/config" || return 1
	[ -z "$origin" ] || git config --file "$gd/config" remote.origin.url "$origin"
}

# reset_modules DIR resets every submodule git directory under DIR (a
# .git/modules), at any depth; one that cannot be reset is removed, and
# cloned again by the submodule update.
# shellcheck disable=SC2317 # not every script uses it
reset_modules() {
	for d in "$1"/* "$1"/.[!.]* "$1"/..?*; do
		{ [ -d "$d" ] && [ ! -L "$d" ]; } || continue
		if [ -f "$d/HEAD" ]; then
			reset_gitdir "$d" || rm -rf -- "$d" || return 1
			[ ! -d "$d/modules" ] || (reset_modules "$d/modules") || return 1
		else
			# a submodule name with a '/' in it
			(reset_modules "$d") || return 1
		fi
	done
}

# verify_cmd checks, in the repository it runs in, that the objects the
# checkout of commit $sha1 reads hash to their ids: the commit itself; its
# trees, by making the tree again from what they list (git write-tree, in
# an index of its own) and comparing it with the commit's; and every blob
# (git rev-list --verify-objects, which says so on stderr, but exits 0).
# git reads objects without checking them, and a build can rewrite any
# object of its working copy under its real id. It is a text for git
# submodule foreach too (which sets $sha1), and runs git as it is: git_in's
# settings reach it from its caller (GIT_CONFIG_PARAMETERS).
# shellcheck disable=SC2016 # expanded where it runs
verify_cmd='r=$(git rev-parse --git-path gachette-verify.index --verify --quiet "$sha1^{tree}") && i=${r%%"
"*} && t=${r#*"
"} &&
[ "$(git cat-file commit "$sha1" | git hash-object -t commit --literally --stdin)" = "$sha1" ] &&
rm -f -- "$i" && git ls-tree -r -z --full-tree "$sha1" | GIT_INDEX_FILE=$i git update-index -z --index-info &&
[ "$(GIT_INDEX_FILE=$i git write-tree)" = "$t" ] && rm -f -- "$i" &&
[ -z "$(git rev-list --objects --verify-objects --no-walk "$sha1" 2>&1 >/dev/null)" ]'

# verify_commit DIR COMMIT runs verify_cmd for COMMIT in the working copy DIR.
# shellcheck disable=SC2317 # not every script uses it
verify_commit() {
	(
		# shellcheck disable=SC2317 # called by what verify_cmd runs
		git() { git_in . "$@"; }
		# shellcheck disable=SC2034 # read by verify_cmd
		sha1=$2
		cd -- "$1" && eval "$verify_cmd"
	) 2>/dev/null
}

# no_link PATH removes PATH if it is a symbolic link (a build put it
# there): it is never followed.
# shellcheck disable=SC2317 # not every script uses it
no_link() {
	if [ -L "$1" ]; then
		echo "gachette: $1 is a symbolic link, which git-gachette never made (a build did?); removing it"
		rm -f -- "$1"
	fi
}

# checkout_commit WC COMMIT makes the working tree of WC exactly COMMIT's,
# from objects verified first (verify_commit): the index starts again from
# the commit's tree (reset_gitdir removed any other), and every file is
# read again, whatever its time stamps say: the checkout then writes
# those that differ from the commit's; untracked files go; submodules are
# made again from their reset git directories, and verified too. It
# returns the exit status to end with; "why" says what failed.
# shellcheck disable=SC2317,SC2034 # not every script uses it, or "why"
checkout_commit() {
	why='its objects do not hash to their ids (a build changed them?)'
	verify_commit "$1" "$2" || return "$EXIT_CHECKOUT"
	why='the checkout failed'
	git_in "$1" read-tree "$2" || return "$EXIT_CHECKOUT"
	git_in "$1" update-index -q --refresh >/dev/null
	git_in "$1" checkout --quiet --force --detach "$2" &&
		git_in "$1" clean -ffdxq || return "$EXIT_CHECKOUT"
	[ -f "$1/.gitmodules" ] || return 0
	why='the submodule update failed'
	[ ! -d "$1/.git/modules" ] || reset_modules "$1/.git/modules" || return "$EXIT_SUBMODULE"
	# Submodule working trees are made again from their git directories,
	# so nothing a build left in them (a .git of its own) is used.
	git_in "$1" -c core.quotePath=false ls-files --stage | while IFS= read -r l; do
		case $l in
		160000\ *)
			p=${l#*"$tab"}
			case $p in \"*) exit 1 ;; esac
			rm -rf -- "${1:?}/$p" || exit 1
			;;
		esac
	done || return "$EXIT_SUBMODULE"
	git_in "$1" submodule --quiet init &&
		git_in "$1" submodule --quiet sync --recursive &&
		git_in "$1" submodule --quiet update --init --recursive --force &&
		git_in "$1" submodule --quiet foreach --recursive 'git clean -ffdxq' || return "$EXIT_SUBMODULE"
	why="a submodule's objects do not hash to their ids (a build changed them?)"
	git_in "$1" submodule --quiet foreach --recursive "$verify_cmd" >/dev/null 2>&1 || return "$EXIT_SUBMODULE"
}
