#!/bin/bash
# run-bench.sh - resolution throughput of idnoded as a ratio to raw loopback responders, same run.
# Usage: bench/run-bench.sh [BUILD_DIR]   (make bench)
# Env: RUNS (3) runs per figure (median reported), SECONDS_PER_RUN (5),
#      COUNTS ("100000"; BENCH_LARGE=1 adds 10000000), WORKDIR (mktemp).
# Server (or raw responder) pinned to core 0, generator to core 1; 127.0.0.1 only.
set -euo pipefail
build=${1:-build}
B=$build/idnode-bench
D=$build/idnoded
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-5}
COUNTS=${COUNTS:-100000}
[ "${BENCH_LARGE:-0}" = 1 ] && COUNTS="$COUNTS 10000000"
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
make_work /tmp/idn-bench-XXXXXX

need_bins "$B" "$D"

# gen MODE ADDR COUNT EXTRA... -> prints one JSON line
gen() {
	local mode=$1 addr=$2 count=$3
	shift 3
	taskset -c 1 "$B" "$mode" --server="$addr" --count="$count" --duration="$SECS" --warmup=1 --json "$@"
}

# raw_figure udp|tcp SIZE EXTRA... -> median req/s over RUNS fresh responders
raw_figure() {
	local kind=$1 size=$2
	shift 2
	for _ in $(seq "$RUNS"); do
		: >"$WORK/raw.out"
		taskset -c 0 "$B" "raw-$kind" --listen=127.0.0.1:0 --reply-size="$size" \
			--duration=$((SECS + 10)) >"$WORK/raw.out" 2>/dev/null &
		local pid=$!
		pids+=("$pid")
		wait_for "$WORK/raw.out" "ready port="
		local port
		port=$(sed -n 's/ready port=//p' "$WORK/raw.out")
		gen "$kind" "127.0.0.1:$port" 1000 "$@" | field requests_per_second
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done | median
}

echo "# idnode resolution benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(machine), kernel $(uname -r)"
echo "- command: bench/run-bench.sh $build (RUNS=$RUNS, SECONDS_PER_RUN=$SECS, COUNTS=\"$COUNTS\")"
echo "- idnoded: 1 worker pinned to core 0; generator pinned to core 1; medians of $RUNS runs"
echo
echo "| transport | store | raw responder req/s | idnoded req/s | ratio | p50 / p99 / p99.9 µs (idnoded) |"
echo "|---|---|---:|---:|---:|---|"

for count in $COUNTS; do
	store="$WORK/store-$count"
	if [ ! -d "$store" ]; then
		"$B" gen-store --db="$store" --count="$count" --prefix=88.100.12/BENCH- >&2
	fi
	# The page cache here does not keep a large store for long: read it
	# in first, or a 10M run measures the disk (6k req/s instead of 200k).
	cat "$store/data.mdb" >/dev/null
	: >"$WORK/d.log"
	taskset -c 0 "$D" --data-dir="$store" --listen=127.0.0.1:0 --workers=1 --rate-limit=0 --write-rate-limit=0 \
		--log-level=notice 2>"$WORK/d.log" &
	dpid=$!
	pids+=("$dpid")
	wait_for "$WORK/d.log" "ready:"
	addr=$(grep -o 'on 127.0.0.1:[0-9]*' "$WORK/d.log" | head -1 | cut -c4-)
	# Warm the store, and learn the real answer size for the raw responders.
	size=$(gen udp "$addr" "$count" | field reply_bytes_avg)

	for cfg in "udp|--window=256" "tcp|--conns=4 --pipeline=64" "tcp|--conns=64 --pipeline=4"; do
		kind=${cfg%%|*}
		extra=${cfg#*|}
		# shellcheck disable=SC2086
		ours=$(for _ in $(seq "$RUNS"); do gen "$kind" "$addr" "$count" $extra; done)
		rate=$(echo "$ours" | field requests_per_second | median)
		lat=$(echo "$ours" | awk -v r="$rate" 'index($0, "\"requests_per_second\":" r ",")' | head -1)
		p50=$(echo "$lat" | field p50_us)
		p99=$(echo "$lat" | field p99_us)
		p999=$(echo "$lat" | field p999_us)
		kill -STOP "$dpid"
		# shellcheck disable=SC2086
		raw=$(raw_figure "$kind" "$size" $extra)
		kill -CONT "$dpid"
		ratio=$(ratio "$rate" "$raw")
		printf "| %s %s | %s ids | %.0f | %.0f | %s | %s / %s / %s |\n" "$kind" "$extra" \
			"$count" "$raw" "$rate" "$ratio" "$p50" "$p99" "$p999"
	done
	rss=$(sed -n 's/^VmRSS:\s*//p' /proc/$dpid/status)
	anon=$(sed -n 's/^RssAnon:\s*//p' /proc/$dpid/status)
	file=$(sed -n 's/^RssFile:\s*//p' /proc/$dpid/status)
	echo "| memory | $count ids | VmRSS $rss | RssAnon $anon (outside the LMDB map) | | RssFile $file (mapped store) |"
	kill "$dpid"
	wait "$dpid" 2>/dev/null || true
done
echo
echo "Answer size: $size bytes (the raw responders answer with the same size)."
