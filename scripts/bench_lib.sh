# bench_lib.sh: the helpers of scripts/bench.sh that other benchmark scripts
# (scripts/bench-compare.sh) reuse: state, phones, the daemon on loopback, and
# one install load driven by `phonesim load`. Source it; it uses these globals,
# set by the caller (and may be changed between calls):
#   OPENCAPF OPENCAPFD PHONESIM   the programs (the daemon's state is made by
#                                 OPENCAPF; the load is driven by PHONESIM)
#   BENCH_DIR                     raw logs (daemon.PORT.log, load.log)
#   CLIENT_THREADS                phonesim load --threads
#   BENCH_ME                      prefix of log lines (default "bench")
# and keeps DAEMON_PID, PORT, NEXT_RANGE, FIRST, REGISTERED_BY.
DAEMON_PID=${DAEMON_PID:-}
NEXT_RANGE=${NEXT_RANGE:-1}

log() { echo "${BENCH_ME:-bench}: $*" >&2; }
die() { log "$*"; exit 1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- state, phones, daemon ----

new_state() { # new_state DIR KEYSPEC
	"$OPENCAPF" --state "$1" init --key "$2" --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null \
		|| die "opencapf init failed"
	"$OPENCAPF" --state "$1" capf cert >"$1.capf.pem"
}

capf_key_file() { ls "$1"/keys/capf-*.key | tail -1; }

# register STATE FIRST_HEX COUNT OP: phones FIRST.. (EC P-256 keys, null
# string) scheduled for OP, by 'opencapf phone import', else plain SQL.
register() {
	local st=$1 first=$((16#$2)) n=$3 op=$4
	if "$OPENCAPF" phone import --help >/dev/null 2>&1; then
		{ echo "name,key_order,ec_bits,operation"
		  seq "$first" $((first + n - 1)) | awk -v op="$op" '{ printf "SEP%012X,ec,256,%s\n", $1, op }'
		} | "$OPENCAPF" --state "$st" phone import - >/dev/null || die "phone import failed"
		REGISTERED_BY="opencapf phone import"
	else
		sqlite3 "$st/opencapf.db" "PRAGMA busy_timeout=10000; WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL
			SELECT i + 1 FROM n WHERE i < $n - 1) INSERT INTO phones (name, key_order, ec_bits, operation,
			deadline, status, created, updated) SELECT printf('SEP%012X', $first + i), 'ec', 256, '$op',
			strftime('%s','now') + 86400, 'Pending', strftime('%s','now'), strftime('%s','now') FROM n;" \
			|| die "SQL registration failed"
		REGISTERED_BY="SQL (opencapf phone import not available)"
	fi
}

# A fresh range of device numbers for each run: SEP + range + 5 hex digits.
next_first() { FIRST=$(printf '%07X00000' "$NEXT_RANGE"); NEXT_RANGE=$((NEXT_RANGE + 1)); }

. scripts/port_lib.sh

# start_daemon STATE [OPTIONS]: sets PORT, DAEMON_PID; refuses a port that
# another process shares (SO_REUSEPORT would split the connections).
# Every phone of the load comes from 127.0.0.1: a daemon that limits the
# connections of one address gets a limit as high as its cap.
start_daemon() {
	local st=$1 extra=(); shift
	"$OPENCAPFD" --help 2>&1 | grep -q -- --max-per-address && extra=(--max-per-address 30000)
	for _ in 1 2 3 4 5; do
		PORT=$(free_port) || die "no free port"
		"$OPENCAPFD" --state "$st" --capf-listen "127.0.0.1:$PORT" --workers "$(nproc)" \
			--max-connections 30000 "${extra[@]}" --tvs-listen off --http-listen off "$@" \
			>"$BENCH_DIR/daemon.$PORT.log" 2>&1 &
		DAEMON_PID=$!
		for _ in $(seq 1 50); do ss -ltnH "sport = :$PORT" | grep -q . && break; sleep 0.1; done
		if kill -0 "$DAEMON_PID" 2>/dev/null && ! ss -ltnpH "sport = :$PORT" | grep -vq "pid=$DAEMON_PID,"; then
			return 0
		fi
		stop_daemon
	done
	die "cannot start opencapfd alone on a port"
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# CPU ticks of the daemon and its child processes (the signer process holding the keys).
cpu_ticks() {
	local t=0 p
	for p in "$1" $(pgrep -P "$1"); do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
	echo "$t"
}
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }
field() { sed -n "s/\(^\|.* \)$1=\([0-9.]*\).*/\2/p" | tail -1; } # key=value of a result line
TICK=$(getconf CLK_TCK)


# load_install STATE CONCURRENCY COUNT [LOAD OPTIONS]: COUNT phones of a fresh
# range registered for install, then driven against the daemon (PORT,
# DAEMON_PID) by phonesim load (EC P-256 phone keys, at most 300 s). Sets
# LOAD_OUT (the load's output), LAST (its result line), LOAD_TICKS (the
# daemon's utime + stime over the load, in TICKs) and LOAD_ISSUED (LSCs on
# record in the store for these phones).
load_install() {
	local st=$1 conc=$2 n=$3; shift 3
	local first last t0 t1
	next_first; first=$FIRST
	register "$st" "$first" "$n" install
	t0=$(cpu_ticks "$DAEMON_PID")
	LOAD_OUT=$("$PHONESIM" load --capf "127.0.0.1:$PORT" --trust "$st.capf.pem" --first "SEP$first" --count "$n" \
		--concurrency "$conc" --threads "$CLIENT_THREADS" --key-types ec:p256 --max-seconds 300 "$@" 2>&1 \
		| tee -a "$BENCH_DIR/load.log")
	t1=$(cpu_ticks "$DAEMON_PID")
	LOAD_TICKS=$((t1 - t0))
	last=$(printf 'SEP%012X' $((16#$first + n - 1)))
	LOAD_ISSUED=$(sqlite3 "$st/opencapf.db" "SELECT count(*) FROM issued_certs WHERE phone BETWEEN 'SEP$first' AND '$last'")
	LAST=$(tail -1 <<<"$LOAD_OUT")
}

# latency_of NAME: NAME=...ms (p99, max) of the load's "latency:" line.
latency_of() { sed -n "s/^latency: .*$1=\([0-9.]*\)ms.*/\1/p" <<<"$LOAD_OUT"; }
