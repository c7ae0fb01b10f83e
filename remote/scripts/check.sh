# check.sh DEBS STAGING REUSE
#
# The check session, run once the build session has ended, so that
# nothing the builder printed or left running can speak for it. It prints
# a line for each .deb in STAGING (deb: its file name, Package, Version,
# Architecture, SHA-256, size; or notfile, notdeb, sparse, badname) and,
# for a file of the same name already in DEBS, its SHA-256 (have), then
# "checked". Then it reads the verdict on stdin: "move", the deb lines of
# the .debs to record, "end". A copy of each is linked into DEBS (never
# the staging file, which what the builder left running may still reach)
# unless a file of that name is there already, and must then read exactly as its deb line
# says; a file with other contents there is never replaced (conflict).
# Then "moved", and it waits for the last word: "keep" (the caller
# recorded them) keeps them, with the manifest REUSE, and prints "kept";
# "undo" takes back what this session linked, and prints "undone". When
# stdin ends before the verdict, or on any failure or signal, what this
# session linked is taken back too; when it ends after "moved" (the caller
# may have recorded them and gone), they are kept. STAGING is removed in
# every case.
debs=$1 staging=$2 reuse=$3

linked='' checker='' incoming=''
# finish takes back what this session linked, unless it is to be kept,
# and removes STAGING.
# shellcheck disable=SC2317 # the EXIT trap calls it
finish() {
	trap '' HUP INT PIPE TERM
	[ -z "$checker" ] || kill "$checker" 2>/dev/null
	[ -z "$incoming" ] || rm -f -- "$incoming"
	for f in $linked; do
		rm -f -- "$debs/$f"
	done
	rm -rf -- "$staging"
	rm -f -- "$staging.lock"
}
trap finish EXIT
trap 'exit "$EXIT_INTERRUPTED"' HUP INT PIPE TERM

{ [ -d "$staging" ] && [ ! -L "$staging" ]; } || exit "$EXIT_NO_STAGING"
# the staging directory's lock (see build.sh): the build session that
# held it has ended
if command -v flock >/dev/null 2>&1 && [ -f "$staging.lock" ]; then
	{ exec 7>>"$staging.lock" && flock -w 10 7; } 2>/dev/null || exit "$EXIT_NO_STAGING"
fi

# The check runs in the background while stdin is read: when the caller
# goes (or gives up: gachette.buildTimeout) before the verdict, stdin
# ends, and everything this session runs is stopped (its process group:
# sshd and the local executor give it one of its own), however long a
# file takes to read.
(
	for p in "$staging"/* "$staging"/.[!.]* "$staging"/..?*; do
		{ [ -e "$p" ] || [ -L "$p" ]; } || continue
		f=${p##*/}
		case $f in
		*.deb) ;;
		*) continue ;;
		esac
		if ! safe_name "$f"; then
			line "$LINE_BAD_NAME" "$(printf '%s' "$f" | tr -c 'A-Za-z0-9._+~-' '?')"
			continue
		fi
		if ! regular "$p"; then
			line "$LINE_NOT_FILE" "$f"
			continue
		fi
		if sparse=$(holes "$p"); then
			line "$LINE_SPARSE" "$f" "$sparse"
			continue
		fi
		check_deb "$p" || continue
		if regular "$debs/$f"; then
			line "$LINE_HAVE" "$f" "$(sha256 "$debs/$f")"
		elif [ -e "$debs/$f" ] || [ -L "$debs/$f" ]; then
			line "$LINE_HAVE" "$f" -
		fi
	done
	line "$LINE_CHECKED"
) &
checker=$!
if ! { IFS= read -r verdict && [ "$verdict" = move ]; }; then
	trap '' TERM
	kill -s TERM 0
	exit "$EXIT_NO_VERDICT"
fi
wait "$checker"
checker=''

manifest=''
while IFS= read -r l; do
	[ "$l" = end ] && break
	IFS=$tab read -r word f _ <<-EOT
		$l
	EOT
	if [ "$word" != "$LINE_DEB" ] || ! safe_name "$f" || ! regular "$staging/$f"; then
		exit "$EXIT_NO_VERDICT"
	fi
	mine=''
	# A copy goes into the debs path, never the staging file itself: a
	# process the builder left behind may still write to its staging
	# path, which must not reach what is recorded.
	incoming=$debs/.gachette/incoming.$$
	if ! cp -- "$staging/$f" "$incoming" 2>/dev/null; then
		echo "gachette: cannot copy $staging/$f into $debs/.gachette" >&2
		exit "$EXIT_MOVE"
	fi
	if ln -- "$incoming" "$debs/$f" 2>/dev/null; then
		linked="$linked $f"
		mine=1
	elif ! regular "$debs/$f"; then
		echo "gachette: cannot link $incoming to $debs/$f" >&2
		exit "$EXIT_MOVE"
	fi
	rm -f -- "$incoming"
	incoming=''
	# What is in the debs path now must be what was decided on, read
	# again: neither a line that was not ours nor a file changed since can
	# get into a record, and a file already there with other contents is
	# left as it is.
	if ! got=$(check_deb "$debs/$f") || [ "$got" != "$l" ]; then
		if [ -z "$mine" ] && have=$(sha256 "$debs/$f"); then
			line "$LINE_CONFLICT" "$f" "$have" "$(printf '%s\n' "$l" | cut -f6)"
			exit "$EXIT_CONFLICT"
		fi
		echo "gachette: $staging/$f changed after it was checked" >&2
		exit "$EXIT_MOVE"
	fi
	manifest="$manifest$l$nl"
done
[ "$l" = end ] || exit "$EXIT_NO_VERDICT"
line "$LINE_MOVED"

IFS= read -r last || last=keep
case $last in
keep) ;;
undo)
	for f in $linked; do
		rm -f -- "$debs/$f"
	done
	linked=''
	line "$LINE_UNDONE"
	exit 0
	;;
*) exit "$EXIT_NO_VERDICT" ;;
esac
linked=''
if [ -n "$reuse" ]; then
	m=$debs/.gachette/manifests/$reuse
	{ mkdir -p -- "${m%/*}" && printf '%s' "$manifest" >"$m.$$" && mv -f -- "$m.$$" "$m"; } >&2 ||
		echo "gachette: could not write $m: the next build of this commit will not be reused" >&2
fi
line "$LINE_KEPT"
