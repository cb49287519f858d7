#!/usr/bin/env bash
# register_diag.sh: the registration TLS check (opencapfd --register-listen),
# the phone's side of it (phonesim register, phone-certificates.md §3) and
# opencapf diagnose / register log, end to end over real TLS on loopback:
#   - a phone with an LSC presents it and is accepted (TLS 1.0, 1.2, 1.3);
#   - a phone without one says PXY_NO_LSC and presents its MIC;
#   - an LSC from another cluster's CAPF is refused with "unknown CA", and
#     diagnose names the cluster move (§7) and its fixes;
#   - after the LSC is deleted the MIC registers (§8's quick test);
#   - trust store changes take effect on the next connection, and diagnose
#     explains the refusal; deadline, authentication mode and unknown phones.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
oc capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
oc trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
check "the manufacturing CA goes into CallManager-trust (MICs may register)" \
	oc trust add CallManager-trust "$TEST_TMP/mfg/mfg.crt"
REG_PORT=$(free_port)
start_daemon "$S" --register-listen "127.0.0.1:$REG_PORT" --tvs-listen off --http-listen off || exit 1
wait_port "$REG_PORT" || { echo "registration listener not up"; cat "$DAEMON_LOG"; exit 1; }
CAPF="127.0.0.1:$CAPF_PORT" REG="127.0.0.1:$REG_PORT"

new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "${2:-$TEST_TMP/capf.pem}" >/dev/null
}
enroll() { oc phone add "$1" >/dev/null; oc phone op "$1" install >/dev/null; "$PHONESIM" capf "$TEST_TMP/$1" "$CAPF" >/dev/null; }
register() { local p=$1; shift; "$PHONESIM" register "$TEST_TMP/$p" "$REG" --timeout 10 "$@"; }
# last_reg NAME FIELD: a field of the newest registration record of a phone
last_reg() {
	oc register log "$1" --limit 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0][sys.argv[1]])' "$2"
}
json_check() { # json_check DESCRIPTION PYTHON-EXPRESSION-ON-d < json
	if python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" \
		<"$TEST_TMP/last.out"; then ok "$1"; else not_ok "$1"; head -c 2000 "$TEST_TMP/last.out" | sed 's/^/    /'; fi
}

# --- a phone with an LSC: it presents the LSC, call control accepts it
P=SEP0000000A0001; new_phone $P; enroll $P
[ -f "$TEST_TMP/$P/lsc.crt" ] && ok "phone enrolled (LSC installed)" || not_ok "phone has no LSC"
expect_exit 0 "phone with an LSC registers" register $P --tls-max 1.2
expect_output "^NOT SECD: -PXY_CERT_CIPHER: \[SCCP\], \[TLSv1\.2\], cert \[LSC\], cipher \[[A-Z0-9-]+\]$" \
	"console: PXY_CERT_CIPHER with cert [LSC] and TLSv1.2"
expect_no_output "PXY_NO_LSC" "no PXY_NO_LSC line when the phone has an LSC"
expect_output "result: registered cert=LSC \(LSC $P\)" "the server confirms: LSC of $P"
equal "register log: kind lsc" "$(last_reg $P cert_kind)" lsc
equal "register log: accepted" "$(last_reg $P result)" accepted
equal "register log: TLS version" "$(last_reg $P tls_version)" TLSv1.2
expect_exit 0 "an old phone (TLS 1.0, AES256-SHA:AES128-SHA) registers" register $P --tls-max 1.0
expect_output "^NOT SECD: -PXY_CERT_CIPHER: \[SCCP\], \[TLSv1\], cert \[LSC\], cipher \[AES256-SHA:AES128-SHA\]$" \
	"console: the exact PXY_CERT_CIPHER line of §3"
equal "register log: TLSv1 and AES256-SHA" "$(last_reg $P tls_version) $(last_reg $P cipher)" "TLSv1 AES256-SHA"
# --- a certificate taken from a session that never confirmed it: the check names it
P2=SEP0000000A0009; new_phone $P2; oc phone add $P2 >/dev/null; oc phone op $P2 install >/dev/null
"$PHONESIM" capf "$TEST_TMP/$P2" "$CAPF" --misbehave disconnect-before-store >/dev/null 2>&1
register $P2 --tls-max 1.2 >"$TEST_TMP/last.out" 2>&1
case "$(last_reg $P2 rule)" in
*"never confirmed storing (unconfirmed)"*) ok "register log: the rule names the unconfirmed LSC" ;;
*) not_ok "register log rule: $(last_reg $P2 rule)" ;;
esac
grep -q "presents the unconfirmed LSC serial" "$DAEMON_LOG" && ok "the daemon warns about it" ||
	not_ok "no warning about the unconfirmed LSC"
expect_exit 0 "TLS 1.3 registration (the verdict comes after the client's handshake)" register $P
expect_output "\[TLSv1\.3\], cert \[LSC\]" "console: TLSv1.3"
grep -q "PXY_CERT_CIPHER" "$TEST_TMP/$P/console.log" && ok "console lines are kept in console.log" ||
	not_ok "console.log lacks the registration lines"

# --- a phone without an LSC: PXY_NO_LSC, then the MIC
M=SEP0000000A0002; new_phone $M; oc phone add $M >/dev/null
expect_exit 0 "phone without an LSC registers with its MIC" register $M --tls-max 1.2
expect_output "^WRN SECD: -PXY_NO_LSC: No LSC for \[SCCP\], will try MIC$" "console: the exact PXY_NO_LSC line"
expect_output "cert \[MIC\]" "console: cert [MIC]"
equal "register log: kind mic" "$(last_reg $M cert_kind)" mic
oc register log $M --limit 1 >"$TEST_TMP/last.out"
expect_output "in the manufacturing trust store" "register log says why it is a MIC"

# --- an LSC from another cluster: unknown CA (§7)
S2="$TEST_TMP/old-cluster"
"$OPENCAPF" --state "$S2" init >/dev/null
"$OPENCAPF" --state "$S2" capf cert >"$TEST_TMP/capf-old.pem"
X=SEP0000000A0003; new_phone $X "$TEST_TMP/capf-old.pem"
"$OPENCAPF" --state "$S2" phone add $X >/dev/null; "$OPENCAPF" --state "$S2" phone op $X install >/dev/null
saved=("$CAPF_PORT" "$DAEMON_PID" "$DAEMON_LOG")
start_daemon "$S2" --tvs-listen off --http-listen off || exit 1
expect_exit 0 "phone enrolled in the old cluster" "$PHONESIM" capf "$TEST_TMP/$X" "127.0.0.1:$CAPF_PORT"
stop_daemon
CAPF_PORT=${saved[0]} DAEMON_PID=${saved[1]} DAEMON_LOG=${saved[2]}
"$PHONESIM" trust "$TEST_TMP/$X" "$TEST_TMP/capf.pem" >/dev/null   # it moved: it now trusts this cluster
oc phone add $X >/dev/null
for v in 1.2 1.3; do
	expect_exit 2 "old cluster's LSC refused (TLS $v)" register $X --tls-max $v
	expect_output "^ERR SECD: -STATE_SSL3_ALERT: SSL3 Alert \[read\]:\[fatal\]:\[unknown CA\]$" \
		"console: the exact STATE_SSL3_ALERT line of §3 (TLS $v)"
	expect_output "cert \[LSC\]" "the phone presented its LSC, not its MIC (TLS $v)"
done
equal "register log: refused" "$(last_reg $X result)" refused
equal "register log: alert unknown CA" "$(last_reg $X alert)" "unknown CA"
equal "register log: still an LSC" "$(last_reg $X cert_kind)" lsc
last_reg $X rule >"$TEST_TMP/last.out"
expect_output "not hold \(another cluster" "register log: the rule says another cluster's CAPF"
grep -q "register: peer=127.0.0.1 phone=$X cert=lsc result=refused alert=unknown CA" "$DAEMON_LOG" &&
	ok "the daemon logs the refusal" || not_ok "no refusal in the daemon log"

# the state learns the phone's LSC (Troubleshoot), then diagnose explains
oc phone op $X troubleshoot >/dev/null
expect_exit 0 "troubleshoot fetches the old cluster's LSC into the state" "$PHONESIM" capf "$TEST_TMP/$X" "$CAPF"
oc phone set $X --auth lsc-first >/dev/null; oc phone op $X install >/dev/null
expect_exit 3 "diagnose finds problems (exit 3)" oc diagnose $X
expect_output "^Phone $X presents its LSC" "diagnose: the phone presents its LSC"
expect_output "CallManager-trust +refuses: unknown CA" "diagnose: CallManager-trust refuses it, unknown CA"
expect_output "problem +\[CallManager-trust, §7\]" "diagnose: a problem, citing §7"
expect_output "moved from another cluster" "diagnose names the cluster move"
expect_output "non-secure profile, delete the LSC \(opencapf phone op $X delete\)" "fix 1: delete via a non-secure profile"
expect_output "register with the MIC" "fix 2: register with the MIC"
expect_output "Invalid LSC" "diagnose: lsc-first authentication would fail with Invalid LSC"
expect_output "last registration check .* presented lsc, refused, alert unknown CA" "diagnose reports the last registration"
oc diagnose $X --json >"$TEST_TMP/last.out"
json_check "diagnose --json: presents LSC, CallManager-trust refuses with unknown CA" \
	'd["presents"]=="LSC" and [t for t in d["trust"] if t["store"]=="CallManager-trust"][0]["reason"]=="unknown CA"'
json_check "diagnose --json: the problem carries the §7 fix" \
	'any(f["level"]=="problem" and f["ref"]=="§7" and "delete" in f["fix"] for f in d["findings"]) and d["problems"]>=2'
expect_exit 3 "diagnose --cert on the LSC file" oc diagnose --cert "$TEST_TMP/$X/lsc.crt"
expect_output "moved from another cluster" "diagnose --cert names the cluster move too"

# the fix: delete the LSC, then the MIC registers (§8's quick test)
oc phone set $X --auth null >/dev/null; oc phone op $X delete >/dev/null
expect_exit 0 "CAPF deletes the old LSC" "$PHONESIM" capf "$TEST_TMP/$X" "$CAPF"
[ ! -e "$TEST_TMP/$X/lsc.crt" ] && ok "the phone holds no LSC now" || not_ok "LSC still on the phone"
expect_exit 0 "after deleting the LSC the MIC registers" register $X --tls-max 1.2
expect_output "PXY_NO_LSC: No LSC for \[SCCP\], will try MIC" "console: no LSC, will try MIC"
expect_output "cert \[MIC\]" "console: cert [MIC]"
equal "register log: mic accepted" "$(last_reg $X cert_kind) $(last_reg $X result)" "mic accepted"
oc diagnose $X >"$TEST_TMP/last.out"
expect_output "^Phone $X presents its MIC" "diagnose: now the MIC"
expect_output "CallManager-trust +accepts" "diagnose: CallManager-trust accepts the MIC"

# --- trust changes take effect on the next connection
check "the CAPF certificate leaves CallManager-trust" oc trust remove CallManager-trust "$TEST_TMP/capf.pem" --force
expect_exit 2 "without the CAPF certificate in CallManager-trust, our own LSC is refused" register $P --tls-max 1.2
expect_output "\[unknown CA\]" "console: unknown CA"
expect_exit 3 "diagnose sees it" oc diagnose $P
expect_output "add the current CAPF certificate to CallManager-trust" "diagnose: fix is to add the CAPF certificate back"
oc trust add CallManager-trust "$TEST_TMP/capf.pem" >/dev/null
expect_exit 0 "with the CAPF certificate back, the LSC registers again" register $P --tls-max 1.2
expect_exit 0 "diagnose: nothing wrong" oc diagnose $P

# --- more of what diagnose checks
D=SEP0000000A0004; new_phone $D; oc phone add $D >/dev/null
oc phone op $D install --by "2020-01-01 00:00" >/dev/null 2>&1
oc diagnose $D >"$TEST_TMP/last.out"
expect_output "problem +\[deadline" "diagnose: a passed deadline is a problem"
expect_output "User Initiated Request Late/Timeout" "diagnose: names the vendor status"
expect_output "no certificate of this phone on record" "diagnose: no certificate on record yet"
expect_output "opencapf phone op $D troubleshoot" "diagnose: fix is a Troubleshoot"
expect_exit 3 "unknown phone: a problem" oc diagnose SEP0000000AFFFF
expect_output "not configured in this state" "diagnose: says the phone is not configured"
expect_exit 2 "diagnose without a name is a usage error" oc diagnose
expect_exit 1 "diagnose --cert with a missing file" oc diagnose --cert "$TEST_TMP/nope.pem"
oc register log --json >"$TEST_TMP/last.out"
json_check "register log --json lists every connection, newest first" \
	'len(d)>=8 and d[0]["id"]>d[-1]["id"] and {"lsc","mic"} <= {r["cert_kind"] for r in d}'
oc register log >"$TEST_TMP/last.out"
expect_output "refused +unknown CA" "register log (text) shows refusals with their alert"

# --- a client without a certificate, and garbage, do not stop the service
echo | timeout 10 openssl s_client -connect "$REG" -tls1_2 >/dev/null 2>&1
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$REG_PORT" 2>/dev/null
sleep 0.3
oc register log --limit 2 --json >"$TEST_TMP/last.out"
json_check "no client certificate: recorded as none, refused" \
	'any(r["cert_kind"]=="none" and r["result"]=="refused" for r in d)'
expect_exit 0 "the service still registers phones" register $P --tls-max 1.2
stop_daemon

finish
