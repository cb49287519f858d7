#!/usr/bin/env bash
# signals.sh: opencapfd under a service manager's signals.
#  - SIGTERM drains: no new connection, a CAPF session in flight (a phone slow
#    to generate its key) finishes with its LSC, then the daemon exits; with
#    nothing open at once; a connection that never ends is cut after
#    --drain-seconds.
#  - SIGHUP reloads without dropping a session: the configuration file is read
#    again (log level and drain time applied, other changed sections named for
#    a restart, a broken file refused), and TVS presents a renewed certificate.
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

# --- SIGHUP: reload without dropping a session
TVS_PORT=$(free_port)
printf '[daemon]\nlog_level = info\n' >"$TEST_TMP/opencapfd.conf"
start_daemon "$S" --config "$TEST_TMP/opencapfd.conf" --tvs-listen "127.0.0.1:$TVS_PORT" || exit 1
wait_port "$TVS_PORT"
tvs_fp() { openssl s_client -connect "127.0.0.1:$TVS_PORT" </dev/null 2>/dev/null |
	openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
before=$(tvs_fp)
new_phone SEP0011223344D3
"$PHONESIM" capf "$TEST_TMP/SEP0011223344D3" "127.0.0.1:$CAPF_PORT" --timeout 30 --keygen-delay 3 \
	>"$TEST_TMP/slow2.out" 2>&1 &
slow=$!
sleep 1
printf '[daemon]\nlog_level = debug\ndrain_seconds = 5\n[capf]\nauth_timeout = 20\n' >"$TEST_TMP/opencapfd.conf"
oc tvs cert --renew >/dev/null 2>&1
kill -HUP "$DAEMON_PID"
wait "$slow"
equal "a session in flight during a reload finishes its install" "$?" 0
sleep 0.5
grep -q "reload: \[capf\] changed: restart opencapfd to apply" "$DAEMON_LOG" &&
	ok "the reload names the section that needs a restart" || not_ok "the reload names the section that needs a restart"
grep -q "reloaded: log level" "$DAEMON_LOG" && ok "the reload is logged" || not_ok "the reload is logged"
after=$(tvs_fp)
[ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ] &&
	ok "TVS presents the renewed certificate after the reload" ||
	not_ok "TVS presents the renewed certificate after the reload ($before -> $after)"
equal "the certificate TVS presents is the state's" "$after" \
	"$(oc tvs cert | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2)"
printf '[daemon]\nlog_level = loud\n' >"$TEST_TMP/opencapfd.conf"
kill -HUP "$DAEMON_PID"
sleep 0.5
grep -q "reload: the configuration cannot be read; the running one stays" "$DAEMON_LOG" &&
	ok "a broken configuration is refused on reload" || not_ok "a broken configuration is refused on reload"
equal "the daemon still runs" "$(kill -0 "$DAEMON_PID" 2>/dev/null && echo yes)" yes
new_phone SEP0011223344D4
"$PHONESIM" capf "$TEST_TMP/SEP0011223344D4" "127.0.0.1:$CAPF_PORT" --timeout 30 >/dev/null 2>&1
equal "and serves phones" "$?" 0
stop_daemon

finish
