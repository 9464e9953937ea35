#!/bin/bash
# run-fuzz.sh - build every tests/fuzz/fuzz_*.c with libFuzzer (clang) and run each for SECONDS.
# Usage: tests/fuzz/run-fuzz.sh [SECONDS] [TARGET...]   (make fuzz FUZZ_SECONDS=N)
# Each target starts from a copy of its seed corpus (tests/fuzz/NAME.in) grown in
# build-fuzz/corpus/NAME. A crash is copied into the seed corpus (so `make test`
# replays it from then on) and the script exits 1. Prints execs/s and coverage.
set -euo pipefail
secs=${1:-60}
shift || true
cd "$(dirname "$0")/../.."
out=build-fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"
CC=${FUZZ_CC:-clang}
PKGS="libevent libevent_pthreads libevent_openssl lmdb openssl libcares jansson"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -I. -fno-omit-frame-pointer -fsanitize=address,undefined $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -pthread"

# The library, instrumented for coverage (everything the targets can reach).
objs=()
for src in proto/*.c storage/*.c client/*.c resolver/*.c daemon/*.c; do
	[ "$src" = daemon/main.c ] && continue
	obj="$out/obj/${src//\//_}.o"
	if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ]; then
		$CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
	fi
	objs+=("$obj")
done

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

status=0
printf "%-20s %12s %10s %10s\n" target execs/s cov features
for t in "${targets[@]}"; do
	$CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/$t.c" "${objs[@]}" $LIBS -o "$out/$t"
	corpus="$out/corpus/$t"
	mkdir -p "$corpus"
	[ -d "tests/fuzz/$t.in" ] && cp -n tests/fuzz/"$t".in/* "$corpus"/ 2>/dev/null || true
	log="$out/$t.log"
	if "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/artifacts/$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
		last=$(grep -E '^#[0-9]+' "$log" | tail -1)
		cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
		ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
		eps=$(sed -n 's/^stat::average_exec_per_sec:\s*//p' "$log")
		printf "%-20s %12s %10s %10s\n" "$t" "${eps:-?}" "${cov:-?}" "${ft:-?}"
	else
		status=1
		echo "$t: CRASH or sanitizer report; see $log" >&2
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || true
		for a in "$out"/artifacts/"$t"-*; do
			[ -f "$a" ] && cp "$a" "tests/fuzz/$t.in/$(basename "$a")"
		done
	fi
done
exit $status
