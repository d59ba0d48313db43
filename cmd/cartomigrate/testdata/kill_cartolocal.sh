#!/usr/bin/env bash
# Issue 9 item 1, end to end: cartolocal is killed -9 right after cartomigrate's 1/u line (while
# migration 2 is being recorded, created or run), restarted on the same data directory, and a user
# does what cartomigrate's messages say until up succeeds. It prints what was applied, which must be
# 1,2,3: each migration once. Run from anywhere: bash cmd/cartomigrate/testdata/kill_cartolocal.sh
set -u
repo=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
trap 'kill -9 ${spid:-} 2>/dev/null; rm -rf "$work"' EXIT
(cd "$repo" && go build -o "$work/" ./cmd/cartolocal ./cmd/cartomigrate) || exit 1
cd "$work"
mkdir mig
printf 'CREATE TABLE applied (version int, at timestamptz DEFAULT clock_timestamp());\nINSERT INTO applied (version) VALUES (1);\n' >mig/1_a.up.sql
echo 'DROP TABLE applied;' >mig/1_a.down.sql
printf 'SELECT pg_sleep(2);\nINSERT INTO applied (version) VALUES (2);\n' >mig/2_b.up.sql
echo 'DELETE FROM applied WHERE version = 2;' >mig/2_b.down.sql
echo 'INSERT INTO applied (version) VALUES (3);' >mig/3_c.up.sql
echo 'DELETE FROM applied WHERE version = 3;' >mig/3_c.down.sql
data=$work/data; port=$((20000 + RANDOM % 10000))
start_server() {
	./cartolocal --addr 127.0.0.1:$port --user demo --api-key demo-master-key --data-dir "$data" >server.env 2>>server.log &
	spid=$!
	for _ in $(seq 1 600); do grep -q CARTO_API_KEY server.env 2>/dev/null && return; sleep 0.1; done
	echo "server did not start"; exit 1
}
start_server
export CARTO_DATABASE_URL="carto://demo:demo-master-key@127.0.0.1:$port/user/demo?sslmode=disable"
./cartomigrate -path mig up >mig.out 2>&1 &
mpid=$!
for _ in $(seq 1 600); do grep -q '^1/u' mig.out && break; sleep 0.05; done
kill -9 $spid; wait $spid 2>/dev/null
echo "--- killed cartolocal -9 after: $(grep '^1/u' mig.out)"
sleep 1
start_server
wait $mpid; echo "--- cartomigrate exit $?:"; cat mig.out
echo "--- following the advice"
./cartomigrate version
# up until it succeeds: the killed run could not release its lease, which expires within 30 s.
# A user does what the messages say: a force they advise, or up again once the lease expired.
for try in 1 2 3 4; do
	./cartomigrate -path mig up 2>up.out && { cat up.out; break; }
	cat up.out
	advice=$(grep -o 'cartomigrate force -if-dirty [0-9-]* [0-9-]*' up.out | head -1)
	if [ -n "$advice" ]; then
		echo "+ ./$advice"; ./$advice
	else
		echo "up failed (try $try); waiting for the lease to expire"; sleep 16
	fi
done
./cartomigrate version
echo "--- applied:"
curl -s -u demo:demo-master-key "http://127.0.0.1:$port/user/demo/api/v2/sql" --data-urlencode "q=SELECT string_agg(version::text, ',' ORDER BY at) AS applied FROM applied"; echo
kill -INT $spid; wait $spid 2>/dev/null; spid=
