# lib.sh: helpers shared by the end-to-end tests (sourced, not run).
#
# Each test runs in its own temporary folder, talks to real programs on
# loopback and stops every process it started. Assertions print what was
# expected and what came, and count into the closing "N passed, N failed".
set -u

: "${OPENCAPF:?OPENCAPF must name the opencapf binary}"
TEST_TMP=$(mktemp -d /tmp/opencapf-e2e.XXXXXX)
PASSED=0
FAILED=0
PIDS=()

cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ "$FAILED" = 0 ]; then rm -rf "$TEST_TMP"; else echo "(test files kept in $TEST_TMP)"; fi
}
trap cleanup EXIT

ok() { PASSED=$((PASSED + 1)); echo "ok - $*"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command exits 0.
check() {
	local what=$1; shift
	if "$@" >"$TEST_TMP/last.out" 2>&1; then ok "$what"; else
		not_ok "$what"; sed 's/^/    /' "$TEST_TMP/last.out" | head -20; fi
}

# expect_exit CODE DESCRIPTION COMMAND...: the command's exit code must be CODE.
expect_exit() {
	local want=$1 what=$2; shift 2
	"$@" >"$TEST_TMP/last.out" 2>&1
	local got=$?
	if [ "$got" = "$want" ]; then ok "$what"; else
		not_ok "$what (exit $got, wanted $want)"; sed 's/^/    /' "$TEST_TMP/last.out" | head -20; fi
}

# expect_output PATTERN DESCRIPTION: the last command's output matches (grep -E).
expect_output() {
	if grep -Eq -- "$1" "$TEST_TMP/last.out"; then ok "$2"; else
		not_ok "$2 (no match for /$1/)"; sed 's/^/    /' "$TEST_TMP/last.out" | head -30; fi
}
expect_no_output() {
	if ! grep -Eq -- "$1" "$TEST_TMP/last.out"; then ok "$2"; else
		not_ok "$2 (unexpected /$1/)"; grep -E -- "$1" "$TEST_TMP/last.out" | head -5 | sed 's/^/    /'; fi
}

# equal DESCRIPTION GOT WANT
equal() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', wanted '$3')"; fi
}

# flip_byte FILE OFFSET: inverts every bit of one byte, so the file is sure to change
# (writing a fixed byte into random content would change nothing 1 time in 256).
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %03o $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/port_lib.sh"

# wait_port PORT: until something listens there (10 s at most).
wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_daemon STATE [OPTIONS...]: opencapfd with the CAPF listener on a free
# loopback port; sets CAPF_PORT, DAEMON_PID, DAEMON_LOG.
start_daemon() {
	local state=$1; shift
	: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"
	for _ in 1 2 3 4 5; do
		CAPF_PORT=$(free_port)
		DAEMON_LOG="$TEST_TMP/opencapfd.$CAPF_PORT.log"
		# Listeners other than CAPF stay off unless the test asks for them
		# (later options win), so parallel tests never share a default port.
		"$OPENCAPFD" --state "$state" --capf-listen "127.0.0.1:$CAPF_PORT" --workers 2 \
			--tvs-listen off --http-listen off "$@" \
			>"$DAEMON_LOG" 2>&1 &
		DAEMON_PID=$!
		PIDS+=("$DAEMON_PID")
		if wait_port "$CAPF_PORT" && kill -0 "$DAEMON_PID" 2>/dev/null; then return 0; fi
		kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
	done
	echo "cannot start opencapfd:"; cat "$DAEMON_LOG"
	return 1
}

# stop_daemon: SIGTERM, and the daemon must exit 0 (sanitizers report here).
stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	local rc=$?
	equal "daemon exits cleanly on SIGTERM" "$rc" 0
	[ "$rc" = 0 ] || tail -20 "$DAEMON_LOG"
}

finish() {
	echo
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" = 0 ]
}
