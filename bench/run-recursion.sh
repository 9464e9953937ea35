#!/bin/bash
# run-recursion.sh - UDP resolution through the top with a warm cache vs local resolution on the same node, same run.
# Usage: bench/run-recursion.sh [BUILD_DIR]   (part of make bench)
# Env: RUNS (3) runs per figure (median), SECONDS_PER_RUN (5), COUNT (10000 ids each),
#      WORKDIR (mktemp). Node A (measured) on core 0, generator on core 1; 127.0.0.1 only.
# Setup: B homes 88.200 and holds 88.200.1/BENCH-i; the top T (homes 0.NA/0.NA) holds
# 0.NA/88.200.1 with B's HS_SITE; A (88.100, upstream T) holds 88.100.12/BENCH-i.
set -euo pipefail
build=${1:-build}
BB=$build/idnode-bench
D=$build/idnoded
CLI=$build/idnode
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-5}
COUNT=${COUNT:-10000}
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
make_work /tmp/idn-bench-rec-XXXXXX

need_bins "$BB" "$D" "$CLI"
command -v jq >/dev/null || { echo "run-recursion: needs jq" >&2; exit 1; }

gen() {
	local addr=$1 prefix=$2 secs=$3
	taskset -c 1 "$BB" udp --server="$addr" --prefix="$prefix" --count="$COUNT" \
		--duration="$secs" --warmup=1 --json
}
# start NAME CPU ARGS...: an idnoded; sets $addr
start() {
	local name=$1 cpu=$2
	shift 2
	: >"$WORK/$name.log"
	taskset -c "$cpu" "$D" --data-dir="$WORK/$name" --listen=127.0.0.1:0 --workers=1 \
		--http-listen= --https-listen= --rate-limit=0 --write-rate-limit=0 --log-level=notice "$@" \
		2>"$WORK/$name.log" &
	pids+=($!)
	wait_for "$WORK/$name.log" "ready:"
	addr=$(grep -o 'on 127.0.0.1:[0-9]*' "$WORK/$name.log" | head -1 | cut -c4-)
}

last=$(( $(nproc) - 1 ))
"$BB" gen-store --db="$WORK/b" --count="$COUNT" --prefix=88.200.1/BENCH- >&2
"$BB" gen-store --db="$WORK/a" --count="$COUNT" --prefix=88.100.12/BENCH- >&2
start b "$last" --node-prefix=88.200
b_addr=$addr
# The top's record for the enterprise prefix: B's own HS_SITE, as registration puts it there.
site=$("$CLI" resolve 0.NA/88.200 --server="$b_addr" --type=HS_SITE --json |
	jq -c '[.values[] | select(.type == "HS_SITE")][0]')
echo "{\"handle\":\"0.NA/88.200.1\",\"values\":[$site]}" >"$WORK/top.jsonl"
"$CLI" load --db="$WORK/t" --home "$WORK/top.jsonl" >&2
start t "$last" --node-prefix=88.1
t_addr=$addr
start a 0 --node-prefix=88.100 --upstream="$t_addr"
a_addr=$addr

# Warm A's cache: every remote identifier once through the top (cold), then warm runs.
gen "$a_addr" 88.200.1/BENCH- 4 >/dev/null
gen "$a_addr" 88.200.1/BENCH- 2 >/dev/null

local_runs=()
remote_runs=()
for _ in $(seq "$RUNS"); do
	local_runs+=("$(gen "$a_addr" 88.100.12/BENCH- "$SECS")")
	remote_runs+=("$(gen "$a_addr" 88.200.1/BENCH- "$SECS")")
done
lrate=$(printf '%s\n' "${local_runs[@]}" | field requests_per_second | median)
rrate=$(printf '%s\n' "${remote_runs[@]}" | field requests_per_second | median)
lp=$(printf '%s\n' "${local_runs[@]}" | awk -v r="$lrate" 'index($0, "\"requests_per_second\":" r ",")' | head -1)
rp=$(printf '%s\n' "${remote_runs[@]}" | awk -v r="$rrate" 'index($0, "\"requests_per_second\":" r ",")' | head -1)
ratio=$(ratio "$rrate" "$lrate")
# Did the warm runs stay on the workers? (recursions handed over vs answered)
kill -TERM "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true

echo "## Resolution through the top"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(machine), kernel $(uname -r)"
echo "- command: bench/run-recursion.sh $build (RUNS=$RUNS, SECONDS_PER_RUN=$SECS, COUNT=$COUNT)"
echo "- node A: 1 worker pinned to core 0, generator (idnode-bench udp, window 256) on core 1;"
echo "  top T and node B on core $last; medians of $RUNS alternating runs; A's cache warmed first"
echo
echo "| what A resolves | req/s | p50 / p99 / p99.9 µs |"
echo "|---|---:|---|"
printf "| local: 88.100.12/BENCH-i (its own store) | %.0f | %s / %s / %s |\n" "$lrate" \
	"$(echo "$lp" | field p50_us)" "$(echo "$lp" | field p99_us)" "$(echo "$lp" | field p999_us)"
printf "| through the top: 88.200.1/BENCH-i (B's, warm cache) | %.0f | %s / %s / %s |\n" "$rrate" \
	"$(echo "$rp" | field p50_us)" "$(echo "$rp" | field p99_us)" "$(echo "$rp" | field p999_us)"
echo
echo "Ratio through the top / local: **$ratio** (target >= 0.80)."
echo
succ() { printf '%s\n' "$@" | awk -F'"success":' '{split($2, a, ","); s += a[1]} END {print s + 0}'; }
repl() { printf '%s\n' "$@" | awk -F'"replies":' '{split($2, a, ","); s += a[1]} END {print s + 0}'; }
echo "Answers with RC 1: local $(succ "${local_runs[@]}") of $(repl "${local_runs[@]}"), through the top $(succ "${remote_runs[@]}") of $(repl "${remote_runs[@]}")."
