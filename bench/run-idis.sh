#!/bin/bash
# run-idis.sh - registrations/s over IDIS-logged-in connections vs the same creates authenticated per request (CNRI challenge-response), same run.
# Usage: bench/run-idis.sh [BUILD_DIR]   (make bench-idis; part of make bench)
# Env: RUNS (3) runs per figure (median reported), SECONDS_PER_RUN (3), CONNS ("1 4"), WINDOW (32).
# idnoded (1 worker) pinned to core 0, the generator to core 1; 127.0.0.1 only.
set -euo pipefail
build=${1:-build}
B=$build/idnode-bench
D=$build/idnoded
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
CONNS=${CONNS:-"1 4"}
WINDOW=${WINDOW:-32}
WORK=$(mktemp -d /tmp/idn-idisbench-XXXXXX)
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
for bin in "$B" "$D"; do
	[ -x "$bin" ] || { echo "run-idis: $bin missing (make first)" >&2; exit 1; }
done

taskset -c 0 "$D" --data-dir="$WORK/data" --listen=127.0.0.1:0 --workers=1 --rate-limit=0 --write-rate-limit=0 --demo \
	--http-listen= --https-listen= --log-level=notice 2>"$WORK/d.log" &
dpid=$!
for _ in $(seq 200); do
	grep -q "ready:" "$WORK/d.log" 2>/dev/null && break
	sleep 0.05
done
addr=$(grep -o 'on 127.0.0.1:[0-9]*' "$WORK/d.log" | head -1 | cut -c4-)
[ -n "$addr" ] || { echo "run-idis: idnoded did not start" >&2; cat "$WORK/d.log" >&2; exit 1; }
key=$WORK/data/demo-enterprise-key.pem

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
rate() { # conns extra...
	local c=$1
	shift
	for _ in $(seq "$RUNS"); do
		taskset -c 1 "$B" register --server="$addr" --auth=300:0.NA/88.100.12 --key="$key" \
			--conns="$c" --window="$WINDOW" --duration="$SECS" --warmup=1 --json "$@" |
			field registrations_per_second
	done | median
}

echo "# idnode: IDIS login vs per-request authentication"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "- command: bench/run-idis.sh $build (RUNS=$RUNS, SECONDS_PER_RUN=$SECS, CONNS=\"$CONNS\", WINDOW=$WINDOW)"
echo "- idnoded --workers=1 on core 0, generator on core 1; RSA-2048 identity 300:0.NA/88.100.12; medians of $RUNS runs"
echo
echo "| connections | logged in (IDIS, $WINDOW in flight) reg/s | challenge-response per request (CNRI) reg/s | ratio |"
echo "|---:|---:|---:|---:|"
for c in $CONNS; do
	l=$(rate "$c")
	p=$(rate "$c" --challenge)
	r=$(awk -v a="$l" -v b="$p" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
	printf "| %s | %.0f | %.0f | %sx |\n" "$c" "$l" "$p" "$r"
done
