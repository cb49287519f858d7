#!/usr/bin/env bash
# fuzz.sh: run every libFuzzer target for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]     (default 30 seconds per target)
#
# Configures build-fuzz with CC=clang -Dfuzzing=true (once), builds the
# fuzz-* targets (ASan + UBSan + libFuzzer), and runs each over a scratch
# copy of its seed corpus (fuzz/corpus/NAME stays as committed) with
# -max_total_time. Crash inputs land in build-fuzz/fuzz-artifacts/. Exits
# non-zero when any target crashes or cannot be built.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac
command -v clang >/dev/null || { echo "fuzz.sh: clang is needed for libFuzzer" >&2; exit 2; }

if [ ! -f build-fuzz/build.ninja ]; then
	# Every object gets libFuzzer's coverage instrumentation and the
	# sanitizers, so that targets of other layers (linked from their
	# libraries) are guided too. -Wno-unknown-warning-option: gcc-only
	# warning flags in the project arguments must not stop a clang build.
	CC=clang meson setup build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dc_args='-fsanitize=fuzzer-no-link -Wno-unknown-warning-option' \
		>/dev/null || {
		echo "fuzz.sh: meson setup of build-fuzz failed" >&2; exit 1; }
fi
targets=$(cd build-fuzz && meson introspect --targets | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["type"] == "executable" and t["name"].startswith("fuzz-"):
        print(t["name"][len("fuzz-"):])')
[ -n "$targets" ] || { echo "fuzz.sh: no fuzz-* targets (is -Dfuzzing=true set?)" >&2; exit 1; }
ninja -C build-fuzz $(printf 'fuzz/fuzz-%s ' $targets) || { echo "fuzz.sh: build failed" >&2; exit 1; }

mkdir -p build-fuzz/fuzz-artifacts
failed=()
for t in $targets; do
	scratch=build-fuzz/fuzz-corpus/$t
	mkdir -p "$scratch"
	seeds=fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	echo "=== fuzz-$t for ${secs}s"
	if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		build-fuzz/fuzz/fuzz-"$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix=build-fuzz/fuzz-artifacts/"$t"- "$scratch" $seeds; then
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: crashes in: ${failed[*]} (inputs in build-fuzz/fuzz-artifacts/)"
	exit 1
fi
echo "fuzz.sh: all targets ran ${secs}s without a crash"
