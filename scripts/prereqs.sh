# Sourced by the other scripts: makes sure Go, PostgreSQL + PostGIS, and the tools some tests use
# (ogr2ogr from gdal-bin, chromium) are on this machine. As root it installs what is missing from
# Debian's packages, and only that: nothing installed is upgraded, and a PostgreSQL server already
# running is left alone (cartolocal runs private clusters beside it). apt's output goes to a log
# file whose path is printed. Otherwise it says what to install.

need_go() {
	if ! command -v go >/dev/null 2>&1; then
		if [ -x /usr/local/go/bin/go ]; then
			export PATH="$PATH:/usr/local/go/bin"
		else
			echo "gocarto needs Go 1.26 or newer: https://go.dev/doc/install" >&2
			exit 1
		fi
	fi
}

have_postgis() {
	local bin
	for bin in /usr/lib/postgresql/*/bin; do
		[ -x "$bin/initdb" ] || continue
		local v; v=$(basename "$(dirname "$bin")")
		if ls /usr/share/postgresql/"$v"/extension/postgis.control >/dev/null 2>&1; then
			return 0
		fi
	done
	return 1
}

have_chromium() {
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1
}

# apt_log is where apt's output goes, one file per run of the scripts.
apt_log=""

# apt_run runs apt-get with its output in $apt_log. apt waits up to 10 minutes for a lock another
# apt or dpkg holds (DPkg::Lock::Timeout); apt-get update, whose lists lock that option does not
# cover on every apt version, is tried again while the log says the lock is held.
apt_run() {
	if [ -z "$apt_log" ]; then
		apt_log=$(mktemp "${TMPDIR:-/tmp}/gocarto-apt.XXXXXX.log")
		echo "apt-get's output goes to $apt_log" >&2
	fi
	local waited=0
	while :; do
		local mark; mark=$(wc -l <"$apt_log")
		if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@" >>"$apt_log" 2>&1; then
			return 0
		fi
		if tail -n +"$((mark + 1))" "$apt_log" | grep -q 'Could not get lock' && [ "$waited" -lt 600 ]; then
			[ "$waited" -eq 0 ] && echo "Waiting for another apt or dpkg to release its lock..." >&2
			sleep 5
			waited=$((waited + 5))
			continue
		fi
		echo "apt-get $* failed; see $apt_log" >&2
		return 1
	done
}

# apt_install installs the packages given, never upgrading one that is installed already.
apt_install() {
	[ "$#" -gt 0 ] || return 0
	if [ -z "${apt_updated:-}" ]; then
		apt_run update -q || return 1
		apt_updated=1
	fi
	echo "Installing with apt-get: $*" >&2
	apt_run install -y -q --no-upgrade --no-install-recommends "$@"
}

need_postgis() {
	have_postgis && return 0
	if [ "$(id -u)" -ne 0 ]; then
		cat >&2 <<'MSG'
gocarto's local server needs PostgreSQL with PostGIS. On Debian or Ubuntu, as root:
    apt-get update && apt-get install -y postgresql-15 postgresql-15-postgis-3
(or your distribution's postgresql and postgis packages), then run this again.
MSG
		exit 1
	fi
	# Installing the server package starts a cluster of its own when none runs; one that ran
	# before is the machine's business and is left running, as is the new one (cartolocal needs
	# neither).
	apt_install postgresql-15 postgresql-15-postgis-3 || apt_install postgresql postgis || exit 1
	have_postgis || { echo "PostGIS is still missing after apt-get; see $apt_log" >&2; exit 1; }
}

# need_test_tools makes sure of ogr2ogr (the export and import tests) and chromium (the map
# preview tests).
need_test_tools() {
	local missing=()
	command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)
	have_chromium || missing+=(chromium)
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "Some tests need ${missing[*]}; on Debian or Ubuntu, as root: apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	apt_install "${missing[@]}" || exit 1
}
