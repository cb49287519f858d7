#!/usr/bin/env bash
# bench.sh: the opencapf performance benchmark, in one run, on this
# machine, loopback only. Every figure it writes is measured here and now:
#   1. the limit: openssl speed and an in-process measure (phonesim
#      load-limit) of LSC signing and the TLS handshake, per CAPF key type,
#      giving the theoretical sessions/s on the cores available; and the
#      ceiling on the wire: the same load against `phonesim load-ceiling`, a
#      stateless CAPF server doing only the handshake, the messages and the
#      signature (what any server reaches here with this client);
#   2. enrollment throughput of opencapfd (durable SQLite commits) at several
#      concurrencies, with an RSA-2048 and an EC P-256 CAPF key, each run
#      checked against the store (one issued LSC per completed session);
#   3. memory: RSS of the daemon holding N slow phones (key generation of
#      SLOW_DELAY seconds) open at once, per idle session;
#   4. TVS verify requests per second;
#   5. ITL build and show time for 1,000 records.
# It writes the results table between the bench markers of docs/benchmark.md
# (and the raw logs to $BENCH_DIR). Bounded: every load has --max-seconds.
#
# Settings (environment):
#   BENCH_PHONES=40000        phones per throughput run
#   BENCH_CONCURRENCY="100 1000 10000"
#   BENCH_CURVE="1 10 50 100 200" BENCH_CURVE_PHONES=3000   latency curve (first key)
#   BENCH_CEILING_PHONES=20000   phones for the stateless-server ceiling (concurrency 100)
#   BENCH_KEYS="ec:p256 rsa:2048"   CAPF key types
#   BENCH_SLOW=10000 BENCH_SLOW_DELAY=30   slow phones held open at once
#   BENCH_TVS=50000           TVS verify requests (BENCH_TVS_PER_CONN per connection)
#   BENCH_ITL=1000            ITL records
#   BENCH_BUILD=build-bench   release build folder (configured if missing)
#   BENCH_CLIENT_THREADS=N    phonesim load --threads (default: the cores)
#   BENCH_DOC=docs/benchmark.md   where the table goes ("-": stdout only)
#   BENCH_QUICK=1             small sizes, for trying the script out
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

PHONES=${BENCH_PHONES:-40000}
CONCURRENCY=${BENCH_CONCURRENCY:-100 1000 10000}
KEYS=${BENCH_KEYS:-ec:p256 rsa:2048}
SLOW=${BENCH_SLOW:-10000}
SLOW_DELAY=${BENCH_SLOW_DELAY:-30}
TVS=${BENCH_TVS:-50000}
TVS_PER_CONN=${BENCH_TVS_PER_CONN:-10}
ITL=${BENCH_ITL:-1000}
CURVE=${BENCH_CURVE:-1 10 50 100 200}
CURVE_PHONES=${BENCH_CURVE_PHONES:-3000}
CEIL_PHONES=${BENCH_CEILING_PHONES:-20000}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	PHONES=2000 CONCURRENCY="10 100 1000" SLOW=1000 SLOW_DELAY=5 TVS=2000 ITL=100 CURVE="1 10 100" CURVE_PHONES=500
	CEIL_PHONES=2000
fi
BUILD=${BENCH_BUILD:-build-bench}
# One load-generator event loop per core: one loop alone tops out near the
# daemon's rate on this kind of machine.
CLIENT_THREADS=${BENCH_CLIENT_THREADS:-$(nproc)}
DOC=${BENCH_DOC:-docs/benchmark.md}
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /tmp/opencapf-bench.XXXXXX)}
mkdir -p "$BENCH_DIR"
OPENCAPF=$ROOT/$BUILD/src/cmd/opencapf/opencapf
OPENCAPFD=$ROOT/$BUILD/src/cmd/opencapfd/opencapfd
PHONESIM=$ROOT/$BUILD/src/cmd/phonesim/phonesim
ITL_BENCH=$ROOT/$BUILD/tests/bench/itl-bench
RESULTS=$BENCH_DIR/results.md
DAEMON_PID=
NEXT_RANGE=1

# State, phones, the daemon and one install load: shared with bench-compare.sh.
. scripts/bench_lib.sh
cleanup() { [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null; }
trap cleanup EXIT

# ---- build and machine ----

build() {
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >"$BENCH_DIR/meson.log" 2>&1 \
		|| die "meson setup failed (see $BENCH_DIR/meson.log)"
	ninja -C "$BUILD" src/cmd/opencapf/opencapf src/cmd/opencapfd/opencapfd src/cmd/phonesim/phonesim tests/bench/itl-bench \
		>"$BENCH_DIR/ninja.log" 2>&1 || die "build failed (see $BENCH_DIR/ninja.log)"
}

# One dsync write of 4 KiB, 500 times: what a durable commit costs at least here.
fsync_us() {
	local f=$BENCH_DIR/fsync.test t
	t=$( { TIMEFORMAT=%R; time dd if=/dev/zero of="$f" bs=4k count=500 oflag=dsync 2>/dev/null; } 2>&1 )
	rm -f "$f"
	awk -v t="$t" 'BEGIN { printf "%.0f", t * 1e6 / 500 }'
}

machine() {
	local cpu
	cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
	echo "| cores | $(nproc) ($cpu) |"
	echo "| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |"
	echo "| kernel | $(uname -sr) |"
	echo "| OpenSSL | $(openssl version | cut -d' ' -f2), SQLite $(sqlite3 --version | cut -d' ' -f1), libevent $(pkg-config --modversion libevent 2>/dev/null) |"
	echo "| storage | $(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 }') under $BENCH_DIR; one 4 KiB O_DSYNC write: $(fsync_us) us |"
	echo "| load average at start | $(loadavg) |"
}

# ---- 1. the limit ----

declare -A LIMIT MLIMIT SIGN_US HS_US CL_US SPEED
measure_limit() { # measure_limit KEYSPEC STATE
	local key=$1 st=$2 out alg
	out=$("$PHONESIM" load-limit --cert "$st.capf.pem" --key "$(capf_key_file "$st")" --seconds 3 | tee -a "$BENCH_DIR/limit.log")
	LIMIT[$key]=$(tail -1 <<<"$out" | field limit)
	SIGN_US[$key]=$(tail -1 <<<"$out" | field sign_us)
	HS_US[$key]=$(tail -1 <<<"$out" | field handshake_us)
	CL_US[$key]=$(tail -1 <<<"$out" | field client_handshake_us)
	# The machine limit: client and server share these cores, and every
	# enrollment costs the client its side of the handshake too.
	MLIMIT[$key]=$(awk -v c="$(nproc)" -v s="${SIGN_US[$key]}" -v h="${HS_US[$key]}" -v u="${CL_US[$key]}" \
		'BEGIN { printf "%.0f", c * 1e6 / (s + h + u) }')
	case $key in rsa:2048) alg=rsa2048 ;; ec:p256) alg=ecdsap256 ;; *) alg= ;; esac
	SPEED[$key]=$(openssl speed -seconds 3 "$alg" 2>/dev/null | tee -a "$BENCH_DIR/speed.log" |
		awk '/^rsa 2048|ecdsa \(nistp256\)/ { print $(NF-1) }' | tail -1)
}

# measure_ceiling KEYSPEC STATE: the same load (concurrency 100) against
# phonesim load-ceiling, which does only the handshake, the messages and the
# LSC signature with this state's CAPF key: the ceiling on the wire.
declare -A CEIL CEIL_CPU CEIL_CLIENT
measure_ceiling() {
	local key=$1 st=$2 port pid out
	port=$(free_port) || die "no free port"
	"$PHONESIM" load-ceiling --listen "127.0.0.1:$port" --cert "$st.capf.pem" --key "$(capf_key_file "$st")" \
		--threads "$(nproc)" --max-seconds 900 >"$BENCH_DIR/ceiling.$port.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 50); do ss -ltnH "sport = :$port" | grep -q . && break; sleep 0.1; done
	next_first
	out=$("$PHONESIM" load --capf "127.0.0.1:$port" --trust "$st.capf.pem" --first "SEP$FIRST" --count "$CEIL_PHONES" \
		--concurrency 100 --threads "$CLIENT_THREADS" --key-types ec:p256 --max-seconds 300 2>&1 \
		| tee -a "$BENCH_DIR/ceiling.log")
	kill "$pid" 2>/dev/null
	wait "$pid"
	CEIL[$key]=$(tail -1 <<<"$out" | field rate)
	CEIL_CPU[$key]=$(tail -1 "$BENCH_DIR/ceiling.$port.log" | field cpu_us_per_session)
	CEIL_CLIENT[$key]=$(sed -n 's/^client: .*(\([0-9]*\) us per session).*/\1/p' <<<"$out")
	log "$key ceiling (load-ceiling): $(tail -1 <<<"$out"); $(tail -1 "$BENCH_DIR/ceiling.$port.log")"
}

# ---- 2. throughput ----

# run_load STATE CONCURRENCY COUNT [LOAD OPTIONS]: one load against the daemon,
# with the daemon's CPU and the store checked; appends a table row.
RUNS=()
CURVE_RUNS=()
TABLE=RUNS
WARMUP=0
run_load() {
	local st=$1 conc=$2 n=$3 key=$4; shift 4
	local rate client
	load_install "$st" "$conc" "$n" "$@"
	rate=$(field rate <<<"$LAST")
	log "$key concurrency $conc: $LAST"
	[ "$WARMUP" = 1 ] && return
	local -n rows=$TABLE
	client=$(sed -n 's/^client: .*(\([0-9]*\) us per session).*/\1/p' <<<"$LOAD_OUT")
	rows+=("| $key | $conc | $(field completed <<<"$LAST") | $(field failed <<<"$LAST") | $(field seconds <<<"$LAST") \
| $rate | $(pct "$rate" "${LIMIT[$key]}") | $(pct "$rate" "${MLIMIT[$key]}") | $(pct "$rate" "${CEIL[$key]}") \
| $(field p50 <<<"$LAST") | $(latency_of p99) | $(latency_of max) \
| $(awk -v t="$LOAD_TICKS" -v k="$TICK" -v n="$n" 'BEGIN { printf "%.0f", t / k * 1e6 / n }') \
| $client | $LOAD_ISSUED |")
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else print "-" }'; }

throughput() {
	local key st
	for key in $KEYS; do
		st=$BENCH_DIR/state-${key/:/-}
		new_state "$st" "$key"
		measure_limit "$key" "$st"
		measure_ceiling "$key" "$st"
		start_daemon "$st"
		WARMUP=1 run_load "$st" 10 500 "$key"  # warm-up, not reported
		for c in $CONCURRENCY; do run_load "$st" "$c" "$PHONES" "$key"; done
		if [ "$key" = "${KEYS%% *}" ]; then
			for c in $CURVE; do TABLE=CURVE_RUNS run_load "$st" "$c" "$CURVE_PHONES" "$key"; done
		fi
		stop_daemon
	done
}

# ---- 3. memory ----

# slow_run RAMP: SLOW phones at once, each holding its key SLOW_DELAY
# seconds, started all together (RAMP 0) or RAMP a second; the daemon's
# RSS is sampled every 0.5 s. Appends a table row.
SLOW_ROWS=()
slow_run() {
	local ramp=$1 st=$BENCH_DIR/state-slow first rss0 peak=0 r pid out extra=()
	[ "$ramp" -gt 0 ] && extra=(--ramp "$ramp")
	next_first; first=$FIRST
	register "$st" "$first" "$SLOW" install
	start_daemon "$st"
	sleep 1
	rss0=$(rss_kib "$DAEMON_PID")
	"$PHONESIM" load --capf "127.0.0.1:$PORT" --trust "$st.capf.pem" --first "SEP$first" --count "$SLOW" \
		--concurrency "$SLOW" --keygen-delay "$SLOW_DELAY" --timeout $((SLOW_DELAY + 60)) --key-types ec:p256 \
		--max-seconds $((SLOW_DELAY * 3 + 120)) "${extra[@]}" >"$BENCH_DIR/slow-$ramp.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		r=$(rss_kib "$DAEMON_PID"); [ "${r:-0}" -gt "$peak" ] && peak=$r
		sleep 0.5
	done
	wait "$pid"
	out=$(tail -1 "$BENCH_DIR/slow-$ramp.log")
	SLOW_ROWS+=("| $SLOW | $([ "$ramp" -gt 0 ] && echo "$ramp a second" || echo "all at once") | $SLOW_DELAY s \
| $(field completed <<<"$out") | $(field failed <<<"$out") | $rss0 KiB | $peak KiB \
| $(( (peak - rss0) / SLOW )) KiB | $(field p99 <<<"$out") ms |")
	log "slow phones (ramp $ramp): $out; daemon RSS $rss0 -> $peak KiB"
	stop_daemon
}

slow_phones() {
	new_state "$BENCH_DIR/state-slow" ec:p256
	slow_run 0
	slow_run 1000
}

# ---- 4. TVS ----

tvs_load() {
	local st=$BENCH_DIR/state-ec-p256 tport out
	if ! "$OPENCAPFD" --help | grep -q -- --tvs-listen; then TVS_ROW="| (no TVS listener in this build) |"; return; fi
	"$OPENCAPF" --state "$st" tvs cert >"$BENCH_DIR/tvs.pem" 2>/dev/null || "$OPENCAPF" --state "$st" tvs cert --create >"$BENCH_DIR/tvs.pem"
	"$OPENCAPF" --state "$st" tvs add "$st.capf.pem" --role CAPF >/dev/null 2>&1
	tport=$(free_port)
	start_daemon "$st" --tvs-listen "127.0.0.1:$tport"
	out=$("$PHONESIM" load --tvs "127.0.0.1:$tport" --trust "$BENCH_DIR/tvs.pem" --verify-cert "$st.capf.pem" \
		--expect valid --first SEP0000FF000000 --count $((TVS / TVS_PER_CONN)) --requests "$TVS_PER_CONN" \
		--concurrency 100 --max-seconds 300 2>&1 | tee "$BENCH_DIR/tvs.log" | tail -1)
	TVS_ROW="| $TVS | $TVS_PER_CONN | 100 | $(field completed <<<"$out") | $(field failed <<<"$out") \
| $(field rate <<<"$out") | $(field p50 <<<"$out") ms | $(field p99 <<<"$out") ms |"
	log "TVS: $out"
	stop_daemon
}

# ---- 5. ITL ----

seconds_of() { local TIMEFORMAT=%R; { time "$@" >/dev/null 2>&1; } 2>&1; }

# 'opencapf itl build' adds at most a few dozen records to the state's own,
# so the 1,000-record file is built by itl-bench with the same library call;
# 'opencapf itl show' then reads it as an administrator would.
itl_times() {
	local st=$BENCH_DIR/state-ec-p256 dir=$BENCH_DIR/itl-certs out s
	mkdir -p "$dir"
	sqlite3 "$st/opencapf.db" "SELECT writefile('$dir/' || id || '.der', der) FROM issued_certs LIMIT $ITL" >/dev/null
	if [ "$(ls "$dir" | wc -l)" -lt "$ITL" ]; then ITL_ROW="| (fewer than $ITL issued certificates to list) |"; return; fi
	out=$("$ITL_BENCH" "$st/certs/sast.pem" "$(ls "$st"/keys/sast-*.key | tail -1)" "$BENCH_DIR/ITLFile.tlv" 5 \
		"$dir"/*.der | tail -1)
	"$OPENCAPF" itl show "$BENCH_DIR/ITLFile.tlv" >"$BENCH_DIR/itl-show.log" 2>&1
	s=$(seconds_of "$OPENCAPF" itl show "$BENCH_DIR/ITLFile.tlv")
	ITL_ROW="| $(field records <<<"$out") | $(field bytes <<<"$out") bytes | $(field build_ms <<<"$out") ms \
| $(field show_ms <<<"$out") ms | $(awk -v s="$s" 'BEGIN { printf "%.0f", s * 1000 }') ms | $(tail -1 "$BENCH_DIR/itl-show.log") |"
	log "ITL: $out; opencapf itl show $s s"
}

# ---- the results ----

write_results() {
	{
		echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') by scripts/bench.sh; raw logs in $BENCH_DIR."
		echo "Phones registered by $REGISTERED_BY."
		echo
		echo "| machine | |"; echo "|---|---|"; cat "$BENCH_DIR/machine.md"
		echo "| load average at end | $(loadavg) |"
		echo
		echo "**1. Limit** (in process: phonesim load-limit; openssl speed for the bare signature; on the wire: phonesim load against phonesim load-ceiling, $CEIL_PHONES phones)"
		echo
		echo "| CAPF key | openssl speed sign/s | LSC issue (us) | TLS handshake, server (us) | client (us) | server limit on $(nproc) cores | machine limit (client's handshake on the same cores) | ceiling on the wire (load-ceiling, 100 concurrent) | its server CPU us/session | client CPU us/session |"
		echo "|---|---|---|---|---|---|---|---|---|---|"
		for k in $KEYS; do echo "| $k | ${SPEED[$k]} | ${SIGN_US[$k]} | ${HS_US[$k]} | ${CL_US[$k]} | ${LIMIT[$k]}/s | ${MLIMIT[$k]}/s | ${CEIL[$k]}/s ($(pct "${CEIL[$k]}" "${MLIMIT[$k]}") of the machine limit) | ${CEIL_CPU[$k]} | ${CEIL_CLIENT[$k]} |"; done
		echo
		echo "**2. Enrollment throughput** ($PHONES phones a run, full TLS handshake each, durable commits)"
		echo
		echo "| CAPF key | concurrency | completed | failed | seconds | sessions/s | of server limit | of machine limit | of ceiling on the wire | p50 ms | p99 ms | max ms | server CPU us/session | client CPU us/session | LSCs in store |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		printf '%s\n' "${RUNS[@]}"
		echo
		echo "**2b. Latency curve** ($CURVE_PHONES phones a run, ${KEYS%% *} CAPF key)"
		echo
		echo "| CAPF key | concurrency | completed | failed | seconds | sessions/s | of server limit | of machine limit | of ceiling on the wire | p50 ms | p99 ms | max ms | server CPU us/session | client CPU us/session | LSCs in store |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
		printf '%s\n' "${CURVE_RUNS[@]}"
		echo
		echo "**3. Memory** (EC P-256; daemon RSS sampled every 0.5 s)"
		echo
		echo "| slow phones at once | started | key generation | completed | failed | RSS before | RSS peak | per session | p99 |"
		echo "|---|---|---|---|---|---|---|---|---|"
		printf '%s\n' "${SLOW_ROWS[@]}"
		echo
		echo "**4. TVS**"
		echo
		echo "| requests | per connection | concurrency | completed | failed | requests/s | p50 | p99 |"
		echo "|---|---|---|---|---|---|---|---|"
		echo "$TVS_ROW"
		echo
		echo "**5. ITL**"
		echo
		echo "| records | file | build (in process) | show (in process) | opencapf itl show (process) | verification |"
		echo "|---|---|---|---|---|---|"
		echo "$ITL_ROW"
	} >"$RESULTS"
}

splice_doc() {
	if [ "$DOC" = - ] || [ ! -f "$DOC" ] || ! grep -q '<!-- bench:begin -->' "$DOC"; then
		cat "$RESULTS"
		return
	fi
	awk -v res="$RESULTS" '
		/<!-- bench:begin -->/ { print; while ((getline l < res) > 0) print l; skip = 1; next }
		/<!-- bench:end -->/ { skip = 0 }
		!skip { print }' "$DOC" >"$DOC.tmp" && mv "$DOC.tmp" "$DOC"
	log "results written to $DOC"
}

ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" -ge $((SLOW + 1000)) ] || log "warning: only $(ulimit -n) file descriptors for $SLOW connections"
log "logs in $BENCH_DIR; load average $(loadavg)"
build
REGISTERED_BY=?
machine >"$BENCH_DIR/machine.md"
throughput
slow_phones
tvs_load
itl_times
write_results
splice_doc
