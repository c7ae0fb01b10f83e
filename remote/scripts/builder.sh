# builder.sh STAGING KIND TREBUCHET MISSILE ARCH APP ENV SERVICE STATIC
#            CALLBACK EXTRA COMMAND COMMIT
#
# The builder itself, run by build.sh in the working copy, in a session of
# its own, with stdin from /dev/null and its output into build.sh's relay.
# It writes the .debs into STAGING. An empty value is a flag not given.
staging=$1 kind=$2 trebuchet=$3 missile=$4 arch=$5 app=$6 env=$7 service=$8 static=$9
shift 9
callback=$1 extra=$2 command=$3 commit=$4

case $kind in
trebuchet)
	set -- build "$missile" --output "$staging"
	[ -z "$arch" ] || set -- "$@" --arch "$arch"
	[ -z "$app" ] || set -- "$@" --app-version "$app"
	[ -z "$env" ] || set -- "$@" --env-version "$env"
	[ -z "$service" ] || set -- "$@" --service-version "$service"
	[ -z "$static" ] || set -- "$@" --static-version "$static"
	[ -z "$callback" ] || set -- "$@" --web-callback "$callback"
	[ -z "$extra" ] || set -- "$@" --extra-description "$extra"
	exec "$trebuchet" "$@"
	;;
dpkg-buildpackage)
	# Versioned from the commit like the other builders: a changelog entry
	# for the computed version goes on top (the next prepare's checkout
	# undoes it). The .changes file is found by its name,
	# <source>_<version>_<host arch>.changes, not by time, so concurrent
	# builds in the same workdir do not mix; the .debs it lists are moved
	# to staging.
	set -e
	[ -f debian/changelog ] || {
		echo "gachette: the working copy has no debian/changelog: is it a Debian source package? (else use another gachette.builder)"
		exit 1
	}
	if [ -n "$app" ]; then
		src=$(dpkg-parsechangelog -S Source)
		{
			printf '%s (%s) UNRELEASED; urgency=medium\n\n  * Built by git-gachette from commit %s.\n\n -- git-gachette <git-gachette@localhost>  %s\n\n' \
				"$src" "$app" "$commit" "$(date -R)"
			cat debian/changelog
		} >debian/changelog.gachette
		mv -f debian/changelog.gachette debian/changelog
	fi
	dpkg-buildpackage -b -us -uc
	src=$(dpkg-parsechangelog -S Source) ver=$(dpkg-parsechangelog -S Version)
	base=../${src}_${ver#*:}_$(dpkg-architecture -qDEB_HOST_ARCH)
	[ -f "$base.changes" ] || {
		echo "gachette: dpkg-buildpackage wrote no $base.changes"
		exit 1
	}
	sed -n '/^Files:/,/^[^ ]/s/^ .* \([^ /]*\.deb\)$/\1/p' "$base.changes" | while IFS= read -r f; do
		mv -- "../$f" "$staging/"
	done
	rm -f -- "$base.changes" "$base.buildinfo"
	;;
command)
	GACHETTE_OUTPUT=$staging GACHETTE_VERSION=$app GACHETTE_COMMIT=$commit GACHETTE_ARCH=$arch
	export GACHETTE_OUTPUT GACHETTE_VERSION GACHETTE_COMMIT GACHETTE_ARCH
	exec /bin/sh -c "$command"
	;;
*)
	echo "gachette: unknown builder $kind"
	exit 2
	;;
esac
