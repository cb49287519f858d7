#!/usr/bin/env bash
# capf_lifecycle.sh: the CAPF certificate's whole life against a running
# daemon, real TLS and emulated phones (phone-certificates.md §5, §6):
#  - `capf regenerate` while a slow phone is in the middle of its session:
#    that session completes with the certificate it started with (its LSC
#    verifies against the old CAPF certificate); the daemon switches without
#    a restart; a phone trusting only the new certificate enrolls, one
#    trusting only the old one gets "LSC: Connection failed";
#  - the previous certificate stays in the trust stores, its key on disk;
#  - rollover status counts, rollover schedule + re-enrollment, retire
#    refused then allowed; one previous certificate at a time;
#  - third-party CA: CSR -> `openssl x509 -req` with and without the CA
#    extensions -> import refused / accepted -> the daemon serves it -> a
#    new LSC verifies against the outside root; a CSR for a new key too.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
trap 'exit 143' TERM INT HUP

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf1.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
start_daemon "$S" --keygen-timeout 60 || exit 1
CAPF="127.0.0.1:$CAPF_PORT"

oc() { "$OPENCAPF" --state "$S" "$@"; }
# new_phone NAME CAPF_PEM: an emulated phone trusting CAPF_PEM, configured in the state.
new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "$2" >/dev/null && { oc phone show "$1" >/dev/null 2>&1 ||
		oc phone add "$1" >/dev/null; }
}
session() { local p=$1; shift; "$PHONESIM" capf "$TEST_TMP/$p" "$CAPF" --timeout 30 "$@"; }
enroll() { oc phone op "$1" install >/dev/null && session "$1"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }
verifies() { openssl verify -CAfile "$1" "$2" >/dev/null 2>&1; }
op_of() { sqlite3 "$S/opencapf.db" "SELECT operation FROM phones WHERE name='$1'"; }
rollover_json() { oc capf rollover status --json; }
phones_on() { # STATE_NAME: the number of phones listed for that CAPF certificate state
	rollover_json | python3 -c "import json,sys; d=json.load(sys.stdin); \
print(sum(len(c['phones']) for c in d['certificates'] if c['state']=='$1'))"
}
# wait_switch N: until the daemon has logged its Nth certificate switch (10 s at most).
wait_switch() {
	for _ in $(seq 1 100); do
		[ "$(grep -c "CAPF certificate changed" "$DAEMON_LOG")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- help for every new command
for c in regenerate csr import retire "rollover status" "rollover schedule"; do
	# shellcheck disable=SC2086
	expect_exit 0 "capf $c --help" "$OPENCAPF" capf $c --help
	expect_output "^usage: opencapf capf $c" "capf $c --help prints its usage"
done
expect_exit 2 "capf regenerate --key rsa:1024 is a usage error" oc capf regenerate --key rsa:1024
expect_exit 2 "capf regenerate with an argument is a usage error" oc capf regenerate now
expect_exit 1 "capf retire with no previous certificate fails" oc capf retire
expect_output "no previous CAPF certificate" "retire says there is nothing to retire"

# --- phones with LSCs from the first CAPF certificate
for p in SEP00000000A001 SEP00000000A002; do
	new_phone $p "$TEST_TMP/capf1.pem"
	expect_exit 0 "$p enrolls with the first CAPF certificate" enroll $p
done
itl_before=$(sha256sum "$S/tftp/ITLFile.tlv" 2>/dev/null | cut -d' ' -f1)

# --- regenerate while a slow phone is in its session
SLOW=SEP00000000A003
new_phone $SLOW "$TEST_TMP/capf1.pem"
oc phone op $SLOW install >/dev/null
session $SLOW --keygen-delay 6 >"$TEST_TMP/slow.out" 2>&1 &
SLOW_PID=$!
PIDS+=("$SLOW_PID")
sleep 1.5
oc capf regenerate >"$TEST_TMP/last.out" 2>&1
equal "capf regenerate while a phone is mid-session exits 0" "$?" 0
expect_output "CAPF certificate regenerated: CAPF-[0-9a-f]{8}" "regenerate names the new certificate"
expect_output "phones reset" "regenerate warns that phones will reset"
expect_output "2 phones hold LSCs issued by the previous CAPF certificate" \
	"regenerate says how many phones hold LSCs from the previous certificate"
expect_output "ITL rebuilt" "regenerate rebuilds the ITL"
itl_after=$(sha256sum "$S/tftp/ITLFile.tlv" 2>/dev/null | cut -d' ' -f1)
[ -n "$itl_after" ] && [ "$itl_after" != "$itl_before" ] && ok "ITLFile.tlv changed" || not_ok "ITLFile.tlv unchanged"
oc capf cert >"$TEST_TMP/capf2.pem"
[ "$(fp "$TEST_TMP/capf2.pem")" != "$(fp "$TEST_TMP/capf1.pem")" ] && ok "a new CAPF certificate is current" ||
	not_ok "capf cert still prints the first certificate"
check "the daemon switches to the new certificate without a restart" wait_switch 1
wait "$SLOW_PID"
equal "the slow phone's session completes" "$?" 0
cp "$TEST_TMP/slow.out" "$TEST_TMP/last.out"
expect_output "LSC: Installed" "the slow phone installs its LSC"
check "the slow phone's LSC is signed by the certificate its session started with" \
	verifies "$TEST_TMP/capf1.pem" "$TEST_TMP/$SLOW/lsc.crt"
verifies "$TEST_TMP/capf2.pem" "$TEST_TMP/$SLOW/lsc.crt" && not_ok "slow LSC verifies against the new CAPF" ||
	ok "the slow phone's LSC does not verify against the new certificate"
equal "the slow phone's LSC is recorded under the old certificate" \
	"$(sqlite3 "$S/opencapf.db" "SELECT issuer_sha256 FROM phone_certs WHERE phone='$SLOW' AND kind='lsc'")" \
	"$(fp "$TEST_TMP/capf1.pem")"

# --- new sessions use the new certificate
NEW=SEP00000000A004
new_phone $NEW "$TEST_TMP/capf2.pem"
expect_exit 0 "a phone trusting only the new CAPF certificate enrolls" enroll $NEW
check "its LSC verifies against the new CAPF certificate" verifies "$TEST_TMP/capf2.pem" "$TEST_TMP/$NEW/lsc.crt"
OLD=SEP00000000A005
new_phone $OLD "$TEST_TMP/capf1.pem"
oc phone op $OLD install >/dev/null
expect_exit 3 "a phone trusting only the old CAPF certificate cannot connect" session $OLD
expect_output "LSC: Connection failed" "it shows LSC: Connection failed"
grep -q "CAPF certificate changed from CAPF-.* to CAPF-" "$DAEMON_LOG" && ok "the daemon logs the switch" ||
	not_ok "no switch line in the daemon log"

# --- the previous certificate stays trusted; old keys stay
for t in CAPF-trust CallManager-trust phone-vpn-trust 802.1x; do
	oc trust show $t >"$TEST_TMP/last.out" 2>&1
	expect_output "sha256 +$(fp "$TEST_TMP/capf1.pem")" "$t still holds the previous CAPF certificate"
	expect_output "sha256 +$(fp "$TEST_TMP/capf2.pem")" "$t holds the new CAPF certificate"
done
expect_output "note +CAPF certificate \(previous\)" "the previous certificate is marked previous"
equal "the first key stays in keys/ (0600)" "$(stat -c %a "$S/keys/capf-1.key")" 600
equal "the new key is 0600" "$(stat -c %a "$S/keys/capf-2.key")" 600
oc capf show >"$TEST_TMP/last.out" 2>&1
expect_output "^Previous: +CAPF-.*3 phones" "capf show names the previous certificate and its phones"

# --- rollover status
equal "rollover status: 3 phones on the previous certificate" "$(phones_on previous)" 3
equal "rollover status: 1 phone on the current certificate" "$(phones_on current)" 1
oc capf rollover status >"$TEST_TMP/last.out" 2>&1
expect_output "^previous .*: 3 phones" "rollover status text counts the previous certificate's phones"
expect_output "^  $SLOW" "rollover status lists the phones"
expect_output "cannot be retired yet" "rollover status says the previous one cannot be retired"

# --- retire refused, rollover schedule, re-enrollment, retire
expect_exit 1 "capf retire is refused while phones hold LSCs of the previous certificate" oc capf retire
expect_output "SEP00000000A001, SEP00000000A002, SEP00000000A003" "the refusal names the phones"
oc phone op $OLD troubleshoot >/dev/null
oc phone op SEP00000000A002 delete >/dev/null
oc capf rollover schedule --dry-run >"$TEST_TMP/last.out" 2>&1
expect_output "would schedule SEP00000000A001" "dry run names a phone"
expect_output "skipped SEP00000000A002: Delete pending" "a phone with another pending operation is left alone"
equal "dry run changes nothing" "$(op_of SEP00000000A001)" none
oc phone op SEP00000000A002 none >/dev/null
expect_exit 0 "capf rollover schedule" oc capf rollover schedule --by "2099-01-01 00:00"
expect_output "^3 phones scheduled for Install/Upgrade" "rollover schedule schedules exactly the 3 phones"
equal "the phone on the current certificate is not scheduled" "$(op_of $NEW)" none
equal "a scheduled phone has Install pending" "$(op_of SEP00000000A001)" install
equal "one audit row per scheduled phone" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='phone.op' AND detail LIKE '%rollover%'")" 3
for p in SEP00000000A001 SEP00000000A002 $SLOW; do
	"$PHONESIM" trust "$TEST_TMP/$p" "$TEST_TMP/capf2.pem" >/dev/null   # the phone loaded the new ITL
	expect_exit 0 "$p re-enrolls with the new certificate" session $p
done
equal "rollover status: no phone left on the previous certificate" "$(phones_on previous)" 0
oc capf rollover status >"$TEST_TMP/last.out" 2>&1
expect_output "it can be retired" "rollover status says the previous certificate can be retired"
expect_exit 0 "capf retire once no phone depends on it" oc capf retire
expect_output "removed from 4 trust stores" "retire removes it from the 4 stores"
oc trust show CAPF-trust >"$TEST_TMP/last.out" 2>&1
expect_no_output "$(fp "$TEST_TMP/capf1.pem")" "the retired certificate left CAPF-trust"
equal "the retired certificate stays on record" \
	"$(sqlite3 "$S/opencapf.db" "SELECT state FROM capf_certs WHERE sha256='$(fp "$TEST_TMP/capf1.pem")'")" retired
[ -f "$S/keys/capf-1.key" ] && ok "the retired certificate's key stays on disk" || not_ok "capf-1.key deleted"
equal "audit: capf.retire" "$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='capf.retire'")" 1

# --- third-party CA: CSR, refused imports, import, served, LSC chains to the root
R="$TEST_TMP/root"
mkdir -p "$R"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$R/root.key" -out "$R/root.pem" -days 400 \
	-subj "/CN=Test Voice Root CA/O=Example" -addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
expect_exit 0 "capf csr for the current key" oc capf csr --out "$TEST_TMP/capf.csr"
expect_output "Advice: first run the whole feature with the self-signed CAPF certificate" "csr prints the advice"
check "the CSR is well signed" openssl req -in "$TEST_TMP/capf.csr" -noout -verify
openssl req -in "$TEST_TMP/capf.csr" -noout -text >"$TEST_TMP/last.out"
expect_output "CA:TRUE, pathlen:0" "the CSR asks for CA:TRUE, pathlen:0"
expect_output "Digital Signature, Certificate Sign" "the CSR asks for digitalSignature and keyCertSign"
expect_output "Subject: CN ?= ?CAPF-" "the CSR carries the CAPF subject"
sign() { # CSR OUT EXTENSIONS...: the root signs the CSR with these extensions
	local csr=$1 out=$2; shift 2
	printf '%s\n' "$@" >"$TEST_TMP/ext.cnf"
	openssl x509 -req -in "$csr" -CA "$R/root.pem" -CAkey "$R/root.key" -CAcreateserial -days 365 -sha256 \
		-extfile "$TEST_TMP/ext.cnf" -out "$out" >/dev/null 2>&1
}
sign "$TEST_TMP/capf.csr" "$TEST_TMP/noca.pem" "keyUsage=critical,digitalSignature,keyEncipherment"
expect_exit 1 "import of a certificate without CA:TRUE is refused" oc capf import "$TEST_TMP/noca.pem" --chain "$R/root.pem"
expect_output "basicConstraints CA:TRUE is missing" "the refusal says what is missing"
sign "$TEST_TMP/capf.csr" "$TEST_TMP/nopath.pem" "basicConstraints=critical,CA:TRUE" \
	"keyUsage=critical,digitalSignature,keyCertSign"
expect_exit 1 "import without pathlen:0 is refused" oc capf import "$TEST_TMP/nopath.pem" --chain "$R/root.pem"
sign "$TEST_TMP/capf.csr" "$TEST_TMP/nosign.pem" "basicConstraints=critical,CA:TRUE,pathlen:0" \
	"keyUsage=critical,digitalSignature"
expect_exit 1 "import without keyCertSign is refused" oc capf import "$TEST_TMP/nosign.pem" --chain "$R/root.pem"
expect_output "lacks keyCertSign" "the refusal names keyCertSign"
sign "$TEST_TMP/capf.csr" "$TEST_TMP/capf3.pem" "basicConstraints=critical,CA:TRUE,pathlen:0" \
	"keyUsage=critical,digitalSignature,keyCertSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
expect_exit 1 "import without the issuing chain is refused" oc capf import "$TEST_TMP/capf3.pem"
expect_output "--chain" "the refusal asks for --chain"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TEST_TMP/other.key" -out "$TEST_TMP/other.pem" -days 3 \
	-subj "/CN=CAPF-00000000" -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
	-addext "keyUsage=critical,digitalSignature,keyCertSign" >/dev/null 2>&1
expect_exit 1 "import of a certificate for another key is refused" oc capf import "$TEST_TMP/other.pem"
expect_output "not for a CAPF key" "the refusal says the key does not match"
equal "refused imports change nothing" "$(oc capf cert | fp /dev/stdin)" "$(fp "$TEST_TMP/capf2.pem")"
expect_exit 0 "import of the CA-signed certificate with its chain" \
	oc capf import "$TEST_TMP/capf3.pem" --chain "$R/root.pem"
expect_output "issued by CN=Test Voice Root CA" "import says who issued it"
for t in CAPF-trust CallManager-trust; do
	oc trust show $t >"$TEST_TMP/last.out" 2>&1
	expect_output "sha256 +$(fp "$R/root.pem")" "the issuing root is in $t"
done
check "the daemon switches to the imported certificate" wait_switch 2
T=SEP00000000A006
new_phone $T "$R/root.pem"
expect_exit 0 "a phone trusting only the outside root enrolls (the daemon serves the imported certificate)" enroll $T
check "the new LSC verifies against the outside root" \
	openssl verify -CAfile "$R/root.pem" -untrusted "$TEST_TMP/capf3.pem" "$TEST_TMP/$T/lsc.crt"
openssl x509 -in "$TEST_TMP/$T/lsc.crt" -noout -issuer >"$TEST_TMP/last.out"
expect_output "CN ?= ?CAPF-" "the LSC's issuer is the CAPF subject"

# --- a CSR for a new key; one previous certificate at a time
expect_exit 0 "capf csr --new-key" oc capf csr --new-key --out "$TEST_TMP/capf-new.csr"
equal "the new key is kept 0600" "$(stat -c %a "$S/keys/capf-3.key")" 600
grep -q "PRIVATE" "$TEST_TMP/capf-new.csr" "$TEST_TMP/last.out" && not_ok "a private key was printed" ||
	ok "no private key in the CSR or the output"
sign "$TEST_TMP/capf-new.csr" "$TEST_TMP/capf4.pem" "basicConstraints=critical,CA:TRUE,pathlen:0" \
	"keyUsage=critical,digitalSignature,keyCertSign" "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid"
expect_exit 1 "a second replacement is refused while phones depend on the previous certificate" \
	oc capf import "$TEST_TMP/capf4.pem" --chain "$R/root.pem"
expect_output "one previous CAPF certificate" "the refusal explains the one-previous rule"
cat "$TEST_TMP/capf4.pem" "$R/root.pem" >"$TEST_TMP/capf4-bundle.pem"
expect_exit 0 "with --force (chain given inside CERT)" oc capf import "$TEST_TMP/capf4-bundle.pem" --force
equal "the forced retirement is in the audit log" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='capf.retire.forced'")" 1
check "the daemon switches again" wait_switch 3
oc phone op $T install >/dev/null
expect_exit 0 "a phone re-enrolls under the new-key certificate" session $T
check "its LSC verifies against the root through the new-key certificate" \
	openssl verify -CAfile "$R/root.pem" -untrusted "$TEST_TMP/capf4.pem" "$TEST_TMP/$T/lsc.crt"
verifies "$TEST_TMP/capf3.pem" "$TEST_TMP/$T/lsc.crt" && not_ok "LSC still from the old key" ||
	ok "the LSC is no longer signed by the previous key"

# --- nothing secret in the audit log
sqlite3 "$S/opencapf.db" "SELECT detail FROM audit_log" | grep -q "PRIVATE KEY" &&
	not_ok "key material in the audit log" || ok "no key material in the audit log"

stop_daemon

# --- expiry: the daemon warns at start when the CAPF certificate has less than 30 days
S3="$TEST_TMP/short-lived"
"$OPENCAPF" --state "$S3" init --days 10 >/dev/null
start_daemon "$S3" || exit 1
grep -Eq "the CAPF certificate CAPF-[0-9a-f]{8} expires in (9|10) days" "$DAEMON_LOG" &&
	ok "the daemon warns at start that the CAPF certificate expires within 10 days" ||
	{ not_ok "no expiry warning at start"; tail -5 "$DAEMON_LOG"; }
"$OPENCAPF" --state "$S3" capf show >"$TEST_TMP/last.out" 2>&1
expect_output "expiring soon" "capf show warns too"
stop_daemon
start_daemon "$S" || exit 1
grep -q "expires in" "$DAEMON_LOG" && not_ok "expiry warning for a certificate valid for years" ||
	ok "no expiry warning for a certificate valid for years"
stop_daemon
finish
