#!/bin/bash
# lib.sh - shell helpers the bench/run-*.sh scripts source: work folder, cleanup of what they started, readiness wait, median, JSON fields, ratio, machine line.
# Sourced after `set -euo pipefail`; messages are prefixed with the script's name.
bench_name=$(basename "$0" .sh)

# Everything a script starts in the background goes in pids (or, for the one
# daemon some scripts track alone, dpid): cleanup stops them all at exit.
# SIGCONT first: a process left stopped (kill -STOP while a raw responder is
# measured) would not act on SIGTERM.
pids=()
dpid=
remove_work=
cleanup() {
	local p
	for p in "${pids[@]+"${pids[@]}"}" ${dpid:+"$dpid"}; do
		kill -CONT "$p" 2>/dev/null || true
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -n "$remove_work" ] && rm -rf "$WORK"
}
trap cleanup EXIT

# make_work TEMPLATE: WORK is $WORKDIR when given (kept at exit), else a fresh
# mktemp -d TEMPLATE folder (removed at exit).
make_work() {
	if [ -n "${WORKDIR:-}" ]; then
		WORK=$WORKDIR
	else
		WORK=$(mktemp -d "$1")
		remove_work=1
	fi
	mkdir -p "$WORK"
}

# need_bins BIN...: each must be built.
need_bins() {
	local bin
	for bin in "$@"; do
		[ -x "$bin" ] || { echo "$bench_name: $bin missing (make first)" >&2; exit 1; }
	done
}

# wait_for FILE PATTERN [TRIES]: bounded wait (TRIES x 0.05 s, default 10 s)
# for a readiness line; exits showing FILE when it does not come.
wait_for() {
	for _ in $(seq "${3:-200}"); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$bench_name: no '$2' in $1" >&2
	cat "$1" >&2
	exit 1
}

# median: of the numbers on stdin, one a line (-g: e-notation too).
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# field NAME: the number after "NAME": in each JSON line on stdin.
field() { sed -n "s/.*\"$1\":\([0-9.e+-]*\).*/\1/p"; }
# ratio A B: A / B to two decimals (0 when B is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# machine: "N cores, CPU model" for the reports' machine line.
machine() { echo "$(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"; }
