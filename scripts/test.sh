#!/usr/bin/env bash
# test.sh: the one command that runs every test of opencapf.
#
# Installs what the tests need, builds the release and the ASan+UBSan
# builds, runs the unit, fuzz-replay and end-to-end suites in both, runs each
# libFuzzer target for a bounded time, and ends with a pass/fail summary line.
#   OPENCAPF_FUZZ_SECONDS=N   seconds per libFuzzer target (default 15, 0 = skip)
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --test || { echo "test.sh: set-up failed"; exit 1; }

passed=0 failed=0 failures=()
run_suite() { # name, command...
	local name=$1; shift
	echo "=== $name"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); fi
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite "release build" meson test -C build --print-errorlogs --num-processes 2
run_suite "asan+ubsan build" meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3
if [ "${OPENCAPF_FUZZ_SECONDS:-15}" != 0 ] && command -v clang >/dev/null; then
	run_suite "libFuzzer" bash scripts/fuzz.sh "${OPENCAPF_FUZZ_SECONDS:-15}"
fi

echo
echo "suites: ${passed} passed, ${failed} failed${failures[*]:+ (${failures[*]})}"
# The counts of individual tests are in meson's own summaries above.
[ "$failed" = 0 ]
