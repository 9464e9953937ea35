#!/bin/bash
# run-fuzz.sh - build every tests/fuzz/fuzz_*.c with libFuzzer (clang) and run each for SECONDS.
# Usage: tests/fuzz/run-fuzz.sh [SECONDS] [TARGET...]   (make fuzz FUZZ_SECONDS=N)
#   TARGET is a name like fuzz_msg; default: every tests/fuzz/fuzz_*.c.
#   FUZZ_CC overrides the compiler (default clang).
# Each target starts from a copy of its seed corpus (tests/fuzz/NAME.in) grown in
# build-fuzz/corpus/NAME. Prints execs/s and coverage per target as it goes,
# and at the end the same as a Markdown table (for bench/RESULTS.md). A crash (or
# leak, timeout, OOM) is copied into the seed corpus, so `make test` replays
# it from then on, and the script exits 1; so does a target that fails to build.
set -uo pipefail
secs=${1:-60}
shift || true
cd "$(dirname "$0")/../.."
out=build-fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"
CC=${FUZZ_CC:-clang}
PKGS="libevent libevent_pthreads libevent_openssl lmdb openssl libcares jansson"
if ! pkg_cflags=$(pkg-config --cflags $PKGS) || ! LIBS="$(pkg-config --libs $PKGS) -pthread"; then
	echo "run-fuzz.sh: pkg-config cannot find: $PKGS (run deploy/install-deps.sh)" >&2
	exit 1
fi
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -I. -fno-omit-frame-pointer -fsanitize=address,undefined $pkg_cflags"

# The library, instrumented for coverage, as an archive: each target links
# only the objects it needs, so a module that does not compile at the moment
# (work in progress elsewhere) only breaks the targets that use it.
newest_h=$(find proto storage client resolver daemon -name '*.h' -printf '%T@\n' 2>/dev/null |
	   sort -n | tail -1)
newest_h=${newest_h:-0}
objs=()
for src in proto/*.c storage/*.c client/*.c resolver/*.c daemon/*.c; do
	[ -f "$src" ] || continue
	[ "$src" = daemon/main.c ] && continue
	obj="$out/obj/${src//\//_}.o"
	stale=1
	if [ -f "$obj" ] && [ "$obj" -nt "$src" ]; then
		obj_t=$(stat -c %Y "$obj")
		[ "${newest_h%.*}" -lt "$obj_t" ] && stale=0
	fi
	if [ $stale = 1 ] && ! $CC $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" 2>"$obj.log"; then
		echo "warning: $src does not compile; left out (see $obj.log)" >&2
		rm -f "$obj"
		continue
	fi
	objs+=("$obj")
done
lib="$out/libidnode-fuzz.a"
rm -f "$lib"
ar rcs "$lib" "${objs[@]}"

targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

status=0
summary=()
printf "%-20s %10s %12s %8s %8s %8s\n" target seconds execs/s cov ft corpus
for t in "${targets[@]}"; do
	if ! $CC $CFLAGS -fsanitize=fuzzer "tests/fuzz/$t.c" "$lib" $LIBS -o "$out/$t" 2>"$out/$t.build.log"; then
		status=1
		summary+=("| $t | $secs | BUILD FAILED | | | |")
		echo "$t: BUILD FAILED; see $out/$t.build.log" >&2
		continue
	fi
	corpus="$out/corpus/$t"
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/$t.in" ]; then
		cp -n tests/fuzz/"$t".in/* "$corpus"/ 2>/dev/null || true
	fi
	log="$out/$t.log"
	rm -f "$out"/artifacts/"$t"-*
	if "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/artifacts/$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
		last=$(grep -E '^#[0-9]+' "$log" | tail -1)
		cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
		ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
		corp=$(sed -n 's/.*corp: \([0-9]*\).*/\1/p' <<<"$last")
		eps=$(sed -n 's/^stat::average_exec_per_sec:\s*//p' "$log")
		printf "%-20s %10s %12s %8s %8s %8s\n" "$t" "$secs" "${eps:-?}" "${cov:-?}" \
			"${ft:-?}" "${corp:-?}"
		echo "    $last"
		summary+=("| $t | $secs | ${eps:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} |")
	else
		status=1
		summary+=("| $t | $secs | CRASH | | | |")
		echo "$t: CRASH or sanitizer report; see $log" >&2
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || true
		for a in "$out"/artifacts/"$t"-*; do
			[ -f "$a" ] && mkdir -p "tests/fuzz/$t.in" && cp "$a" "tests/fuzz/$t.in/$(basename "$a")" &&
				echo "    added tests/fuzz/$t.in/$(basename "$a") to the seeds" >&2
		done
	fi
done
echo
echo "| target | seconds | execs/s | cov | ft | corpus |"
echo "|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${summary[@]}"
exit $status
