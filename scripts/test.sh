#!/usr/bin/env bash
# test.sh: the one command that runs every test of opencapf.
#
# Installs what the tests need, builds the release and the ASan+UBSan
# builds, runs the unit, fuzz-replay and end-to-end suites in both, runs each
# libFuzzer target for a bounded time, and ends with one line
# "tests: N passed, N failed" (every meson test of both builds, plus the
# libFuzzer run and the end-to-end tests with keys in SoftHSM2 each counted as
# one test).
#   OPENCAPF_FUZZ_SECONDS=N   seconds per libFuzzer target (default 15, 0 = skip)
set -uo pipefail
cd "$(dirname "$0")/.."

if ! bash scripts/setup.sh --test; then
	echo "tests: 0 passed, 1 failed (set-up or build failed)"
	exit 1
fi

suite_failures=()
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "=== release build"
meson test -C build --print-errorlogs --num-processes 2 || suite_failures+=("release")
echo "=== keys in a SoftHSM2 token (release build)"
softhsm_ok=0 softhsm_bad=0
bash scripts/test-softhsm.sh build
case $? in 0) softhsm_ok=1 ;; 77) ;; *) softhsm_bad=1; suite_failures+=("softhsm") ;; esac
echo "=== ASan+UBSan build"
meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 || suite_failures+=("asan")

fuzz_ok=0 fuzz_bad=0
if [ "${OPENCAPF_FUZZ_SECONDS:-15}" != 0 ] && command -v clang >/dev/null; then
	echo "=== libFuzzer, ${OPENCAPF_FUZZ_SECONDS:-15} s per target"
	if bash scripts/fuzz.sh "${OPENCAPF_FUZZ_SECONDS:-15}"; then fuzz_ok=1; else fuzz_bad=1; suite_failures+=("libFuzzer"); fi
fi

# Individual tests, from meson's JSON logs (one line a test).
count() { cat build/meson-logs/testlog.json build-asan/meson-logs/testlog.json 2>/dev/null | grep -c "\"result\": \"$1\""; }
ok_tests=$(( $(count OK) + fuzz_ok + softhsm_ok ))
bad_tests=$(( $(count FAIL) + $(count TIMEOUT) + $(count ERROR) + $(count UNEXPECTEDPASS) + fuzz_bad + softhsm_bad ))
# A suite that failed without a failed test (a build error) still counts as one failure.
[ "${#suite_failures[@]}" -gt 0 ] && [ "$bad_tests" = 0 ] && bad_tests=1
echo
# Name every test that did not pass, so the end of the output says which.
for log in build/meson-logs/testlog.json build/meson-logs/testlog-softhsm.json build-asan/meson-logs/testlog.json; do
	[ -f "$log" ] || continue
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t["result"] in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
        print("  %s: %s %s (%.0f s)" % (sys.argv[2], t["result"], t["name"], t["duration"]))
' "$log" "$log"
done
[ "${#suite_failures[@]}" = 0 ] || echo "failing: ${suite_failures[*]}"
echo "tests: $ok_tests passed, $bad_tests failed"
[ "${#suite_failures[@]}" = 0 ]
