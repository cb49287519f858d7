#!/usr/bin/env bash
# bench-cluster.sh [COUNT]: enrollment throughput side by side in one run:
# one opencapfd node on SQLite, then two nodes on one PostgreSQL.
#
# Both sides start from the same template state (`opencapf init --key
# ec:p256`, COUNT + 500 phones with EC P-256 keys imported for one install
# each); the PostgreSQL side is that template moved in by `opencapf store
# migrate`, its folder copied to the second node. Each side: the node(s) on
# free loopback ports (every core as a worker, no per-address limit), a
# 500-phone warm-up, then COUNT phones (default 40000) by `phonesim load`
# (CONCURRENCY at a time, EC P-256 keys; on PostgreSQL --capf A,B: phone i
# starts on node i mod 2). Measured: enrollments/s and p99 as phonesim
# reports them, the wall time, and CPU per enrollment of each node (utime +
# stime of the daemon and its signer, /proc) and of the PostgreSQL server
# (every process of it). The PostgreSQL server keeps fsync on, as SQLite
# runs with synchronous=FULL.
#
# Needs psql and the PostgreSQL server programs (runs itself under
# tests/pg/with-postgres.sh with PG_FSYNC=1 unless OPENCAPF_TEST_PG is set).
# Settings: BENCH_CONCURRENCY=100, BENCH_BUILD=build (or OPENCAPF, OPENCAPFD,
# PHONESIM), BENCH_WRITE=1 appends the table to docs/benchmark.md.
# One block: bash reads all of it before running any, so editing this file
# while a long run goes on cannot change the run.
{
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
if [ -z "${OPENCAPF_TEST_PG:-}" ]; then
	PG_FSYNC=1 exec bash tests/pg/with-postgres.sh bash "$0" "$@"
fi
COUNT=${1:-40000}
CONC=${BENCH_CONCURRENCY:-100}
BUILD=${BENCH_BUILD:-build}
WARM=500
die() { echo "bench-cluster: $*" >&2; exit 1; }
log() { echo "bench-cluster: $*" >&2; }
if [ -z "${OPENCAPF:-}" ] || [ -z "${OPENCAPFD:-}" ] || [ -z "${PHONESIM:-}" ]; then
	ninja -C "$BUILD" src/cmd/opencapf/opencapf src/cmd/opencapfd/opencapfd src/cmd/phonesim/phonesim \
		>/dev/null || die "the build in $BUILD failed"
	OPENCAPF=$ROOT/$BUILD/src/cmd/opencapf/opencapf
	OPENCAPFD=$ROOT/$BUILD/src/cmd/opencapfd/opencapfd
	PHONESIM=$ROOT/$BUILD/src/cmd/phonesim/phonesim
fi
DIR=$(mktemp -d /tmp/opencapf-bench-cluster.XXXXXX)
TICK=$(getconf CLK_TCK)
declare -A PID PORT
cleanup() { for n in "${!PID[@]}"; do [ -n "${PID[$n]}" ] && kill "${PID[$n]}" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

. scripts/port_lib.sh
ticks_of() { # utime + stime of these processes and their children
	local t=0 p
	for p in "$@" $(for q in "$@"; do pgrep -P "$q"; done); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
pg_ticks() { ticks_of "$(head -1 "$OPENCAPF_TEST_PGDATA/postmaster.pid")"; }
start_node() { # start_node NAME STATE
	PORT[$1]=$(free_port) || die "no free port"
	"$OPENCAPFD" --state "$2" --node "$1" --capf-listen "127.0.0.1:${PORT[$1]}" --workers "$(nproc)" \
		--max-connections 30000 --max-per-address 30000 --tvs-listen off --http-listen off \
		--register-listen off >"$DIR/$1.log" 2>&1 &
	PID[$1]=$!
	for _ in $(seq 1 100); do ss -ltnH "sport = :${PORT[$1]}" | grep -q . && return 0; sleep 0.1; done
	die "node $1 does not start (see $DIR/$1.log)"
}
load() { # load TARGETS FIRST COUNT
	timeout 400 "$PHONESIM" load --capf "$1" --trust "$DIR/capf.pem" --first "$2" --count "$3" \
		--concurrency "$CONC" --threads "$(nproc)" --key-types ec:p256 --max-seconds 300 2>&1
}
field() { sed -n "s/\(^\|.* \)$1=\([0-9.]*\).*/\2/p" | tail -1; }
us_per() { awk -v t="$1" -v n="$2" -v k="$TICK" 'BEGIN { printf "%.0f", n ? t * 1e6 / k / n : 0 }'; }

log "template: $COUNT + $WARM phones (files in $DIR)"
"$OPENCAPF" --state "$DIR/template" init --key ec:p256 --subject "O=Example,C=NZ" >/dev/null || die "init failed"
"$OPENCAPF" --state "$DIR/template" capf cert >"$DIR/capf.pem"
{ echo "name,key_order,ec_bits,operation"
  seq $((16#A0000)) $((16#A0000 + WARM + COUNT - 1)) | awk '{ printf "SEP%012X,ec,256,install\n", $1 }'
} >"$DIR/phones.csv"
"$OPENCAPF" --state "$DIR/template" phone import "$DIR/phones.csv" >/dev/null || die "phone import failed"
WARM_FIRST=$(printf 'SEP%012X' $((16#A0000)))
FIRST=$(printf 'SEP%012X' $((16#A0000 + WARM)))

# run SIDE TARGETS NODES...: warm-up, then the measured load; one result row.
run() {
	local side=$1 targets=$2 out t0 t1 pg0 pg1 n done rate p99 cells=""
	shift 2
	declare -A c0
	load "$targets" "$WARM_FIRST" "$WARM" >"$DIR/$side.warm.out"
	for n in "$@"; do c0[$n]=$(ticks_of "${PID[$n]}"); done
	pg0=$(pg_ticks)
	t0=$(date +%s%N)
	out=$(load "$targets" "$FIRST" "$COUNT" | tee "$DIR/$side.load.out")
	t1=$(date +%s%N)
	pg1=$(pg_ticks)
	done=$(tail -1 <<<"$out" | field completed)
	rate=$(tail -1 <<<"$out" | field rate)
	p99=$(tail -1 <<<"$out" | field p99)
	for n in "$@"; do
		cells="$cells node $n $(us_per $(($(ticks_of "${PID[$n]}") - c0[$n])) "$done") us;"
	done
	[ "$side" = postgresql ] && cells="$cells PostgreSQL $(us_per $((pg1 - pg0)) "$done") us;"
	echo "| $side, $# node$([ $# = 1 ] || echo s) | $done | $(tail -1 <<<"$out" | field failed) |" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') | $rate | $p99 | ${cells% ;} |"
}

cp -a "$DIR/template" "$DIR/sqlite"
start_node s "$DIR/sqlite"
ROW_SQLITE=$(run sqlite "127.0.0.1:${PORT[s]}" s)
kill "${PID[s]}"; wait "${PID[s]}" 2>/dev/null; PID[s]=

psql -X -q "$OPENCAPF_TEST_PG" -c "CREATE DATABASE bench" >/dev/null || die "cannot create the database"
cp -a "$DIR/template" "$DIR/a"
"$OPENCAPF" --state "$DIR/a" store migrate "${OPENCAPF_TEST_PG/:\/\/\/*\?/:///bench?}" >/dev/null ||
	die "store migrate failed"
cp -a "$DIR/a" "$DIR/b"
start_node a "$DIR/a"
start_node b "$DIR/b"
ROW_PG=$(run postgresql "127.0.0.1:${PORT[a]},127.0.0.1:${PORT[b]}" a b)

TABLE=$(cat <<EOT
Measured $(date -u '+%Y-%m-%d %H:%M') UTC by \`scripts/bench-cluster.sh $COUNT\` at \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD -- src || echo " + uncommitted changes"),
$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; phonesim load with $CONC sessions in
flight on the same cores; PostgreSQL $("$OPENCAPF_TEST_PGBIN/postgres" --version | awk '{ print $3 }') on a Unix socket, fsync on.

| side | completed | failed | wall s | enrollments/s | p99 ms | CPU per enrollment |
|---|---|---|---|---|---|---|
$ROW_SQLITE
$ROW_PG
EOT
)
echo "$TABLE"
if [ "${BENCH_WRITE:-0}" = 1 ]; then
	printf '\n## Two nodes on PostgreSQL against one on SQLite (%s)\n\n%s\n' "$(date -u +%F)" "$TABLE" >>docs/benchmark.md
fi
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DIR"
exit
}
