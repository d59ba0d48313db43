#!/usr/bin/env bash
# The whole test suite: gofmt, vet and staticcheck first (any finding fails the run), then every
# package's tests against cartolocal on a real PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
need_go
need_postgis
need_test_tools
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "gofmt -l lists files that are not formatted (run gofmt -w on them):" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
# The version is pinned by the tool directive in go.mod; the first run fetches it from the module proxy.
go tool staticcheck ./...
# -race doubles the run time; CI's budget holds it. -p 2 matches the machine's cores.
go test -race -p 2 -timeout 30m ./... "$@"
