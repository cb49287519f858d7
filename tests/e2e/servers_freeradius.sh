#!/usr/bin/env bash
# servers_freeradius.sh: 802.1X with a real FreeRADIUS trusting opencapf's
# 802.1x store (phone-certificates.md §1, §2.3, §6), driven by eapol_test
# as the phone's supplicant, EAP-TLS with the phone's exported identity:
#  - FreeRADIUS configured with the snippet `opencapf trust export 802.1x
#    --format freeradius` prints (ca_file), and with the hashed folder alone
#    (ca_path): RSA and EC LSCs authenticate; a MIC is refused while the
#    store holds only the CAPF certificate ("trust only LSCs"); an LSC does
#    not pass for another device (check_cert_cn); an RSA-1024 LSC is
#    refused at OpenSSL's default security level and passes at level 1;
#  - after `capf regenerate` and `capf rollover schedule`, LSCs of the
#    previous CAPF certificate keep working next to the new ones, until
#    `capf retire` (refused while phones hold them, then forced): from the
#    next export on they fail;
#  - adding the manufacturing CA to the store is what lets MICs in;
#  - revocation: with the exported CRLs (check_crl), an LSC revoked by
#    `opencapf phone revoke` and one superseded by an upgrade are refused
#    ("certificate revoked") while other phones' LSCs are accepted; every
#    exported CRL passes `openssl crl -verify`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers_lib.sh"
need "freeradius:freeradius|radiusd" "eapoltest:eapol_test" "python3:python3"

S="$TEST_TMP/state"
new_state "$S" || { not_ok "opencapf init"; finish; exit; }
"$PHONESIM" mfg-ca create "$TEST_TMP/mfg" >/dev/null
"$OPENCAPF" --state "$S" trust add manufacturing "$TEST_TMP/mfg/mfg.crt" >/dev/null
server_cert "$TEST_TMP/srv" || { not_ok "server certificate"; finish; exit; }
start_daemon "$S" || exit 1
SECRET="radius-$RANDOM$RANDOM"

# fr_start NAME LINES: FreeRADIUS in the foreground with LINES (the CA part
# of the EAP-TLS configuration) in tls-config; sets FR_PORT, FR_PID, FR_LOG.
fr_start() {
	local d="$TEST_TMP/fr-$1" lines=$2 try
	mkdir -p "$d/log" "$d/run"
	for try in 1 2 3 4 5; do
		FR_PORT=$(free_port)
		cat >"$d/radiusd.conf" <<EOF
# written by servers_freeradius.sh: EAP-TLS only, on 127.0.0.1:$FR_PORT
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = $d
sbindir = /usr/sbin
logdir = $d/log
raddbdir = $d
radacctdir = $d/log
name = freeradius
confdir = $d
modconfdir = $d
run_dir = $d/run
db_dir = $d
libdir = /usr/lib/freeradius
pidfile = $d/run/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
	destination = stdout
	colourise = no
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = no
}
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 4
	max_requests_per_server = 0
}
client loopback {
	ipaddr = 127.0.0.1
	secret = $SECRET
}
modules {
	eap {
		default_eap_type = tls
		timer_expire = 60
		max_sessions = 64
		tls-config tls-common {
			private_key_file = $TEST_TMP/srv/server.key
			certificate_file = $TEST_TMP/srv/server.crt
$lines
			cipher_list = "${FR_CIPHERS:-DEFAULT}"
			tls_min_version = "1.2"
			tls_max_version = "1.2"
			cache {
				enable = no
			}
			ocsp {
				enable = no
			}
		}
		tls {
			tls = tls-common
		}
	}
}
server default {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $FR_PORT
	}
	authorize {
		eap {
			ok = return
		}
	}
	authenticate {
		Auth-Type EAP {
			eap
		}
	}
	post-auth {
		Post-Auth-Type REJECT {
			eap
		}
	}
}
EOF
		FR_LOG="$d/radiusd.$try.log"
		"$BIN_freeradius" -X -d "$d" -n radiusd >"$FR_LOG" 2>&1 &
		FR_PID=$!
		PIDS+=("$FR_PID")
		wait_log "$FR_LOG" "Ready to process requests" "$FR_PID" 20 && return 0
		stop_pid "$FR_PID"
		grep -q "Address already in use" "$FR_LOG" || break
	done
	not_ok "FreeRADIUS ($1) does not start"
	show_log "$FR_LOG"
	return 1
}

fr_stop() { stop_pid "$FR_PID"; }

# eap IDENTITY_DIR [EAP_IDENTITY]: one EAP-TLS authentication by eapol_test
# with the certificate and key in IDENTITY_DIR; the EAP identity is the
# certificate's CN unless given. Output in $TEST_TMP/last.out; exit 0 on
# Access-Accept.
eap() {
	local id=${2:-$(openssl x509 -in "$1/cert.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')}
	cat >"$1/eapol.conf" <<EOF
network={
	key_mgmt=WPA-EAP
	eap=TLS
	identity="$id"
	ca_cert="$TEST_TMP/srv/server-ca.crt"
	client_cert="$1/cert.pem"
	private_key="$1/key.pem"
	eapol_flags=0
}
EOF
	timeout 40 "$BIN_eapol_test" -c "$1/eapol.conf" -a 127.0.0.1 -p "$FR_PORT" -s "$SECRET" -t 15 \
		>"$TEST_TMP/last.out" 2>&1
}
accepted() { # accepted WHAT IDENTITY_DIR [EAP_IDENTITY]
	local what=$1; shift
	if eap "$@" && grep -q '^SUCCESS' "$TEST_TMP/last.out"; then ok "$what"; else
		not_ok "$what"; tail -3 "$TEST_TMP/last.out" | sed 's/^/    /'; show_log "$FR_LOG" 12; fi
}
refused() { # refused WHAT LOG_PATTERN IDENTITY_DIR [EAP_IDENTITY]
	local what=$1 pat=$2; shift 2
	local before
	before=$(wc -l <"$FR_LOG")
	if eap "$@"; then not_ok "$what (accepted)"; show_log "$FR_LOG" 12; return; fi
	if grep -q '^FAILURE' "$TEST_TMP/last.out" && grep -q "Login incorrect" <(tail -n +"$((before + 1))" "$FR_LOG") &&
		tail -n +"$((before + 1))" "$FR_LOG" | grep -Eq -- "$pat"; then
		ok "$what"
	else
		not_ok "$what (no FAILURE, or no /$pat/ in the server's log)"
		tail -3 "$TEST_TMP/last.out" | sed 's/^/    /'; show_log "$FR_LOG" 12
	fi
}
issuer_cn() { openssl x509 -in "$1" -noout -issuer -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }
capf_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f; }

# --- phones: RSA and EC LSCs, and one that keeps only its MIC
PH="$TEST_TMP/phones"
mkdir -p "$PH"
P1=SEP00000000A001 P2=SEP00000000A002 P3=SEP00000000A003 P4=SEP00000000A004 P0=SEP00000000A000
for p in $P0 $P1 $P2 $P3 $P4; do new_phone "$PH/$p" $p "$S.capf.pem"; done
check "phone $P1 gets an RSA LSC" enroll "$S" "$PH/$P1" $P1 --key-order rsa --rsa-bits 2048
check "phone $P2 gets an EC P-256 LSC" enroll "$S" "$PH/$P2" $P2 --key-order ec --ec-bits 256
check "phone $P3 gets an RSA LSC" enroll "$S" "$PH/$P3" $P3 --key-order rsa --rsa-bits 3072
check "phone $P4 gets an RSA-1024 LSC" enroll "$S" "$PH/$P4" $P4 --key-order rsa --rsa-bits 1024
OLD1=$(identity "$PH/$P1") OLD3=$(identity "$PH/$P3") EC2=$(identity "$PH/$P2") WEAK4=$(identity "$PH/$P4")
MIC0=$(identity "$PH/$P0") MIC1=$(identity "$PH/$P1" mic)
equal "phone export picks the LSC when one is installed" "$(issuer_cn "$OLD1/cert.pem")" \
	"$(issuer_cn "$S.capf.pem")"
equal "phone export picks the MIC of a phone without LSC" "$(issuer_cn "$MIC0/cert.pem")" \
	"Test Manufacturing CA"

# --- the export for FreeRADIUS
X1="$TEST_TMP/export1"
check "trust export 802.1x --format freeradius" export_store "$S" 802.1x freeradius "$X1"
equal "the bundle holds exactly the CAPF certificate" "$(fingerprints "$X1/ca.pem")" "$(capf_fp "$S.capf.pem")"
cp "$X1.snippet" "$TEST_TMP/last.out"
expect_output "^ca_file = \"?$X1/ca-crl.pem\"?$" "the snippet names the bundle with the CRL as ca_file"
expect_output "^check_crl = yes$" "the snippet turns CRL checking on"
expect_output "^ca_path = \"?$X1\"?$" "the snippet names the hashed folder as ca_path"
expect_output "^check_cert_cn = %\{User-Name\}$" "the snippet ties the EAP identity to the certificate"
h=$(openssl x509 -in "$S.capf.pem" -noout -subject_hash)
[ -f "$X1/$h.0" ] && cmp -s <(openssl x509 -in "$X1/$h.0") <(openssl x509 -in "$S.capf.pem") &&
	ok "the hashed folder holds the CAPF certificate as $h.0" || not_ok "no $h.0 in $X1"

# --- FreeRADIUS with the snippet as printed (ca_file)
if fr_start snippet "$(snippet_lines "$X1.snippet")"; then
	accepted "RSA LSC authenticates by EAP-TLS" "$OLD1"
	grep -q "Login OK: \[$P1\]" "$FR_LOG" && ok "FreeRADIUS logs the device name as the user" ||
		not_ok "no 'Login OK: [$P1]' in the FreeRADIUS log"
	accepted "EC LSC authenticates by EAP-TLS" "$EC2"
	refused "MIC of a phone without LSC is refused: the store trusts only LSCs" \
		"unable to get local issuer certificate|unknown ca" "$MIC0"
	refused "the MIC of a phone that has an LSC is refused too" \
		"unable to get local issuer certificate|unknown ca" "$MIC1"
	refused "RSA-1024 LSC: refused at OpenSSL's default security level" "key too weak" "$WEAK4"
	grep -q "Alert write:fatal:unknown CA" "$FR_LOG" && ok "FreeRADIUS answers a MIC with an unknown CA alert" ||
		not_ok "no unknown CA alert in the FreeRADIUS log"
	refused "an LSC presented under another device's name is refused (check_cert_cn)" \
		"Certificate CN \\($P1\\) does not match specified value \\($P2\\)" "$OLD1" $P2
	fr_stop
fi

# --- an RSA-1024 LSC needs cipher_list "DEFAULT@SECLEVEL=1" (docs/servers.md)
if FR_CIPHERS="DEFAULT@SECLEVEL=1" fr_start seclevel1 "$(snippet_lines "$X1.snippet")"; then
	accepted "RSA-1024 LSC: accepted with DEFAULT@SECLEVEL=1" "$WEAK4"
	fr_stop
fi

# --- FreeRADIUS with the hashed folder alone (ca_path)
if fr_start capath "ca_path = \"$X1\""; then
	accepted "ca_path alone: RSA LSC authenticates" "$OLD1"
	accepted "ca_path alone: EC LSC authenticates" "$EC2"
	refused "ca_path alone: MIC refused" "unable to get local issuer certificate|unknown ca" "$MIC0"
	fr_stop
fi

# --- revocation: a revoked LSC and a superseded one are refused after the re-export
revocation_setup "$S" "$PH" SEP00000000A
XR="$TEST_TMP/export-revoked"
check "export after the revocations" export_store "$S" 802.1x freeradius "$XR"
crls_verify "$XR" "$S.capf.pem"
if fr_start revoked "$(snippet_lines "$XR.snippet")"; then
	refused "a revoked LSC is refused (phone revoke)" "certificate revoked" "$REV_ID"
	refused "a superseded LSC is refused (after the upgrade)" "certificate revoked" "$SUP_ID"
	accepted "another phone's LSC is still accepted" "$OLD1"
	accepted "the upgraded phone's new LSC is accepted" "$UPG_ID"
	fr_stop
fi

# --- §6: CAPF regeneration, rollover, retirement
fp_old=$(capf_fp "$S.capf.pem")
check "capf regenerate" "$OPENCAPF" --state "$S" capf regenerate
"$OPENCAPF" --state "$S" capf cert >"$TEST_TMP/capf-new.pem"
fp_new=$(capf_fp "$TEST_TMP/capf-new.pem")
[ -n "$fp_new" ] && [ "$fp_new" != "$fp_old" ] && ok "a new CAPF certificate is current" ||
	not_ok "capf cert still prints the old certificate"
X2="$TEST_TMP/export2"
check "export after regenerate" export_store "$S" 802.1x freeradius "$X2"
equal "the bundle holds the new and the previous CAPF certificates" "$(fingerprints "$X2/ca.pem")" \
	"$(printf '%s\n' "$fp_old" "$fp_new" | sort)"
crls_verify "$X2" "$S.capf.pem" "$TEST_TMP/capf-new.pem"
equal "a CRL for the new and one for the previous CAPF certificate" "$(cat "$TEST_TMP/crl.count")" 2
if fr_start regenerated "$(snippet_lines "$X2.snippet")"; then
	accepted "after regenerate, an LSC of the previous CAPF certificate still authenticates" "$OLD1"
	# the phones load the new ITL; two of them get an LSC from the new certificate, $P3 does not
	check "capf rollover schedule" "$OPENCAPF" --state "$S" capf rollover schedule
	for p in $P1 $P2; do
		"$PHONESIM" trust "$PH/$p" "$TEST_TMP/capf-new.pem" >/dev/null
		for _ in $(seq 1 20); do # until opencapfd presents the new certificate (it switches by itself)
			"$PHONESIM" capf "$PH/$p" "127.0.0.1:$CAPF_PORT" --timeout 20 >"$TEST_TMP/last.out" 2>&1
			[ $? = 3 ] || break
			sleep 0.5
		done
		expect_output "LSC: Installed" "phone $p gets an LSC from the new CAPF certificate"
	done
	NEW1=$(identity "$PH/$P1") NEW2=$(identity "$PH/$P2")
	equal "the new LSC is issued by the new CAPF certificate" "$(issuer_cn "$NEW1/cert.pem")" \
		"$(issuer_cn "$TEST_TMP/capf-new.pem")"
	accepted "new RSA LSC authenticates during the rollover" "$NEW1"
	accepted "new EC LSC authenticates during the rollover" "$NEW2"
	accepted "$P3, not yet rolled over, still authenticates with its old LSC" "$OLD3"
	fr_stop
fi
expect_exit 1 "capf retire is refused while $P3 holds an LSC of the previous certificate" \
	"$OPENCAPF" --state "$S" capf retire
check "capf retire --force" "$OPENCAPF" --state "$S" capf retire --force
X3="$TEST_TMP/export3"
check "export after retire" export_store "$S" 802.1x freeradius "$X3"
equal "the bundle holds only the new CAPF certificate" "$(fingerprints "$X3/ca.pem")" "$fp_new"
equal "the hashed folder holds only the new CAPF certificate" \
	"$(cat "$X3"/[0-9a-f]*.[0-9] | fingerprints /dev/stdin)" "$fp_new"
if fr_start retired "$(snippet_lines "$X3.snippet")"; then
	accepted "after retire, a new LSC authenticates" "$NEW1"
	refused "after retire, $P3's old LSC is refused" "unable to get local issuer certificate|unknown ca" "$OLD3"
	refused "after retire, $P1's replaced old LSC is refused too" \
		"unable to get local issuer certificate|unknown ca" "$OLD1"
	fr_stop
fi

# --- MICs get in only when the administrator adds their CA to the store
check "manufacturing CA added to the 802.1x store" \
	"$OPENCAPF" --state "$S" trust add 802.1x "$TEST_TMP/mfg/mfg.crt"
X4="$TEST_TMP/export4"
check "export with the manufacturing CA" export_store "$S" 802.1x freeradius "$X4"
if fr_start withmfg "$(snippet_lines "$X4.snippet")"; then
	accepted "with the manufacturing CA in the store, the MIC authenticates" "$MIC0"
	accepted "and LSCs still do" "$NEW2"
	fr_stop
fi

finish
