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

run='' group='' relay='' watch='' keep='' timer=''
# finish stops whatever still runs (the builder's process group has a
# second to end by itself, no more than it needs) and removes what the
# build made, unless it succeeded.
# shellcheck disable=SC2317 # the EXIT trap calls it
finish() {
	trap '' HUP INT PIPE TERM
	if [ -n "$group" ] && kill -s TERM -- "-$group" 2>/dev/null; then
		i=0
		while [ "$i" -lt 20 ] && kill -s 0 -- "-$group" 2>/dev/null; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -s KILL -- "-$group" 2>/dev/null
	fi
	[ -z "$run" ] || kill_holders "$run/out"
	[ -z "$relay" ] || kill "$relay" 2>/dev/null
	[ -z "$timer" ] || stop_timer
	[ -z "$watch" ] || kill "$watch" 2>/dev/null
	[ -z "$run" ] || rm -rf -- "$run"
	if [ -z "$keep" ]; then
		rm -rf -- "$staging"
		rm -f -- "$staging.lock"
	else
		# fresh, so that no sweep takes it before its check starts
		[ ! -d "$staging" ] || touch -- "$staging.lock" 2>/dev/null
	fi
}

trap finish EXIT
trap 'exit "$EXIT_INTERRUPTED"' HUP INT PIPE TERM
watch_caller

# stop_timer stops the timer's process group; before its setsid there is
# none, and the process itself is killed (a TERM could be lost then, on
# the trap its shell had before it ran setsid).
stop_timer() {
	kill -s TERM -- "-$timer" 2>/dev/null || kill -s KILL "$timer" 2>/dev/null
}

# sweep_staging removes the staging directories (of any key) that runs
# which died left behind: those whose lock no session holds, untouched
# for an hour.
sweep_staging() {
	command -v flock >/dev/null 2>&1 || return 0
	find "$debs/.gachette/staging" -maxdepth 1 -name '*.lock' -type f -mmin +60 2>/dev/null | while IFS= read -r l; do
		# shellcheck disable=SC2094 # flock holds the file it reads from
		(flock -n 6 && rm -rf -- "${l%.lock}" && rm -f -- "$l") 6<"$l" 2>/dev/null
	done
	find "$debs/.gachette" -maxdepth 1 -name 'run.*' -type d -mmin +1440 -exec rm -rf -- {} + 2>/dev/null
	return 0
}

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
sweep_staging
mkdir -- "$staging" >&2 || exit "$EXIT_DEBS_PATH"
# The staging directory's lock, held by this session and then by the
# check session: a directory whose lock is free, and has been for an
# hour, was left by a run that died (sweep_staging).
if command -v flock >/dev/null 2>&1; then
	{ exec 7>>"$staging.lock" && flock -n 7; } 2>/dev/null || exit "$EXIT_DEBS_PATH"
fi
run=$(mktemp -d "$debs/.gachette/run.XXXXXXXX") && mkfifo -- "$run/out" >&2 || exit "$EXIT_DEBS_PATH"

# The builder's open of the FIFO waits for the relay's: $group is known,
# and "started" printed, before it runs.
setsid -w /bin/sh -c "$builder" gachette-builder "$staging" "$@" </dev/null >"$run/out" 2>&1 9>&- 7>&- &
group=$!
line "$LINE_STARTED"
cat -- "$run/out" 9>&- 7>&- &
relay=$!

wait "$group"
rc=$?
kill -s KILL -- "-$group" 2>/dev/null
group=
kill_holders "$run/out"
# The relay ends once it has copied what is left in the FIFO; should a
# writer have escaped kill_holders, it is stopped after 5 seconds, by a
# timer in a process group of its own: stopped whole, it leaves no sleep
# behind.
# shellcheck disable=SC2016 # expanded by the timer's shell
setsid sh -c 'sleep 5; kill "$1" 2>/dev/null' gachette-timer "$relay" </dev/null >/dev/null 2>&1 9>&- 7>&- &
timer=$!
wait "$relay"
relay=
stop_timer
timer=
[ "$rc" -ne 0 ] || keep=1
exit "$rc"
