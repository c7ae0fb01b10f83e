# cleanup.sh STAGING: remove a build's staging directory (and its lock),
# when the check session that would have removed it did not run.
rm -rf -- "$1"
rm -f -- "$1.lock"
