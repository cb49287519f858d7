#!/usr/bin/env bash
# boot.sh: `phonesim boot`, a phone with only its MIC and a server address
# booting against a real opencapfd serving the provisioning folder over
# TFTP and HTTP on loopback: it fetches the ITL (trusted on first use) and
# its signed configuration over TFTP when HTTP does not answer and over
# HTTP when it does, reads capfAuthMode and capfList, and enrolls by itself
# (null string mode, MIC-precedence mode); on its next boot, with the
# operation done, it does nothing more; set to encrypted configurations, it
# receives its .enc.sgn and decrypts it with its LSC. An unsigned or tampered
# configuration is refused with the phone's console line and nothing
# enrolled; an ITL without a CAPF record gives "No valid CAPF server";
# with an ITL of signer version 1.1 the configuration comes over HTTPS.
#
# Needs openssl: exit 77 without it.
set -u
for tool in openssl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
. "$(dirname "$0")/lib.sh"
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"

S=$TEST_TMP/state
D=$S/tftp
T=$S/templates
oc() { "$OPENCAPF" --state "$S" "$@"; }
check "init" oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ"
mkdir -p "$T"
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null || exit 1
check "the manufacturing CA is trusted (MIC-precedence mode)" oc trust add manufacturing "$TEST_TMP/mfg/mfg.crt"

# ---- usage ----
expect_exit 0 "boot --help" "$PHONESIM" boot --help
expect_output "usage: phonesim boot PHONEDIR SERVER" "the usage"
expect_exit 1 "boot without a server" "$PHONESIM" boot "$TEST_TMP/nophone"
expect_exit 1 "a port out of range" "$PHONESIM" boot "$TEST_TMP/nophone" 127.0.0.1 --http-port 70000
expect_exit 1 "a blksize out of range" "$PHONESIM" boot "$TEST_TMP/nophone" 127.0.0.1 --tftp-blksize 4
expect_exit 1 "SERVER with a port" "$PHONESIM" boot "$TEST_TMP/nophone" 127.0.0.1:69
expect_output "ports are options" "saying how to give one"
expect_exit 1 "no phone folder" "$PHONESIM" boot "$TEST_TMP/nophone" 127.0.0.1

# ---- the daemon: CAPF, TFTP and HTTP (and HTTPS) on loopback ports ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=files.example \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TEST_TMP/https.key" -out "$TEST_TMP/https.pem" >/dev/null 2>&1 ||
	{ echo "SKIP: openssl cannot make an EC certificate"; exit 77; }
TFTP_PORT=
for _ in 1 2 3 4 5; do
	TFTP_PORT=$(free_port)
	HTTP_PORT=$(free_port)
	HTTPS_PORT=$(free_port)
	start_daemon "$S" --tftp-listen "127.0.0.1:$TFTP_PORT" --http-files-listen "127.0.0.1:$HTTP_PORT" \
		--https-files-listen "127.0.0.1:$HTTPS_PORT" --https-files-cert "$TEST_TMP/https.pem" \
		--https-files-key "$TEST_TMP/https.key" || { TFTP_PORT=; continue; }
	if wait_port "$HTTP_PORT" && grep -q "TFTP listening on 127.0.0.1:$TFTP_PORT" "$DAEMON_LOG"; then break; fi
	kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
	TFTP_PORT=
done
[ -n "$TFTP_PORT" ] || { echo "cannot start the file service"; cat "$DAEMON_LOG"; exit 1; }
NO_PORT=$(free_port)   # nothing listens there: "HTTP off" from the phone's side
check "provision settings: the CAPF server" oc provision settings --capf-server "127.0.0.1:$CAPF_PORT"

# ---- phones: templates from "the PBX", operations pending ----
template() {
	cat >"$T/$1.cnf.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<device xsi:type="axl:XIPPhone">
  <fullConfig>true</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <loadInformation>sip88xx.14-2-1-0201-10</loadInformation>
</device>
XML
}
new_phone() { # NAME AUTH-MODE: the server's record, an install pending, a template, the emulator
	oc phone add "$1" --auth "$2" >/dev/null && oc phone op "$1" install >/dev/null && template "$1" &&
		"$PHONESIM" init "$TEST_TMP/$1" --name "$1" --mfg-ca "$TEST_TMP/mfg" >/dev/null
}
P1=SEP0011220000A1 P2=SEP0011220000A2 P3=SEP0011220000A3 P4=SEP0011220000A4
check "phone 1 (null string)" new_phone $P1 null
check "phone 2 (MIC first)" new_phone $P2 mic-first
check "phone 3 (null string, its file tampered)" new_phone $P3 null
check "phone 4 (null string, HTTPS)" new_phone $P4 null
check "provision" oc provision
boot() { local p=$1; shift; "$PHONESIM" boot "$TEST_TMP/$p" 127.0.0.1 --tftp-port "$TFTP_PORT" --https-port 0 \
	--timeout 2 --capf-timeout 30 "$@"; }

# ---- over TFTP (HTTP does not answer): null string ----
expect_exit 0 "phone 1 boots over TFTP and enrolls" boot $P1 --http-port "$NO_PORT"
expect_output "HTTP Error: CTLFile.tlv" "HTTP refused: the phone falls back to TFTP"
expect_output "File Not Found: CTLFile.tlv" "no CTL: the phone goes on"
expect_output "File: ITLFile.tlv: [0-9]+ bytes over TFTP" "the ITL over TFTP"
expect_output "ITL: Installed \([0-9]+ records\)" "the first ITL is trusted and installed"
expect_output "File: $P1.cnf.xml.sgn: [0-9]+ bytes over TFTP" "the signed configuration over TFTP"
expect_output "config: capfAuthMode 2, 1 CAPF server: 127.0.0.1:$CAPF_PORT" "capfAuthMode and capfList read"
expect_output "LSC: Installed|result: .*install" "the phone enrolled by itself"
check "phone 1 keeps the ITL" cmp -s "$TEST_TMP/$P1/ITLFile.tlv" "$D/ITLFile.tlv"
check "phone 1 holds an LSC" test -s "$TEST_TMP/$P1/lsc.crt"
oc phone show $P1 >"$TEST_TMP/last.out" 2>&1
expect_output "Certificate Operation Status: Upgrade Success" "the server recorded the operation"
serial=$(openssl x509 -noout -serial -in "$TEST_TMP/$P1/lsc.crt" | sed 's/^serial=//' | tr A-F a-f)
expect_output "LSC: +serial 0*$serial" "the server has the phone's LSC on record"

# ---- over HTTP: MIC-precedence mode ----
expect_exit 0 "phone 2 boots over HTTP and enrolls with its MIC" boot $P2 --http-port "$HTTP_PORT"
expect_output "File: ITLFile.tlv: [0-9]+ bytes over HTTP$" "the ITL over HTTP"
expect_output "File: $P2.cnf.xml.sgn: [0-9]+ bytes over HTTP$" "the signed configuration over HTTP"
expect_output "config: capfAuthMode 4" "MIC-precedence mode read"
expect_no_output "over TFTP" "nothing over TFTP while HTTP answers"
check "phone 2 holds an LSC" test -s "$TEST_TMP/$P2/lsc.crt"

# ---- the next boot: operations done, nothing more to do ----
check "provision after the enrollments" oc provision
expect_exit 0 "phone 1 boots again" boot $P1 --http-port "$HTTP_PORT"
expect_output "config: capfAuthMode 0" "capfAuthMode 0 now"
expect_output "result: booted, no CAPF operation" "no CAPF session"
expect_no_output "ITL: Installed" "the same ITL is not installed again"

# ---- an encrypted configuration, to the phone's LSC, on its next boot ----
check "phone 1: encrypted configuration on" oc provision encrypt $P1
check "provision the encrypted configuration" oc provision
check "the .enc.sgn is published" test -s "$D/$P1.cnf.xml.enc.sgn"
expect_exit 0 "phone 1 receives an encrypted configuration and decrypts it" boot $P1 --http-port "$HTTP_PORT"
expect_output "File: $P1.cnf.xml.sgn: [0-9]+ bytes over HTTP$" "the signed stub first"
expect_output "File: $P1.cnf.xml.enc.sgn: [0-9]+ bytes over HTTP$" "then the encrypted file"
expect_output "Config: decrypted $P1.cnf.xml.enc.sgn" "decrypted with its LSC"
expect_output "result: booted, no CAPF operation" "the full configuration read"
cp -r "$TEST_TMP/$P1" "$TEST_TMP/p1-nolsc" && rm -f "$TEST_TMP/p1-nolsc/lsc.crt" "$TEST_TMP/p1-nolsc/lsc.key"
expect_exit 6 "without the LSC the phone cannot decrypt it" "$PHONESIM" boot "$TEST_TMP/p1-nolsc" 127.0.0.1 \
	--tftp-port "$TFTP_PORT" --https-port 0 --http-port "$HTTP_PORT" --timeout 2
expect_output "File Decryption Failed: $P1.cnf.xml.enc.sgn" "the phone's console line"

# ---- refused configurations ----
cp "$D/$P3.cnf.xml.sgn" "$TEST_TMP/p3.sgn"
cp "$D/$P3.cnf.xml" "$D/$P3.cnf.xml.sgn"
expect_exit 6 "an unsigned configuration is refused" boot $P3 --http-port "$HTTP_PORT"
expect_output "File Auth Error: $P3.cnf.xml.sgn" "with the phone's console line"
expect_no_output "config: capfAuthMode" "its content is not read"
LC_ALL=C sed 's/<capfAuthMode>2/<capfAuthMode>3/' "$TEST_TMP/p3.sgn" >"$D/$P3.cnf.xml.sgn"
expect_exit 6 "a tampered configuration is refused" boot $P3 --http-port "$HTTP_PORT"
expect_output "File Auth Error: $P3.cnf.xml.sgn" "with the phone's console line"
expect_output "result: $P3.cnf.xml.sgn refused: the signature does not verify" "saying why"
check "phone 3 did not enroll" test ! -e "$TEST_TMP/$P3/lsc.crt"
cp "$TEST_TMP/p3.sgn" "$D/$P3.cnf.xml.sgn"
expect_exit 0 "the genuine file: phone 3 enrolls" boot $P3 --http-port "$HTTP_PORT"

# ---- authentication string mode; plain RFC 1350 TFTP; no configuration ----
P6=SEP0011220000A6 P7=SEP0011220000A7
check "phone 6 (authentication string)" eval 'oc phone add $P6 --auth string --auth-string 735193 >/dev/null &&
	oc phone op $P6 install >/dev/null && template $P6 &&
	"$PHONESIM" init "$TEST_TMP/$P6" --name $P6 --mfg-ca "$TEST_TMP/mfg" >/dev/null'
check "phone 7 (no template)" eval '"$PHONESIM" init "$TEST_TMP/$P7" --name $P7 --mfg-ca "$TEST_TMP/mfg" >/dev/null'
check "provision phone 6" oc provision
expect_exit 1 "string mode without the string: the phone waits for its user" boot $P6 --http-port 0
expect_output "LSC: Authentication string required" "the phone's console line"
expect_output "config: capfAuthMode 1" "mode 1 read"
expect_exit 0 "with --auth-string, TFTP only, 512-byte blocks: phone 6 enrolls" boot $P6 --http-port 0 \
	--tftp-blksize 0 --auth-string 735193
expect_output "File: $P6.cnf.xml.sgn: [0-9]+ bytes over TFTP" "its configuration over TFTP"
expect_no_output "HTTP" "HTTP not tried"
check "phone 6 holds an LSC" test -s "$TEST_TMP/$P6/lsc.crt"
for blk in 8 65464; do
	expect_exit 0 "phone 1 boots over TFTP with blksize $blk" boot $P1 --http-port 0 --tftp-blksize $blk
	expect_output "File: ITLFile.tlv: [0-9]+ bytes over TFTP" "the ITL, blksize $blk"
	expect_output "result: booted, no CAPF operation" "its signed configuration, blksize $blk"
done
expect_exit 6 "no configuration for phone 7" boot $P7 --http-port "$HTTP_PORT"
expect_output "File Not Found: $P7.cnf.xml.sgn" "the phone's console line"
expect_exit 3 "no file server answers" boot $P7 --http-port "$NO_PORT" --tftp-port "$NO_PORT" --timeout 0.2
expect_output "TFTP Error: ITLFile.tlv: .*timeout" "a TFTP timeout after retransmissions"

# ---- ITL 1.1: the configuration over HTTPS, the server in the ITL as TFTP ----
check "ITL 1.1 with the HTTPS certificate as TFTP" oc itl settings --version 1.1 --add "TFTP:$TEST_TMP/https.pem"
expect_exit 0 "phone 4 boots with ITL 1.1" boot $P4 --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT"
expect_output "File: $P4.cnf.xml.sgn: [0-9]+ bytes over HTTPS" "its configuration over HTTPS"
expect_output "config: capfAuthMode 2" "read unsigned from HTTPS"
check "phone 4 holds an LSC" test -s "$TEST_TMP/$P4/lsc.crt"
expect_exit 0 "phone 1 takes the new ITL (signed by the SAST it knows)" boot $P1 --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT"
expect_output "Trust List Updated" "the phone's console line"
expect_exit 0 "HTTPS does not answer: phone 4 falls back to HTTP" boot $P4 --http-port "$HTTP_PORT" --https-port "$NO_PORT"
expect_output "HTTPS Error: $P4.cnf.xml.sgn: cannot connect" "saying so"
expect_output "File: $P4.cnf.xml.sgn: [0-9]+ bytes over HTTP$" "the signed file over HTTP"
expect_exit 0 "an HTTPS server the ITL does not list: phone 4 falls back" boot $P4 --http-port "$HTTP_PORT" \
	--https-port "$CAPF_PORT"
expect_output "HTTPS Error: $P4.cnf.xml.sgn: .*not trusted" "the server is not trusted"
expect_output "File: $P4.cnf.xml.sgn: [0-9]+ bytes over HTTP$" "the signed file over HTTP"

# ---- an ITL without the CAPF role: "No valid CAPF server" ----
P5=SEP0011220000A5
check "phone 5 (null string)" new_phone $P5 null
check "provision phone 5" oc provision
check "an ITL without our CAPF record is published" oc itl build --out "$D/ITLFile.tlv" --omit CAPF
expect_exit 3 "phone 5 cannot trust the CAPF server" boot $P5 --http-port "$HTTP_PORT"
expect_output "config: capfAuthMode 2" "its configuration asked for an operation"
expect_output "No valid CAPF server" "the phone's console line"
check "phone 5 did not enroll" test ! -e "$TEST_TMP/$P5/lsc.crt"

# ---- a CTL on the server: fetched first, verified, kept ----
check "a CTL is published" oc ctl build --out "$D/CTLFile.tlv"
expect_exit 0 "phone 1 boots with a CTL on the server" boot $P1 --http-port "$HTTP_PORT"
expect_output "File: CTLFile.tlv: [0-9]+ bytes over HTTP" "the CTL over HTTP"
expect_output "CTL: Installed \([0-9]+ records\)" "installed"
check "phone 1 keeps the CTL" cmp -s "$TEST_TMP/$P1/CTLFile.tlv" "$D/CTLFile.tlv"

# ---- an ITL from another cluster: refused, the phone keeps its own ----
check "another cluster" "$OPENCAPF" --state "$TEST_TMP/other" init --subject "O=Elsewhere,C=NZ"
cp "$TEST_TMP/$P1/ITLFile.tlv" "$TEST_TMP/p1-itl.tlv"
cp "$TEST_TMP/other/tftp/ITLFile.tlv" "$D/ITLFile.tlv"
expect_exit 0 "phone 1 boots with a foreign ITL on the server" boot $P1 --http-port "$HTTP_PORT"
expect_output "Trust List Update Failed" "the phone's console line"
expect_output "ITL refused: .*SAST the installed ITL does not list" "saying why"
expect_output "result: booted, no CAPF operation" "its configuration still verifies with its own ITL"
check "phone 1 kept its ITL" cmp -s "$TEST_TMP/$P1/ITLFile.tlv" "$TEST_TMP/p1-itl.tlv"

stop_daemon
finish
