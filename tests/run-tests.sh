#!/bin/bash
# run-tests.sh - run every unit test, fuzz corpus replay and integration test; print a summary.
# Usage: tests/run-tests.sh BUILD_DIR TEST_BINARY...
# Run from the repository root. Exit status 0 only when every program passed.
set -u
build=$1
shift
export IDN_BUILD=$build
export IDN_SHARED=${IDN_SHARED:-$(cd .. && pwd)/shared}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=()
for t in "$@"; do
	name=${t#"$build"/tests/}
	case $name in
	fuzz/replay_*)
		target=${name#fuzz/replay_}
		corpus=tests/fuzz/$target.in
		echo "== $name ($corpus)"
		if "$t" "$corpus"; then r=0; else r=$?; fi
		;;
	integration/test_crash)
		# Minutes of fsyncs: developers iterating may set IDN_SKIP_SLOW=1; CI never does.
		if [ "${IDN_SKIP_SLOW:-0}" = 1 ]; then
			echo "== $name (skipped: IDN_SKIP_SLOW=1)"
			continue
		fi
		echo "== $name"
		if timeout 900 "$t"; then r=0; else r=$?; fi
		;;
	*)
		echo "== $name"
		if timeout 600 "$t"; then r=0; else r=$?; fi
		;;
	esac
	if [ "$r" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures+=("$name (exit $r)")
	fi
done

echo
echo "== summary: ${#@} test programs"
for f in "${failures[@]+"${failures[@]}"}"; do
	echo "FAILED: $f"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
