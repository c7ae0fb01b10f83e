# prepare.sh WC URL REF LOCK KEY WAIT STATE MATCH...
#
# Makes the working copy WC of URL at REF, under its lock: cloned the
# first time (into WC.tmp, renamed when complete, so an interrupted clone
# is never taken for a working copy), else fetched. Before anything else
# reads it, its git directory is reset (reset_gitdir): nothing a build
# wrote there can run, or change what is checked out or how it is
# versioned. Then the remote's branches and tags are fetched exactly
# (tags the remote no longer has are deleted, tags made here too), REF is
# resolved, checked out (forced, detached, every file compared with the
# commit's by its contents), cleaned;
# submodules are made again from their reset git directories. It prints
# the commit, "git describe" with the MATCH patterns, and the commit count
# when no tag matches, and keeps these lines in STATE for the build. All
# of git's own output goes to stderr.
wc=$1 url=$2 ref=$3 lock=$4 key=$5 wait=$6 state=$7
shift 7
stop_all_on_signals
exec 3>&1 1>&2

# reset_gitdir DIR [URL]: the git directory DIR keeps its objects, refs
# and HEAD, and nothing else a build could have written into it: a new
# config (the object and ref formats kept; remote origin at URL, else as
# it was), no hooks, no info/ (attributes, excludes, grafts,
# sparse-checkout), no index, no shallow file, no alternates, no
# commit-graph or multi-pack-index (their data would be believed), no
# linked worktrees or common dir. It fails if DIR is not a plain git
# directory, which is then made again.
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
	rm -rf -- "$gd/config" "$gd/config.worktree" "$gd/hooks" "$gd/info" "$gd/index" "$gd/shallow" \
		"$gd/commondir" "$gd/worktrees" "$gd/objects/info/alternates" "$gd/objects/info/http-alternates" \
		"$gd/objects/info/grafts" "$gd/objects/info/commit-graph" "$gd/objects/info/commit-graphs" \
		"$gd/objects/pack/multi-pack-index" || return 1
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

take_lock "$lock" "$key" "$wait"
mkdir -p -- "$(dirname -- "$wc")" || exit "$EXIT_CLONE"
if [ -e "$wc" ] && ! reset_gitdir "$wc/.git" "$url"; then
	echo "gachette: $wc is not a working copy git-gachette can reset; cloning it again"
	rm -rf -- "$wc" || exit "$EXIT_RESET"
fi
if [ ! -e "$wc" ]; then
	if ! {
		rm -rf -- "$wc.tmp" &&
			git -c core.hooksPath=/dev/null clone --quiet --no-checkout -- "$url" "$wc.tmp" 9>&- &&
			reset_gitdir "$wc.tmp/.git" "$url" &&
			mv -- "$wc.tmp" "$wc"
	}; then
		rm -rf -- "$wc.tmp"
		exit "$EXIT_CLONE"
	fi
fi

# Every ref but the remote's branches and tags goes; the fetch then makes
# those exactly the remote's.
git_in "$wc" for-each-ref --format='%(refname)' | while IFS= read -r r; do
	case $r in
	refs/remotes/origin/HEAD) echo "delete $r" ;;
	refs/remotes/origin/* | refs/tags/*) ;;
	*) echo "delete $r" ;;
	esac
done | git_in "$wc" update-ref --no-deref --stdin || exit "$EXIT_RESET"
head_spec=''
case $ref in
HEAD | origin/HEAD) head_spec='+HEAD:refs/remotes/origin/HEAD' ;;
esac
git_in "$wc" fetch --quiet --prune --force --no-write-fetch-head origin \
	'+refs/heads/*:refs/remotes/origin/*' '+refs/tags/*:refs/tags/*' ${head_spec:+"$head_spec"} || exit "$EXIT_FETCH"
git_in "$wc" commit-graph write --reachable --no-progress || exit "$EXIT_FETCH"

commit=''
for cand in "refs/remotes/origin/$ref" "refs/remotes/$ref" "refs/tags/$ref"; do
	commit=$(git_in "$wc" rev-parse --verify --quiet "$cand^{commit}") && break
	commit=''
done
if [ -z "$commit" ]; then
	case $ref in
	*[!0-9a-f]*) ;;
	*) [ ${#ref} -ge 4 ] && commit=$(git_in "$wc" rev-parse --verify --quiet "$ref^{commit}") || commit='' ;;
	esac
fi
[ -n "$commit" ] || exit "$EXIT_REF"
# STATE is for the working copy's commit: until this prepare has made it
# again, there is none.
rm -f -- "$state"
# The index starts again from the commit's tree (reset_gitdir removed
# the build's), and every file is read again, whatever its time stamps
# say: the checkout then writes those that differ from the commit's.
git_in "$wc" read-tree "$commit" || exit "$EXIT_CHECKOUT"
git_in "$wc" update-index -q --refresh >/dev/null
git_in "$wc" checkout --quiet --force --detach "$commit" &&
	git_in "$wc" clean -ffdxq || exit "$EXIT_CHECKOUT"

if [ -f "$wc/.gitmodules" ]; then
	[ ! -d "$wc/.git/modules" ] || reset_modules "$wc/.git/modules" || exit "$EXIT_SUBMODULE"
	# Submodule working trees are made again from their git directories,
	# so nothing a build left in them (a .git of its own) is used.
	git_in "$wc" -c core.quotePath=false ls-files --stage | while IFS= read -r l; do
		case $l in
		160000\ *)
			p=${l#*"$tab"}
			case $p in \"*) exit 1 ;; esac
			rm -rf -- "${wc:?}/$p" || exit 1
			;;
		esac
	done || exit "$EXIT_SUBMODULE"
	git_in "$wc" submodule --quiet init &&
		git_in "$wc" submodule --quiet sync --recursive &&
		git_in "$wc" submodule --quiet update --init --recursive --force &&
		git_in "$wc" submodule --quiet foreach --recursive 'git clean -ffdxq' || exit "$EXIT_SUBMODULE"
fi

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
	line "$LINE_COMMIT" "$commit"
	line "$LINE_DESCRIBE" "$describe"
	line "$LINE_COUNT" "$count"
} >"$state.tmp" && mv -f -- "$state.tmp" "$state" || exit "$EXIT_CHECKOUT"
cat -- "$state" >&3
