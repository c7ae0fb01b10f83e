# build.sh BUILDER WC LOCK KEY WAIT DEBS STAGING REUSE COMMIT BUILDER-ARGS...
#
# The build session. BUILDER is the text of builder.sh, run with
# BUILDER-ARGS after STAGING. First, when REUSE names a manifest of this
# commit and these settings, the .debs it lists are checked again: all
# as recorded, they are printed and nothing is built. Else, under the
# working copy's lock, and when the working copy is still at COMMIT, the
# builder runs in a session of its own, with stdin from /dev/null, its
# output through a FIFO to our stdout after a "started" line: nothing it
# prints can share a line with ours, and when it ends everything it
# started that still holds its output is killed, so nothing it leaves
# behind can keep this session open. The .debs stay in STAGING for
# check.sh, run in another session once this one has ended; a failed or
# interrupted build removes them. When the caller goes (watch_caller), the
# build is stopped. Before the builder, the working copy is made COMMIT's
# tree again, exactly (checkout_commit): nothing an earlier build changed
# in it is built.
builder=$1 wc=$2 lock=$3 key=$4 wait=$5 debs=$6 staging=$7 reuse=$8 commit=$9
shift 9

run='' group='' relay='' watch='' keep=''
# finish stops whatever still runs and removes what the build made,
# unless it succeeded.
# shellcheck disable=SC2317 # the EXIT trap calls it
finish() {
	trap '' HUP INT PIPE TERM
	if [ -n "$group" ]; then
		kill -s TERM -- "-$group" 2>/dev/null && sleep 1
		kill -s KILL -- "-$group" 2>/dev/null
	fi
	[ -z "$run" ] || kill_holders "$run/out"
	[ -z "$relay" ] || kill "$relay" 2>/dev/null
	[ -z "$watch" ] || kill "$watch" 2>/dev/null
	[ -z "$run" ] || rm -rf -- "$run"
	[ -n "$keep" ] || rm -rf -- "$staging"
}

trap finish EXIT
trap 'exit "$EXIT_INTERRUPTED"' HUP INT PIPE TERM
watch_caller

# kill_holders FILE kills every process (found in /proc) that has FILE
# open, but the relay: what the builder started and left running with
# its output.
kill_holders() {
	[ -d /proc/self/fd ] || return 0
	pattern=$(printf '%s' "$1" | sed 's/[][*?\\]/\\&/g')
	find /proc/[0-9]*/fd -maxdepth 1 -lname "$pattern" 2>/dev/null | while IFS=/ read -r _ _ pid _; do
		[ "$pid" = "$relay" ] || kill -s KILL "$pid" 2>/dev/null
	done
}

# reused MANIFEST prints the deb lines of MANIFEST if each of its .debs
# is still in the debs path exactly as recorded.
reused() {
	n=0
	while IFS=$tab read -r word f rest; do
		if ! { [ "$word" = "$LINE_DEB" ] && safe_name "$f" && regular "$debs/$f" &&
			got=$(check_deb "$debs/$f") && [ "$got" = "$word$tab$f$tab$rest" ]; }; then
			echo "gachette: $debs/$f is not as the build of this commit recorded it; building again" >&2
			return 1
		fi
		printf '%s\n' "$got"
		n=$((n + 1))
	done <"$1"
	[ "$n" -gt 0 ]
}

if ! { mkdir -p -- "$debs/.gachette/staging" && [ -w "$debs" ]; } >&2; then
	exit "$EXIT_DEBS_PATH"
fi
if [ -n "$reuse" ] && [ -f "$debs/.gachette/manifests/$reuse" ] && out=$(reused "$debs/.gachette/manifests/$reuse"); then
	printf '%s\n' "$out"
	line "$LINE_REUSED"
	keep=1
	exit 0
fi

take_lock "$lock" "$key" "$wait"
if [ -L "$wc" ] || { [ -e "$wc" ] && ! reset_gitdir "$wc/.git"; }; then
	echo "gachette: $wc is not a working copy git-gachette can reset (a build changed it?); prepare it again" >&2
	exit "$EXIT_RESET"
fi
if [ -n "$commit" ]; then
	head=$(git_in "$wc" rev-parse --verify --quiet HEAD 2>/dev/null) || head=
	case $head in
	"$commit"*) ;;
	*)
		line "$LINE_HEAD" "$head"
		exit "$EXIT_MOVED"
		;;
	esac
	# Every build starts from the commit's tree, exactly: whatever an
	# earlier build changed in the working copy is undone.
	checkout_commit "$wc" "$head"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "gachette: $wc: $why; prepare it again" >&2
		exit "$rc"
	fi
fi
command -v setsid >/dev/null 2>&1 || exit "$EXIT_NO_SETSID"
cd -- "$wc" 2>/dev/null || exit "$EXIT_NO_WORKING_COPY"
mkdir -- "$staging" >&2 || exit "$EXIT_DEBS_PATH"
run=$(mktemp -d "$debs/.gachette/run.XXXXXXXX") && mkfifo -- "$run/out" >&2 || exit "$EXIT_DEBS_PATH"

# The builder's open of the FIFO waits for the relay's: $group is known,
# and "started" printed, before it runs.
setsid -w /bin/sh -c "$builder" gachette-builder "$staging" "$@" </dev/null >"$run/out" 2>&1 9>&- &
group=$!
line "$LINE_STARTED"
cat -- "$run/out" 9>&- &
relay=$!

wait "$group"
rc=$?
kill -s KILL -- "-$group" 2>/dev/null
group=
kill_holders "$run/out"
# The relay ends once it has copied what is left in the FIFO; should a
# writer have escaped kill_holders, it is stopped after 5 seconds.
(
	sleep 5 &
	s=$!
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	wait "$s"
	kill "$relay" 2>/dev/null
) </dev/null >/dev/null 2>&1 9>&- &
timer=$!
wait "$relay"
relay=
kill "$timer" 2>/dev/null
[ "$rc" -ne 0 ] || keep=1
exit "$rc"
