#!/usr/bin/env bash
# The whole test suite: vet, then every package's tests against cartolocal on a real PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/prereqs.sh
need_go
need_postgis
go vet ./...
# -race doubles the run time; CI's budget holds it. -p 2 matches the machine's cores.
go test -race -p 2 -timeout 30m ./... "$@"
