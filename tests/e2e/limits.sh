#!/usr/bin/env bash
# limits.sh: resource exhaustion degrades service, never spins:
# a daemon at its descriptor limit (ulimit -n 512, 700 idle connections)
# keeps its log small and its API answering, and enrolls a phone once they
# are gone; descriptors taken through the API pause the listeners instead
# of spinning; 2,000 idle sockets from one address do not keep a phone from
# another address from enrolling; sockets that never start TLS are closed
# after handshake_timeout; failed handshakes count as tls_failed; bad limit
# settings are refused by name. Idle clients: hold_conns.py, loopback only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
HOLD=(python3 "$(dirname "$0")/hold_conns.py")

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
READ=$(new_token "$S" read)

# new_phone NAME: an emulated phone with an install pending.
new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "$TEST_TMP/capf.pem" >/dev/null &&
		"$OPENCAPF" --state "$S" phone add "$1" --rsa-bits 1024 >/dev/null &&
		"$OPENCAPF" --state "$S" phone op "$1" install >/dev/null
}
enroll() { "$PHONESIM" capf "$TEST_TMP/$1" "127.0.0.1:$CAPF_PORT" --timeout 20; }

# hold NAME ARGS...: hold_conns.py in the background, its output in
# $TEST_TMP/NAME.out; waits (60 s at most) until every connection is tried.
hold() {
	local name=$1; shift
	"${HOLD[@]}" "$@" >"$TEST_TMP/$name.out" 2>&1 &
	HOLD_PID=$!
	PIDS+=("$HOLD_PID")
	for _ in $(seq 1 600); do
		grep -q "^connected" "$TEST_TMP/$name.out" && return 0
		kill -0 "$HOLD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "hold_conns $name did not connect:"; cat "$TEST_TMP/$name.out"
	return 1
}
release() { kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; }
log_size() { stat -c %s "$DAEMON_LOG"; }
metric() { curl -s -m 5 -H "Authorization: Bearer $READ" "$BASE/metrics" | sed -n "s/^$1 //p"; }

# --- bad limit settings are refused, naming the value
expect_exit 2 "handshake_timeout 0 is refused" "$OPENCAPFD" --state "$S" --handshake-timeout 0
expect_output "bad value for capf.handshake_timeout: '0'" "the error names the setting and value"
printf '[tvs]\nmax_per_address = -1\n' >"$TEST_TMP/bad-limit.ini"
expect_exit 2 "a negative max_per_address is refused" "$OPENCAPFD" --config "$TEST_TMP/bad-limit.ini"
expect_output "line 2: bad value for tvs.max_per_address: '-1'" "the error names the line, setting and value"
"$OPENCAPFD" --help >"$TEST_TMP/last.out"
expect_output "--handshake-timeout S" "--help names --handshake-timeout"
expect_output "--max-per-address N" "--help names --max-per-address"

# --- the descriptor limit: 512 descriptors, 700 idle connections from 20 addresses
cat >"$TEST_TMP/opencapfd-512" <<EOF
#!/usr/bin/env bash
ulimit -n 512 || exit 1
exec "$OPENCAPFD" "\$@"
EOF
chmod +x "$TEST_TMP/opencapfd-512"
REAL_OPENCAPFD=$OPENCAPFD
OPENCAPFD="$TEST_TMP/opencapfd-512"
start_api_daemon "$S" --max-connections 100000 || exit 1
OPENCAPFD=$REAL_OPENCAPFD
grep -q "max_connections 100000 lowered to 448 (descriptor limit 512" "$DAEMON_LOG" &&
	ok "a max_connections above the descriptor limit is lowered with a warning" ||
	not_ok "no warning about max_connections (log: $(grep -i connections "$DAEMON_LOG" | head -3))"
equal "the warning is written once" "$(grep -c "lowered to" "$DAEMON_LOG")" 1

hold fd-limit 127.0.0.1 "$CAPF_PORT" 700 --source 127.0.0.10-127.0.0.29 --hold 60 || exit 1
size0=$(log_size)
sleep 8
growth=$(($(log_size) - size0))
[ "$growth" -lt 200000 ] && ok "log growth at the descriptor limit is bounded ($growth bytes in 8 s)" ||
	not_ok "the log grew $growth bytes in 8 s"
check "the API answers at the descriptor limit" curl -sSf -m 5 "$BASE/api/v1/health"
[ -n "$(metric opencapf_capf_open_sessions)" ] && ok "/metrics answers at the descriptor limit" ||
	not_ok "/metrics did not answer"
grep -q "capf: refused [0-9]* connections\?[: ].*connection cap (448) reached" "$DAEMON_LOG" &&
	ok "refusals over the cap are logged with a count" || not_ok "no refusal line for the cap"
[ "$(grep -c "refused" "$DAEMON_LOG")" -le 3 ] && ok "refusals are logged a few lines, not one per connection" ||
	not_ok "$(grep -c refused "$DAEMON_LOG") refusal lines"
release
P=SEP00000000AA01; new_phone $P
expect_exit 0 "a phone enrolls after the connections are released" enroll $P
for _ in $(seq 1 50); do [ "$(metric opencapf_capf_open_sessions)" = 0 ] && break; sleep 0.1; done
tls_failed=$(metric 'opencapf_capf_sessions_total{outcome="tls_failed"}')
[ "${tls_failed:-0}" -ge 400 ] && ok "connections closed before their handshake count as tls_failed ($tls_failed)" ||
	not_ok "tls_failed is '$tls_failed'"
equal "and not as interrupted" "$(metric 'opencapf_capf_sessions_total{outcome="interrupted"}')" 0

# Descriptors taken through the HTTP API (no cap of its own): accept errors
# pause every listener and are logged with a count; all recover afterwards.
size0=$(log_size)
hold http-fill 127.0.0.1 "$HTTP_PORT" 600 --source 127.0.0.10-127.0.0.29 --hold 60 || exit 1
"${HOLD[@]}" 127.0.0.1 "$CAPF_PORT" 20 --hold 1 >/dev/null 2>&1
sleep 5
growth=$(($(log_size) - size0))
[ "$growth" -lt 100000 ] && ok "log growth while out of descriptors is bounded ($growth bytes)" ||
	not_ok "the log grew $growth bytes while out of descriptors"
grep -q "accept failed [0-9]* times\?.*Too many open files" "$DAEMON_LOG" &&
	ok "accept errors are logged with a count" || not_ok "no accept error line"
release
sleep 1.5  # the paused listeners try again within a second
check "the API answers again after the descriptors are back" curl -sSf -m 5 "$BASE/api/v1/health"
P=SEP00000000AA02; new_phone $P
expect_exit 0 "and a phone enrolls" enroll $P
stop_daemon

# --- 2,000 idle sockets from 127.0.0.2 while a phone from 127.0.0.1 enrolls
start_daemon "$S" --max-connections 1000 || exit 1
hold one-address 127.0.0.1 "$CAPF_PORT" 2000 --source 127.0.0.2 --hold 60 || exit 1
P=SEP00000000AA03; new_phone $P
t0=$(date +%s%N)
expect_exit 0 "a phone from another address enrolls past 2,000 idle sockets from one address" enroll $P
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 10000 ] && ok "in normal time ($ms ms)" || not_ok "enrollment took $ms ms"
grep -q "capf: refused [0-9]* connections\?[: ].*per-address limit 64 reached for 127.0.0.2" "$DAEMON_LOG" &&
	ok "the per-address refusals are logged with the address" || not_ok "no per-address refusal line"
[ "$(grep -c "refused" "$DAEMON_LOG")" -le 3 ] && ok "about 1,936 refusals take a few log lines" ||
	not_ok "$(grep -c refused "$DAEMON_LOG") refusal lines"
release
stop_daemon

# --- sockets that never start TLS are closed after handshake_timeout
start_daemon "$S" --handshake-timeout 3 --auth-timeout 30 || exit 1
"${HOLD[@]}" 127.0.0.1 "$CAPF_PORT" 20 --closed-after 1 >"$TEST_TMP/early.out" 2>&1 &
early=$!; PIDS+=("$early")
"${HOLD[@]}" 127.0.0.1 "$CAPF_PORT" 20 --closed-after 6 >"$TEST_TMP/late.out" 2>&1
wait "$early"
equal "idle sockets are open before handshake_timeout" "$(sed -n 's/^closed //p' "$TEST_TMP/early.out")" 0
equal "and closed after it" "$(sed -n 's/^closed //p' "$TEST_TMP/late.out")" 20
P=SEP00000000AA04; new_phone $P
expect_exit 0 "a phone still enrolls (the handshake timeout ends with the handshake)" enroll $P
stop_daemon

# --- TVS and the registration check: their own pools and deadlines, from the file
TVS_PORT=$(free_port); REG_PORT=$(free_port)
printf '[tvs]\nhandshake_timeout = 2\nmax_per_address = 5\n[register]\nhandshake_timeout = 2\nmax_connections = 3\n' \
	>"$TEST_TMP/listeners.ini"
start_daemon "$S" --config "$TEST_TMP/listeners.ini" --tvs-listen "127.0.0.1:$TVS_PORT" \
	--register-listen "127.0.0.1:$REG_PORT" || exit 1
wait_port "$TVS_PORT" && wait_port "$REG_PORT" || not_ok "TVS or registration not listening"
grep -q "TVS [0-9]* (5 per address, handshake 2 s), registration 3 (64 per address, handshake 2 s)" "$DAEMON_LOG" &&
	ok "each listener's pool and deadline are logged at start" || not_ok "no pool line: $(grep connections: "$DAEMON_LOG")"
"${HOLD[@]}" 127.0.0.1 "$TVS_PORT" 10 --closed-after 4 >"$TEST_TMP/tvs.out" 2>&1 &
tvs=$!; PIDS+=("$tvs")
"${HOLD[@]}" 127.0.0.1 "$REG_PORT" 6 --closed-after 4 >"$TEST_TMP/reg.out" 2>&1
wait "$tvs"
equal "TVS closes idle sockets (5 over the per-address limit, 5 after handshake_timeout)" \
	"$(sed -n 's/^closed //p' "$TEST_TMP/tvs.out")" 10
equal "the registration check too (3 over its cap, 3 after handshake_timeout)" \
	"$(sed -n 's/^closed //p' "$TEST_TMP/reg.out")" 6
grep -q "tvs: refused [0-9]* connections\?[: ].*per-address limit 5 reached for 127.0.0.1" "$DAEMON_LOG" &&
	ok "TVS logs its refusals" || not_ok "no TVS refusal line"
grep -q "register: refused [0-9]* connections\?[: ].*connection cap (3) reached" "$DAEMON_LOG" &&
	ok "the registration check logs its refusals" || not_ok "no registration refusal line"
stop_daemon

finish
