#!/usr/bin/env bash
# check.sh: `opencapf check` against real states: a healthy one (exit 0),
# then planted problems each found: 10 LSCs expiring, an operation past its
# deadline, a CAPF certificate expiring in 3 days, an HTTPS certificate
# about to expire, and a daemon listener that is down.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --key ec:p256 >/dev/null
oc capf cert >"$TEST_TMP/capf.pem"

expect_exit 0 "a fresh state is healthy" oc check
expect_output "^OPENCAPF OK - " "the status line says OK"
equal "one line only when healthy" "$(wc -l <"$TEST_TMP/last.out")" 1

# --- 10 phones get LSCs valid for 10 days
start_daemon "$S" --lsc-days 10 || exit 1
{ echo "name,key_order,operation"
  for i in $(seq 0 9); do printf 'SEP%012X,ec,install\n' $((0xC000 + i)); done
} >"$TEST_TMP/phones.csv"
oc phone import "$TEST_TMP/phones.csv" >/dev/null
expect_exit 0 "10 phones enrolled" "$PHONESIM" load --capf "127.0.0.1:$CAPF_PORT" --trust "$TEST_TMP/capf.pem" \
	--first SEP00000000C000 --count 10 --concurrency 5 --max-seconds 60
expect_exit 0 "the listener is up: healthy with --connect" oc check --days 5 --connect "127.0.0.1:$CAPF_PORT"
expect_output "^OPENCAPF OK - .*listeners up" "OK names the listeners"
printf '[capf]\nlisten = 0.0.0.0:%s\n[tvs]\nlisten = off\n[http]\nlisten = off\n' "$CAPF_PORT" >"$TEST_TMP/opencapfd.conf"
expect_exit 0 "--config: the daemon's configured listeners are probed (a wildcard as loopback)" \
	oc check --days 5 --config "$TEST_TMP/opencapfd.conf"
expect_output "^OPENCAPF OK - .*listeners up" "... and up"
expect_exit 1 "10 LSCs expiring within 30 days: WARNING" oc check
expect_output "^OPENCAPF WARNING - 0 critical, 1 warning$" "the status line counts the warning"
expect_output "^WARNING lsc: 10 phones' LSCs expire within 30 days$" "the finding counts the 10 LSCs"

# --- an operation past its deadline
oc phone add SEP0000000000D1 >/dev/null
oc phone op SEP0000000000D1 install --by "2020-01-01 00:00" >/dev/null 2>&1
expect_exit 1 "an overdue operation: WARNING" oc check --days 5
expect_output "^WARNING operation: 1 pending operation past its deadline: SEP0000000000D1$" \
	"the finding names the phone"

# --- a listener down
stop_daemon
expect_exit 2 "a listener down: CRITICAL" oc check --days 5 --connect "127.0.0.1:$CAPF_PORT" --timeout 2
expect_output "^CRITICAL listener: 127.0.0.1:$CAPF_PORT does not accept connections" "the finding names it"
expect_exit 2 "--config: a configured listener down is CRITICAL" oc check --days 5 --config "$TEST_TMP/opencapfd.conf" --timeout 2
expect_output "^CRITICAL listener: 127.0.0.1:$CAPF_PORT does not accept connections" "... named"
printf '[capf]\nlisten = nowhere\n' >"$TEST_TMP/bad.conf"
expect_exit 3 "--config: a broken configuration is UNKNOWN" oc check --config "$TEST_TMP/bad.conf"
expect_output "--config: .*bad.conf" "the error names the file"

# --- a CAPF certificate expiring in 3 days
oc capf regenerate --days 3 >/dev/null 2>&1
expect_exit 2 "a CAPF certificate expiring in 3 days: CRITICAL" oc check
expect_output "^OPENCAPF CRITICAL - 1 critical, 2 warnings$" "the status line counts them"
expect_output "^CRITICAL capf: CAPF certificate [0-9a-f]{64} \(CN=CAPF-[0-9a-f]+\) expires in (2 days 23 hours|3 days), " \
	"the finding names the certificate and when"
expect_output "^WARNING lsc: 10 phones' LSCs expire" "the LSCs are still counted"
expect_exit 1 "--critical-days 2 makes it a warning" oc check --critical-days 2
expect_output "^WARNING capf: CAPF certificate" "... a WARNING line"

# --- another certificate (the API's HTTPS one)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/https.key" \
	-out "$TEST_TMP/https.pem" -days 1 -subj /CN=capf.example >/dev/null 2>&1
expect_exit 2 "--cert: an HTTPS certificate expiring tomorrow" oc check --cert "$TEST_TMP/https.pem"
expect_output "^CRITICAL cert: certificate $TEST_TMP/https.pem [0-9a-f]{64} \(CN=capf.example\) expires in (23 hours|1 day), " \
	"the finding names the file"

# --- errors
expect_exit 3 "a bad --days is a usage error (UNKNOWN)" oc check --days soon
expect_output "--days soon: expected a whole number" "the error names the value"
expect_exit 3 "--critical-days over --days" oc check --days 5 --critical-days 9
expect_exit 3 "--connect without a port" oc check --connect localhost
expect_output "'localhost' is not HOST:PORT" "the error names the value"
expect_exit 3 "a missing state is UNKNOWN" "$OPENCAPF" --state "$TEST_TMP/none" check
expect_output "^OPENCAPF UNKNOWN - no opencapf state" "UNKNOWN says why"
expect_exit 3 "an unreadable --cert is UNKNOWN" oc check --cert "$TEST_TMP/none.pem"
expect_exit 0 "--help" oc check --help
expect_output "^usage: opencapf check" "the usage"
finish
