# servers_lib.sh: helpers for the tests that make real servers trust
# opencapf's certificates (FreeRADIUS, ocserv, Kamailio); sourced after
# lib.sh, not run.
#
# Each server runs in the foreground on 127.0.0.1 with a configuration
# written under $TEST_TMP, and is stopped by lib.sh's EXIT trap. A test skips
# (exit 77, which meson reports as SKIP) only when the Debian package that provides a
# server or a client is not installed (scripts/setup.sh --test installs them
# and reports the ones it could not); a server that fails to start fails.
: "${PHONESIM:?PHONESIM must name the phonesim binary}"
: "${OPENCAPFD:?OPENCAPFD must name the opencapfd binary}"

# A timeout from meson (SIGTERM) still runs lib.sh's cleanup.
trap 'exit 143' TERM INT HUP

# need PACKAGE:PROGRAM...: skip the whole test when a program is missing.
# PROGRAM may be "a|b" (either name will do); the first name found is
# stored in BIN_<program with - as _>, e.g. BIN_freeradius.
need() {
	local spec pkg progs p found missing=() names var
	for spec in "$@"; do
		pkg=${spec%%:*} progs=${spec#*:} found=
		IFS='|' read -ra names <<<"$progs"
		for p in "${names[@]}"; do
			found=$(PATH="$PATH:/usr/sbin:/sbin" command -v "$p" 2>/dev/null) && break
		done
		if [ -n "$found" ]; then
			var=${names[0]}
			printf -v "BIN_${var//-/_}" '%s' "$found"
		else
			missing+=("$pkg (${progs//|/ or })")
		fi
	done
	if [ "${#missing[@]}" -gt 0 ]; then
		echo "skipped: not installed: ${missing[*]}; 'bash scripts/setup.sh --test' (as root) installs them"
		echo
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
}

# new_state DIR: an opencapf state (rsa:2048 CAPF) and the CAPF PEM in DIR.capf.pem.
new_state() {
	"$OPENCAPF" --state "$1" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null &&
		"$OPENCAPF" --state "$1" capf cert >"$1.capf.pem"
}

# server_cert DIR: a test CA and a certificate for 127.0.0.1 that the
# servers present: DIR/server-ca.crt, DIR/server.crt, DIR/server.key.
server_cert() {
	local d=$1
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/server-ca.key" -out "$d/server-ca.crt" \
		-subj "/CN=Test Server CA/O=Example" -days 30 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		>/dev/null 2>&1 &&
		openssl req -new -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" \
			-subj "/CN=localhost/O=Example" >/dev/null 2>&1 &&
		printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$d/server.ext" &&
		openssl x509 -req -in "$d/server.csr" -CA "$d/server-ca.crt" -CAkey "$d/server-ca.key" \
			-CAcreateserial -days 30 -sha256 -extfile "$d/server.ext" -out "$d/server.crt" >/dev/null 2>&1
}

# new_phone DIR NAME CAPF_PEM [MFGDIR]: a phonesim phone trusting CAPF_PEM.
new_phone() {
	"$PHONESIM" init "$1" --name "$2" --mfg-ca "${4:-$TEST_TMP/mfg}" >/dev/null &&
		"$PHONESIM" trust "$1" "$3" >/dev/null
}

# enroll STATE PHONEDIR NAME [phone add options...]: schedule an install and
# run the phone's CAPF session against the daemon on $CAPF_PORT.
enroll() {
	local s=$1 dir=$2 name=$3; shift 3
	if ! "$OPENCAPF" --state "$s" phone show "$name" >/dev/null 2>&1; then
		"$OPENCAPF" --state "$s" phone add "$name" "$@" >/dev/null || return 1
	fi
	"$OPENCAPF" --state "$s" phone op "$name" install >/dev/null &&
		"$PHONESIM" capf "$dir" "127.0.0.1:$CAPF_PORT" --timeout 20 >"$TEST_TMP/enroll.out" 2>&1 ||
		{ cat "$TEST_TMP/enroll.out"; return 1; }
}

# identity PHONEDIR [current|lsc|mic]: export what the phone presents; prints
# the folder holding cert.pem, key.pem and chain.pem.
identity() {
	local out
	out=$(mktemp -d "$1.id-${2:-current}.XXXX") &&
		"$PHONESIM" export "$1" --which "${2:-current}" --out "$out" >/dev/null || return 1
	echo "$out"
}

# export_store STATE STORE FORMAT DIR: `opencapf trust export` for a server;
# its standard output (the configuration snippet) goes to DIR.snippet.
export_store() {
	"$OPENCAPF" --state "$1" trust export "$2" --format "$3" --out "$4" >"$4.snippet"
}

# snippet_lines FILE: the configuration lines of a snippet, comments dropped.
snippet_lines() { grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$1"; }

# fingerprints FILE: the SHA-256 fingerprints of every certificate in a PEM bundle.
fingerprints() {
	awk -v dir="$TEST_TMP" '/-----BEGIN CERTIFICATE-----/ { n++; f = dir "/fp." n ".pem" }
		f { print > f } /-----END CERTIFICATE-----/ { close(f); f = "" }
		END { for (i = 1; i <= n; i++) print dir "/fp." i ".pem" }' "$1" |
		while read -r f; do
			openssl x509 -in "$f" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f
			rm -f "$f"
		done | sort
}

# wait_log FILE PATTERN PID [SECONDS]: until FILE matches PATTERN (0), or PID
# exits or time runs out (1).
wait_log() {
	local i
	for ((i = 0; i < ${4:-15} * 10; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_pid PID: SIGTERM, then SIGKILL after 5 s; waits for it.
stop_pid() {
	local i
	kill -TERM "$1" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# show_log FILE: the end of a server log, indented, after a failure.
show_log() { tail -n "${2:-25}" "$1" | sed 's/^/    /'; }

# sip_register HOST PORT IDENTITY_DIR DEVICE: one SIP REGISTER over TLS for
# sips:DEVICE@HOST with the identity's certificate and key, the server
# checked against $TEST_TMP/srv/server-ca.crt. Prints the response's status
# line ("SIP/2.0 200 OK") or "tls alert: WHAT" when the server refused the
# certificate; exit 0 on 200, 2 on another SIP answer, 3 on a TLS failure.
sip_register() {
	[ -f "$TEST_TMP/sip_register.py" ] || cat >"$TEST_TMP/sip_register.py" <<'PY'
import socket, ssl, sys, uuid
host, port, ident, user, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
ctx.check_hostname = False
ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # present even an RSA-1024 LSC: the server decides
ctx.load_cert_chain(ident + "/cert.pem", ident + "/key.pem")
try:
    with socket.create_connection((host, port), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as s:
        lp = s.getsockname()[1]
        tag, cid, branch = uuid.uuid4().hex[:10], uuid.uuid4().hex, "z9hG4bK" + uuid.uuid4().hex[:16]
        s.sendall((
            f"REGISTER sips:{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/TLS 127.0.0.1:{lp};branch={branch};rport\r\n"
            "Max-Forwards: 70\r\n"
            f"From: <sips:{user}@{host}>;tag={tag}\r\n"
            f"To: <sips:{user}@{host}>\r\n"
            f"Call-ID: {cid}@127.0.0.1\r\n"
            "CSeq: 1 REGISTER\r\n"
            f"Contact: <sips:{user}@127.0.0.1:{lp};transport=tls>\r\n"
            "Expires: 600\r\n"
            "User-Agent: opencapf-e2e\r\n"
            "Content-Length: 0\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
except ssl.SSLError as e:
    why = (e.reason or str(e)).lower()
    print("tls alert: " + why.replace("tlsv1_alert_", "").replace("sslv3_alert_", "").replace("_", " "))
    sys.exit(3)
except OSError as e:
    print("connection failed: " + str(e))
    sys.exit(3)
print(buf.decode(errors="replace"))
sys.exit(0 if buf.startswith(b"SIP/2.0 200 ") else 2)
PY
	timeout 30 python3 "$TEST_TMP/sip_register.py" "$1" "$2" "$3" "$4" "$TEST_TMP/srv/server-ca.crt"
}

# revocation_setup STATE PHONES_DIR PREFIX: two more phones with LSCs for the
# revocation checks: PREFIXE01 is revoked (`opencapf phone revoke`), PREFIXF01
# gets a second LSC (an upgrade), which supersedes its first. Sets REV_ID (the
# revoked LSC), SUP_ID (the superseded LSC), UPG_ID (the upgraded phone's new
# LSC): identity folders. Needs the daemon on $CAPF_PORT.
revocation_setup() {
	local s=$1 ph=$2 r=${3}E01 u=${3}F01
	REV_ID=/nonexistent SUP_ID=/nonexistent UPG_ID=/nonexistent
	new_phone "$ph/$r" "$r" "$s.capf.pem" && new_phone "$ph/$u" "$u" "$s.capf.pem" ||
		{ not_ok "phonesim init $r and $u"; return 1; }
	check "phone $r gets an LSC (to be revoked)" enroll "$s" "$ph/$r" "$r" --key-order rsa --rsa-bits 2048
	check "phone $u gets an LSC (to be superseded)" enroll "$s" "$ph/$u" "$u" --key-order rsa --rsa-bits 2048
	REV_ID=$(identity "$ph/$r") SUP_ID=$(identity "$ph/$u")
	check "phone $u gets a new LSC (upgrade)" enroll "$s" "$ph/$u" "$u"
	UPG_ID=$(identity "$ph/$u")
	check "opencapf phone revoke $r" "$OPENCAPF" --state "$s" phone revoke "$r"
	check "opencapf crl publish" "$OPENCAPF" --state "$s" crl publish
	local sup_serial
	sup_serial=$(openssl x509 -in "$SUP_ID/cert.pem" -noout -serial | cut -d= -f2)
	"$OPENCAPF" --state "$s" crl show >"$TEST_TMP/last.out" 2>&1
	expect_output "^ *$sup_serial .*superseded" "the upgrade revoked the old LSC as superseded (crl show)"
}

# crls_verify EXPORT_DIR CAPF_PEM...: every CRL of the export's crl.pem
# verifies (`openssl crl -verify`) against the CAPF certificates given.
crls_verify() {
	local dir=$1 n=0 f; shift
	cat "$@" >"$TEST_TMP/crl-cas.pem"
	awk -v d="$TEST_TMP" '/-----BEGIN X509 CRL-----/ { n++; f = d "/crl." n ".pem" } f { print > f }
		/-----END X509 CRL-----/ { close(f); f = "" } END { print n + 0 }' "$dir/crl.pem" >"$TEST_TMP/crl.count"
	for f in "$TEST_TMP"/crl.[0-9]*.pem; do
		[ -f "$f" ] || continue
		n=$((n + 1))
		if openssl crl -in "$f" -CAfile "$TEST_TMP/crl-cas.pem" -noout 2>&1 | grep -q "verify OK"; then
			ok "openssl crl -verify accepts CRL $n of $dir/crl.pem"
		else
			not_ok "openssl crl -verify refuses CRL $n of $dir/crl.pem"
		fi
		rm -f "$f"
	done
	[ "$n" -gt 0 ] || not_ok "no CRL in $dir/crl.pem"
}
