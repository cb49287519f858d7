#!/usr/bin/env bash
# load.sh: the load generator against the daemon, small and bounded: 200
# phones enrolled 50 at a time (every one an issued LSC on record, no
# failure), the same phones troubleshot and deleted, slow phones holding
# their key generation, TVS verify requests, refusals (non-loopback target,
# untrusted server, phones nobody scheduled), --received (the phones' record
# of every LSC received), the load-limit measure and the stateless
# load-ceiling server driven by the same load.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init --key ec:p256 >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
TVS_PORT=$(free_port)
"$OPENCAPF" --state "$S" tvs cert >"$TEST_TMP/tvs.pem"
"$OPENCAPF" --state "$S" tvs add "$TEST_TMP/capf.pem" --role CAPF >/dev/null
# Every phone comes from 127.0.0.1, 50 at a time: a session the client has ended
# still counts against the per-address limit (64) until the server reads its
# close, so a busy server would refuse a few; e2e-limits tests that limit.
start_daemon "$S" --tvs-listen "127.0.0.1:$TVS_PORT" --http-listen off --max-per-address 256 || exit 1
CAPF="127.0.0.1:$CAPF_PORT"
N=200
FIRST=SEP00000000A000
LAST=SEP00000000A0C7

# register OPERATION: the N phones, scheduled for OPERATION.
register() {
	{ echo "name,key_order,operation"
	  for i in $(seq 0 $((N - 1))); do printf 'SEP%012X,ec,%s\n' $((0xA000 + i)) "$1"; done
	} >"$TEST_TMP/phones.csv"
	"$OPENCAPF" --state "$S" phone import "$TEST_TMP/phones.csv" --update >/dev/null
}
load() { "$PHONESIM" load --capf "$CAPF" --trust "$TEST_TMP/capf.pem" --first $FIRST --max-seconds 120 "$@"; }
lsc_count() { sqlite3 "$S/opencapf.db" "SELECT count(*) FROM issued_certs WHERE phone BETWEEN '$FIRST' AND '$LAST'"; }
status_count() { sqlite3 "$S/opencapf.db" "SELECT count(*) FROM phones WHERE status = '$1'"; }

# --- install: 200 phones, 50 at a time
register install
expect_exit 0 "load installs $N LSCs, 50 sessions at a time" load --count $N --concurrency 50 --threads 2 \
	--received "$TEST_TMP/received"
expect_output "^completed=$N failed=0 seconds=[0-9.]+ rate=[0-9.]+/s p50=[0-9.]+ms p99=[0-9.]+ms$" \
	"the last line sums the run up"
expect_output "^latency: p50=.* p99=.* max=" "latencies p50, p99 and max are printed"
equal "the store holds $N issued LSCs" "$(lsc_count)" $N
equal "every phone shows Upgrade Success" "$(status_count 'Upgrade Success')" $N
equal "--received: one line per LSC received" "$(grep -Ec '^SEP00000000A0[0-9A-F]{2} [0-9a-f]{64} [0-9a-f]+$' \
	"$TEST_TMP/received")" $N
equal "--received: each line is the device's issued LSC (sha256, serial)" "$(sqlite3 "$S/opencapf.db" \
	"SELECT phone || ' ' || sha256 || ' ' || serial FROM issued_certs WHERE phone BETWEEN '$FIRST' AND '$LAST'" |
	sort | diff - <(sort "$TEST_TMP/received") && echo same)" same

# --- the same phones again: nothing is scheduled, every session fails as such
expect_exit 2 "a load of phones with nothing scheduled fails" load --count 20 --concurrency 10
expect_output "20 x server did no operation" "the failures are counted by kind"
expect_output "^completed=0 failed=20 " "completed=0 failed=20"

# --- troubleshoot and delete loads
register troubleshoot
expect_exit 0 "troubleshoot load" load --count $N --concurrency 50 --op troubleshoot
expect_output "^completed=$N failed=0 " "every troubleshoot completed"
equal "every phone shows Troubleshoot Success" "$(status_count 'Troubleshoot Success')" $N
register delete
expect_exit 0 "delete load" load --count $N --concurrency 50 --op delete
equal "every phone shows Delete Success" "$(status_count 'Delete Success')" $N

# --- slow phones: 50 at once, each holding its key for 2 s
register install
start=$(date +%s)
expect_exit 0 "50 slow phones (2 s key generation) enrolled at once" \
	load --count 50 --concurrency 50 --keygen-delay 2
took=$(( $(date +%s) - start ))
[ "$took" -ge 2 ] && [ "$took" -le 30 ] && ok "slow phones took $took s, about one key generation" \
	|| not_ok "slow phones took $took s"
equal "100 installs in total for the slow phones' range" "$(sqlite3 "$S/opencapf.db" \
	"SELECT count(*) FROM issued_certs WHERE phone BETWEEN '$FIRST' AND 'SEP00000000A031'")" 100

# --- TVS: 20 phones, 5 verify requests each
expect_exit 0 "TVS load: 100 verify requests" "$PHONESIM" load --tvs "127.0.0.1:$TVS_PORT" \
	--trust "$TEST_TMP/tvs.pem" --verify-cert "$TEST_TMP/capf.pem" --expect valid --first $FIRST \
	--count 20 --requests 5 --concurrency 10 --max-seconds 60
expect_output "^completed=100 failed=0 " "every request answered valid"
expect_output "^tvs: valid=100 invalid=0" "the verdicts are counted"
expect_exit 2 "TVS load expecting 'invalid' for a known certificate fails" "$PHONESIM" load \
	--tvs "127.0.0.1:$TVS_PORT" --trust "$TEST_TMP/tvs.pem" --verify-cert "$TEST_TMP/capf.pem" \
	--expect invalid --first $FIRST --count 2 --max-seconds 60

# --- refusals
expect_exit 1 "a non-loopback target is refused" "$PHONESIM" load --capf 192.0.2.1:3804 \
	--trust "$TEST_TMP/capf.pem" --first $FIRST --count 1
expect_output "not a loopback address" "the refusal says why"
"$OPENCAPF" --state "$TEST_TMP/other" init >/dev/null
"$OPENCAPF" --state "$TEST_TMP/other" capf cert >"$TEST_TMP/other.pem"
expect_exit 2 "a server that is not the trusted CAPF is refused" "$PHONESIM" load --capf "$CAPF" \
	--trust "$TEST_TMP/other.pem" --first $FIRST --count 5 --concurrency 5
expect_output "5 x untrusted server" "every phone refuses it"
expect_exit 1 "--count is required" "$PHONESIM" load --capf "$CAPF" --trust "$TEST_TMP/capf.pem" --first $FIRST
expect_exit 1 "--first must end in hex digits" "$PHONESIM" load --capf "$CAPF" --trust "$TEST_TMP/capf.pem" \
	--first SEPXYZ --count 1
expect_exit 1 "--received goes with --capf, not --tvs" "$PHONESIM" load --tvs "127.0.0.1:$TVS_PORT" \
	--trust "$TEST_TMP/tvs.pem" --first $FIRST --count 1 --received "$TEST_TMP/tvs-received"

# --- the limit measure
expect_exit 0 "load-limit measures signing and the handshake" "$PHONESIM" load-limit --cert "$TEST_TMP/capf.pem" \
	--key "$(ls "$S"/keys/capf-*.key | head -1)" --seconds 0.2
expect_output "^sign_us=[0-9.]+ handshake_us=[0-9.]+ client_handshake_us=[0-9.]+ cores=[0-9]+ limit=[0-9]+/s$" \
	"load-limit's last line"

# --- the ceiling: the same load against the stateless load-ceiling server
CEIL_PORT=$(free_port)
CAPF_KEY=$(ls "$S"/keys/capf-*.key | head -1)
"$PHONESIM" load-ceiling --listen "127.0.0.1:$CEIL_PORT" --cert "$TEST_TMP/capf.pem" --key "$CAPF_KEY" \
	--threads 2 --max-seconds 120 >"$TEST_TMP/ceiling.out" 2>&1 &
CEIL_PID=$!
for _ in $(seq 1 50); do grep -q "listening on" "$TEST_TMP/ceiling.out" && break; sleep 0.1; done
expect_exit 0 "load-ceiling serves 100 installs (any device name), 20 at a time" "$PHONESIM" load \
	--capf "127.0.0.1:$CEIL_PORT" --trust "$TEST_TMP/capf.pem" --first SEP0000000B0000 --count 100 \
	--concurrency 20 --threads 2 --max-seconds 60
expect_output "^completed=100 failed=0 " "every phone got an LSC for its own key from load-ceiling"
kill -TERM "$CEIL_PID"
wait "$CEIL_PID"
equal "load-ceiling exits 0 on SIGTERM" "$?" 0
equal "load-ceiling counts what it served" \
	"$(tail -1 "$TEST_TMP/ceiling.out" | sed 's/ seconds=.*//')" "served=100 failed=0"
equal "load-ceiling reports its CPU per session" \
	"$(tail -1 "$TEST_TMP/ceiling.out" | grep -Ec ' cpu_us_per_session=[0-9]+$')" 1
expect_exit 1 "load-ceiling refuses a non-loopback address" "$PHONESIM" load-ceiling --listen 192.0.2.1:3804 \
	--cert "$TEST_TMP/capf.pem" --key "$CAPF_KEY"
expect_output "not a loopback address" "and says why"
expect_exit 1 "load-ceiling needs --listen" "$PHONESIM" load-ceiling --cert "$TEST_TMP/capf.pem" --key "$CAPF_KEY"
expect_exit 1 "load-ceiling refuses a key that is not the certificate's" "$PHONESIM" load-ceiling \
	--listen "127.0.0.1:$(free_port)" --cert "$TEST_TMP/tvs.pem" --key "$CAPF_KEY" --max-seconds 1
expect_output "does not belong to the certificate" "and says why"

stop_daemon

# --- the signer's brake: [signer] lsc_per_second = 1 (a burst of 2); 20 phones at once
printf '[signer]\nlsc_per_second = 1\n' >"$TEST_TMP/slow-signer.ini"
register install
before=$(lsc_count)
start_daemon "$S" --config "$TEST_TMP/slow-signer.ini" --max-per-address 256 || exit 1
CAPF="127.0.0.1:$CAPF_PORT"
grep -q "at most 1 LSCs and 100000 other signatures a second" "$DAEMON_LOG" &&
	ok "the signer runs with the configured rates" || not_ok "the signer's rates are not the configured ones"
expect_exit 2 "20 phones at once against a signer that signs 1 LSC a second: some refused" \
	load --count 20 --concurrency 20
done_n=$(sed -n 's/^completed=\([0-9]*\) failed=\([0-9]*\) .*/\1/p' "$TEST_TMP/last.out")
failed_n=$(sed -n 's/^completed=\([0-9]*\) failed=\([0-9]*\) .*/\2/p' "$TEST_TMP/last.out")
[ "${failed_n:-0}" -gt 0 ] && [ $((done_n + failed_n)) = 20 ] && ok "$failed_n of 20 refused by the signer's rate" \
	|| not_ok "completed=$done_n failed=$failed_n"
grep -q "signer: refused sign-cert: over the rate limit for sign-cert" "$DAEMON_LOG" &&
	ok "the refusals are logged with their reason" || not_ok "no refusal logged"
equal "only the phones that completed got an LSC on record" "$(lsc_count)" $((before + done_n))
stop_daemon
finish
