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
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
# Always a fresh folder (WORKDIR is not read here).
WORK=$(mktemp -d /tmp/idn-idisbench-XXXXXX)
remove_work=1
need_bins "$B" "$D"

taskset -c 0 "$D" --data-dir="$WORK/data" --listen=127.0.0.1:0 --workers=1 --rate-limit=0 --write-rate-limit=0 --demo \
	--http-listen= --https-listen= --log-level=notice 2>"$WORK/d.log" &
dpid=$!
wait_for "$WORK/d.log" "ready:"
addr=$(grep -o 'on 127.0.0.1:[0-9]*' "$WORK/d.log" | head -1 | cut -c4-)
key=$WORK/data/demo-enterprise-key.pem

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
echo "- machine: $(machine)"
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
