# lint.sh WC TREBUCHET MISSILE: trebuchet lint in the working copy WC.
wc=$1 trebuchet=$2 missile=$3
stop_all_on_signals
[ -d "$wc/.git" ] || exit "$EXIT_NO_WORKING_COPY"
cd -- "$wc" || exit "$EXIT_NO_WORKING_COPY"
"$trebuchet" lint "$missile"
