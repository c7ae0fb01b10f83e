# describe.sh WC STATE
#
# What prepare.sh found for the working copy WC (the lines it kept in
# STATE), if WC is still at that commit: so that a build versions the
# commit as its prepare did, whatever tags a build made since.
wc=$1 state=$2
stop_all_on_signals
[ -d "$wc/.git" ] || exit "$EXIT_NO_WORKING_COPY"
[ -f "$state" ] || exit "$EXIT_NOT_PREPARED"
head=$(git_in "$wc" rev-parse --verify --quiet HEAD 2>/dev/null) || head=''
commit=$(sed -n "s/^$LINE_COMMIT$tab//p" "$state")
if [ -z "$head" ] || [ "$head" != "$commit" ]; then
	line "$LINE_HEAD" "$head"
	exit "$EXIT_NOT_PREPARED"
fi
cat -- "$state"
