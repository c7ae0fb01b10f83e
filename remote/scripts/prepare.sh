# prepare.sh WC URL REF LOCK KEY WAIT STATE MATCH...
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
# link where a working copy, its temporary clone, its lock or STATE
# should be is removed, never followed.
#
# It prints the remote branch REF resolved to when REF is HEAD (when one
# branch is at HEAD's commit), the commit, "git describe" with the MATCH
# patterns, and the commit count when no tag matches, and keeps these
# lines in STATE for the build. All of git's own output goes to stderr.
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
verify_cmd='i=$(git rev-parse --git-path gachette-verify.index) && t=$(git rev-parse --verify --quiet "$sha1^{tree}") &&
[ "$(git cat-file commit "$sha1" | git hash-object -t commit --literally --stdin)" = "$sha1" ] &&
rm -f -- "$i" && git ls-tree -r -z --full-tree "$sha1" | GIT_INDEX_FILE=$i git update-index -z --index-info &&
[ "$(GIT_INDEX_FILE=$i git write-tree)" = "$t" ] && rm -f -- "$i" &&
[ -z "$(git rev-list --objects --verify-objects --no-walk "$sha1" 2>&1 >/dev/null)" ]'

# verify_commit DIR COMMIT runs verify_cmd for COMMIT in the working copy DIR.
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
no_link() {
	if [ -L "$1" ]; then
		echo "gachette: $1 is a symbolic link, which git-gachette never made (a build did?); removing it"
		rm -f -- "$1"
	fi
}

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
	why='writing its commit-graph failed'
	git_in "$wc" commit-graph write --reachable --no-progress || return "$EXIT_FETCH"

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
	why='its objects do not hash to their ids (a build changed them?)'
	verify_commit "$wc" "$commit" || return "$EXIT_CHECKOUT"
	# The index starts again from the commit's tree (reset_gitdir removed
	# the build's), and every file is read again, whatever its time stamps
	# say: the checkout then writes those that differ from the commit's.
	why='the checkout failed'
	git_in "$wc" read-tree "$commit" || return "$EXIT_CHECKOUT"
	git_in "$wc" update-index -q --refresh >/dev/null
	git_in "$wc" checkout --quiet --force --detach "$commit" &&
		git_in "$wc" clean -ffdxq || return "$EXIT_CHECKOUT"

	if [ -f "$wc/.gitmodules" ]; then
		why='the submodule update failed'
		[ ! -d "$wc/.git/modules" ] || reset_modules "$wc/.git/modules" || return "$EXIT_SUBMODULE"
		# Submodule working trees are made again from their git
		# directories, so nothing a build left in them (a .git of its own)
		# is used.
		git_in "$wc" -c core.quotePath=false ls-files --stage | while IFS= read -r l; do
			case $l in
			160000\ *)
				p=${l#*"$tab"}
				case $p in \"*) exit 1 ;; esac
				rm -rf -- "${wc:?}/$p" || exit 1
				;;
			esac
		done || return "$EXIT_SUBMODULE"
		git_in "$wc" submodule --quiet init &&
			git_in "$wc" submodule --quiet sync --recursive &&
			git_in "$wc" submodule --quiet update --init --recursive --force &&
			git_in "$wc" submodule --quiet foreach --recursive 'git clean -ffdxq' || return "$EXIT_SUBMODULE"
		why="a submodule's objects do not hash to their ids (a build changed them?)"
		git_in "$wc" submodule --quiet foreach --recursive "$verify_cmd" >/dev/null 2>&1 || return "$EXIT_SUBMODULE"
	fi
	return 0
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
# STATE is for the working copy's commit: until this prepare has made it
# again, there is none.
no_link "$state"
rm -f -- "$state"

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
# STATE is written anew (mktemp: never through what a build put at its
# temporary name), then renamed over whatever is there.
tmp=$(mktemp -- "$parent/.$key.prepared.XXXXXX") || exit "$EXIT_CHECKOUT"
{
	[ -z "$branch" ] || line "$LINE_REF" "$branch"
	line "$LINE_COMMIT" "$commit"
	line "$LINE_DESCRIBE" "$describe"
	line "$LINE_COUNT" "$count"
} >"$tmp" || {
	rm -f -- "$tmp"
	exit "$EXIT_CHECKOUT"
}
mv -f -- "$tmp" "$state" || exit "$EXIT_CHECKOUT"
cat -- "$state" >&3
