# cleanup.sh STAGING: remove a build's staging directory, when the check
# session that would have removed it did not run.
rm -rf -- "$1"
