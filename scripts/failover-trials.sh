#!/usr/bin/env bash
# failover-trials.sh [TRIALS]: two opencapfd nodes on one PostgreSQL, phones
# enrolling through both; one node killed with SIGKILL at a random moment;
# the phones fail over to the other; then the checks. TRIALS defaults to 20.
#
# Each trial:
#   1. a fresh cluster state: a copy of an SQLite template made once at the
#      start (`opencapf init --key ec:p256`, PHONES phones with EC P-256 keys
#      imported, each scheduled for one install) moved into a new PostgreSQL
#      database by `opencapf store migrate`, then copied (keys/, store.uri)
#      to a second node's folder;
#   2. node a and node b (opencapfd --node a|b, 2 workers, CAPF only, no
#      per-address limit (every phone comes from 127.0.0.1), free
#      loopback ports) and `phonesim load --capf A,B` of the PHONES phones,
#      CONCURRENCY at a time, with --received: phone i starts on node i mod 2
#      and moves to the other node when its connection fails or breaks;
#   3. kill -9 of one node (chosen at random) after a random delay, uniform
#      from 0 to the wall time of an uninterrupted load (the shortest of
#      three, measured at the start);
#   4. the phones whose operation is still pending run again through both
#      addresses (`phonesim load --op any`; the dead one refuses, they move
#      on), at most ROUNDS rounds;
#   5. the checks, on the PostgreSQL database:
#      - every LSC in the received file (its SHA-256) is in issued_certs;
#      - no phone has two 'confirmed' issued_certs rows (one install each),
#        and no operation is recorded as completed twice (Upgrade Success
#        history rows per phone);
#      - every phone ends with operation 'none';
#      - every phone's current LSC exists and is one that phone received;
#      - the surviving node exits 0 on SIGTERM.
#
# FAILOVER_KILL=postgres: instead of a node, the database goes: PostgreSQL
# is restarted (pg_ctl restart -m fast, every connection dropped) at the
# random moment. Sessions in flight fail, the phones retry, both nodes
# reconnect by themselves; the same checks, plus: both nodes exit 0 on
# SIGTERM and each logged the lost connection and its reconnection. Needs
# the server of tests/pg/with-postgres.sh (OPENCAPF_TEST_PGDATA).
# Prints one line per trial and last "N passed, N failed"; exits 1 when a
# trial failed (2 when the set-up failed). Failed trials' files are kept.
#
# Needs a PostgreSQL server: OPENCAPF_TEST_PG (a postgresql:// URI of a
# database whose user may create databases), else the script runs itself
# under tests/pg/with-postgres.sh (a server of its own). And psql.
# Settings (environment):
#   FAILOVER_PHONES=200 FAILOVER_CONCURRENCY=50 FAILOVER_ROUNDS=5
#   FAILOVER_SEED=N   FAILOVER_KILL_MAX_MS=N   FAILOVER_DIR=DIR   FAILOVER_KEEP=1
#   FAILOVER_BUILD=build   OPENCAPF OPENCAPFD PHONESIM (the programs)
# One block: bash reads all of it before running any, so editing this file
# while a long run goes on cannot change the run.
{
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -z "${OPENCAPF_TEST_PG:-}" ]; then
	exec bash tests/pg/with-postgres.sh bash "$0" "$@"
fi
TRIALS=${1:-20}
KILL=${FAILOVER_KILL:-node}
PHONES=${FAILOVER_PHONES:-200}
CONCURRENCY=${FAILOVER_CONCURRENCY:-50}
ROUNDS=${FAILOVER_ROUNDS:-5}
SEED=${FAILOVER_SEED:-$(( $(date +%s) % 32768 ))}
BUILD=${FAILOVER_BUILD:-build}
FIRST_HEX=B000
FIRST=$(printf 'SEP%012X' $((16#$FIRST_HEX)))

die() { echo "failover-trials: $*" >&2; exit 2; }
[[ "$TRIALS" =~ ^[1-9][0-9]{0,5}$ ]] || die "TRIALS must be a number from 1, not '$TRIALS'"
case "$KILL" in
node) ;;
postgres) [ -n "${OPENCAPF_TEST_PGDATA:-}" ] && [ -n "${OPENCAPF_TEST_PGBIN:-}" ] ||
	die "FAILOVER_KILL=postgres needs the server of tests/pg/with-postgres.sh (OPENCAPF_TEST_PGDATA)" ;;
*) die "FAILOVER_KILL must be node or postgres, not '$KILL'" ;;
esac
command -v psql >/dev/null || die "psql is needed (apt-get install postgresql-client)"
if [ -z "${OPENCAPF:-}" ] || [ -z "${OPENCAPFD:-}" ] || [ -z "${PHONESIM:-}" ]; then
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null || die "meson setup $BUILD failed"
	ninja -C "$BUILD" src/cmd/opencapf/opencapf src/cmd/opencapfd/opencapfd src/cmd/phonesim/phonesim \
		>/dev/null || die "the build in $BUILD failed (ninja -C $BUILD)"
	OPENCAPF=$ROOT/$BUILD/src/cmd/opencapf/opencapf
	OPENCAPFD=$ROOT/$BUILD/src/cmd/opencapfd/opencapfd
	PHONESIM=$ROOT/$BUILD/src/cmd/phonesim/phonesim
fi
for p in "$OPENCAPF" "$OPENCAPFD" "$PHONESIM"; do [ -x "$p" ] || die "not a program: $p"; done

DIR=${FAILOVER_DIR:-$(mktemp -d /tmp/opencapf-failover.XXXXXX)}
mkdir -p "$DIR" || die "cannot create $DIR"
declare -A PID PORT
LOAD_PID=

cleanup() {
	[ -n "$LOAD_PID" ] && kill -9 "$LOAD_PID" 2>/dev/null
	for n in a b; do
		[ -n "${PID[$n]:-}" ] && kill -9 "${PID[$n]}" 2>/dev/null && wait "${PID[$n]}" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# A database of its own per trial on the server OPENCAPF_TEST_PG names.
db_uri() { echo "${OPENCAPF_TEST_PG/:\/\/\/*\?/:///$1?}"; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$URI" -c "$1"; }

. scripts/port_lib.sh

# start_node NAME STATE LOG: opencapfd --node NAME on PORT[NAME]; 0 once it accepts.
start_node() {
	local n=$1 state=$2 log=$3
	"$OPENCAPFD" --state "$state" --node "$n" --capf-listen "127.0.0.1:${PORT[$n]}" --workers 2 \
		--max-per-address 10000 --tvs-listen off --http-listen off --register-listen off >>"$log" 2>&1 &
	PID[$n]=$!
	for _ in $(seq 1 100); do
		kill -0 "${PID[$n]}" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/${PORT[$n]}") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop_node NAME: SIGTERM, 30 s at most; STOP_RC: its exit status (or "hung").
stop_node() {
	local n=$1
	kill -TERM "${PID[$n]}" 2>/dev/null
	for _ in $(seq 1 300); do kill -0 "${PID[$n]}" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "${PID[$n]}" 2>/dev/null; then
		kill -9 "${PID[$n]}"; wait "${PID[$n]}" 2>/dev/null; STOP_RC=hung
	else
		wait "${PID[$n]}"; STOP_RC=$?
	fi
	PID[$n]=
}

# load FIRST COUNT RECEIVED [OPTIONS...]: one bounded phonesim load through both nodes.
load() {
	local first=$1 count=$2 received=$3 nodes="127.0.0.1:${PORT[a]},127.0.0.1:${PORT[b]}"
	shift 3
	# phone k of a load starts on its k mod 2nd address: a phone keeps the node
	# it started on in the first load, as a phone keeps its capfList's order
	[ $(( (16#${first#SEP} - 16#${FIRST#SEP}) % 2 )) = 0 ] || nodes="127.0.0.1:${PORT[b]},127.0.0.1:${PORT[a]}"
	timeout -k 5 150 "$PHONESIM" load --capf "$nodes" \
		--trust "$DIR/capf.pem" --first "$first" --count "$count" --concurrency "$CONCURRENCY" \
		--received "$received" --timeout 20 --max-seconds 120 "$@"
}

# cluster T NAME: T/a and T/b on a new database NAME migrated from the template; sets URI.
cluster() {
	local t=$1
	URI=$(db_uri "$2")
	psql -X -q "$OPENCAPF_TEST_PG" -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2" >/dev/null 2>&1 ||
		die "cannot create database $2"
	cp -a "$DIR/template" "$t/a" && "$OPENCAPF" --state "$t/a" store migrate "$URI" >"$t/migrate.out" 2>&1 ||
		die "opencapf store migrate failed (see $t/migrate.out)"
	rm -f "$t/a/opencapf.db" "$t/a/opencapf.db-wal" "$t/a/opencapf.db-shm"
	cp -a "$t/a" "$t/b"
}

# PostgreSQL restarted, every connection dropped (as the user it runs as).
pg_restart() {
	local as=()
	[ "$(id -u)" = 0 ] && as=(setpriv --reuid="$(stat -c %u "$OPENCAPF_TEST_PGDATA")" \
		--regid="$(stat -c %g "$OPENCAPF_TEST_PGDATA")" --clear-groups --)
	"${as[@]}" "$OPENCAPF_TEST_PGBIN/pg_ctl" -D "$OPENCAPF_TEST_PGDATA" -l "$(dirname "$OPENCAPF_TEST_PGDATA")/log" \
		-m fast -w restart >/dev/null 2>&1
}

# start_both T: nodes a and b on new ports; a port taken between its choice
# and the bind (by another test's socket) is tried again, three times at most.
start_both() {
	local t=$1 n
	for _ in 1 2 3; do
		PORT[a]=$(free_port) && PORT[b]=$(free_port) || die "no free port"
		start_node a "$t/a" "$t/a.log" && start_node b "$t/b" "$t/b.log" && return 0
		for n in a b; do [ -z "${PID[$n]:-}" ] || stop_node "$n"; done
		grep -q "Address already in use" "$t/a.log" "$t/b.log" 2>/dev/null || return 1
	done
	return 1
}

# ---- the template, and the length of an uninterrupted load ----

"$OPENCAPF" --state "$DIR/template" init --key ec:p256 --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" \
	>/dev/null || die "opencapf init failed"
"$OPENCAPF" --state "$DIR/template" capf cert >"$DIR/capf.pem" || die "opencapf capf cert failed"
{ echo "name,key_order,ec_bits,operation"
  seq $((16#$FIRST_HEX)) $((16#$FIRST_HEX + PHONES - 1)) | awk '{ printf "SEP%012X,ec,256,install\n", $1 }'
} >"$DIR/phones.csv"
"$OPENCAPF" --state "$DIR/template" phone import "$DIR/phones.csv" >/dev/null || die "opencapf phone import failed"

calibrate() {
	local c=$DIR/calibration t0 t1
	rm -rf "$c" && mkdir -p "$c"
	cluster "$c" calibration
	start_both "$c" || die "the nodes do not start (see $c/*.log)"
	t0=$(now_ms)
	load "$FIRST" "$PHONES" "$c/received" >"$c/load.out" 2>&1
	t1=$(now_ms)
	stop_node a; stop_node b
	tail -1 "$c/load.out" | grep -q "^completed=$PHONES failed=0 " ||
		die "an uninterrupted load of $PHONES phones through both nodes did not complete (see $c/load.out)"
	[ "$(sql "SELECT count(*) FROM phones WHERE operation = 'none'")" = "$PHONES" ] ||
		die "after an uninterrupted load not every phone has operation 'none' (see $c)"
	[ -n "$LOAD_MS" ] && [ "$LOAD_MS" -le $((t1 - t0)) ] || LOAD_MS=$((t1 - t0))
}
LOAD_MS=
for _ in 1 2 3; do calibrate; done
KILL_MAX_MS=${FAILOVER_KILL_MAX_MS:-$LOAD_MS}
[ "$KILL_MAX_MS" -ge 1 ] || KILL_MAX_MS=1
rm -rf "$DIR/calibration"
RANDOM=$SEED
echo "failover trials: $TRIALS trials of $PHONES phones (EC P-256) through two nodes on PostgreSQL," \
	"$CONCURRENCY at a time; an uninterrupted load takes $LOAD_MS ms (the shortest of 3);" \
	"$([ "$KILL" = node ] && echo "kill -9 of one node" || echo "PostgreSQL restarted") after 0-$KILL_MAX_MS ms;" \
	"at most $ROUNDS retry rounds; seed $SEED; files in $DIR"

# check_state T: the checks; prints one line per problem.
check_state() {
	local t=$1 bad
	sql "SELECT sha256 FROM issued_certs" >"$t/issued.txt" 2>&1
	awk 'NR == FNR { have[$1] = 1; next } !($2 in have)' "$t/issued.txt" "$t/received" >"$t/unrecorded.txt"
	bad=$(wc -l <"$t/unrecorded.txt")
	[ "$bad" = 0 ] || echo "$bad of $(wc -l <"$t/received") received LSCs are not in issued_certs" \
		"(first: $(head -1 "$t/unrecorded.txt"))"
	bad=$(sql "SELECT phone || ' x' || count(*) FROM issued_certs WHERE status = 'confirmed'
		GROUP BY phone HAVING count(*) > 1" | head -3 | tr '\n' ' ')
	[ -z "$bad" ] || echo "phones with more than one confirmed LSC: $bad"
	bad=$(sql "SELECT phone || ' x' || sum(count) FROM phone_history WHERE outcome = 'Upgrade Success'
		GROUP BY phone HAVING sum(count) > 1" | head -3 | tr '\n' ' ')
	[ -z "$bad" ] || echo "operations recorded as completed twice: $bad"
	bad=$(sql "SELECT count(*) FROM phones WHERE operation != 'none'")
	[ "$bad" = 0 ] || echo "$bad phones still have an operation pending (first: $(sql \
		"SELECT name || ' ' || operation || ' \"' || status || '\"' FROM phones WHERE operation != 'none'
		 ORDER BY name LIMIT 1"))"
	sql "SELECT p.name || ' ' || coalesce(c.sha256, '-') FROM phones p
		LEFT JOIN phone_certs c ON c.phone = p.name AND c.kind = 'lsc'" >"$t/current.txt"
	awk 'NR == FNR { got[$1 " " $2] = 1; next } !($0 in got)' "$t/received" "$t/current.txt" >"$t/unreceived.txt"
	bad=$(wc -l <"$t/unreceived.txt")
	[ "$bad" = 0 ] || echo "$bad phones' current LSC is missing or one the phone never received" \
		"(first: $(head -1 "$t/unreceived.txt"))"
}

# reconnected LOG NAME: the node logged the lost connection and its reconnection.
reconnected() {
	grep -q "the PostgreSQL connection was lost: reconnecting" "$1" ||
		echo "node $2 did not log the lost database connection"
	grep -q "reconnected to PostgreSQL" "$1" || echo "node $2 did not log a reconnection"
}

PASSED=0
FAILED=0

# retry T: the pending phones again through both addresses, ROUNDS at most; sets rounds, pending.
retry() {
	local t=$1 first last count
	pending=$(sql "SELECT count(*) FROM phones WHERE operation != 'none'")
	rounds=0
	while [ "$rounds" -lt "$ROUNDS" ]; do
		sql "SELECT name FROM phones WHERE operation != 'none' ORDER BY name" >"$t/pending.txt"
		[ -s "$t/pending.txt" ] || break
		rounds=$((rounds + 1))
		first=$(head -1 "$t/pending.txt")
		last=$(tail -1 "$t/pending.txt")
		count=$((16#${last#SEP} - 16#${first#SEP} + 1))
		load "$first" "$count" "$t/received" --op any >"$t/load-$rounds.out" 2>&1
	done
}

trial() {
	local n=$1 t=$DIR/trial-$1 delay= victim= node running=- before=0 pending=0 rounds=0 t0 problems fo=
	t0=$(now_ms)
	rm -rf "$t" && mkdir -p "$t" && : >"$t/received" || die "cannot set up $t"
	problems=$t/problems
	: >"$problems"
	cluster "$t" "trial$n"
	if ! start_both "$t"; then
		echo "the nodes do not start (see $t/a.log, $t/b.log)" >>"$problems"
	else
		delay=$((RANDOM * KILL_MAX_MS / 32768))
		victim=$([ $((RANDOM % 2)) = 0 ] && echo a || echo b)
		load "$FIRST" "$PHONES" "$t/received" >"$t/load-0.out" 2>&1 &
		LOAD_PID=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -0 "$LOAD_PID" 2>/dev/null && running="load running" || running="load already over"
		if [ "$KILL" = postgres ]; then
			pg_restart || echo "PostgreSQL did not restart" >>"$problems"
			victim=
		else
			kill -9 "${PID[$victim]}"
			wait "${PID[$victim]}" 2>/dev/null
			PID[$victim]=
		fi
		wait "$LOAD_PID"
		LOAD_PID=
		before=$(wc -l <"$t/received")
		fo=$(sed -n 's/^failovers: \([0-9]*\).*/\1/p' "$t/load-0.out")
		retry "$t"
		for node in a b; do
			[ -n "${PID[$node]}" ] || continue
			stop_node "$node"
			[ "$STOP_RC" = 0 ] || echo "node $node's exit on SIGTERM: $STOP_RC" >>"$problems"
			[ "$KILL" = node ] || [ "$running" != "load running" ] ||
				reconnected "$t/$node.log" "$node" >>"$problems"
		done
		check_state "$t" >>"$problems"
	fi
	local what="node $victim killed at $delay ms ($running), $before LSCs received by then, ${fo:-0} failovers,"
	[ "$KILL" = node ] || what="PostgreSQL restarted at $delay ms ($running), $before LSCs received, ${fo:-0} failovers,"
	[ -n "$delay" ] || what="nodes not started,"
	what="$what $pending pending after, $rounds retry round$([ "$rounds" = 1 ] || echo s),"
	what="$what $(awk -v ms=$(($(now_ms) - t0)) 'BEGIN { printf "%.1f", ms / 1000 }') s"
	if [ -s "$problems" ]; then
		FAILED=$((FAILED + 1))
		echo "trial $n/$TRIALS: FAIL $what"
		sed 's/^/    /' "$problems"
	else
		PASSED=$((PASSED + 1))
		echo "trial $n/$TRIALS: PASS $what"
		[ "${FAILOVER_KEEP:-0}" = 1 ] || rm -rf "$t"
	fi
}

for i in $(seq 1 "$TRIALS"); do
	trial "$i"
done
echo
[ "$FAILED" = 0 ] || echo "files of the failed trials: $DIR/trial-N"
[ "$FAILED" != 0 ] || [ -n "${FAILOVER_DIR:-}" ] || [ "${FAILOVER_KEEP:-0}" = 1 ] || rm -rf "$DIR"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
exit
}
