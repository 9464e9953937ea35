#!/bin/bash
# run-soak.sh - a long mixed load on one idnoded: resolution (UDP, TCP), registration, HTTP; memory and fds sampled, acknowledged writes checked.
# Usage: bench/run-soak.sh [BUILD_DIR]   (make soak)
# Env: SOAK_SECONDS (600), SAMPLE_SECONDS (30), COUNT (100000 identifiers to resolve), WORKDIR (mktemp).
# idnoded (2 workers) and the load generators share the 2 cores; 127.0.0.1 only; everything started is stopped.
set -euo pipefail
build=${1:-build}
B=$build/idnode-bench
D=$build/idnoded
C=$build/idnode
SECS=${SOAK_SECONDS:-600}
SAMPLE=${SAMPLE_SECONDS:-30}
COUNT=${COUNT:-100000}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
make_work /tmp/idn-soak-XXXXXX
need_bins "$B" "$D" "$C"

"$B" gen-store --db="$WORK/data" --count="$COUNT" --prefix=88.100.12/BENCH- >&2
"$D" --data-dir="$WORK/data" --listen=127.0.0.1:0 --workers=2 --demo --https-listen= \
	--http-listen=127.0.0.1:0 --rate-limit=0 --write-rate-limit=0 --log-level=notice \
	2>"$WORK/d.log" &
dpid=$!
wait_for "$WORK/d.log" "http ready:" 400
addr=$(grep -o 'on 127.0.0.1:[0-9]*' "$WORK/d.log" | head -1 | cut -c4-)
http=$(sed -n 's/.*http ready: http \(127.0.0.1:[0-9]*\).*/\1/p' "$WORK/d.log" | head -1)
key=$WORK/data/demo-enterprise-key.pem

# The load: resolutions over UDP and TCP, one logged-in registration stream
# (one create at a time: about one per fsync), and an HTTP GET a second.
"$B" udp --server="$addr" --count="$COUNT" --window=32 --duration="$SECS" --warmup=0 --json \
	>"$WORK/udp.json" 2>/dev/null &
pids+=($!)
"$B" tcp --server="$addr" --count="$COUNT" --conns=4 --pipeline=8 --duration="$SECS" --warmup=0 \
	--json >"$WORK/tcp.json" 2>/dev/null &
pids+=($!)
"$B" register --server="$addr" --auth=300:0.NA/88.100.12 --key="$key" --conns=2 --window=4 \
	--duration="$SECS" --warmup=0 --run-id=soak --json >"$WORK/reg.json" 2>"$WORK/reg.err" &
regpid=$!
pids+=($regpid)

echo "# idnode soak run"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(machine)"
echo "- command: bench/run-soak.sh $build (SOAK_SECONDS=$SECS, SAMPLE_SECONDS=$SAMPLE, COUNT=$COUNT)"
echo "- load: UDP resolution (window 32), TCP resolution (4 x 8), registrations (2 logged-in"
echo "  connections x 4 in flight), one HTTP GET a second; idnoded --workers=2"
echo
echo "| t (s) | VmRSS kB | RssAnon kB | RssFile kB | open fds | TCP conns | handles (ids counter) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
t0=$(date +%s)
first_anon=
last_anon=
first_fds=
last_fds=
http_fail=0
http_ok=0
next=$((t0 + SAMPLE))
sample() {
	local t=$(($(date +%s) - t0))
	local rss anon file fds ids
	rss=$(sed -n 's/^VmRSS:\s*\([0-9]*\).*/\1/p' /proc/$dpid/status)
	anon=$(sed -n 's/^RssAnon:\s*\([0-9]*\).*/\1/p' /proc/$dpid/status)
	file=$(sed -n 's/^RssFile:\s*\([0-9]*\).*/\1/p' /proc/$dpid/status)
	fds=$(ls /proc/$dpid/fd | wc -l)
	local m
	m=$(curl -s --max-time 5 "http://$http/metrics" || true)
	local conns
	conns=$(echo "$m" | sed -n 's/^idnode_tcp_connections \([0-9]*\).*/\1/p')
	ids=$(echo "$m" | sed -n 's/^idnode_identifiers \([0-9]*\).*/\1/p')
	echo "| $t | $rss | $anon | $file | $fds | ${conns:-?} | ${ids:-?} |"
	[ -z "$first_anon" ] && first_anon=$anon && first_fds=$fds
	last_anon=$anon
	last_fds=$fds
}
while [ "$(date +%s)" -lt $((t0 + SECS)) ]; do
	if curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
		"http://$http/api/handles/88.100.12/BENCH-$((RANDOM % COUNT))" | grep -q 200; then
		http_ok=$((http_ok + 1))
	else
		http_fail=$((http_fail + 1))
	fi
	if [ "$(date +%s)" -ge "$next" ]; then
		sample
		next=$((next + SAMPLE))
	fi
	sleep 1
done
for p in "${pids[@]}"; do wait "$p" || true; done
pids=()
sample
kill "$dpid"
wait "$dpid" || true
dpid=

acked=$(field ok <"$WORK/reg.json")
# Every create the node answered RC 1 must be stored: count the soak handles.
stored=$("$B" count-prefix --db="$WORK/data" --prefix=88.100.12/REG-soak- 2>/dev/null || echo "?")
echo
echo "| figure | value |"
echo "|---|---:|"
echo "| UDP resolutions/s (mean over the run) | $(field requests_per_second <"$WORK/udp.json") |"
echo "| TCP resolutions/s (mean over the run) | $(field requests_per_second <"$WORK/tcp.json") |"
echo "| registrations acknowledged (RC 1) | $acked |"
echo "| soak handles in the store after the stop | $stored |"
echo "| HTTP GETs ok / failed | $http_ok / $http_fail |"
echo "| RssAnon first / last sample kB | $first_anon / $last_anon |"
echo "| open fds first / last sample | $first_fds / $last_fds |"
ok=1
[ "$stored" != "?" ] && [ -n "$acked" ] && [ "$stored" -ge "$acked" ] || ok=0
echo
if [ "$ok" = 1 ]; then
	echo "Every acknowledged registration is in the store ($stored stored >= $acked acknowledged)."
else
	echo "CHECK FAILED: acknowledged $acked, stored $stored."
	exit 1
fi
