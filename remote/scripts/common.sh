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
# fsmonitor, no replace object and no automatic gc or maintenance (which
# would go on in the background), whatever its configuration says;
# children (submodules) inherit all of it. It never holds the lock (fd 9).
git_in() {
	dir=$1
	shift
	command git -c core.hooksPath=/dev/null -c core.fsmonitor=false -c gc.auto=0 -c maintenance.auto=false \
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
# get SIGTERM. Commands get /dev/null as stdin instead. The watcher's pid
# is $watch: kill it before a normal end.
watch_caller() {
	exec 8<&0 0</dev/null
	{
		cat >/dev/null
		kill -s TERM $$
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
holes() {
	size=$(wc -c <"$1") && kib=$(du -k -- "$1") || return 1
	kib=${kib%%[!0-9]*}
	[ "$size" -gt 67108864 ] && [ $((kib * 1024 * 8)) -lt "$size" ] || return 1
	printf '%s	%s
' "$((size + 0))" "$((kib * 1024))"
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
