#!/usr/bin/env bash
# fuzz-campaign.sh: fuzzing at depth: every libFuzzer target for a
# long campaign, over a corpus that persists and grows from one campaign to the
# next, with the figures written down.
#
#   scripts/fuzz-campaign.sh [SECONDS_PER_TARGET] [--execs N] [--only "NAME ..."]
#                            [--build DIR] [--rev REV] [--doc FILE|-] [--no-merge]
#
#   SECONDS_PER_TARGET  time limit of each target (default 3600)
#   --execs N           execution limit of each target (default 10000000);
#                       each target stops at whichever limit comes first
#                       (libFuzzer -runs=N -max_total_time=SECONDS)
#   --only "NAMES"      only these targets (names without "fuzz-")
#   --build DIR         the libFuzzer build (default build-fuzz-campaign: its
#                       own, so that scripts/fuzz.sh rebuilding build-fuzz
#                       never replaces a binary under a running campaign);
#                       it also holds the campaign's corpora, logs, crashes
#   --rev REV           fuzz the committed revision REV instead of the working
#                       tree: built in a git worktree under /tmp (removed at
#                       the end), immune to edits made during the build
#   --doc FILE|-        where the results table goes (default docs/fuzzing.md,
#                       between its fuzz-campaign markers; "-": stdout only)
#   --no-merge          leave fuzz/corpus/ alone
#
# Builds the targets as scripts/fuzz.sh does (scripts/fuzz_lib.sh), then runs
# each over DIR/campaign-corpus/NAME (kept between campaigns; new inputs are
# written there) and its seeds fuzz/corpus/NAME. At the end of each target the
# grown corpus is minimized with -merge=1 against the seeds; the inputs that
# add coverage are copied into fuzz/corpus/NAME only when the seed folder then
# stays small: at most FUZZ_SEED_MAX_BYTES bytes (default 2 MiB) and
# FUZZ_SEED_MAX_FILES files (default 1000) in all; otherwise the seeds are
# left as they are and the grown corpus stays in DIR only.
# Crash inputs are kept in DIR/campaign-artifacts/ (libFuzzer stops a target
# at its first crash); logs in DIR/campaign-logs/. Exits non-zero when any
# target crashes or the build fails.
#
# FUZZ_FLAGS: extra libFuzzer options for the runs (e.g. "-max_len=8192").
# CPU-heavy: run it under `nice -n 19` on a shared machine.
# One block: bash reads all of it before running any, so editing this file
# while a long run goes on cannot change the run.
{
set -uo pipefail
cd "$(dirname "$0")/.."

secs=3600 execs=10000000 only= build=build-fuzz-campaign doc=docs/fuzzing.md merge=1 rev=
usage() { sed -n '6,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--execs) execs=${2:-}; shift 2 || usage ;;
	--only) only=${2:-}; shift 2 || usage ;;
	--build) build=${2:-}; shift 2 || usage ;;
	--rev) rev=${2:-}; shift 2 || usage ;;
	--doc) doc=${2:-}; shift 2 || usage ;;
	--no-merge) merge=0; shift ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) secs=$1; shift ;;
	esac
done
for n in "$secs" "$execs"; do
	case "$n" in ''|*[!0-9]*) echo "fuzz-campaign.sh: SECONDS_PER_TARGET and N must be numbers" >&2; exit 2 ;; esac
done
[ -n "$build" ] && [ -n "$doc" ] || usage
MAX_BYTES=${FUZZ_SEED_MAX_BYTES:-2097152}
MAX_FILES=${FUZZ_SEED_MAX_FILES:-1000}

FUZZ_ME=fuzz-campaign.sh
. scripts/fuzz_lib.sh
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
wt=
cleanup() { [ -n "$wt" ] && { git worktree remove --force "$wt" 2>/dev/null || { rm -rf "$wt"; git worktree prune; }; }; }
trap cleanup EXIT
if [ -n "$rev" ]; then
	commit=$(git rev-parse --verify -q "$rev^{commit}") || { echo "fuzz-campaign.sh: no revision $rev" >&2; exit 2; }
	wt=$(mktemp -d /tmp/opencapf-fuzz.XXXXXX)
	git worktree add --detach "$wt" "$commit" >/dev/null 2>&1 || { echo "fuzz-campaign.sh: git worktree add $wt failed" >&2; rmdir "$wt"; wt=; exit 1; }
	fuzz_prepare "$wt/build-fuzz" "$wt" || exit $?
	bin=$wt/build-fuzz/fuzz
	what="commit $(git rev-parse --short "$commit") (--rev $rev)"
else
	fuzz_prepare "$build" || exit $?
	bin=$build/fuzz
	what="working tree at commit $(git rev-parse --short HEAD)"
	git diff --quiet HEAD 2>/dev/null || what="$what + uncommitted changes"
fi
targets=$FUZZ_TARGETS
if [ -n "$only" ]; then
	for t in $only; do
		grep -qx "$t" <<<"$targets" || { echo "fuzz-campaign.sh: no target $t (have: $(echo $targets))" >&2; exit 2; }
	done
	targets=$only
fi

corpora=$build/campaign-corpus logs=$build/campaign-logs arts=$build/campaign-artifacts
mkdir -p "$corpora" "$logs" "$arts"

# files_of DIR: "FILES BYTES" of the regular files in DIR.
files_of() { find "$1" -maxdepth 1 -type f -printf '%s\n' 2>/dev/null | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'; }
stat_of() { sed -n "s/^stat::$1: *\([0-9]*\).*/\1/p" "$2" | tail -1; }
human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b / 1048576; else if (b >= 1024) printf "%.0f KiB", b / 1024; else printf "%d B", b }'; }

# merge_seeds NAME LOG: minimize the campaign corpus against the seeds into a
# scratch folder; copy what it adds into fuzz/corpus/NAME if the rule allows.
# Sets MERGED (the table's text).
merge_seeds() {
	local t=$1 mlog=$2 seeds=fuzz/corpus/$1 out=$build/campaign-merge/$1 nf nb added f
	rm -rf "$out"; mkdir -p "$out"
	[ -d "$seeds" ] && cp -pr "$seeds"/. "$out"/
	if ! ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin/fuzz-$t" -merge=1 -timeout=30 \
		-artifact_prefix="$arts/$t-merge-" "$out" "$corpora/$t" >"$mlog" 2>&1; then
		MERGED="merge failed (see $mlog)"; return 1
	fi
	added=()
	for f in "$out"/*; do
		[ -f "$f" ] && [ ! -e "$seeds/${f##*/}" ] && added+=("$f")
	done
	read -r nf nb < <(files_of "$out")
	if [ ${#added[@]} -eq 0 ]; then
		MERGED="nothing new"
	elif [ "$merge" = 0 ]; then
		MERGED="+${#added[@]} files possible (--no-merge)"
	elif [ "$nb" -le "$MAX_BYTES" ] && [ "$nf" -le "$MAX_FILES" ]; then
		mkdir -p "$seeds" && cp -p "${added[@]}" "$seeds"/
		MERGED="+${#added[@]} files (seeds now $nf files, $(human "$nb"))"
	else
		MERGED="not merged: $nf files, $(human "$nb") > rule"
	fi
	rm -rf "$out"
}

ROWS=()
crashed=()
for t in $targets; do
	mkdir -p "$corpora/$t"
	seeds=fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	log=$logs/$t.log
	a0=$(ls "$arts" | grep -c "^$t-" || true)
	echo "=== fuzz-$t: up to $execs executions or ${secs}s (log $log)"
	t0=$(date +%s.%N)
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} "$bin/fuzz-$t" -runs="$execs" -max_total_time="$secs" \
		-timeout=30 -print_final_stats=1 -artifact_prefix="$arts/$t-" ${FUZZ_FLAGS:-} "$corpora/$t" $seeds >"$log" 2>&1
	rc=$?
	t1=$(date +%s.%N)
	a1=$(ls "$arts" | grep -c "^$t-" || true)
	crashes=$((a1 - a0))
	[ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1 # stopped by an error without an input (e.g. out of memory at start)
	n=$(stat_of number_of_executed_units "$log"); n=${n:-0}
	rate=$(stat_of average_exec_per_sec "$log"); rate=${rate:-0}
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')
	final=$(grep ' cov: ' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final"); cov=${cov:--}
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final"); ft=${ft:--}
	corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$final"); corp=${corp:--}
	read -r cf cb < <(files_of "$corpora/$t")
	if [ "$n" -ge "$execs" ]; then by="executions"; else by="time"; fi
	if [ "$crashes" -gt 0 ]; then
		by="crash"
		crashed+=("$t")
		MERGED="skipped (crash)"
		echo "fuzz-campaign.sh: fuzz-$t CRASHED (exit $rc); input kept in $arts/ ; tail of $log:" >&2
		tail -25 "$log" >&2
	else
		merge_seeds "$t" "$logs/$t.merge.log"
	fi
	line="$t: $n executions in ${wall}s ($rate/s, stopped by $by), corpus $corp (campaign folder $cf files, $(human "$cb")), cov $cov ft $ft, crashes $crashes; seeds: $MERGED"
	echo "fuzz-campaign.sh: $line"
	ROWS+=("| $t | $n | $by | $wall | $rate | $corp | $cf / $(human "$cb") | $cov | $ft | $crashes | $MERGED |")
done

RESULTS=$logs/results.md
{
	echo "Campaign started $started, ended $(date -u '+%Y-%m-%d %H:%M UTC'), by \`scripts/fuzz-campaign.sh $secs --execs $execs${rev:+ --rev $rev}\`;"
	echo "$what; $(clang --version | head -1); $(nproc) cores; load average $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end."
	echo "Total crashes: $([ ${#crashed[@]} -eq 0 ] && echo 0 || echo "${#crashed[@]} (${crashed[*]})")."
	echo
	echo "| target | executions | stopped by | seconds | execs/s | corpus (units/bytes) | campaign folder (files / size) | cov | ft | crashes | seed corpus |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} >"$RESULTS"
echo
cat "$RESULTS"
if [ "$doc" != - ]; then
	if [ -f "$doc" ] && grep -q '<!-- fuzz-campaign:begin -->' "$doc"; then
		awk -v res="$RESULTS" '
			/<!-- fuzz-campaign:begin -->/ { print; while ((getline l < res) > 0) print l; skip = 1; next }
			/<!-- fuzz-campaign:end -->/ { skip = 0 }
			!skip { print }' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
		echo "fuzz-campaign.sh: results written to $doc"
	else
		echo "fuzz-campaign.sh: $doc has no fuzz-campaign markers; results only in $RESULTS" >&2
	fi
fi
if [ ${#crashed[@]} -gt 0 ]; then
	echo "fuzz-campaign.sh: crashes in: ${crashed[*]} (inputs in $arts/)" >&2
	exit 1
fi
echo "fuzz-campaign.sh: every target ran without a crash"
exit
}
