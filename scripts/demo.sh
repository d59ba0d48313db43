#!/usr/bin/env bash
# The main job, end to end on this machine: start cartolocal (a local CARTO on PostgreSQL + PostGIS),
# apply migrations/example with cartomigrate through the Batch SQL API, then run a geometry query
# through the carto database/sql driver and print the rows. Everything stops when it is done.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
need_go
need_postgis

bin=$(mktemp -d)
work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$bin" "$work"
}
trap cleanup EXIT

echo "==> building cartolocal, cartomigrate and examples/nearby_places" >&2
go build -o "$bin/" ./cmd/cartolocal ./cmd/cartomigrate ./examples/nearby_places

echo "==> starting cartolocal" >&2
"$bin/cartolocal" --addr 127.0.0.1:0 --user demo >"$work/env" 2>"$work/log" &
pid=$!
for _ in $(seq 1 600); do
	grep -q '^CARTO_API_KEY=' "$work/env" 2>/dev/null && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$work/log" >&2
		echo "cartolocal did not start" >&2
		exit 1
	fi
	sleep 0.1
done
grep -q '^CARTO_API_KEY=' "$work/env" || { cat "$work/log" >&2; echo "cartolocal did not start in 60 s" >&2; exit 1; }
CARTO_BASE_URL=$(sed -n 's/^CARTO_BASE_URL=//p' "$work/env" | head -n1)
CARTO_API_KEY=$(sed -n 's/^CARTO_API_KEY=//p' "$work/env" | head -n1)
export CARTO_API_KEY
# The same account as a carto:// database URL, the form golang-migrate dispatches on; the key stays in
# $CARTO_API_KEY rather than on a command line.
hostpath=${CARTO_BASE_URL#http://}
user=${hostpath#*/user/}; user=${user%/}
CARTO_DATABASE_URL="carto://${user}@${hostpath%/}?sslmode=disable"
echo "    serving $CARTO_BASE_URL" >&2

echo "==> cartomigrate up (migrations/example, through Batch SQL)" >&2
"$bin/cartomigrate" -path migrations/example -database "$CARTO_DATABASE_URL" up
"$bin/cartomigrate" -path migrations/example -database "$CARTO_DATABASE_URL" version

echo "==> nearest places to Madrid, through the database/sql driver" >&2
"$bin/nearby_places" -base-url "$CARTO_BASE_URL" -lat 40.4168 -lng -3.7038 -limit 8
