#!/usr/bin/env bash
# bench-compare.sh: the cost of a change, measured side by side:
# an old and a new opencapfd under the same enrollment load,
# in alternating rounds, in one run, on loopback.
#
#   scripts/bench-compare.sh OLD_REV [NEW_REV] [--rounds N] [--count N]
#                            [--concurrency C] [--new-build DIR]
#                            [--buildtype TYPE] [--capf-key SPEC] [--write]
#
#   OLD_REV          built in a git worktree under /tmp (git worktree add
#                    --detach; meson into that worktree's build folder),
#                    removed at the end
#   NEW_REV          the same for the new side; without it, the new side is the
#                    working tree's build folder (--new-build, default build),
#                    brought up to date with ninja first
#   --rounds N       rounds (default 3): old, new, old, new, ...
#   --count N        phones per run (default 5000)
#   --concurrency C  sessions in flight (default 100)
#   --buildtype T    meson buildtype of the builds made here (default: that of
#                    the new build folder, so both sides are compiled alike;
#                    release when NEW_REV is given)
#   --capf-key SPEC  the CAPF key of each fresh state (default ec:p256; rsa:2048, ...)
#   --write          append the table to docs/benchmark.md (BENCH_DOC) under a
#                    dated heading (--title, default "Record before send: cost")
#   --title TEXT     that heading's text
#
# Every run is what scripts/bench.sh's throughput run does (scripts/bench_lib.sh):
# a fresh state (EC P-256 CAPF key unless --capf-key) made by that side's `opencapf`, its
# opencapfd alone on a free loopback port, a 500-phone warm-up, then COUNT phones
# registered for install and driven by the working tree's `phonesim load` (EC
# P-256 phone keys). Measured per run: enrollments/s, failures, p99 latency,
# and the daemon's CPU (utime + stime from /proc/PID/stat) per completed
# enrollment; printed per run and as the median of the rounds per side with the
# ratio new/old. Raw logs in a /tmp/opencapf-compare.* folder.
# Environment: BENCH_CLIENT_THREADS (default: the cores), BENCH_DOC.
# One block: bash reads all of it before running any, so editing this file
# while a long run goes on cannot change the run.
{
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH_ME=bench-compare

usage() { sed -n '6,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
OLD_REV= NEW_REV= ROUNDS=3 COUNT=5000 CONC=100 NEW_BUILD=build BUILDTYPE= WRITE=0 TITLE="Record before send: cost" CAPF_KEY=ec:p256
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:-}; shift 2 || usage ;;
	--count) COUNT=${2:-}; shift 2 || usage ;;
	--concurrency) CONC=${2:-}; shift 2 || usage ;;
	--new-build) NEW_BUILD=${2:-}; shift 2 || usage ;;
	--buildtype) BUILDTYPE=${2:-}; shift 2 || usage ;;
	--write) WRITE=1; shift ;;
	--capf-key) CAPF_KEY=${2:-}; shift 2 || usage ;;
	--title) TITLE=${2:-}; shift 2 || usage ;;
	-h|--help) usage ;;
	-*) usage ;;
	*) if [ -z "$OLD_REV" ]; then OLD_REV=$1; elif [ -z "$NEW_REV" ]; then NEW_REV=$1; else usage; fi; shift ;;
	esac
done
[ -n "$OLD_REV" ] || usage
for n in "$ROUNDS" "$COUNT" "$CONC"; do
	case "$n" in ''|*[!0-9]*|0) echo "bench-compare: --rounds, --count and --concurrency must be positive numbers" >&2; exit 2 ;; esac
done
DOC=${BENCH_DOC:-docs/benchmark.md}
CLIENT_THREADS=${BENCH_CLIENT_THREADS:-$(nproc)}
BENCH_DIR=$(mktemp -d /tmp/opencapf-compare.XXXXXX)
PHONESIM=$ROOT/$NEW_BUILD/src/cmd/phonesim/phonesim
OPENCAPF= OPENCAPFD=
. scripts/bench_lib.sh

WORKTREES=()
cleanup() {
	stop_daemon
	for wt in "${WORKTREES[@]}"; do
		git worktree remove --force "$wt" 2>/dev/null || { rm -rf "$wt"; git worktree prune; }
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

buildtype_of() { # buildtype_of BUILD_DIR
	meson introspect --buildoptions "$1" 2>/dev/null |
		python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "buildtype"))' 2>/dev/null
}

PROGRAMS="src/cmd/opencapf/opencapf src/cmd/opencapfd/opencapfd"

# build_rev REV NAME: REV in a detached worktree under /tmp, built there; sets
# BIN_DIR (its build folder) and DESC.
build_rev() {
	local rev=$1 name=$2 commit wt
	commit=$(git rev-parse --verify -q "$rev^{commit}") || die "no revision $rev"
	wt=$(mktemp -d "/tmp/opencapf-$name.XXXXXX")
	git worktree add --detach "$wt" "$commit" >"$BENCH_DIR/worktree-$name.log" 2>&1 \
		|| { rmdir "$wt"; die "git worktree add failed (see $BENCH_DIR/worktree-$name.log)"; }
	WORKTREES+=("$wt")
	log "building $name = $rev ($(git rev-parse --short "$commit")) in $wt/build ($BUILDTYPE)"
	(cd "$wt" && meson setup build --buildtype="$BUILDTYPE" && nice -n 19 ninja -C build $PROGRAMS) \
		>"$BENCH_DIR/build-$name.log" 2>&1 || die "build of $rev failed (see $BENCH_DIR/build-$name.log)"
	BIN_DIR=$wt/build
	DESC="\`$(git rev-parse --short "$commit")\` ($(git log -1 --format=%s "$commit" | cut -c1-70))"
}

declare -A BIN DESCR
# The new side first: the old one is compiled like it.
if [ -n "$NEW_REV" ]; then
	BUILDTYPE=${BUILDTYPE:-release}
	build_rev "$NEW_REV" new
	BIN[new]=$BIN_DIR DESCR[new]=$DESC
	# phonesim: still the working tree's
fi
[ -f "$NEW_BUILD/build.ninja" ] || die "no build folder $NEW_BUILD (meson setup $NEW_BUILD --buildtype=release)"
if [ -z "$NEW_REV" ]; then
	BUILDTYPE=${BUILDTYPE:-$(buildtype_of "$NEW_BUILD")}
	BUILDTYPE=${BUILDTYPE:-release}
	log "bringing $NEW_BUILD up to date"
	nice -n 19 ninja -C "$NEW_BUILD" $PROGRAMS src/cmd/phonesim/phonesim >"$BENCH_DIR/build-new.log" 2>&1 \
		|| die "build of $NEW_BUILD failed (see $BENCH_DIR/build-new.log)"
	BIN[new]=$ROOT/$NEW_BUILD
	DESCR[new]="working tree at \`$(git rev-parse --short HEAD)\`"
	git diff --quiet HEAD 2>/dev/null || DESCR[new]="${DESCR[new]} + uncommitted changes"
	[ "$(buildtype_of "$NEW_BUILD")" = "$BUILDTYPE" ] ||
		log "warning: $NEW_BUILD is $(buildtype_of "$NEW_BUILD"), the old side is built $BUILDTYPE"
else
	nice -n 19 ninja -C "$NEW_BUILD" src/cmd/phonesim/phonesim >"$BENCH_DIR/build-phonesim.log" 2>&1 \
		|| die "build of phonesim in $NEW_BUILD failed (see $BENCH_DIR/build-phonesim.log)"
fi
build_rev "$OLD_REV" old
BIN[old]=$BIN_DIR DESCR[old]=$DESC

# ---- the runs ----

declare -A RATE FAILED P99 CPU
ROWS=()
run_one() { # run_one SIDE ROUND
	local side=$1 r=$2 st completed failed rate p99 cpu
	OPENCAPF=${BIN[$side]}/src/cmd/opencapf/opencapf
	OPENCAPFD=${BIN[$side]}/src/cmd/opencapfd/opencapfd
	st=$BENCH_DIR/state-$side-$r
	new_state "$st" "$CAPF_KEY"
	start_daemon "$st"
	load_install "$st" 10 500 # warm-up, not reported
	load_install "$st" "$CONC" "$COUNT"
	stop_daemon
	completed=$(field completed <<<"$LAST"); completed=${completed:-0}
	failed=$(field failed <<<"$LAST"); failed=${failed:-$COUNT}
	rate=$(field rate <<<"$LAST"); rate=${rate:-0}
	p99=$(latency_of p99); p99=${p99:--}
	cpu=$(awk -v t="$LOAD_TICKS" -v k="$TICK" -v n="$completed" 'BEGIN { if (n > 0) printf "%.0f", t / k * 1e6 / n; else print "-" }')
	[ "$LOAD_ISSUED" = "$completed" ] || log "warning: $side round $r: $completed completed but $LOAD_ISSUED LSCs on record"
	RATE[$side]+="$rate " FAILED[$side]+="$failed " P99[$side]+="$p99 " CPU[$side]+="$cpu "
	ROWS+=("| $r | $side | $completed | $failed | $(field seconds <<<"$LAST") | $rate | $p99 | $cpu | $LOAD_ISSUED |")
	log "round $r $side: $completed completed, $failed failed, $rate/s, p99 $p99 ms, server CPU $cpu us/enrollment"
	rm -rf "$st" "$st.capf.pem"
}

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
total() { tr ' ' '\n' | awk '/^[0-9]+$/ { s += $1 } END { print s + 0 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > 0) printf "%.3f", b / a; else print "-" }'; }
# within RATIO OP LIMIT: yes/no against the issue's 10% bounds
within() { awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { if (r !~ /^[0-9.]+$/) print "-"; else if ((op == ">=" && r >= l) || (op == "<=" && r <= l)) print "yes"; else print "no" }'; }

ulimit -n "$(ulimit -Hn)" 2>/dev/null
LOAD_START=$(loadavg)
STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
log "$ROUNDS rounds of $COUNT phones at concurrency $CONC; old ${DESCR[old]}, new ${DESCR[new]}; logs in $BENCH_DIR"
for r in $(seq 1 "$ROUNDS"); do
	run_one old "$r"
	run_one new "$r"
done

# ---- the table ----

mo_rate=$(median <<<"${RATE[old]}") mn_rate=$(median <<<"${RATE[new]}")
mo_p99=$(median <<<"${P99[old]}") mn_p99=$(median <<<"${P99[new]}")
mo_cpu=$(median <<<"${CPU[old]}") mn_cpu=$(median <<<"${CPU[new]}")
r_rate=$(ratio "$mo_rate" "$mn_rate") r_p99=$(ratio "$mo_p99" "$mn_p99") r_cpu=$(ratio "$mo_cpu" "$mn_cpu")
RESULTS=$BENCH_DIR/results.md
{
	echo "Measured $STARTED by \`scripts/bench-compare.sh $OLD_REV${NEW_REV:+ $NEW_REV} --rounds $ROUNDS --count $COUNT --concurrency $CONC --capf-key $CAPF_KEY\`;"
	echo "old: ${DESCR[old]}; new: ${DESCR[new]}; both \`$BUILDTYPE\` builds."
	echo "Each run: a fresh state with a $CAPF_KEY CAPF key, the daemon alone on loopback ($(nproc) workers), a 500-phone"
	echo "warm-up, then $COUNT phones (EC P-256 keys, op install) at $CONC concurrent by the working tree's \`phonesim load\`"
	echo "($CLIENT_THREADS threads, on the same $(nproc) cores); rounds alternate old, new. Load average $LOAD_START at start,"
	echo "$(loadavg) at end; raw logs in $BENCH_DIR."
	echo
	echo "| median of $ROUNDS rounds | old | new | new/old | at most 10% worse |"
	echo "|---|---|---|---|---|"
	echo "| enrollments/s | $mo_rate | $mn_rate | $r_rate | $(within "$r_rate" '>=' 0.9) |"
	echo "| failures (all rounds) | $(total <<<"${FAILED[old]}") | $(total <<<"${FAILED[new]}") | | |"
	echo "| p99 latency (ms) | $mo_p99 | $mn_p99 | $r_p99 | |"
	echo "| server CPU per enrollment (us) | $mo_cpu | $mn_cpu | $r_cpu | $(within "$r_cpu" '<=' 1.1) |"
	echo
	echo "| round | build | completed | failed | seconds | enrollments/s | p99 ms | server CPU us/enrollment | LSCs in store |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} >"$RESULTS"
echo
cat "$RESULTS"
if [ "$WRITE" = 1 ]; then
	{ echo; echo "## $TITLE ($(date -u +%Y-%m-%d))"; echo; cat "$RESULTS"; } >>"$DOC"
	log "appended to $DOC"
fi
exit
}
