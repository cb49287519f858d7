#!/usr/bin/env bash
# fuzz.sh: run every libFuzzer target for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]     (default 30 seconds per target)
#
# Configures build-fuzz with CC=clang -Dfuzzing=true (once), builds the
# fuzz-* targets (ASan + UBSan + libFuzzer; scripts/fuzz_lib.sh), and runs
# each over a scratch copy of its seed corpus (fuzz/corpus/NAME stays as
# committed) with -max_total_time. Crash inputs land in
# build-fuzz/fuzz-artifacts/. Exits non-zero when any target crashes or
# cannot be built; each target's own output is kept in
# build-fuzz/fuzz-logs/NAME.log and shown when it crashes. Long runs that keep the corpora they grow:
# scripts/fuzz-campaign.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number" >&2; exit 2 ;; esac
FUZZ_ME=fuzz.sh
. scripts/fuzz_lib.sh
fuzz_prepare build-fuzz || exit $?
targets=$FUZZ_TARGETS

mkdir -p build-fuzz/fuzz-artifacts build-fuzz/fuzz-logs
failed=()
for t in $targets; do
	scratch=build-fuzz/fuzz-corpus/$t
	mkdir -p "$scratch"
	seeds=fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	log=build-fuzz/fuzz-logs/$t.log
	if ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
		build-fuzz/fuzz/fuzz-"$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix=build-fuzz/fuzz-artifacts/"$t"- "$scratch" $seeds >"$log" 2>&1; then
		echo "fuzz-$t: ${secs}s, $(grep -m1 '^stat::number_of_executed_units' "$log" | sed 's/.*: *//') runs, no crash"
	else
		echo "fuzz-$t: CRASH (last lines of $log follow)"
		tail -n 40 "$log"
		failed+=("$t")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: crashes in: ${failed[*]} (inputs in build-fuzz/fuzz-artifacts/)"
	exit 1
fi
echo "fuzz.sh: all targets ran ${secs}s without a crash"
