#!/usr/bin/env bash
# capf_ops.sh: the CAPF server and the phone emulator end to end over real
# TLS on loopback: every operation, every authentication mode, every key
# type, and the failures (wrong string and lockout, untrusted certificate,
# deadline, unknown device, disconnects, malformed messages, silent phones).
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" mfg-ca create "$TEST_TMP/rogue-mfg" --subject "CN=Rogue Manufacturing CA,O=Elsewhere" >/dev/null
check "manufacturing CA added to the manufacturing trust" \
	"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt"
start_daemon "$S" --lockout-failures 3 --lockout-seconds 600 --auth-timeout 3 --keygen-timeout 6 || exit 1
CAPF="127.0.0.1:$CAPF_PORT"

# new_phone NAME [MFGDIR]: an emulated phone that trusts our CAPF certificate.
new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "${2:-$TEST_TMP/mfg}" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "$TEST_TMP/capf.pem" >/dev/null
}
op() { "$OPENCAPF" --state "$S" phone op "$@" >/dev/null; }
add() { "$OPENCAPF" --state "$S" phone add "$@" >/dev/null; }
session() { local p=$1; shift; "$PHONESIM" capf "$TEST_TMP/$p" "$CAPF" --timeout 20 "$@"; }
status_of() { "$OPENCAPF" --state "$S" phone show "$1" --json | sed -n 's/^  "status": "\(.*\)",$/\1/p'; }
issued_count() { sqlite3 "$S/opencapf.db" "SELECT count(*) FROM issued_certs WHERE phone='$1'"; }
issued_status() { sqlite3 "$S/opencapf.db" "SELECT group_concat(status) FROM issued_certs WHERE phone='$1' ORDER BY id"; }
lsc_text() { openssl x509 -in "$TEST_TMP/$1/lsc.crt" -noout -text; }

# --- install with every key type (null string)
n=0
for key in rsa:512 rsa:1024 rsa:2048 rsa:3072 rsa:4096 ec:256 ec:384 ec:521; do
	n=$((n + 1)); P=$(printf 'SEP0000000001%02X' "$n")
	new_phone "$P"
	kind=${key%%:*} bits=${key#*:}
	if [ "$kind" = rsa ]; then add "$P" --key-order rsa --rsa-bits "$bits"
	else add "$P" --key-order ec --ec-bits "$bits"; fi
	op "$P" install
	expect_exit 0 "install $key, null string" session "$P"
	expect_output "LSC: Pending" "$key: phone shows LSC: Pending"
	expect_output "LSC: Installed" "$key: phone shows LSC: Installed"
	equal "$key: status Upgrade Success" "$(status_of "$P")" "Upgrade Success"
	check "$key: LSC verifies against the CAPF certificate" \
		openssl verify -CAfile "$TEST_TMP/capf.pem" "$TEST_TMP/$P/lsc.crt"
	lsc_text "$P" >"$TEST_TMP/last.out"
	if [ "$kind" = rsa ]; then expect_output "Public-Key: \($bits bit\)" "$key: LSC key is RSA $bits"
	else expect_output "NIST CURVE: P-$bits" "$key: LSC key is P-$bits"; fi
	expect_output "Subject: CN ?= ?$P, OU ?= ?Voice, O ?= ?Example, L ?= ?Wellington, ST ?= ?WGN, C ?= ?NZ" \
		"$key: LSC subject"
	expect_output "URI:$P" "$key: subjectAltName URI"
	expect_output "IPSec End System|1\.3\.6\.1\.5\.5\.7\.3\.5" "$key: EKU IPsec end system"
	expect_output "CA:FALSE" "$key: not a CA"
	equal "$key: one LSC on record" "$(issued_count "$P")" 1
done
grep -q "device=SEP000000000101 .*result=\"Upgrade Success\"" "$DAEMON_LOG" \
	&& ok "daemon logs one line per session outcome" || not_ok "no outcome log line"
grep -o "capf session [0-9]*" "$DAEMON_LOG" | awk '{print $3}' | head -8 >"$TEST_TMP/ids"
awk 'NR > 1 && ($1 - prev == 1 || prev - $1 == 1) { seq++ } { prev = $1 } END { exit !(NR == 8 && seq == 0) }' \
	"$TEST_TMP/ids" && ok "session ids are random (no two in a row)" || not_ok "session ids: $(tr '\n' ' ' <"$TEST_TMP/ids")"

# --- authentication string
P=SEP000000000201; new_phone $P
add $P --auth string --auth-string 123456; op $P install
expect_exit 2 "wrong authentication string is refused" session $P --auth-string 654321
expect_output "LSC: Failed" "phone shows LSC: Failed"
equal "no LSC issued after a wrong string" "$(issued_count $P)" 0
equal "status names the mismatch" "$(status_of $P)" "Upgrade Failed: Authentication String Mismatch"
"$OPENCAPF" --state "$S" phone show $P --json >"$TEST_TMP/last.out"
expect_output '"reason": "wrong authentication string"' "the history says the string was wrong (not missing)"
expect_exit 0 "right authentication string installs" session $P --auth-string 123456
equal "one LSC after the right string" "$(issued_count $P)" 1

P=SEP000000000202; new_phone $P
add $P --auth string --auth-string 8305162947; op $P install
for i in 1 2 3; do session $P --auth-string 1111 >/dev/null 2>&1; done
expect_exit 2 "after 3 failures the phone is locked out, even with the right string" session $P --auth-string 8305162947
"$OPENCAPF" --state "$S" phone show $P >"$TEST_TMP/last.out"
expect_output "Locked out: +127.0.0.1 until" "phone show reports the lockout of that address"
expect_exit 0 "the real phone, from another address, is not locked out" session $P --auth-string 8305162947 --source 127.0.0.2
for i in 1 2 3 4 5 6; do session $P --auth-string 1111 >/dev/null 2>&1; done
equal "a flood against a locked-out phone coalesces into one history row" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM phone_history WHERE phone='$P' AND outcome='Device Locked Out' AND operation='none'")" 1
equal "... that counts the attempts" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count FROM phone_history WHERE phone='$P' AND outcome='Device Locked Out' AND operation='none'")" 6
equal "... and adds no audit rows" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE object='$P' AND detail LIKE '%Locked Out%'")" 0
grep -q "8305162947" "$S"/opencapf.db-wal "$S"/opencapf.db 2>/dev/null && : # the string is stored, by design
sqlite3 "$S/opencapf.db" "SELECT detail FROM audit_log" | grep -q 8305162947 \
	&& not_ok "authentication string leaked into the audit log" || ok "audit log holds no authentication string"
grep -q 8305162947 "$DAEMON_LOG" && not_ok "authentication string in the daemon log" || ok "daemon log holds no authentication string"

# --- existing certificate: LSC precedence with a valid LSC (upgrade)
P=SEP000000000103   # has an RSA-2048 LSC from above
"$OPENCAPF" --state "$S" phone set $P --auth lsc-first --rsa-bits 1024 >/dev/null; op $P install
expect_exit 0 "upgrade authenticating by the existing LSC" session $P --auth-cert lsc-first --sudi
lsc_text $P >"$TEST_TMP/last.out"
expect_output "Public-Key: \(1024 bit\)" "upgrade replaced the key (RSA 1024)"
equal "both LSCs stay on record" "$(issued_count $P)" 2
sqlite3 "$S/opencapf.db" "UPDATE issued_certs SET serial='x'" 2>"$TEST_TMP/last.out"
expect_output "permanent" "issued certificates cannot be changed"

# --- EC LSC as the existing certificate (ECDSA signatures)
P=SEP000000000106   # EC P-256 LSC
"$OPENCAPF" --state "$S" phone set $P --auth lsc-first >/dev/null; op $P install
expect_exit 0 "upgrade authenticating by an EC LSC (ECDSA signed data)" session $P --auth-cert lsc-first

# --- LSC precedence, phone without LSC: falls back to its MIC
P=SEP000000000301; new_phone $P
add $P --auth lsc-first; op $P install
expect_exit 0 "lsc-first with no LSC authenticates by the MIC" session $P --auth-cert lsc-first

# --- MIC precedence: trusted and untrusted manufacturing CA
P=SEP000000000302; new_phone $P
add $P --auth mic-first; op $P install
expect_exit 0 "mic-first with a MIC from a trusted manufacturing CA" session $P --auth-cert mic-first --sudi
"$OPENCAPF" --state "$S" phone show $P >"$TEST_TMP/last.out"
expect_output "MIC \(last seen\)" "the presented MIC is recorded"
P=SEP000000000303; new_phone $P "$TEST_TMP/rogue-mfg"
add $P --auth mic-first; op $P install
expect_exit 2 "mic-first with a MIC from an untrusted CA fails" session $P --auth-cert mic-first
equal "status Invalid MIC" "$(status_of $P)" "Upgrade Failed: Invalid MIC"
equal "no LSC issued for the untrusted MIC" "$(issued_count $P)" 0

# --- LSC from another cluster: Invalid LSC
S2="$TEST_TMP/other-cluster"
"$OPENCAPF" --state "$S2" init >/dev/null
"$OPENCAPF" --state "$S2" capf cert >"$TEST_TMP/capf2.pem"
P=SEP000000000304; new_phone $P
"$OPENCAPF" --state "$S2" phone add $P >/dev/null; "$OPENCAPF" --state "$S2" phone op $P install >/dev/null
saved=("$CAPF_PORT" "$DAEMON_PID" "$DAEMON_LOG")
start_daemon "$S2" || exit 1
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf2.pem" >/dev/null
expect_exit 0 "phone enrolled in the other cluster" "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT"
stop_daemon
CAPF_PORT=${saved[0]} DAEMON_PID=${saved[1]} DAEMON_LOG=${saved[2]}
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null
add $P --auth lsc-first; op $P install
expect_exit 2 "LSC from another cluster's CAPF: refused" session $P --auth-cert lsc-first
equal "status Invalid LSC" "$(status_of $P)" "Upgrade Failed: Invalid LSC"
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf2.pem" >/dev/null
expect_exit 3 "phone trusting another CAPF certificate: LSC: Connection failed" session $P
expect_output "LSC: Connection failed" "phone prints LSC: Connection failed"
"$PHONESIM" trust "$TEST_TMP/$P" "$TEST_TMP/capf.pem" >/dev/null

# --- key order: EC preferred, RSA backup
P=SEP000000000401; new_phone $P
add $P --key-order ec-rsa --rsa-bits 1024; op $P install
expect_exit 0 "EC preferred, phone without EC: RSA backup in the same session" session $P --no-ec
lsc_text $P >"$TEST_TMP/last.out"
expect_output "Public-Key: \(1024 bit\)" "backup RSA key installed"
P=SEP000000000402; new_phone $P
add $P --key-order ec; op $P install
expect_exit 2 "EC only, phone without EC: fails" session $P --no-ec
equal "status says key generation failed" "$(status_of $P)" "Upgrade Failed: Key Generation Failed"
P=SEP000000000403; new_phone $P
add $P --key-order ec-rsa --ec-bits 384; op $P install
expect_exit 0 "EC preferred, phone with EC" session $P
lsc_text $P >"$TEST_TMP/last.out"
expect_output "NIST CURVE: P-384" "EC key installed when the phone can"

# --- troubleshoot, delete, none
P=SEP000000000101
op $P troubleshoot
expect_exit 0 "troubleshoot fetches the LSC" session $P
expect_output "result: fetched" "phone reports the fetch"
equal "status Troubleshoot Success" "$(status_of $P)" "Troubleshoot Success"
op $P delete
expect_exit 0 "delete removes the LSC" session $P
expect_output "result: deleted" "phone reports the delete"
[ ! -e "$TEST_TMP/$P/lsc.crt" ] && ok "phone no longer holds an LSC" || not_ok "LSC still on the phone"
equal "status Delete Success" "$(status_of $P)" "Delete Success"
equal "the deleted LSC stays on record" "$(issued_count $P)" 1
"$OPENCAPF" --state "$S" phone show $P >"$TEST_TMP/last.out"
expect_output "^LSC: +none" "phone show: no current LSC after delete"
op $P delete
expect_exit 0 "delete on a phone without LSC still ends the operation" session $P
expect_exit 0 "no pending operation" session $P
expect_output "result: no action" "phone reports no action"
op $P troubleshoot
expect_exit 0 "troubleshoot on a phone without LSC" session $P
equal "status Troubleshoot Success without LSC" "$(status_of $P)" "Troubleshoot Success"

# --- unknown device, deadline
P=SEP0000000009FF; new_phone $P
expect_exit 2 "unknown device" session $P
expect_output "unknown device" "phone reports unknown device"
P=SEP000000000501; new_phone $P
add $P; op $P install --by "2020-01-01 00:00" 2>/dev/null
expect_exit 2 "deadline passed: the session fails" session $P
expect_output "LSC: Failed" "phone shows LSC: Failed after the deadline"
equal "status Late/Timeout" "$(status_of $P)" "Upgrade Failed: User Initiated Request Late/Timeout"
equal "no LSC issued after the deadline" "$(issued_count $P)" 0

# --- a phone that disconnects in the middle
P=SEP000000000601; new_phone $P
add $P; op $P install
session $P --misbehave disconnect-before-store >/dev/null 2>&1
sleep 0.5
"$OPENCAPF" --state "$S" phone show $P --json >"$TEST_TMP/last.out"
expect_output '"operation": "install"' "disconnect mid-session: operation stays pending"
expect_output '"lsc": null' "disconnect mid-session: no current LSC"
[ -s "$TEST_TMP/$P/lsc.crt" ] && ok "the phone holds the certificate it hung up with" || not_ok "no LSC taken"
lsc_sha=$(openssl x509 -in "$TEST_TMP/$P/lsc.crt" -outform DER | sha256sum | cut -d' ' -f1)
lsc_serial=$(openssl x509 -in "$TEST_TMP/$P/lsc.crt" -noout -serial | cut -d= -f2 | tr A-F a-f)
equal "the certificate it took is on record, unconfirmed" \
	"$(sqlite3 "$S/opencapf.db" "SELECT status FROM issued_certs WHERE sha256='$lsc_sha'")" delivered
check "the certificate it took verifies against the CAPF certificate" \
	openssl verify -CAfile "$TEST_TMP/capf.pem" "$TEST_TMP/$P/lsc.crt"
"$OPENCAPF" --state "$S" phone show $P --json >"$TEST_TMP/last.out"
expect_output '"unconfirmed_lscs": \[' "phone show --json lists the unconfirmed LSC"
expect_output "$lsc_serial" "... by its serial"
expect_output '"outcome": "Interrupted"' "disconnect mid-session: the attempt is in the history"
expect_output 'after the LSC was issued; it is on record, unconfirmed' "... saying the LSC was issued"
"$OPENCAPF" --state "$S" phone show $P >"$TEST_TMP/last.out"
expect_output "Unconfirmed LSC: +serial $lsc_serial" "phone show names the unconfirmed LSC"
"$OPENCAPF" --state "$S" report >"$TEST_TMP/last.out"
expect_output "1 LSC sent but never confirmed" "the report counts it"
"$OPENCAPF" --state "$S" diagnose $P >"$TEST_TMP/last.out" 2>&1
expect_output "never confirmed storing it" "diagnose names it"
equal "the interrupted attempt's audit names the serial" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE object='$P' AND action='capf.failed' AND detail LIKE '%$lsc_serial%'")" 1
expect_exit 0 "the same phone enrolls afterwards" session $P
equal "one delivered-unconfirmed and one confirmed LSC" "$(issued_status $P)" "delivered,confirmed"

# --- one operation, one certificate: a second session while the first generates its key
P=SEP000000000602; new_phone $P
add $P --rsa-bits 1024; op $P install
session $P --keygen-delay 3 >"$TEST_TMP/slow.out" 2>&1 &
slow=$!
sleep 1
expect_exit 2 "a second session for the same device is refused" session $P
expect_output "Refused: Operation In Progress|reason 7|invalid element" "... with REASON 7"
wait $slow
equal "the first session installs" "$?" 0
equal "one LSC for the operation" "$(issued_status $P)" confirmed
"$OPENCAPF" --state "$S" phone show $P --json >"$TEST_TMP/last.out"
expect_output '"outcome": "Refused: Operation In Progress"' "the refused session has its own history line"
expect_output 'another session for this device holds its pending operation' "... saying why"

# --- REQUEST_IN_PROGRESS does not extend the key-generation limit
P=SEP000000000603; new_phone $P; add $P --rsa-bits 1024; op $P install
start=$(date +%s)
session $P --keygen-delay 12 --in-progress-every 1 >/dev/null 2>&1
took=$(( $(date +%s) - start ))
[ "$took" -le 10 ] && ok "a phone that keeps saying 'in progress' is cut off at the keygen limit ($took s)" \
	|| not_ok "REQUEST_IN_PROGRESS kept the session for $took s"
equal "no LSC for it" "$(issued_count $P)" 0
"$OPENCAPF" --state "$S" phone show $P --json >"$TEST_TMP/last.out"
expect_output 'no key within 6 s of the request|timed out after [0-9]+ s \(key generation\)' "the history says why"

# --- malformed messages and protocol errors: the server ends or closes, and goes on serving
P=SEP000000000701; new_phone $P; add $P; op $P install
for m in wrong-session-id oversize-element bad-protocol-id garbage disconnect-after-auth; do
	session $P --misbehave $m >"$TEST_TMP/last.out" 2>&1
	rc=$?
	[ "$rc" != 0 ] && ok "misbehaving phone ($m) gets no LSC (exit $rc)" || not_ok "misbehaving phone ($m) succeeded"
done
equal "no LSC for the misbehaving phone" "$(issued_count $P)" 0
kill -0 "$DAEMON_PID" && ok "daemon survives malformed input" || not_ok "daemon died"
expect_exit 0 "daemon still serves after malformed input" session $P

# --- silent and truncating phones time out, and their slots are freed
P=SEP000000000702; new_phone $P; add $P; op $P install
start=$(date +%s)
session $P --misbehave silent >/dev/null 2>&1
took=$(( $(date +%s) - start ))
[ "$took" -ge 2 ] && [ "$took" -le 10 ] && ok "silent phone is timed out ($took s)" || not_ok "silent phone took $took s"
grep -q "timed out" "$DAEMON_LOG" && ok "timeout is logged" || not_ok "timeout not logged"
session $P --misbehave truncated >/dev/null 2>&1
expect_exit 0 "after timeouts the phone still enrolls" session $P
P=SEP000000000703; new_phone $P; add $P --rsa-bits 1024; op $P install
expect_exit 0 "a slow phone (4 s key generation) within the keygen timeout" session $P --keygen-delay 4
P=SEP000000000704; new_phone $P; add $P --rsa-bits 1024; op $P install
expect_exit 4 "a phone slower than the keygen timeout is cut off" session $P --keygen-delay 9
equal "operation still pending after the keygen timeout" "$(status_of $P)" "Pending"

# --- old TLS for old phones; modern profile refuses it
echo | openssl s_client -connect "$CAPF" -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' >"$TEST_TMP/last.out" 2>&1
expect_output "Cipher is AES128-SHA|Cipher +: AES128-SHA" "legacy profile accepts TLS 1.0 with AES128-SHA"
stop_daemon
start_daemon "$S" --tls-profile modern || exit 1
echo | openssl s_client -connect "127.0.0.1:$CAPF_PORT" -tls1 -cipher 'AES128-SHA:@SECLEVEL=0' >"$TEST_TMP/last.out" 2>&1
expect_no_output "Cipher is AES128-SHA" "modern profile refuses TLS 1.0"
stop_daemon

# --- the connection cap: silent phones hold slots until their timeout frees them
start_daemon "$S" --max-connections 2 --auth-timeout 3 || exit 1
P=SEP000000000801; new_phone $P; add $P --rsa-bits 1024; op $P install
"$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --timeout 20 --misbehave silent >/dev/null 2>&1 &
s1=$!
"$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --timeout 20 --misbehave silent >/dev/null 2>&1 &
s2=$!
sleep 1
expect_exit 3 "a connection over the cap is refused" "$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --timeout 5
grep -q "connection cap (2) reached" "$DAEMON_LOG" && ok "the refusal is logged" || not_ok "cap refusal not logged"
wait $s1 $s2
expect_exit 0 "after the silent phones time out their slots are free again" \
	"$PHONESIM" capf "$TEST_TMP/$P" "127.0.0.1:$CAPF_PORT" --timeout 20
stop_daemon

finish
