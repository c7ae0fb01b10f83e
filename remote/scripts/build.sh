# build.sh BUILDER WC LOCK KEY WAIT DEBS STAGING REUSE COMMIT USER BUILDER-ARGS...
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
#
# With USER (gachette.buildUser), the builder runs as USER (sudo -n -u
# USER), on a copy of the checked-out tree in a build directory of USER's
# own, writing its .debs there; they are copied into STAGING (which USER
# cannot write) once it has ended and everything of it that still holds
# its output is killed. Nothing of the working copy, the debs path or this
# account is then USER's to write.
builder=$1 wc=$2 lock=$3 key=$4 wait=$5 debs=$6 staging=$7 reuse=$8 commit=$9
shift 9
user=$1
shift

run='' group='' relay='' watch='' keep='' timer='' bdir='' ulock=''
# finish stops whatever still runs (the builder's process group has a
# second to end by itself, no more than it needs) and removes what the
# build made, unless it succeeded.
# shellcheck disable=SC2317 # the EXIT trap calls it
finish() {
	trap '' HUP INT PIPE TERM
	if [ -n "$group" ] && signal_builder TERM; then
		i=0
		while [ "$i" -lt 20 ] && signal_builder 0; do
			sleep 0.05
			i=$((i + 1))
		done
		signal_builder KILL
	fi
	[ -z "$run" ] || kill_holders "$run/out"
	[ -z "$relay" ] || kill "$relay" 2>/dev/null
	[ -z "$timer" ] || stop_timer
	[ -z "$watch" ] || kill "$watch" 2>/dev/null
	[ -z "$bdir" ] || as_user rm -rf -- "$bdir"
	[ -z "$ulock" ] || reap_user
	[ -z "$run" ] || rm -rf -- "$run"
	if [ -z "$keep" ]; then
		rm -rf -- "$staging"
		rm -f -- "$staging.lock"
	else
		# fresh, so that no sweep takes it before its check starts
		[ ! -d "$staging" ] || touch -- "$staging.lock" 2>/dev/null
	fi
}

# as_user COMMAND...: COMMAND as the build user, without a password.
as_user() {
	sudo -n -u "$user" -- "$@"
}

# reap_user: when no other build of this workdir runs as the build user
# (none holds the user's lock, shared), every process of that user is
# killed: nothing a build left running there outlives it, to change a
# later build's copy.
# shellcheck disable=SC2317 # finish calls it
reap_user() {
	exec 5>&-
	# shellcheck disable=SC2094,SC2317 # flock holds the file it appends to
	(flock -n -x 6 && as_user /bin/sh -c 'kill -s KILL -- -1') 6>>"$ulock" 2>/dev/null
}

# signal_builder SIG sends SIG to the builder's process group: as the
# build user when there is one (its session leader told its pid first,
# see the relay; until it has, sudo passes the signal on).
signal_builder() {
	if [ -z "$user" ]; then
		kill -s "$1" -- "-$group" 2>/dev/null
		return
	fi
	pg=''
	[ -z "$run" ] || pg=$(cat -- "$run/pgid" 2>/dev/null)
	case $pg in
	'' | *[!0-9]*) kill -s "$1" "$group" 2>/dev/null ;;
	*) as_user kill -s "$1" -- "-$pg" 2>/dev/null ;;
	esac
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

# holders_cmd kills every process (found in /proc) that has the file
# $1 (a find -lname pattern) open, but $2: what the builder started and
# left running with its output. A text, for the build user's shell too
# (only a process's own user reads its /proc/PID/fd).
# shellcheck disable=SC2016 # expanded where it runs
holders_cmd='find /proc/[0-9]*/fd -maxdepth 1 -lname "$1" 2>/dev/null | while IFS=/ read -r _ _ pid _; do
	[ "$pid" = "$2" ] || kill -s KILL "$pid" 2>/dev/null
done'

# kill_holders FILE kills every process that has FILE open, but the
# relay, as this account and as the build user.
kill_holders() {
	[ -d /proc/self/fd ] || return 0
	pattern=$(printf '%s' "$1" | sed 's/[][*?\\]/\\&/g')
	sh -c "$holders_cmd" gachette-holders "$pattern" "$relay"
	[ -z "$user" ] || as_user /bin/sh -c "$holders_cmd" gachette-holders "$pattern" "$relay"
}

# lister_cmd lists the .debs in the directory $1, as the build user: a
# line for each, "file NAME SIZE KIB" (a regular file named safely: its
# size and KiB on disk), "notfile NAME" (a symbolic link, or not a
# regular file) or "bad NAME" (a name with what may not be in one, shown
# as '?').
# shellcheck disable=SC2016 # expanded where it runs
lister_cmd='cd -- "$1" || exit 1
for f in * .[!.]* ..?*; do
	{ [ -e "$f" ] || [ -L "$f" ]; } || continue
	case $f in *.deb) ;; *) continue ;; esac
	case $f in
	.* | -* | *[!A-Za-z0-9._+~-]*)
		printf "bad\t%s\n" "$(printf %s "$f" | tr -c "A-Za-z0-9._+~-" "?")"
		continue
		;;
	esac
	if [ ! -f "$f" ] || [ -L "$f" ]; then
		printf "notfile\t%s\n" "$f"
		continue
	fi
	size=$(wc -c <"$f") && kib=$(du -k -- "$f") || continue
	printf "file\t%s\t%s\t%s\n" "$f" "$((size + 0))" "${kib%%[!0-9]*}"
done'

# copy_out copies the .debs the builder made as the build user into
# STAGING, as this account: what the check then reads is this account's,
# and stays as it was copied. A sparse file is not read: an empty one of
# its size stands for it, for the check to refuse; what is not a regular
# file, or is badly named, is stood for the same way.
copy_out() {
	as_user /bin/sh -c "$lister_cmd" gachette-list "$bdir/out" >"$run/list" || return 1
	while IFS=$tab read -r kind f size kib; do
		# (the lister runs as the build user: what it says is checked again)
		case $kind/$f in
		bad/*/* | bad/) continue ;;
		bad/*) ;;
		*) safe_name "$f" || continue ;;
		esac
		case $kind in
		file)
			case $size$kib in '' | *[!0-9]*) return 1 ;; esac
			if sparse "$size" "$kib"; then
				truncate -s "$size" -- "$staging/$f" || return 1
			else
				as_user head -c "$size" -- "$bdir/out/$f" >"$staging/$f" || return 1
			fi
			;;
		notfile) ln -s -- /dev/null "$staging/$f" || return 1 ;;
		bad) : >"$staging/$f" || return 1 ;;
		esac
	done <"$run/list"
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
if [ -n "$user" ]; then
	command -v sudo >/dev/null 2>&1 || exit "$EXIT_NO_SUDO"
	as_user true >&2 || exit "$EXIT_BUILD_USER"
	# held, shared, by every build running as the user (see reap_user)
	if command -v flock >/dev/null 2>&1; then
		# (beside the working copies' locks; '@' is in no key)
		ulock=$(dirname -- "$lock")/.@build-user-$user.lock
		# (only this account may open it: a process of the build user
		# holding it would keep its processes from being killed)
		{ (umask 077 && : >>"$ulock") && exec 5>>"$ulock" && flock -s 5; } 2>/dev/null || exit "$EXIT_DEBS_PATH"
	fi
fi
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

out=$staging
if [ -n "$user" ]; then
	# the build user's own copy of the checked-out tree (and its .git),
	# read here, written there, in a build directory of its own
	bdir=$(as_user mktemp -d -t gachette-build.XXXXXXXX) &&
		as_user mkdir -- "$bdir/src" "$bdir/out" || exit "$EXIT_BUILD_USER"
	tar -C "$wc" -cf - . 9>&- 7>&- 5>&- | as_user tar -C "$bdir/src" -xf - 9>&- 7>&- 5>&- || exit "$EXIT_BUILD_USER"
	out=$bdir/out
fi

# The builder's open of the FIFO waits for the relay's: $group is known,
# and "started" printed, before it runs.
if [ -z "$user" ]; then
	setsid -w /bin/sh -c "$builder" gachette-builder "$out" "$@" </dev/null >"$run/out" 2>&1 9>&- 7>&- 5>&- &
else
	# The session leader prints its pid first: its process group is the
	# builder's, which only the build user can signal.
	# (the FIFO is opened here, and passed on: that is the point)
	# shellcheck disable=SC2016,SC2024 # expanded by the build user's shell
	sudo -n -u "$user" -- setsid -w /bin/sh -c 'echo "$$"; cd -- "$1" || exit 1; shift; exec /bin/sh -c "$0" gachette-builder "$@"' \
		"$builder" "$bdir/src" "$out" "$@" </dev/null >"$run/out" 2>&1 9>&- 7>&- 5>&- &
fi
group=$!
line "$LINE_STARTED"
if [ -z "$user" ]; then
	cat -- "$run/out" 9>&- 7>&- 5>&- &
else
	{
		IFS= read -r pg && printf '%s\n' "$pg" >"$run/pgid"
		exec cat
	} <"$run/out" 9>&- 7>&- 5>&- &
fi
relay=$!

wait "$group"
rc=$?
signal_builder KILL
group=
kill_holders "$run/out"
# The relay ends once it has copied what is left in the FIFO; should a
# writer have escaped kill_holders, it is stopped after 5 seconds, by a
# timer in a process group of its own: stopped whole, it leaves no sleep
# behind, and it ends as soon as the relay has (a timer this script could
# not stop, killed just after it started it, goes within 0.1 s).
# shellcheck disable=SC2016 # expanded by the timer's shell
setsid sh -c 'i=0; while [ "$i" -lt 50 ] && kill -0 "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; kill "$1" 2>/dev/null' gachette-timer "$relay" </dev/null >/dev/null 2>&1 9>&- 7>&- 5>&- &
timer=$!
wait "$relay"
relay=
stop_timer
timer=
if [ -n "$user" ] && [ "$rc" -eq 0 ]; then
	copy_out || {
		echo "gachette: copying the .debs from $bdir/out (the build user's) into $staging failed" >&2
		rc=$EXIT_BUILD_USER
	}
fi
[ "$rc" -ne 0 ] || keep=1
exit "$rc"
