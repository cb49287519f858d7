#!/usr/bin/env bash
# servers_kamailio.sh: SIP over TLS with a real Kamailio as the call control
# (phone-certificates.md §2.2, §7). Kamailio's TLS is configured with the
# snippet `opencapf trust export CallManager-trust --format kamailio` prints
# (verify_certificate, require_certificate, ca_list); its route accepts a
# REGISTER only from a verified certificate that names the device (LSC
# CN=SEPxxxx, or MIC CN=CP-model-SEPxxxx). The phone's side is a SIP
# REGISTER over TLS presenting what the phone presents (LSC if installed,
# else MIC, exported by phonesim):
#  - an LSC of this cluster registers (200 OK);
#  - §7: a phone moved from another cluster presents its old LSC and the TLS
#    handshake fails with an unknown CA alert; both fixes work: deleting the
#    LSC (the phone falls back to its MIC, whose CA CallManager-trust holds),
#    and installing an LSC from the new cluster;
#  - a certificate that names another device gets 403;
#  - revocation: while CallManager-trust holds a CA opencapf has no CRL for
#    (the manufacturing CA) the snippet leaves `crl` off and says why; with
#    only CAPF certificates in it, `crl =` is on and an LSC revoked by
#    `opencapf phone revoke` and one superseded by an upgrade fail the TLS
#    handshake while other phones' LSCs register.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers_lib.sh"
need "kamailio:kamailio" "python3:python3"
KAM_MODULES=
for d in /usr/lib/x86_64-linux-gnu/kamailio/modules /usr/lib/*/kamailio/modules /usr/lib/kamailio/modules \
	/usr/lib64/kamailio/modules /usr/local/lib64/kamailio/modules /usr/local/lib/kamailio/modules; do
	[ -f "$d/tls.so" ] && [ -f "$d/registrar.so" ] && { KAM_MODULES=$d; break; }
done
if [ -z "$KAM_MODULES" ]; then
	echo "skipped: not installed: kamailio-tls-modules (Kamailio's tls.so); 'bash scripts/setup.sh --test' (as root) installs it"
	echo
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

S="$TEST_TMP/state"
new_state "$S" || { not_ok "opencapf init"; finish; exit; }
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
check "the manufacturing CA goes into CallManager-trust (for phones without LSC)" \
	"$OPENCAPF" --state "$S" trust add CallManager-trust "$TEST_TMP/mfg/mfg.crt"
server_cert "$TEST_TMP/srv" || { not_ok "server certificate"; finish; exit; }

# kam_start NAME SNIPPET_FILE: Kamailio in the foreground, TLS only, on a
# free port; sets KAM_PORT, KAM_PID, KAM_LOG.
kam_start() {
	local d="$TEST_TMP/kam-$1" try
	mkdir -p "$d"
	{
		echo "# written by servers_kamailio.sh"
		snippet_lines "$2"
		echo "private_key = $TEST_TMP/srv/server.key"
		echo "certificate = $TEST_TMP/srv/server.crt"
		echo "method = TLSv1.2+"
		[ -z "${KAM_CIPHERS:-}" ] || echo "cipher_list = $KAM_CIPHERS"
		echo
		echo "[client:default]"
		echo "verify_certificate = no"
		echo "require_certificate = no"
	} >"$d/tls.cfg"
	for try in 1 2 3 4 5; do
		KAM_PORT=$(free_port)
		cat >"$d/kamailio.cfg" <<EOF
#!KAMAILIO
# written by servers_kamailio.sh: a registrar that takes phones over TLS only
debug=2
log_stderror=yes
children=2
tcp_children=2
enable_tls=yes
auto_aliases=no
listen=tls:127.0.0.1:$KAM_PORT
mpath="$KAM_MODULES/"
loadmodule "tls.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "textops.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
modparam("tls", "config", "$d/tls.cfg")
modparam("usrloc", "db_mode", 0)
EOF
		cat >>"$d/kamailio.cfg" <<'EOF'
request_route {
	if (proto != TLS || !is_peer_verified()) {
		sl_send_reply("403", "Phones register over TLS with a verified certificate");
		exit;
	}
	xlog("L_NOTICE", "$rm for $tU from a certificate CN=$tls_peer_subject_cn issued by CN=$tls_peer_issuer_cn\n");
	if (!is_method("REGISTER")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}
	# LSC: CN=SEPxxxxxxxxxxxx; MIC: CN=CP-<model>-SEPxxxxxxxxxxxx
	if ($(tls_peer_subject_cn{s.select,-1,-}) != $tU) {
		sl_send_reply("403", "Certificate does not name this device");
		exit;
	}
	if (!save("location")) {
		sl_reply_error();
	}
}
EOF
		KAM_LOG="$d/kamailio.$try.log"
		"$BIN_kamailio" -DD -E -m 64 -M 8 -w "$d" -Y "$d" -f "$d/kamailio.cfg" >"$KAM_LOG" 2>&1 &
		KAM_PID=$!
		PIDS+=("$KAM_PID")
		for _ in $(seq 1 150); do
			(exec 3<>"/dev/tcp/127.0.0.1/$KAM_PORT") 2>/dev/null && return 0
			kill -0 "$KAM_PID" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$KAM_PID"
		grep -qi "address already in use" "$KAM_LOG" || break
	done
	not_ok "Kamailio ($1) does not start"
	show_log "$KAM_LOG"
	return 1
}

# register WHAT PHONEDIR DEVICE PATTERN: a REGISTER with what the phone
# presents; its answer must match PATTERN.
register() {
	local id
	id=$(identity "$2") || { not_ok "$1 (phonesim export)"; return; }
	sip_register 127.0.0.1 "$KAM_PORT" "$id" "$3" >"$TEST_TMP/last.out" 2>&1
	if head -1 "$TEST_TMP/last.out" | grep -Eq -- "$4"; then ok "$1"; else
		not_ok "$1 (wanted /$4/)"; sed 's/^/    /' "$TEST_TMP/last.out" | head -5; show_log "$KAM_LOG" 8
	fi
}
issuer_cn() { openssl x509 -in "$1" -noout -issuer -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }
CAPF_CN=$(issuer_cn "$S.capf.pem")

# --- the old cluster, where phone PM got its LSC
S_OLD="$TEST_TMP/old-cluster"
new_state "$S_OLD"
PH="$TEST_TMP/phones"
mkdir -p "$PH"
PM=SEP00000000C0AA P1=SEP00000000C001 P2=SEP00000000C002 P4=SEP00000000C004
start_daemon "$S_OLD" || exit 1
new_phone "$PH/$PM" $PM "$S_OLD.capf.pem"
check "phone $PM gets an LSC in the old cluster" enroll "$S_OLD" "$PH/$PM" $PM
stop_daemon

# --- the new cluster: this CAPF, its phones
start_daemon "$S" || exit 1
new_phone "$PH/$P1" $P1 "$S.capf.pem"
new_phone "$PH/$P2" $P2 "$S.capf.pem"
check "phone $P1 gets an RSA LSC" enroll "$S" "$PH/$P1" $P1
check "phone $P2 gets an EC LSC" enroll "$S" "$PH/$P2" $P2 --key-order ec --ec-bits 256
new_phone "$PH/$P4" $P4 "$S.capf.pem"
check "phone $P4 gets an RSA-1024 LSC" enroll "$S" "$PH/$P4" $P4 --rsa-bits 1024

X1="$TEST_TMP/export1"
check "trust export CallManager-trust --format kamailio" export_store "$S" CallManager-trust kamailio "$X1"
cp "$X1.snippet" "$TEST_TMP/last.out"
expect_output '^\[server:default\]' "the snippet is a tls.cfg server profile"
expect_output "^verify_certificate = yes" "the snippet verifies client certificates"
expect_output "^require_certificate = yes" "the snippet requires a client certificate"
expect_output "^ca_list = \"?$X1/ca.pem\"?" "the snippet names the bundle as ca_list"
expect_output "^# crl = \"?$X1/crl.pem\"?" "with the manufacturing CA in the store, crl stays commented out"
expect_output "^# No CRL for .*Test Manufacturing CA" "and the snippet names the CA without a CRL"
equal "the bundle holds the CAPF and the manufacturing CA" "$(fingerprints "$X1/ca.pem")" \
	"$(cat "$S.capf.pem" "$TEST_TMP/mfg/mfg.crt" | fingerprints /dev/stdin)"

if kam_start main "$X1.snippet"; then
	register "REGISTER over TLS with an RSA LSC: 200 OK" "$PH/$P1" $P1 "^SIP/2.0 200 "
	grep -q "REGISTER for $P1 from a certificate CN=$P1 issued by CN=$CAPF_CN" "$KAM_LOG" &&
		ok "Kamailio saw the LSC issued by $CAPF_CN" || { not_ok "no LSC line in Kamailio's log"; show_log "$KAM_LOG" 8; }
	register "REGISTER over TLS with an EC LSC: 200 OK" "$PH/$P2" $P2 "^SIP/2.0 200 "
	register "an LSC that names another device: 403" "$PH/$P1" $P2 "^SIP/2.0 403 "
	register "RSA-1024 LSC: refused at OpenSSL's default security level" "$PH/$P4" $P4 "^tls alert: bad certificate"

	# §7: the phone moved from the old cluster still presents its old LSC
	"$PHONESIM" trust "$PH/$PM" "$S.capf.pem" >/dev/null # the new cluster's ITL
	register "old-cluster LSC: the TLS handshake fails with an unknown CA alert" "$PH/$PM" $PM \
		"^tls alert: unknown ca"
	grep -q "certificate verify failed" "$KAM_LOG" && ok "Kamailio reports the failed verification" ||
		not_ok "no 'certificate verify failed' in Kamailio's log"

	# fix 1: delete the LSC; the phone registers with its MIC
	"$OPENCAPF" --state "$S" phone add $PM >/dev/null
	"$OPENCAPF" --state "$S" phone op $PM delete >/dev/null
	check "the new cluster's CAPF deletes the old LSC" \
		"$PHONESIM" capf "$PH/$PM" "127.0.0.1:$CAPF_PORT" --timeout 20
	register "without LSC the phone registers with its MIC: 200 OK" "$PH/$PM" $PM "^SIP/2.0 200 "
	grep -q "REGISTER for $PM from a certificate CN=CP-7962-$PM issued by CN=Test Manufacturing CA" "$KAM_LOG" &&
		ok "Kamailio saw the MIC" || { not_ok "no MIC line in Kamailio's log"; show_log "$KAM_LOG" 8; }

	# fix 2: an LSC from the new cluster
	check "phone $PM gets an LSC from the new cluster" enroll "$S" "$PH/$PM" $PM
	register "with the new cluster's LSC: 200 OK" "$PH/$PM" $PM "^SIP/2.0 200 "
	grep -q "REGISTER for $PM from a certificate CN=$PM issued by CN=$CAPF_CN" "$KAM_LOG" &&
		ok "Kamailio saw the new LSC" || { not_ok "no new-LSC line in Kamailio's log"; show_log "$KAM_LOG" 8; }
	stop_pid "$KAM_PID"
fi

# an RSA-1024 LSC needs cipher_list = DEFAULT:@SECLEVEL=1 (docs/servers.md)
if KAM_CIPHERS="DEFAULT:@SECLEVEL=1" kam_start seclevel1 "$X1.snippet"; then
	register "RSA-1024 LSC: 200 OK with cipher_list = DEFAULT:@SECLEVEL=1" "$PH/$P4" $P4 "^SIP/2.0 200 "
	stop_pid "$KAM_PID"
fi

# --- revocation: a cluster where only LSCs register (no manufacturing CA)
revocation_setup "$S" "$PH" SEP00000000C
MFG_FP=$(openssl x509 -in "$TEST_TMP/mfg/mfg.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f)
check "the manufacturing CA leaves CallManager-trust" \
	"$OPENCAPF" --state "$S" trust remove CallManager-trust "$MFG_FP" --force
XR="$TEST_TMP/export-revoked"
check "export after the revocations" export_store "$S" CallManager-trust kamailio "$XR"
cp "$XR.snippet" "$TEST_TMP/last.out"
expect_output "^crl = \"?$XR/crl.pem\"?" "with a CRL for every CA of the store, the snippet turns crl on"
crls_verify "$XR" "$S.capf.pem"
if kam_start revoked "$XR.snippet"; then
	register "a revoked LSC fails the TLS handshake with a certificate revoked alert (phone revoke)" \
		"$PH/SEP00000000CE01" SEP00000000CE01 "^tls alert: certificate revoked"
	grep -q "certificate verify failed" "$KAM_LOG" && ok "Kamailio reports the failed verification" ||
		{ not_ok "no 'certificate verify failed' in Kamailio's log"; show_log "$KAM_LOG" 8; }
	sip_register 127.0.0.1 "$KAM_PORT" "$SUP_ID" SEP00000000CF01 >"$TEST_TMP/last.out" 2>&1
	head -1 "$TEST_TMP/last.out" | grep -q "^tls alert: certificate revoked" &&
		ok "a superseded LSC fails the TLS handshake with a certificate revoked alert (after the upgrade)" ||
		{ not_ok "the superseded LSC was not refused as revoked"; head -3 "$TEST_TMP/last.out"; }
	register "another phone's LSC still registers" "$PH/$P1" $P1 "^SIP/2.0 200 "
	register "the upgraded phone's new LSC registers" "$PH/SEP00000000CF01" SEP00000000CF01 "^SIP/2.0 200 "
	stop_pid "$KAM_PID"
fi

finish
