#!/usr/bin/env bash
# drain.sh: stopping opencapfd does not cut a phone short. On SIGTERM the
# daemon takes no new connection, lets a CAPF session in flight (a phone
# slow to generate its key) finish with its LSC, and exits; with nothing
# open it exits at once; a connection that never ends is cut after
# --drain-seconds.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null || exit 1
oc capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "$TEST_TMP/capf.pem" >/dev/null &&
		oc phone add "$1" >/dev/null && oc phone op "$1" install >/dev/null
}
elapsed_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# --- a session in flight finishes
start_daemon "$S" --drain-seconds 20 || exit 1
new_phone SEP0011223344D1
new_phone SEP0011223344D2
"$PHONESIM" capf "$TEST_TMP/SEP0011223344D1" "127.0.0.1:$CAPF_PORT" --timeout 30 --keygen-delay 3 \
	>"$TEST_TMP/slow.out" 2>&1 &
slow=$!
sleep 1.5
t0=$(date +%s.%N)
kill -TERM "$DAEMON_PID"
sleep 0.5
"$PHONESIM" capf "$TEST_TMP/SEP0011223344D2" "127.0.0.1:$CAPF_PORT" --timeout 5 >"$TEST_TMP/late.out" 2>&1
equal "a phone arriving while draining is not served" "$?" 3
wait "$slow"
equal "the phone in flight finishes its install" "$?" 0
check "and holds its LSC" test -s "$TEST_TMP/SEP0011223344D1/lsc.crt"
wait "$DAEMON_PID"
equal "then the daemon exits 0" "$?" 0
took=$(elapsed_since "$t0")
check "within the drain time ($took s)" awk -v t="$took" 'BEGIN { exit !(t < 15) }'
grep -q "every connection has ended" "$DAEMON_LOG" && ok "the log says every connection ended" ||
	not_ok "the log says every connection ended"
equal "its LSC is on record, confirmed" \
	"$(sqlite3 "$S/opencapf.db" "SELECT status FROM issued_certs WHERE phone='SEP0011223344D1'")" confirmed

# --- nothing open: at once
start_daemon "$S" --drain-seconds 20 || exit 1
t0=$(date +%s.%N)
stop_daemon
took=$(elapsed_since "$t0")
check "with nothing open it stops at once ($took s)" awk -v t="$took" 'BEGIN { exit !(t < 3) }'

# --- a connection that never ends is cut after --drain-seconds
start_daemon "$S" --drain-seconds 2 || exit 1
exec 3<>"/dev/tcp/127.0.0.1/$CAPF_PORT"
sleep 0.3
t0=$(date +%s.%N)
stop_daemon
took=$(elapsed_since "$t0")
exec 3<&-
check "an idle connection holds the stop for the drain time only ($took s)" \
	awk -v t="$took" 'BEGIN { exit !(t >= 1.5 && t < 8) }'
grep -q "still open after 2 s" "$DAEMON_LOG" && ok "the log says what was still open" ||
	not_ok "the log says what was still open"

finish
