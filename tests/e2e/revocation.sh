#!/usr/bin/env bash
# revocation.sh: what opencapfd publishes for certificate checkers, checked
# with the openssl command line as the independent reader:
#  - the CRL at /crl/NAME.crl (DER) and .pem verifies against the CAPF
#    certificate (`openssl crl -verify`) and lists a revoked LSC with its
#    reason and a superseded one; the daemon publishes it by itself after a
#    revocation made with the CLI;
#  - OCSP (`openssl ocsp`, POST, and a GET with the base64 request): good,
#    revoked with the reason, unknown for a serial never issued,
#    unauthorized for another issuer, the response signature verified and
#    the nonce echoed; malformed and oversized requests get clean answers
#    and the daemon keeps serving;
#  - the registration check refuses a revoked LSC (alert certificate
#    revoked on the phone's console, the reason in `register log`), and
#    `diagnose` says the phone's LSC was revoked;
#  - CAPF authentication by a revoked LSC (lsc-first) fails: Invalid LSC;
#  - a grace period for superseded LSCs (crl settings --superseded-grace):
#    OCSP says good during it, revoked after, and the CRL lists it then;
#  - crl settings --url: new LSCs carry the CRL distribution point and the
#    OCSP responder's URL;
#  - crash safety: opencapfd killed with SIGKILL right after an upgrade
#    publishes the superseded LSC's revocation when it starts again;
#  - a CAPF certificate without keyUsage cRLSign (imported) gets no CRL and
#    says why, and OCSP still answers for its LSCs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
. "$(dirname "$0")/servers_lib.sh"
need "curl:curl" "openssl:openssl"

S="$TEST_TMP/state"
new_state "$S" || { not_ok "opencapf init"; finish; exit; }
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
REG_PORT=$(free_port)
start_api_daemon "$S" --register-listen "127.0.0.1:$REG_PORT" || exit 1
PH="$TEST_TMP/phones"
mkdir -p "$PH"
P1=SEP00000000D001 P2=SEP00000000D002
for p in $P1 $P2; do new_phone "$PH/$p" $p "$S.capf.pem"; done
check "phone $P1 gets an LSC" enroll "$S" "$PH/$P1" $P1
check "phone $P2 gets an LSC" enroll "$S" "$PH/$P2" $P2
ID1=$(identity "$PH/$P1") OLD2=$(identity "$PH/$P2")
check "phone $P2 gets a new LSC (upgrade)" enroll "$S" "$PH/$P2" $P2
NEW2=$(identity "$PH/$P2")
check "opencapf phone revoke $P1" "$OPENCAPF" --state "$S" phone revoke $P1
serial() { openssl x509 -in "$1/cert.pem" -noout -serial | cut -d= -f2; }
CN=$(openssl x509 -in "$S.capf.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')

# wait_crl_lists SERIAL: until the served CRL lists it (15 s at most).
wait_crl_lists() {
	for _ in $(seq 1 30); do
		curl -s -m 5 -o "$TEST_TMP/served.crl" "$BASE/crl/$CN.crl" &&
			openssl crl -inform DER -in "$TEST_TMP/served.crl" -noout -text 2>/dev/null | grep -qi "Serial Number: $1" &&
			return 0
		sleep 0.5
	done
	return 1
}
check "opencapfd publishes the revocation by itself and serves the CRL at /crl/$CN.crl" wait_crl_lists "$(serial "$ID1")"
openssl crl -inform DER -in "$TEST_TMP/served.crl" -CAfile "$S.capf.pem" -noout -text >"$TEST_TMP/last.out" 2>&1
expect_output "verify OK" "openssl crl -verify accepts the served DER CRL"
expect_output "Key Compromise" "the CRL gives the revoked LSC's reason"
expect_output "Serial Number: $(serial "$OLD2")" "the CRL lists the superseded LSC"
expect_output "Superseded" "with reason superseded"
expect_output "X509v3 CRL Number" "the CRL has a CRL number"
curl -s -m 5 "$BASE/crl/$CN.pem" >"$TEST_TMP/served.pem"
openssl crl -in "$TEST_TMP/served.pem" -CAfile "$S.capf.pem" -noout >"$TEST_TMP/last.out" 2>&1
expect_output "verify OK" "openssl crl -verify accepts the served PEM CRL"
cmp -s "$TEST_TMP/served.pem" "$S/tftp/$CN.crl.pem" && ok "the CRL is in the TFTP folder as $CN.crl.pem" ||
	not_ok "no $CN.crl.pem in the TFTP folder"
equal "an unknown CRL name: 404" "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/crl/CAPF-00000000.crl")" 404
READ=$(new_token "$S" read)
curl -s -m 5 -H "Authorization: Bearer $READ" "$BASE/api/v1/crl" >"$TEST_TMP/last.out"
expect_output "\"name\": \"$CN\"" "GET /api/v1/crl lists the CRL of the CAPF certificate"
expect_output "\"der\": \"/crl/$CN.crl\"" "with its URL"
equal "GET /api/v1/crl needs a token" "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$BASE/api/v1/crl")" 401

# ocsp WHAT PATTERN ARGS...: openssl ocsp against the daemon; the output must match.
ocsp() {
	local what=$1 pat=$2; shift 2
	timeout 20 openssl ocsp -url "$BASE/ocsp" -CAfile "$S.capf.pem" "$@" >"$TEST_TMP/last.out" 2>&1
	if grep -Eq -- "$pat" "$TEST_TMP/last.out" && grep -q "Response verify OK" "$TEST_TMP/last.out" &&
		! grep -q "WARNING: no nonce" "$TEST_TMP/last.out"; then ok "$what"; else
		not_ok "$what"; sed 's/^/    /' "$TEST_TMP/last.out" | head -8; fi
}
ocsp "OCSP: the current LSC is good" ": good$" -issuer "$S.capf.pem" -cert "$NEW2/cert.pem"
ocsp "OCSP: the revoked LSC is revoked" ": revoked$" -issuer "$S.capf.pem" -cert "$ID1/cert.pem"
expect_output "Reason: keyCompromise" "OCSP gives the reason"
expect_output "Revocation Time:" "OCSP gives the revocation time"
ocsp "OCSP: the superseded LSC is revoked" ": revoked$" -issuer "$S.capf.pem" -cert "$OLD2/cert.pem"
expect_output "Reason: superseded" "OCSP gives the reason superseded"
ocsp "OCSP: a serial never issued is unknown" ": unknown$" -issuer "$S.capf.pem" -serial 0x1234
expect_output "Next Update:" "OCSP responses carry nextUpdate"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/other.key" -out "$TEST_TMP/other.pem" \
	-subj "/CN=Other CA" -days 2 >/dev/null 2>&1
timeout 20 openssl ocsp -url "$BASE/ocsp" -issuer "$TEST_TMP/other.pem" -serial 0x1234 >"$TEST_TMP/last.out" 2>&1
expect_output "unauthorized" "OCSP for another issuer: unauthorized"
openssl ocsp -issuer "$S.capf.pem" -cert "$ID1/cert.pem" -no_nonce -reqout "$TEST_TMP/req.der" >/dev/null 2>&1
b64=$(base64 -w0 "$TEST_TMP/req.der" | sed 's/+/%2B/g; s#/#%2F#g; s/=/%3D/g')
curl -s -m 5 -o "$TEST_TMP/get.der" "$BASE/ocsp/$b64"
openssl ocsp -respin "$TEST_TMP/get.der" -issuer "$S.capf.pem" -cert "$ID1/cert.pem" -CAfile "$S.capf.pem" \
	>"$TEST_TMP/last.out" 2>&1
expect_output ": revoked$" "OCSP over GET: revoked"
head -c 3000 /dev/urandom >"$TEST_TMP/junk"
curl -s -m 5 -o "$TEST_TMP/junk.der" --data-binary @"$TEST_TMP/junk" -H "Content-Type: application/ocsp-request" \
	"$BASE/ocsp"
openssl ocsp -respin "$TEST_TMP/junk.der" -noverify -resp_text >"$TEST_TMP/last.out" 2>&1
expect_output "malformedrequest" "a malformed OCSP request: malformedRequest"
head -c 3000000 /dev/zero >"$TEST_TMP/big"
equal "a 3 MB OCSP request: 413" "$(curl -s -m 10 -o /dev/null -w '%{http_code}' --data-binary @"$TEST_TMP/big" \
	-H "Content-Type: application/ocsp-request" "$BASE/ocsp")" 413
ocsp "the daemon still answers OCSP after bad requests" ": good$" -issuer "$S.capf.pem" -cert "$NEW2/cert.pem"

# --- the registration check and diagnose know revoked LSCs
"$PHONESIM" register "$PH/$P1" "127.0.0.1:$REG_PORT" --timeout 10 >"$TEST_TMP/last.out" 2>&1
expect_output "STATE_SSL3_ALERT: SSL3 Alert \[read\]:\[fatal\]:\[certificate revoked\]" \
	"the registration check refuses the revoked LSC: the phone's console shows a certificate revoked alert"
"$PHONESIM" register "$PH/$P2" "127.0.0.1:$REG_PORT" --timeout 10 >"$TEST_TMP/last.out" 2>&1
expect_output "PXY_CERT_CIPHER.*cert \[LSC\]" "the registration check accepts the other phone's current LSC"
"$OPENCAPF" --state "$S" register log $P1 >"$TEST_TMP/last.out" 2>&1
expect_output "revoked \(keyCompromise\)" "register log gives the revocation as the reason"
"$OPENCAPF" --state "$S" diagnose $P1 >"$TEST_TMP/last.out" 2>&1
expect_output "was revoked on .* \(keyCompromise\)" "diagnose says the phone's LSC was revoked"

# --- CAPF: a revoked LSC no longer authenticates the phone (lsc-first: Invalid LSC)
"$OPENCAPF" --state "$S" phone set $P1 --auth lsc-first >/dev/null
"$OPENCAPF" --state "$S" phone op $P1 install >/dev/null
"$PHONESIM" capf "$PH/$P1" "127.0.0.1:$CAPF_PORT" --timeout 20 >"$TEST_TMP/last.out" 2>&1
"$OPENCAPF" --state "$S" phone show $P1 >"$TEST_TMP/last.out" 2>&1
expect_output "Upgrade Failed: Invalid LSC" "lsc-first authentication with the revoked LSC fails: Invalid LSC"
expect_output "was revoked on" "the phone's history says the LSC was revoked"
"$OPENCAPF" --state "$S" phone op $P1 none >/dev/null

# --- crash safety: SIGKILL right after an upgrade, before the CRL timer runs
OLD2B=$NEW2
check "phone $P2 gets a third LSC" enroll "$S" "$PH/$P2" $P2
THIRD2=$(identity "$PH/$P2")
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
check "crl settings --url (LSCs issued from the next start on carry it)" \
	"$OPENCAPF" --state "$S" crl settings --url http://capf.example.net:8080
openssl crl -in "$S/tftp/$CN.crl.pem" -noout -text 2>/dev/null | grep -qi "Serial Number: $(serial "$OLD2B")" &&
	echo "# (the timer published before the kill; the restart check still runs)"
start_api_daemon "$S" || exit 1
check "after kill -9 and a restart, the superseded LSC is on the served CRL" wait_crl_lists "$(serial "$OLD2B")"

# --- a grace period for superseded LSCs
check "crl settings --superseded-grace 3" "$OPENCAPF" --state "$S" crl settings --superseded-grace 3
check "phone $P2 gets a fourth LSC" enroll "$S" "$PH/$P2" $P2
FOURTH2=$(identity "$PH/$P2")
openssl x509 -in "$FOURTH2/cert.pem" -noout -text >"$TEST_TMP/last.out"
expect_output "URI:http://capf.example.net:8080/crl/$CN.crl" "a new LSC names its CRL (CRL distribution point)"
expect_output "OCSP - URI:http://capf.example.net:8080/ocsp" "a new LSC names the OCSP responder (authority information access)"
ocsp "during the grace period the superseded LSC is still good" ": good$" -issuer "$S.capf.pem" -cert "$THIRD2/cert.pem"
sleep 4
ocsp "after the grace period it is revoked" ": revoked$" -issuer "$S.capf.pem" -cert "$THIRD2/cert.pem"
check "and opencapfd puts it on the CRL then" wait_crl_lists "$(serial "$THIRD2")"

# --- a CAPF certificate without cRLSign: no CRL, OCSP meanwhile
"$OPENCAPF" --state "$S" capf csr >"$TEST_TMP/capf.csr"
printf '%s\n' "basicConstraints = critical, CA:TRUE, pathlen:0" "keyUsage = critical, digitalSignature, keyCertSign" \
	"subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid" >"$TEST_TMP/capf.ext"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/root.key" -out "$TEST_TMP/root.pem" -subj "/CN=Outside Root" \
	-days 30 -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
openssl x509 -req -in "$TEST_TMP/capf.csr" -CA "$TEST_TMP/root.pem" -CAkey "$TEST_TMP/root.key" -set_serial 77 -days 300 \
	-extfile "$TEST_TMP/capf.ext" -out "$TEST_TMP/capf-old-style.pem" >/dev/null 2>&1
check "capf import of a certificate without cRLSign" \
	"$OPENCAPF" --state "$S" capf import "$TEST_TMP/capf-old-style.pem" --chain "$TEST_TMP/root.pem"
"$OPENCAPF" --state "$S" crl show >"$TEST_TMP/last.out" 2>&1
expect_output "lacks keyUsage cRLSign" "crl show says the imported certificate gets no CRL, and why"
# the imported certificate has the same name and key: a CertID names both; LSCs of the previous one still answer
ocsp "OCSP after the import: an LSC of the previous CAPF certificate is good" ": good$" \
	-issuer "$S.capf.pem" -cert "$FOURTH2/cert.pem"
ocsp "OCSP after the import: its superseded LSC is revoked" ": revoked$" -issuer "$S.capf.pem" -cert "$OLD2B/cert.pem"
# an ASan/UBSan build reports into the daemon's log
if grep -qE "ERROR: AddressSanitizer|runtime error:" "$TEST_TMP"/opencapfd.*.log 2>/dev/null; then
	not_ok "a sanitizer report in opencapfd's log"; grep -hE -A8 "ERROR: AddressSanitizer|runtime error:" "$TEST_TMP"/opencapfd.*.log | head -20
else
	ok "no sanitizer report in opencapfd's log"
fi
finish
