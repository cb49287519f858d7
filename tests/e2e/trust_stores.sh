#!/usr/bin/env bash
# trust_stores.sh: `opencapf trust list|show|add|remove|export` on a state a
# running daemon filled with real phones (LSCs installed over TLS, MICs
# presented by phones authenticating with them):
#  - add: PEM, DER, bundles; show: fingerprints (checked with openssl) and
#    how many phones' LSCs and MICs chain to each certificate;
#  - guarded remove: refused with the count and the phone names while phones
#    depend on a certificate, and for the current CAPF certificate; --force
#    removes it, the audit log says it was forced, and the phones really
#    lose: a MIC-authenticated session now fails "Invalid MIC";
#  - export: PEM bundle and c_rehash directory that `openssl verify` accepts
#    for an LSC (and rejects for another cluster's), server formats with
#    their configuration lines, atomic replacement of an earlier export.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
trap 'exit 143' TERM INT HUP

S="$TEST_TMP/state"
"$OPENCAPF" --state "$S" init --subject "O=Example,OU=Voice,C=NZ" >/dev/null
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf.pem"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg2" --subject "CN=Second Manufacturing CA,O=Vendor" >/dev/null
oc() { "$OPENCAPF" --state "$S" "$@"; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }

# --- help and usage errors
for c in list show add remove export; do
	expect_exit 0 "trust $c --help" "$OPENCAPF" trust $c --help
	expect_output "^usage: opencapf trust $c" "trust $c --help prints its usage"
done
expect_exit 2 "trust remove without arguments is a usage error" oc trust remove
expect_exit 2 "trust export --format xml is a usage error" oc trust export CAPF-trust --format xml
expect_exit 2 "trust export --format dir without --out is a usage error" oc trust export CAPF-trust --format dir
expect_exit 1 "trust export of an unknown store fails" oc trust export no-such-store
expect_exit 1 "trust remove of a fingerprint that is no hex fails" oc trust remove CAPF-trust xyz

# --- add: PEM, DER, bundle (the vendor publishes its manufacturing CAs as PEM or DER)
expect_exit 0 "add the test manufacturing CA (PEM)" oc trust add manufacturing "$TEST_TMP/mfg/mfg.crt"
expect_output "^added CN=" "add says what it added"
openssl x509 -in "$TEST_TMP/mfg2/mfg.crt" -outform DER -out "$TEST_TMP/mfg2.der"
expect_exit 0 "add a DER certificate" oc trust add manufacturing "$TEST_TMP/mfg2.der"
expect_exit 0 "adding it again is not an error" oc trust add manufacturing "$TEST_TMP/mfg2.der"
expect_output "already present" "add says it was already there"
cat "$TEST_TMP/mfg/mfg.crt" "$TEST_TMP/mfg2/mfg.crt" >"$TEST_TMP/bundle.pem"
expect_exit 0 "add a bundle" oc trust add 802.1x "$TEST_TMP/bundle.pem"
echo "not a certificate" >"$TEST_TMP/junk.pem"
expect_exit 1 "add of a file without certificates fails" oc trust add manufacturing "$TEST_TMP/junk.pem"
expect_exit 1 "add to an unknown store fails" oc trust add nowhere "$TEST_TMP/mfg/mfg.crt"
oc trust list >"$TEST_TMP/last.out"
expect_output "^manufacturing +2 certificates" "trust list counts the manufacturing store"
expect_output "^802\.1x +3 certificates" "trust list counts 802.1x (CAPF + bundle)"

# --- phones: LSCs installed, MICs presented
start_daemon "$S" || exit 1
CAPF="127.0.0.1:$CAPF_PORT"
new_phone() {
	"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/$2" >/dev/null &&
		"$PHONESIM" trust "$TEST_TMP/$1" "$TEST_TMP/capf.pem" >/dev/null &&
		oc phone add "$1" --auth "$3" >/dev/null && oc phone op "$1" install >/dev/null
}
session() { local p=$1; shift; "$PHONESIM" capf "$TEST_TMP/$p" "$CAPF" --timeout 20 "$@"; }
new_phone SEP00000000B001 mfg null
new_phone SEP00000000B002 mfg mic-first
new_phone SEP00000000B003 mfg mic-first
new_phone SEP00000000B004 mfg2 null
expect_exit 0 "B001 enrolls (null string)" session SEP00000000B001
expect_exit 0 "B002 enrolls authenticating with its MIC" session SEP00000000B002 --auth-cert mic-first
expect_exit 0 "B003 enrolls authenticating with its MIC" session SEP00000000B003 --auth-cert mic-first
expect_exit 0 "B004 enrolls (null string)" session SEP00000000B004

# --- show: fingerprints and usage counts
oc trust show CAPF-trust >"$TEST_TMP/last.out"
expect_output "sha1 +$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d : | tr A-F a-f)" \
	"show prints the SHA-1 fingerprint openssl computes"
expect_output "sha256 +$(fp "$TEST_TMP/capf.pem")" "show prints the SHA-256 fingerprint"
expect_output "valid +[0-9-]+ [0-9:]+ UTC to [0-9-]+ [0-9:]+ UTC" "show prints the validity"
expect_output "phones +4 LSCs, 0 MICs chain to it \(SEP00000000B001, SEP00000000B002, SEP00000000B003, SEP00000000B004\)" \
	"the CAPF certificate anchors the 4 LSCs"
oc trust show manufacturing >"$TEST_TMP/last.out"
expect_output "phones +0 LSCs, 2 MICs chain to it \(SEP00000000B002, SEP00000000B003\)" \
	"the manufacturing CA anchors the 2 MICs that were presented"
expect_output "phones +0 LSCs, 0 MICs chain to it$" "the second manufacturing CA anchors nothing"

# --- guarded remove
fp_mfg=$(fp "$TEST_TMP/mfg/mfg.crt")
db_before=$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM trust_certs")
expect_exit 1 "removing the manufacturing CA the MICs chain to is refused" oc trust remove manufacturing "$fp_mfg"
expect_output "anchors 2 phones \(0 LSCs, 2 MICs\): SEP00000000B002, SEP00000000B003" \
	"the refusal gives the count and the phone names"
expect_exit 1 "removing the current CAPF certificate is refused" oc trust remove CallManager-trust "$TEST_TMP/capf.pem"
expect_output "anchors 4 phones|current CAPF certificate" "the refusal says why"
expect_exit 1 "a fingerprint prefix that matches nothing fails" oc trust remove manufacturing 0000000000
equal "refusals change nothing" "$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM trust_certs")" "$db_before"
expect_exit 0 "an unused certificate is removed by a colon-separated prefix" \
	oc trust remove manufacturing "$(openssl x509 -in "$TEST_TMP/mfg2/mfg.crt" -noout -fingerprint -sha256 | cut -d= -f2 | cut -c1-23)"
expect_exit 0 "remove by FILE from 802.1x (a certificate no phone chains to)" \
	oc trust remove 802.1x "$TEST_TMP/mfg2/mfg.crt"
equal "audit: trust.remove" "$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='trust.remove'")" 2
expect_exit 0 "--force removes the manufacturing CA" oc trust remove manufacturing "${fp_mfg:0:12}" --force
expect_output "forced" "remove says it was forced"
equal "the audit log records the forced removal" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='trust.remove.forced' AND detail LIKE '%\"mic_phones\":2%'")" 1
oc phone op SEP00000000B002 install >/dev/null
expect_exit 2 "after the forced removal, MIC authentication fails" session SEP00000000B002 --auth-cert mic-first
equal "status Invalid MIC" "$(sqlite3 "$S/opencapf.db" "SELECT status FROM phones WHERE name='SEP00000000B002'")" \
	"Upgrade Failed: Invalid MIC"
stop_daemon

# --- export: PEM bundle
expect_exit 0 "export CallManager-trust as a PEM bundle" oc trust export CallManager-trust --out "$TEST_TMP/cm.pem"
equal "the bundle holds the store's certificates" "$(grep -c 'BEGIN CERTIFICATE' "$TEST_TMP/cm.pem")" \
	"$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM trust_certs WHERE store='CallManager-trust'")"
check "openssl verify accepts an LSC against the bundle" \
	openssl verify -CAfile "$TEST_TMP/cm.pem" "$TEST_TMP/SEP00000000B001/lsc.crt"
oc trust export 802.1x >"$TEST_TMP/stdout.pem"
equal "without --out the bundle goes to standard output" "$(grep -c 'BEGIN CERTIFICATE' "$TEST_TMP/stdout.pem")" 2
equal "the bundle file is 0644" "$(stat -c %a "$TEST_TMP/cm.pem")" 644

# --- export: hashed directory
D="$TEST_TMP/capath"
expect_exit 0 "export CAPF-trust as a hashed directory" oc trust export CAPF-trust --format dir --out "$D"
h=$(openssl x509 -in "$TEST_TMP/capf.pem" -noout -subject_hash)
[ -L "$D/$h.0" ] && ok "the directory links $h.0 (c_rehash layout)" || not_ok "no $h.0 link in $D"
check "openssl verify -CApath accepts an LSC" openssl verify -CApath "$D" "$TEST_TMP/SEP00000000B004/lsc.crt"
S2="$TEST_TMP/other"
"$OPENCAPF" --state "$S2" init >/dev/null
"$OPENCAPF" --state "$S2" capf cert >"$TEST_TMP/other-capf.pem"
openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -out "$TEST_TMP/stranger.pem" -days 1 \
	-subj "/CN=SEP00000000B009" >/dev/null 2>&1
openssl verify -CApath "$D" "$TEST_TMP/stranger.pem" >/dev/null 2>&1 && not_ok "CApath accepts a stranger" ||
	ok "openssl verify -CApath rejects a certificate from elsewhere"
oc trust add CAPF-trust "$TEST_TMP/other-capf.pem" >/dev/null
expect_exit 0 "a second export replaces the first" oc trust export CAPF-trust --format dir --out "$D"
equal "the replaced directory holds both certificates" "$(ls "$D"/*.pem | grep -v -e ca.pem -e crl.pem -e ca-crl.pem | grep -c .)" 2
equal "and the CRL of the CAPF certificate (a HASH.r0 link)" "$(ls "$D"/*.r0 | grep -c .)" 1
check "CApath still verifies after the replacement" openssl verify -CApath "$D" "$TEST_TMP/SEP00000000B001/lsc.crt"
mkdir -p "$TEST_TMP/precious" && echo keep >"$TEST_TMP/precious/file"
expect_exit 1 "export refuses to replace a folder that is not an export" \
	oc trust export CAPF-trust --format dir --out "$TEST_TMP/precious"
equal "the foreign folder is untouched" "$(cat "$TEST_TMP/precious/file")" keep
ls -a "$TEST_TMP" | grep -q '\.capath\.export-' && not_ok "a temporary export folder was left behind" ||
	ok "no temporary folder left behind"

# --- export: server formats print their configuration lines
F="$TEST_TMP/fr"
oc trust export 802.1x --format freeradius --out "$F" >"$TEST_TMP/last.out" 2>&1
equal "freeradius export exits 0" "$?" 0
expect_output "^ca_file = \"$F/ca-crl.pem\"" "the FreeRADIUS lines name the bundle with the CRL"
expect_output "^ca_path = \"$F\"" "the FreeRADIUS lines name the hashed folder"
expect_output "^check_cert_cn = %\{User-Name\}" "the FreeRADIUS lines tie the identity to the CN"
oc trust export phone-vpn-trust --format ocserv --out "$TEST_TMP/oc" >"$TEST_TMP/last.out" 2>&1
expect_output "^ca-cert = $TEST_TMP/oc/ca.pem" "the ocserv lines name the bundle"
oc trust export CallManager-trust --format kamailio --out "$TEST_TMP/kam" >"$TEST_TMP/last.out" 2>&1
expect_output "^ca_list = $TEST_TMP/kam/ca.pem" "the Kamailio lines name the bundle"
check "the Kamailio bundle verifies an LSC" openssl verify -CAfile "$TEST_TMP/kam/ca.pem" "$TEST_TMP/SEP00000000B001/lsc.crt"

finish
