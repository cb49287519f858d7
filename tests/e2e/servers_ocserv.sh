#!/usr/bin/env bash
# servers_ocserv.sh: the phone VPN (phone-certificates.md §2.4) with a real
# ocserv head-end trusting opencapf's phone-vpn-trust store, configured with
# the snippet `opencapf trust export phone-vpn-trust --format ocserv`
# prints (auth = "certificate", ca-cert, cert-user-oid = CN). openconnect
# plays the phone with its exported identity, authentication phase only
# (--authenticate: no tunnel device). LSCs (RSA, EC) get a session cookie
# under the device's name; a certificate from an unknown CA is refused: the
# phone's MIC (the store trusts only LSCs), an LSC of another cluster, a
# self-signed certificate. Revocation: with the exported CRL (crl =), an LSC
# revoked by `opencapf phone revoke` and one superseded by an upgrade are
# refused while other phones' LSCs are accepted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers_lib.sh"
need "ocserv:ocserv" "openconnect:openconnect"
if [ "$(id -u)" != 0 ]; then # ocserv: "This server requires root access to operate."
	echo "skipped: ocserv runs only as root (scripts/test.sh runs as root)"
	echo
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

S="$TEST_TMP/state"
new_state "$S" || { not_ok "opencapf init"; finish; exit; }
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
server_cert "$TEST_TMP/srv" || { not_ok "server certificate"; finish; exit; }

# oc_start NAME SNIPPET_FILE: ocserv in the foreground on a free port with the
# snippet's lines; sets OC_PORT, OC_PID, OC_LOG.
oc_start() {
	local d="$TEST_TMP/oc-$1" try
	mkdir -p "$d"
	for try in 1 2 3 4 5; do
		OC_PORT=$(free_port)
		{
			echo "# written by servers_ocserv.sh: certificate authentication on 127.0.0.1:$OC_PORT"
			snippet_lines "$2"
			cat <<EOF
listen-host = 127.0.0.1
tcp-port = $OC_PORT
run-as-user = $(id -un)
run-as-group = $(id -gn)
socket-file = $d/ocserv.sock
pid-file = $d/ocserv.pid
server-cert = $TEST_TMP/srv/server.crt
server-key = $TEST_TMP/srv/server.key
isolate-workers = false
max-clients = 16
max-same-clients = 0
use-occtl = false
device = vpns
ipv4-network = 192.168.99.0/24
tls-priorities = "NORMAL:%SERVER_PRECEDENCE"
auth-timeout = 30
keepalive = 300
dpd = 60
EOF
		} >"$d/ocserv.conf"
		OC_LOG="$d/ocserv.$try.log"
		"$BIN_ocserv" -f -d 3 -c "$d/ocserv.conf" >"$OC_LOG" 2>&1 &
		OC_PID=$!
		PIDS+=("$OC_PID")
		wait_log "$OC_LOG" "initialized ocserv" "$OC_PID" 20 && wait_port "$OC_PORT" && return 0
		stop_pid "$OC_PID"
		grep -qi "address already in use" "$OC_LOG" || break
	done
	not_ok "ocserv ($1) does not start"
	show_log "$OC_LOG"
	return 1
}

# vpn_auth IDENTITY_DIR: openconnect's authentication phase with the identity;
# output in $TEST_TMP/last.out, exit 0 when the head-end gave a cookie.
vpn_auth() {
	timeout 40 "$BIN_openconnect" --protocol=anyconnect --non-inter --authenticate \
		--cafile "$TEST_TMP/srv/server-ca.crt" --certificate "$1/cert.pem" --sslkey "$1/key.pem" \
		"https://127.0.0.1:$OC_PORT/" </dev/null >"$TEST_TMP/last.out" 2>&1
}
accepted() { # accepted WHAT IDENTITY_DIR DEVICE
	local before
	before=$(wc -l <"$OC_LOG")
	if vpn_auth "$2" && grep -q "^COOKIE=" "$TEST_TMP/last.out"; then
		ok "$1"
		sleep 0.2
		tail -n +"$((before + 1))" "$OC_LOG" | grep -q "auth complete (with cert) *for user '$3'" &&
			ok "$1: ocserv names the user $3" || { not_ok "$1: ocserv names the user $3"; show_log "$OC_LOG" 10; }
	else
		not_ok "$1"; tail -5 "$TEST_TMP/last.out" | sed 's/^/    /'; show_log "$OC_LOG" 10
	fi
}
refused() { # refused WHAT IDENTITY_DIR [LOG_PATTERN]
	local before pat=${3:-certificate issuer is unknown}
	before=$(wc -l <"$OC_LOG")
	if vpn_auth "$2" || grep -q "^COOKIE=" "$TEST_TMP/last.out"; then
		not_ok "$1 (accepted)"; return
	fi
	sleep 0.2
	if tail -n +"$((before + 1))" "$OC_LOG" | grep -q "$pat"; then ok "$1"; else
		not_ok "$1 (no '$pat' in the ocserv log)"; show_log "$OC_LOG" 10
	fi
}

start_daemon "$S" || exit 1
PH="$TEST_TMP/phones"
mkdir -p "$PH"
P1=SEP00000000B001 P2=SEP00000000B002 P4=SEP00000000B004 P0=SEP00000000B000
for p in $P0 $P1 $P2 $P4; do new_phone "$PH/$p" $p "$S.capf.pem"; done
check "phone $P1 gets an RSA LSC" enroll "$S" "$PH/$P1" $P1 --key-order rsa
check "phone $P2 gets an EC P-384 LSC" enroll "$S" "$PH/$P2" $P2 --key-order ec --ec-bits 384
check "phone $P4 gets an RSA-1024 LSC" enroll "$S" "$PH/$P4" $P4 --rsa-bits 1024
LSC1=$(identity "$PH/$P1") LSC2=$(identity "$PH/$P2") LSC4=$(identity "$PH/$P4") MIC0=$(identity "$PH/$P0") MIC1=$(identity "$PH/$P1" mic)

# another cluster, and a phone enrolled there
S2="$TEST_TMP/other-cluster"
new_state "$S2"
saved=("$CAPF_PORT" "$DAEMON_PID" "$DAEMON_LOG")
start_daemon "$S2" || exit 1
PX=SEP00000000B0FF
new_phone "$PH/$PX" $PX "$S2.capf.pem"
check "phone $PX gets an LSC from another cluster" enroll "$S2" "$PH/$PX" $PX
stop_daemon
CAPF_PORT=${saved[0]} DAEMON_PID=${saved[1]} DAEMON_LOG=${saved[2]}
OTHER=$(identity "$PH/$PX")

X1="$TEST_TMP/export1"
check "trust export phone-vpn-trust --format ocserv" export_store "$S" phone-vpn-trust ocserv "$X1"
expect_exit 2 "a server format needs --out DIR" "$OPENCAPF" --state "$S" trust export phone-vpn-trust --format ocserv
expect_exit 2 "an unknown format is a usage error" \
	"$OPENCAPF" --state "$S" trust export phone-vpn-trust --format strongswan --out "$TEST_TMP/nope"
mkdir -p "$TEST_TMP/not-an-export" && touch "$TEST_TMP/not-an-export/keep"
expect_exit 1 "a folder that is not an earlier export is not replaced" \
	"$OPENCAPF" --state "$S" trust export phone-vpn-trust --format ocserv --out "$TEST_TMP/not-an-export"
[ -f "$TEST_TMP/not-an-export/keep" ] && ok "its files are untouched" || not_ok "the folder's files are gone"
check "a second export replaces the first" export_store "$S" phone-vpn-trust ocserv "$X1"
cp "$X1.snippet" "$TEST_TMP/last.out"
expect_output '^auth = "certificate"' "the snippet selects certificate authentication"
expect_output "^ca-cert = \"?$X1/ca.pem\"?" "the snippet names the bundle as ca-cert"
expect_output "^crl = \"?$X1/crl.pem\"?" "the snippet names the CRLs as crl"
expect_output "^cert-user-oid = 2\.5\.4\.3" "the snippet takes the user name from the CN"
equal "the bundle holds exactly the CAPF certificate" "$(fingerprints "$X1/ca.pem")" \
	"$(openssl x509 -in "$S.capf.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)"

# the same store for a Cisco ASA: one file per certificate, named by its CN, and trustpoint commands
"$OPENCAPF" --state "$S" trust add phone-vpn-trust "$TEST_TMP/mfg/mfg.crt" >/dev/null
XA="$TEST_TMP/export-asa"
check "trust export phone-vpn-trust --format asa" export_store "$S" phone-vpn-trust asa "$XA"
CAPF_CN=$(openssl x509 -in "$S.capf.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
cmp -s <(openssl x509 -in "$XA/asa/$CAPF_CN.pem") <(openssl x509 -in "$S.capf.pem") &&
	ok "asa: the CAPF certificate in asa/$CAPF_CN.pem" || not_ok "asa: no asa/$CAPF_CN.pem"
cmp -s <(openssl x509 -in "$XA/asa/Test_Manufacturing_CA.pem") <(openssl x509 -in "$TEST_TMP/mfg/mfg.crt") &&
	ok "asa: the manufacturing CA in asa/Test_Manufacturing_CA.pem" || not_ok "asa: no asa/Test_Manufacturing_CA.pem"
equal "asa: one certificate per file" "$(cat "$XA"/asa/*.pem | grep -c BEGIN)" 2
equal "asa: ca.pem is plain PEM, nothing outside the certificates" \
	"$(sed '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/d' "$XA/ca.pem" | grep -c .)" 0
cp "$XA.snippet" "$TEST_TMP/last.out"
expect_output "^crypto ca trustpoint $CAPF_CN$" "asa: a trustpoint named after the CAPF certificate"
expect_output "^crypto ca authenticate $CAPF_CN$" "asa: crypto ca authenticate for it"
expect_output "^! paste $XA/asa/$CAPF_CN.pem$" "asa: the file to paste is named"
expect_output "^ enrollment terminal$" "asa: enrollment terminal"

if oc_start main "$X1.snippet"; then
	accepted "RSA LSC: the head-end accepts the phone" "$LSC1" $P1
	accepted "EC P-384 LSC: the head-end accepts the phone" "$LSC2" $P2
	accepted "RSA-1024 LSC: accepted (GnuTLS's NORMAL priorities allow it)" "$LSC4" $P4
	refused "MIC of a phone without LSC: unknown CA, refused" "$MIC0"
	refused "MIC of a phone with an LSC: refused" "$MIC1"
	refused "LSC from another cluster: unknown CA, refused" "$OTHER"
	refused "a self-signed certificate: refused" "$(
		d="$TEST_TMP/selfsigned"; mkdir -p "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
			-subj "/CN=$P1" -days 2 >/dev/null 2>&1; echo "$d")"
	stop_pid "$OC_PID"
fi

# --- revocation: a revoked LSC and a superseded one are refused after the re-export
revocation_setup "$S" "$PH" SEP00000000B
XR="$TEST_TMP/export-revoked"
check "export after the revocations" export_store "$S" phone-vpn-trust ocserv "$XR"
crls_verify "$XR" "$S.capf.pem"
if oc_start revoked "$XR.snippet"; then
	refused "a revoked LSC is refused (phone revoke)" "$REV_ID" "revoked"
	refused "a superseded LSC is refused (after the upgrade)" "$SUP_ID" "revoked"
	accepted "another phone's LSC is still accepted" "$LSC1" $P1
	accepted "the upgraded phone's new LSC is accepted" "$UPG_ID" SEP00000000BF01
	stop_pid "$OC_PID"
fi

finish
