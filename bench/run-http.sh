#!/bin/bash
# run-http.sh - HTTP API throughput of idnoded (GET /api/handles, keep-alive) as a ratio to a minimal evhttp responder, same run.
# Usage: bench/run-http.sh [BUILD_DIR]   (part of make bench)
# Env: RUNS (3) runs per figure (median reported), SECONDS_PER_RUN (5), COUNT (100000),
#      CONNS (64), PIPELINE (1), WORKDIR (mktemp).
# idnoded (--workers=1 --http-threads=1) or the raw responder pinned to core 0, generator to core 1;
# each run measures both back to back, so a run's ratio shares its conditions. 127.0.0.1 only.
set -euo pipefail
build=${1:-build}
B=$build/idnode-bench
D=$build/idnoded
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-5}
COUNT=${COUNT:-100000}
CONNS=${CONNS:-64}
PIPELINE=${PIPELINE:-1}
CNRI=3900 # CNRI Handle 9.2's REST API on this kind of machine, requests/s
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
make_work /tmp/idn-bench-http-XXXXXX

need_bins "$B" "$D"
# Private copies: a rebuild in the tree during the run does not pull them away.
cp "$B" "$D" "$WORK/"
B=$WORK/idnode-bench
D=$WORK/idnoded

# CPU seconds (user + system) a process has used so far.
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
# Resolutions idnoded has answered so far (its node page's counter).
answered() {
	curl -s --max-time 5 "http://$addr/api/node" | tr '{' '\n' |
		sed -n 's/.*"id":"resolutionsSinceStart".*"value":\([0-9]*\).*/\1/p'
}
gen() {
	taskset -c 1 "$B" http --server="$1" --count="$COUNT" --conns="$CONNS" --pipeline="$PIPELINE" \
		--duration="$SECS" --warmup=1 --json
}

store="$WORK/store"
[ -d "$store" ] || "$B" gen-store --db="$store" --count="$COUNT" --prefix=88.100.12/BENCH- >&2
: >"$WORK/d.log"
taskset -c 0 "$D" --data-dir="$store" --listen=127.0.0.1:0 --workers=1 --rate-limit=0 --write-rate-limit=0 --http-listen=127.0.0.1:0 \
	--https-listen= --http-threads=1 --log-level=notice 2>"$WORK/d.log" &
dpid=$!
pids+=("$dpid")
wait_for "$WORK/d.log" "http ready:"
addr=$(grep -o 'http ready: http 127.0.0.1:[0-9]*' "$WORK/d.log" | head -1 | cut -d' ' -f4)
# Warm the store and learn the answer's body size for the raw responder.
size=$(SECS=2 gen "$addr" | field reply_bytes_avg)

echo "# idnode HTTP API benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(machine), kernel $(uname -r)"
echo "- command: bench/run-http.sh $build (RUNS=$RUNS, SECONDS_PER_RUN=$SECS, COUNT=$COUNT, CONNS=$CONNS, PIPELINE=$PIPELINE)"
echo "- idnoded: --workers=1 --http-threads=1 pinned to core 0; raw evhttp responder on core 0; generator on core 1"
echo "- load: GET /api/handles/88.100.12/BENCH-<random i> on $CONNS keep-alive connections, $PIPELINE in flight each"
echo
echo "| run | raw evhttp req/s | idnoded req/s | ratio | idnoded / (10 x CNRI's $CNRI) | p50 / p99 / p99.9 µs (idnoded) | CPU µs/request raw / idnoded | CPU ratio |"
echo "|---|---:|---:|---:|---:|---|---|---:|"
ours_all=""
raw_all=""
ratio_all=""
cratio_all=""
for r in $(seq "$RUNS"); do
	c0=$(cpu "$dpid")
	n0=$(answered)
	o=$(gen "$addr")
	c1=$(cpu "$dpid")
	n1=$(answered)
	rate=$(echo "$o" | field requests_per_second)
	ocpu=$(awk -v c="$c0" -v d="$c1" -v a="$n0" -v b="$n1" 'BEGIN { printf "%.1f", (b > a ? (d - c) * 1e6 / (b - a) : 0) }')
	kill -STOP "$dpid"
	: >"$WORK/raw.out"
	taskset -c 0 "$B" raw-http --listen=127.0.0.1:0 --reply-size="$size" \
		--duration=$((SECS + 10)) >"$WORK/raw.out" 2>"$WORK/raw.err" &
	rpid=$!
	pids+=("$rpid")
	wait_for "$WORK/raw.out" "ready port="
	rport=$(sed -n 's/ready port=//p' "$WORK/raw.out")
	rc0=$(cpu "$rpid")
	raw=$(gen "127.0.0.1:$rport" | field requests_per_second)
	rc1=$(cpu "$rpid")
	kill "$rpid" 2>/dev/null || true
	wait "$rpid" 2>/dev/null || true
	rn=$(sed -n 's/.*answered \([0-9]*\) requests.*/\1/p' "$WORK/raw.err")
	rcpu=$(awk -v c="$rc0" -v d="$rc1" -v n="${rn:-0}" 'BEGIN { printf "%.1f", (n > 0 ? (d - c) * 1e6 / n : 0) }')
	cratio=$(ratio "$rcpu" "$ocpu")
	kill -CONT "$dpid"
	ratio=$(ratio "$rate" "$raw")
	vs=$(awk -v a="$rate" -v c="$CNRI" 'BEGIN { printf "%.2f", a / (10 * c) }')
	printf "| %s | %.0f | %.0f | %s | %s | %s / %s / %s | %s / %s | %s |\n" "$r" "$raw" "$rate" \
		"$ratio" "$vs" "$(echo "$o" | field p50_us)" "$(echo "$o" | field p99_us)" \
		"$(echo "$o" | field p999_us)" "$rcpu" "$ocpu" "$cratio"
	cratio_all="$cratio_all $cratio"
	ours_all="$ours_all $rate"
	raw_all="$raw_all $raw"
	ratio_all="$ratio_all $ratio"
done
mo=$(echo "$ours_all" | tr ' ' '\n' | grep . | median)
mr=$(echo "$raw_all" | tr ' ' '\n' | grep . | median)
mq=$(echo "$ratio_all" | tr ' ' '\n' | grep . | median)
mc=$(echo "$cratio_all" | tr ' ' '\n' | grep . | median)
printf "| **median** | %.0f | %.0f | %s | %s | | | %s |\n" "$mr" "$mo" "$mq" \
	"$(awk -v a="$mo" -v c="$CNRI" 'BEGIN { printf "%.2f", a / (10 * c) }')" "$mc"
echo
echo "Answer body: $size bytes (the raw responder answers a JSON body of the same size, same Content-Type)."
echo "CPU µs/request: the server process's user+system time over the requests it answered (raw: its own count;"
echo "idnoded: resolutionsSinceStart of /api/node, warm-up included on both sides). CPU ratio = raw / idnoded: the"
echo "throughput ratio on a core of its own, much less sensitive to neighbours than the rates."
echo "Targets: ratio >= 0.50; idnoded >= $((CNRI * 10)) req/s (10 x CNRI 9.2's REST API)."
