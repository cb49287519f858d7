#!/usr/bin/env bash
# itl_tvs.sh: ITL/CTL files and the Trust Verification Service end to end:
# the ITL init publishes, `itl show` on ours, the golden files and broken
# ones, build options, the SAST signer (create, import), CTLs, TVS over real
# TLS from the daemon (known, unknown, several requests on one connection,
# live changes, the certificate it presents), and phones that use an ITL:
# enrolling, "No valid CAPF server", "LSC: Connection failed", refusing a
# tampered or foreign ITL, asking TVS; the ITL rebuilt when a service
# certificate changes, into the folder the daemon is given.
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
: "${VECTORS:?VECTORS must name tests/vectors}"

S="$TEST_TMP/state"
O() { "$OPENCAPF" --state "$S" "$@"; }
O init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
ITL="$S/tftp/ITLFile.tlv"
sha1_spaced() { openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/:/ /g'; }
sha256_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
O capf cert >"$TEST_TMP/capf.pem"
O tvs cert >"$TEST_TMP/tvs.pem"

# --- the ITL init published
[ -s "$ITL" ] && ok "init publishes DIR/tftp/ITLFile.tlv" || not_ok "no ITL after init"
check "our ITL verifies" "$OPENCAPF" itl show "$ITL"
expect_output "^The ITL file was verified successfully\.$" "itl show ends with the vendor's success line"
equal "the success line is the last line" "$(tail -1 "$TEST_TMP/last.out")" "The ITL file was verified successfully."
expect_output "^BYTEPOS TAG              LENGTH  VALUE$" "vendor column header"
expect_output "^-------  ---              ------  -----$" "vendor column rule"
expect_output "^4        FUNCTION         2       System Administrator Security Token$" "SAST record"
for role in CAPF TVS TFTP; do
	expect_output "^4        FUNCTION         2       $role$" "$role record"
done
expect_output "^This etoken was used to sign the ITL file\.$" "the SAST record says it signed the file"
expect_output "^3        SUBJECTNAME      [0-9]+ +CN=CAPF-[0-9a-f]{8};OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ$" \
	"vendor name form (CN first, ';')"
expect_output "^9        CERTIFICATE      [0-9]+ +$(sha1_spaced "$TEST_TMP/capf.pem") \(SHA1 Hash HEX\)$" \
	"the CAPF record holds the CAPF certificate"
expect_output "$(sha1_spaced "$TEST_TMP/tvs.pem") \(SHA1 Hash HEX\)" "the TVS record holds the TVS certificate"
expect_output "^8        HASHALGORITHM    1       SHA1$" "SHA-1 signature by default"
expect_output "^28       SIGNERVERSION    2       1\.0$" "signer version 1.0 by default"

# --- the golden files of another implementation
for f in ITLFile-sha1.tlv ITLFile-sha512.tlv; do
	check "$f verifies" "$OPENCAPF" itl show "$VECTORS/$f"
	expect_output "^3        SUBJECTNAME      67      CN=ITLRECOVERY_example,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ$" \
		"$f: RFC 4514 names read as they are"
	expect_output "^4        FUNCTION         2       TVS$" "$f: TVS record"
done

# --- broken files give the reason
# set_byte FILE OFFSET VALUE (decimal)
set_byte() { printf "\\$(printf %03o "$3")" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }
head -c 5000 "$VECTORS/ITLFile-sha1.tlv" >"$TEST_TMP/trunc.tlv"
expect_exit 1 "truncated ITL does not verify" "$OPENCAPF" itl show "$TEST_TMP/trunc.tlv"
expect_output "^Verification of the ITL file failed: truncated record at byte 3840" "truncated: says where"
cp "$VECTORS/ITLFile-sha1.tlv" "$TEST_TMP/tampered.tlv"
flip_byte "$TEST_TMP/tampered.tlv" 3000
expect_exit 1 "tampered ITL does not verify" "$OPENCAPF" itl show "$TEST_TMP/tampered.tlv"
expect_output "^Verification of the ITL file failed: bad signature" "tampered: bad signature"
expect_output "^This etoken was not used to sign the ITL file\.$" "tampered: the SAST record did not sign it"
cp "$VECTORS/ITLFile-sha1.tlv" "$TEST_TMP/unknown-tag.tlv"
set_byte "$TEST_TMP/unknown-tag.tlv" 2241 42
expect_exit 1 "unknown tag: not accepted" "$OPENCAPF" itl show "$TEST_TMP/unknown-tag.tlv"
expect_output "failed: unknown tag 0x2a at byte 2241 in record 2" "unknown tag: says which and where"
cp "$VECTORS/ITLFile-sha1.tlv" "$TEST_TMP/serial.tlv"
set_byte "$TEST_TMP/serial.tlv" 161 99
expect_exit 1 "header serial of no SAST record" "$OPENCAPF" itl show "$TEST_TMP/serial.tlv"
expect_output "failed: no SAST record matches the header's signer serial number 63:4B:B2" "no SAST record: says so"
expect_exit 1 "a file that is not an ITL" "$OPENCAPF" itl show "$TEST_TMP/capf.pem"
expect_output "^Verification of the ITL file failed: " "not an ITL: a reason"

# --- build options
check "itl build: 1.1, SHA-512, RFC 4514" O itl build --out "$TEST_TMP/b1.tlv" --version 1.1 --digest sha512 \
	--name-format rfc4514
check "the 1.1 / SHA-512 file verifies" "$OPENCAPF" itl show "$TEST_TMP/b1.tlv"
expect_output "^28       SIGNERVERSION    2       1\.1$" "signer version 1.1"
expect_output "^8        HASHALGORITHM    1       SHA512$" "SHA-512"
expect_output "SUBJECTNAME +[0-9]+ +CN=CAPF-[0-9a-f]{8},OU=Voice,O=Example," "RFC 4514 names"
check "itl build --hash-only" O itl build --out "$TEST_TMP/hash.tlv" --hash-only
check "hash-only file verifies" "$OPENCAPF" itl show "$TEST_TMP/hash.tlv"
expect_output "^11       CERTHASH         20      $(sha1_spaced "$TEST_TMP/capf.pem")$" "CAPF record carries only the hash"
expect_output "^12       HASH ALGORITHM   1       SHA1$" "hash algorithm element"
expect_exit 2 "unknown digest refused" O itl build --out "$TEST_TMP/x.tlv" --digest md5
expect_exit 2 "--out is required" O itl build
check "ctl build with a CCM certificate" O ctl build --out "$TEST_TMP/CTLFile.tlv" --ccm "$VECTORS/keys/capf.crt"
check "ctl show verifies" "$OPENCAPF" ctl show "$TEST_TMP/CTLFile.tlv"
expect_output "^CTL Record #:4$" "CTL: four records"
expect_output "^4        FUNCTION         2       CCM$" "CTL: CCM record"
expect_output "^14       FILENAME         12      CTLFile\.tlv$" "CTL: file name"
expect_output "^The CTL file was verified successfully\.$" "CTL: verified"

# --- the SAST signer: import the vectors' key into another state
S3="$TEST_TMP/state3"
"$OPENCAPF" --state "$S3" init >/dev/null
expect_exit 1 "signer import: a key of another certificate is refused" \
	"$OPENCAPF" --state "$S3" itl signer import "$VECTORS/keys/sast.crt" "$VECTORS/keys/capf.key"
expect_output "does not belong" "signer import: says why"
check "signer import" "$OPENCAPF" --state "$S3" itl signer import "$VECTORS/keys/sast.crt" "$VECTORS/keys/sast.key"
check "the ITL is signed by the imported key" "$OPENCAPF" itl show "$S3/tftp/ITLFile.tlv"
expect_output "^4        SIGNERNAME       [0-9]+ +CN=ITLRECOVERY_example;OU=Voice;" "header names the imported signer"
expect_output "^5        SERIALNUMBER     20      62:4B:B2:A1" "header has the imported serial"
expect_output "^The ITL file was verified successfully\.$" "imported signer: verified"

# --- TVS entries
O tvs list >"$TEST_TMP/last.out"
expect_output "^3 certificates known to TVS$" "TVS knows the CAPF, TVS and TFTP certificates from init on"
expect_output "^  roles    SAST,TFTP$" "the signer with roles SAST and TFTP"
expect_output "^$(sha256_of "$TEST_TMP/capf.pem")$" "the CAPF certificate by its SHA-256"
check "tvs add with roles and TTL" O tvs add "$VECTORS/keys/capf.crt" --role CCM --role CAPF --ttl 86400
expect_output "^added CN=CAPF-0a1b2c3d,.*: roles CCM,CAPF, TTL 86400$" "tvs add reports roles and TTL"
expect_exit 2 "tvs add: unknown role" O tvs add "$VECTORS/keys/mfg.crt" --role BOSS
expect_exit 2 "tvs add: a role is required" O tvs add "$VECTORS/keys/mfg.crt"

# --- the daemon serves TVS
TVS_PORT=$(free_port)
start_daemon "$S" --tvs-listen "127.0.0.1:$TVS_PORT" || exit 1
wait_port "$TVS_PORT" || { not_ok "TVS port not open"; cat "$DAEMON_LOG"; }
TVS="127.0.0.1:$TVS_PORT"
CAPF="127.0.0.1:$CAPF_PORT"
grep -q "TVS listening on 127.0.0.1:$TVS_PORT" "$DAEMON_LOG" && ok "daemon logs the TVS listener" \
	|| not_ok "no TVS listener line"
openssl s_client -connect "$TVS" </dev/null 2>/dev/null | openssl x509 >"$TEST_TMP/presented.pem" 2>/dev/null
equal "tvs cert prints the certificate the listener presents" "$(sha256_of "$TEST_TMP/presented.pem")" \
	"$(sha256_of "$TEST_TMP/tvs.pem")"

new_phone() { "$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null; }
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
P1=SEP0000000A0001; new_phone $P1
expect_exit 3 "phonesim tvs without an ITL: no TVS certificate to trust" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" \
	"$VECTORS/keys/capf.crt"
check "phone installs our ITL" "$PHONESIM" itl "$TEST_TMP/$P1" "$ITL"
expect_output "^ITL: Installed \(4 records\)$" "phone console: ITL installed"

expect_exit 0 "TVS: known certificate" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" "$VECTORS/keys/capf.crt"
expect_output "^Subject Name:     CN=CAPF-0a1b2c3d,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ$" "TVS: subject line"
expect_output "^Serial Number:    12745ed7664723f7f3e5631390e709fb8a5619e9$" "TVS: serial line"
expect_output "^Certificate Hash: 31111989e1eb3ae2db70356077b8e3515d763d196e0d7098baf26c33686d5f19$" "TVS: hash line"
expect_output "^Status:           Valid$" "TVS: valid"
expect_output "^Role:             CCM$" "TVS: role CCM"
expect_output "^Role:             CAPF$" "TVS: role CAPF"
expect_output "^TTL:              86400 seconds$" "TVS: TTL"
expect_exit 2 "TVS: unknown certificate" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" "$VECTORS/keys/mfg.crt"
expect_output "^Status:           Invalid$" "TVS: invalid"
expect_no_output "^Role:" "TVS: no roles for an unknown certificate"
expect_exit 0 "TVS: our own CAPF certificate, with the default TTL" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" \
	"$TEST_TMP/capf.pem"
expect_output "^Role:             CAPF$" "TVS: our CAPF certificate has role CAPF"
expect_output "^TTL:              86400 seconds$" "TVS: default TTL"
expect_exit 2 "TVS: three requests on one connection" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" \
	"$VECTORS/keys/capf.crt" "$VECTORS/keys/mfg.crt" "$TEST_TMP/tvs.pem"
equal "three answers" "$(grep -c '^Status:' "$TEST_TMP/last.out")" 3
grep -q "tvs: peer=127.0.0.1 device=CP-7962-$P1 session=3 sha256=$(sha256_of "$TEST_TMP/tvs.pem") result=valid roles=TVS" \
	"$DAEMON_LOG" && ok "daemon logs each answer" || not_ok "no TVS log line for session 3"
check "tvs remove" O tvs remove "$VECTORS/keys/capf.crt"
expect_exit 2 "TVS: a removed certificate is invalid at once" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" \
	"$VECTORS/keys/capf.crt"
expect_output "^Status:           Invalid$" "TVS: invalid after remove"
printf 'garbage that is no TVS message' | openssl s_client -connect "$TVS" -quiet >/dev/null 2>&1
expect_exit 0 "TVS keeps serving after a bad message" "$PHONESIM" tvs "$TEST_TMP/$P1" "$TVS" "$TEST_TMP/capf.pem"

# --- phones with an ITL and CAPF
op() { O phone op "$@" >/dev/null; }
add() { O phone add "$@" >/dev/null; }
add $P1; op $P1 install
expect_exit 0 "a phone with only our ITL enrolls" "$PHONESIM" capf "$TEST_TMP/$P1" "$CAPF" --timeout 20
expect_output "LSC: Installed" "ITL phone: LSC: Installed"

P2=SEP0000000A0002; new_phone $P2; add $P2; op $P2 install
O itl build --out "$TEST_TMP/nocapf.tlv" --omit CAPF >/dev/null
check "phone installs an ITL without a CAPF record" "$PHONESIM" itl "$TEST_TMP/$P2" "$TEST_TMP/nocapf.tlv"
"$PHONESIM" trust "$TEST_TMP/$P2" "$TEST_TMP/capf.pem" >/dev/null
expect_exit 3 "ITL without CAPF: no session" "$PHONESIM" capf "$TEST_TMP/$P2" "$CAPF" --timeout 20
expect_output "^No valid CAPF server$" "phone shows No valid CAPF server"

S2="$TEST_TMP/other-cluster"
"$OPENCAPF" --state "$S2" init >/dev/null
P3=SEP0000000A0003; new_phone $P3; add $P3; op $P3 install
check "phone installs another cluster's ITL" "$PHONESIM" itl "$TEST_TMP/$P3" "$S2/tftp/ITLFile.tlv"
expect_exit 3 "ITL whose CAPF certificate is not the server's" "$PHONESIM" capf "$TEST_TMP/$P3" "$CAPF" --timeout 20
expect_output "^LSC: Connection failed$" "phone shows LSC: Connection failed"
expect_output "not the CAPF certificate in the ITL" "the result says why"
expect_exit 3 "TVS of another cluster is not trusted either" "$PHONESIM" tvs "$TEST_TMP/$P3" "$TVS" "$TEST_TMP/capf.pem"
expect_output "TVS: Connection failed" "phone shows TVS: Connection failed"
expect_exit 1 "a phone refuses an ITL from another signer" "$PHONESIM" itl "$TEST_TMP/$P3" "$ITL"
expect_output "signed by a SAST the installed ITL does not list" "foreign signer: says why"
check "--replace erases the old ITL first" "$PHONESIM" itl "$TEST_TMP/$P3" "$ITL" --replace
expect_exit 0 "now the phone enrolls" "$PHONESIM" capf "$TEST_TMP/$P3" "$CAPF" --timeout 20

P4=SEP0000000A0004; new_phone $P4; add $P4; op $P4 install
check "phone installs a hash-only ITL" "$PHONESIM" itl "$TEST_TMP/$P4" "$TEST_TMP/hash.tlv"
expect_output "CAPF CN=CAPF-.* \(hash only\)" "the phone sees a hash-only CAPF record"
expect_exit 0 "a phone with a hash-only CAPF record enrolls" "$PHONESIM" capf "$TEST_TMP/$P4" "$CAPF" --timeout 20
expect_exit 0 "TVS with a hash-only TVS record" "$PHONESIM" tvs "$TEST_TMP/$P4" "$TVS" "$TEST_TMP/capf.pem"

P5=SEP0000000A0005; new_phone $P5
cp "$ITL" "$TEST_TMP/ours-tampered.tlv"
flip_byte "$TEST_TMP/ours-tampered.tlv" 1000
expect_exit 1 "phonesim refuses a tampered ITL" "$PHONESIM" itl "$TEST_TMP/$P5" "$TEST_TMP/ours-tampered.tlv"
expect_output "^Trust List Update Failed$" "phone console: Trust List Update Failed"
expect_output "result: ITL refused: bad signature" "the result says bad signature"
[ ! -e "$TEST_TMP/$P5/ITLFile.tlv" ] && ok "a refused ITL is not kept" || not_ok "refused ITL was stored"
expect_exit 1 "phonesim refuses a truncated ITL" "$PHONESIM" itl "$TEST_TMP/$P5" "$TEST_TMP/trunc.tlv"
cp "$ITL" "$TEST_TMP/$P5/ITLFile.tlv"
flip_byte "$TEST_TMP/$P5/ITLFile.tlv" 1000
add $P5; op $P5 install
expect_exit 3 "an ITL changed on the phone's disk is not used" "$PHONESIM" capf "$TEST_TMP/$P5" "$CAPF" --timeout 20
expect_output "does not verify" "changed ITL: says why"

# --- the ITL follows the service certificates, into the folder the daemon is given
before=$(sha1sum <"$ITL")
O tvs cert --renew >"$TEST_TMP/tvs2.pem"
[ "$(sha1sum <"$ITL")" != "$before" ] && ok "a new TVS certificate rebuilds the ITL" || not_ok "ITL unchanged after tvs cert --renew"
"$OPENCAPF" itl show "$ITL" >"$TEST_TMP/last.out"
expect_output "$(sha1_spaced "$TEST_TMP/tvs2.pem") \(SHA1 Hash HEX\)" "the rebuilt ITL has the new TVS certificate"
expect_output "^The ITL file was verified successfully\.$" "the rebuilt ITL verifies"
O tvs list >"$TEST_TMP/last.out"
expect_output "^$(sha256_of "$TEST_TMP/tvs2.pem")$" "TVS knows the new TVS certificate"
O itl signer show >"$TEST_TMP/last.out"
old_signer=$(sed -n 's/.*serial \([0-9a-f]*\),.*/\1/p' "$TEST_TMP/last.out")
check "itl signer create" O itl signer create
new_signer=$(O itl signer show | sed -n 's/.*serial \([0-9a-f]*\),.*/\1/p')
[ -n "$new_signer" ] && [ "$new_signer" != "$old_signer" ] && ok "a new signer" || not_ok "signer unchanged"
"$OPENCAPF" itl show "$ITL" >"$TEST_TMP/last.out"
expect_output "^The ITL file was verified successfully\.$" "ITL re-signed by the new signer verifies"
expect_exit 1 "a phone holding the old ITL refuses one from the new signer" "$PHONESIM" itl "$TEST_TMP/$P1" "$ITL"

stop_daemon
WWW="$TEST_TMP/www/phones"
start_daemon "$S" --tvs-listen off --tftp-dir "$WWW" || exit 1
check "the daemon publishes into --tftp-dir" "$OPENCAPF" itl show "$WWW/ITLFile.tlv"
grep -q "ITL published to $WWW/ITLFile.tlv" "$DAEMON_LOG" && ok "daemon logs where the ITL went" || not_ok "no ITL log line"
stop_daemon
rm -f "$WWW/ITLFile.tlv"
check "the CLI publishes into the remembered folder" O itl publish
expect_output "^ITL published to $WWW/ITLFile\.tlv$" "itl publish says where"
[ -s "$WWW/ITLFile.tlv" ] && ok "ITL in the remembered folder" || not_ok "no ITL in $WWW"
ls "$WWW" | grep -q tmp && not_ok "a temporary file was left behind" || ok "no temporary file left behind"

# --- a regenerated CAPF certificate (opencapf capf regenerate) rebuilds the ITL and is known to TVS
check "capf regenerate" O capf regenerate
O capf cert >"$TEST_TMP/capf-new.pem"
"$OPENCAPF" itl show "$WWW/ITLFile.tlv" >"$TEST_TMP/last.out"
expect_output "^9        CERTIFICATE      [0-9]+ +$(sha1_spaced "$TEST_TMP/capf-new.pem") \(SHA1 Hash HEX\)$" \
	"the rebuilt ITL carries the new CAPF certificate"
expect_no_output "$(sha1_spaced "$TEST_TMP/capf.pem")" "and not the old one"
expect_output "^The ITL file was verified successfully\.$" "the rebuilt ITL verifies"
O tvs list >"$TEST_TMP/last.out"
expect_output "^$(sha256_of "$TEST_TMP/capf-new.pem")$" "TVS knows the new CAPF certificate"

# --- ITL settings persist: every publish (manual or automatic) keeps them
O itl settings >"$TEST_TMP/last.out"
expect_output "^version +1.0$" "itl settings: version 1.0 by default"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/prov.key" \
	-out "$TEST_TMP/prov.pem" -days 365 -subj /CN=prov.example >/dev/null 2>&1
prov_fp=$(sha256_of "$TEST_TMP/prov.pem")
expect_exit 0 "itl settings --version 1.1 --add TFTP:CERT" O itl settings --version 1.1 --add "TFTP:$TEST_TMP/prov.pem"
expect_output "ITL published with these settings" "the change publishes the ITL"
itl_now() { O itl show "$(O itl publish | sed -n 's/^ITL published to //p')"; }
itl_now >"$TEST_TMP/last.out"
expect_output "SIGNERVERSION +2 +1\.1" "the published ITL is signer version 1.1"
expect_output "CN=prov.example" "and holds the extra TFTP record"
O capf regenerate --key ec:p256 >/dev/null 2>&1
itl_now >"$TEST_TMP/last.out"
expect_output "SIGNERVERSION +2 +1\.1" "after a CAPF regenerate (an automatic publish) the ITL is still 1.1"
expect_output "CN=prov.example" "and still holds the extra record"
expect_output "^The ITL file was verified successfully\.$" "and verifies"
equal "the change is audited" "$(sqlite3 "$S/opencapf.db" "SELECT count(*) FROM audit_log WHERE action='itl.settings'")" 1
expect_exit 2 "a bad version is refused" O itl settings --version 2.0
expect_output "version '2.0': expected 1.0 or 1.1" "naming the value"
expect_exit 1 "removing an unknown record is refused" O itl settings --remove deadbeefdeadbeef
expect_exit 0 "itl settings --remove FINGERPRINT --version 1.0" O itl settings --remove "${prov_fp:0:16}" --version 1.0
itl_now >"$TEST_TMP/last.out"
expect_no_output "CN=prov.example" "the record is gone from the ITL"
expect_output "SIGNERVERSION +2 +1\.0" "and the version is back to 1.0"

finish
