# prepare.sh WC URL REF LOCK KEY WAIT MATCH...
#
# Makes the working copy WC of URL at REF, under its lock: cloned the
# first time (never sharing an object file with URL: --no-local; into
# .KEY.clone beside it, a name no key can take, renamed when complete, so
# an interrupted clone is never taken for a working copy), else fetched.
# Before anything else reads it, its git directory is reset
# (reset_gitdir): nothing a build wrote there can run, or change what is
# checked out or how it is versioned. Then the remote's branches and tags
# are fetched exactly (tags the remote no longer has are deleted, tags
# made here too), REF is resolved, the objects the checkout uses are
# verified (verify_commit: each hashes to its id), then checked out
# (forced, detached, every file compared with the commit's by its
# contents), cleaned; submodules are made again from their reset git
# directories, and verified the same way. Whatever of this fails in a
# working copy that was there (a build may have left anything in it) is
# done again in a new clone, which replaces it once complete. A symbolic
# link where a working copy, its temporary clone or its lock should be is
# removed, never followed.
#
# It prints the remote branch REF resolved to when REF is HEAD (when one
# branch is at HEAD's commit), the commit, "git describe" with the MATCH
# patterns, and the commit count when no tag matches; git-gachette keeps
# them on its side, for the build (a build here could rewrite them
# here). All of git's own output goes to stderr.
wc=$1 url=$2 ref=$3 lock=$4 key=$5 wait=$6
shift 6
stop_all_on_signals
exec 3>&1 1>&2

# clone DIR makes a new clone of URL in DIR, whose git directory is reset.
clone() {
	rm -rf -- "$1" &&
		git -c core.hooksPath=/dev/null clone --quiet --no-checkout --no-local -- "$url" "$1" 9>&- &&
		reset_gitdir "$1/.git" "$url"
}

# resolve prints the commit REF names in the working copy, after the fetch.
resolve() {
	case $ref in
	refs/heads/*) set -- "refs/remotes/origin/${ref#refs/heads/}" ;;
	heads/*) set -- "refs/remotes/origin/${ref#heads/}" ;;
	refs/tags/* | refs/remotes/*) set -- "$ref" ;;
	tags/*) set -- "refs/$ref" ;;
	*) set -- "refs/remotes/origin/$ref" "refs/remotes/$ref" "refs/tags/$ref" ;;
	esac
	for cand; do
		# a ref that is there but cannot be read as a commit: its objects
		# are not what they should be (status 2)
		git_in "$wc" rev-parse --verify --quiet "$cand" >/dev/null || continue
		git_in "$wc" rev-parse --verify --quiet "$cand^{commit}" && return 0
		return 2
	done
	case $ref in
	*[!0-9a-f]*) return 1 ;;
	esac
	[ ${#ref} -ge 4 ] && git_in "$wc" rev-parse --verify --quiet "$ref^{commit}"
}

# update makes the working copy WC what REF is at the remote, checked out
# and verified; it returns the exit status to end with. "why" says what
# failed.
update() {
	why='resetting its refs failed'
	# Every ref but the remote's branches and tags goes; the fetch then
	# makes those exactly the remote's.
	git_in "$wc" for-each-ref --format='%(refname)' | while IFS= read -r r; do
		case $r in
		refs/remotes/origin/HEAD) echo "delete $r" ;;
		refs/remotes/origin/* | refs/tags/*) ;;
		*) echo "delete $r" ;;
		esac
	done | git_in "$wc" update-ref --no-deref --stdin || return "$EXIT_RESET"
	head_spec=''
	case $ref in
	HEAD | origin/HEAD) head_spec='+HEAD:refs/remotes/origin/HEAD' ;;
	esac
	why='git fetch failed'
	git_in "$wc" fetch --quiet --prune --force --no-write-fetch-head origin \
		'+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' ${head_spec:+"$head_spec"} || return "$EXIT_FETCH"

	why='the commit cannot be read (a build changed its objects?)'
	commit=$(resolve)
	case $? in
	0) ;;
	2)
		# in a new clone, it is what the remote has
		[ -z "$fresh" ] || return "$EXIT_REF"
		return "$EXIT_CHECKOUT"
		;;
	*) return "$EXIT_REF" ;;
	esac
	branch=''
	if [ -n "$head_spec" ]; then
		# the remote's default branch, when one branch is at its HEAD
		b=$(git_in "$wc" for-each-ref --points-at="$commit" --format='%(refname)' 'refs/remotes/origin/*' |
			grep -v '^refs/remotes/origin/HEAD$')
		case $b in
		refs/remotes/origin/*"$nl"* | '') ;;
		refs/remotes/origin/*) branch=origin/${b#refs/remotes/origin/} ;;
		esac
	fi
	checkout_commit "$wc" "$commit"
}

# Nothing of this is followed if a build made it a symbolic link: the
# working copies' directory, the lock, the working copy, its clone.
parent=$(dirname -- "$wc")
cloning=$parent/.$key.clone
no_link "$parent"
mkdir -p -- "$parent" || exit "$EXIT_CLONE"
no_link "$lock"
take_lock "$lock" "$key" "$wait"
no_link "$wc"
no_link "$cloning"
if [ -e "$wc" ] && ! reset_gitdir "$wc/.git" "$url"; then
	echo "gachette: $wc is not a working copy git-gachette can reset; cloning it again"
	rm -rf -- "$wc" || exit "$EXIT_RESET"
fi
fresh=''
if [ ! -e "$wc" ]; then
	if ! { clone "$cloning" && mv -- "$cloning" "$wc"; }; then
		rm -rf -- "$cloning"
		exit "$EXIT_CLONE"
	fi
	fresh=1
fi
# What older versions kept here for builds is never read: it goes.
rm -f -- "$parent/.$key.prepared"

update
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne "$EXIT_REF" ] && [ -z "$fresh" ]; then
	# Whatever a build left in the working copy that the reset cannot
	# undo: a new clone replaces it, once complete (a failed clone leaves
	# it as it was).
	echo "gachette: $wc: $why; cloning it again"
	if ! clone "$cloning"; then
		rm -rf -- "$cloning"
		exit "$rc"
	fi
	{ rm -rf -- "$wc" && mv -- "$cloning" "$wc"; } || exit "$EXIT_RESET"
	fresh=1
	update
	rc=$?
fi
[ "$rc" -eq 0 ] || exit "$rc"

n=$#
while [ "$n" -gt 0 ]; do
	set -- "$@" "--match=$1"
	shift
	n=$((n - 1))
done
describe=$(git_in "$wc" describe --tags --long "$@" "$commit" 2>/dev/null) || describe=''
count=0
[ -n "$describe" ] || count=$(git_in "$wc" rev-list --count "$commit") || exit "$EXIT_CHECKOUT"
{
	[ -z "$branch" ] || line "$LINE_REF" "$branch"
	line "$LINE_COMMIT" "$commit"
	line "$LINE_DESCRIBE" "$describe"
	line "$LINE_COUNT" "$count"
} >&3
