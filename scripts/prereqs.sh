# Sourced by the other scripts: makes sure Go, PostgreSQL and PostGIS are on this machine, installing
# PostgreSQL 15 + PostGIS 3 from Debian's packages when run as root, and saying what to install otherwise.

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
	echo "Installing PostgreSQL and PostGIS with apt-get..." >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql-15 postgresql-15-postgis-3 >&2 ||
		apt-get install -y -qq postgresql postgis >&2
	# The Debian package starts a cluster of its own; cartolocal runs private ones and needs none.
	if command -v service >/dev/null 2>&1; then service postgresql stop >/dev/null 2>&1 || true; fi
	have_postgis || { echo "PostGIS is still missing after apt-get" >&2; exit 1; }
}
