#!/usr/bin/env bash
# log_escape.sh: names from the network cannot forge log lines.
# A TVS request and a CAPF AUTH_RESPONSE whose device name holds a
# newline and a terminal escape sequence, and a registration-check client
# certificate whose CN holds the same, must reach the daemon's log,
# `opencapf register log` (text and JSON) and the store escaped (\x0a, \x1b,
# \\; text_escape in common/util.h): no raw control character, no forged
# line. The clients are python3's ssl module (phonesim only sends
# well-formed names).
. "$(dirname "$0")/lib.sh"

S="$TEST_TMP/state"
oc() { "$OPENCAPF" --state "$S" "$@"; }
oc init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ" >/dev/null
TVS_PORT=$(free_port)
REG_PORT=$(free_port)
start_daemon "$S" --tvs-listen "127.0.0.1:$TVS_PORT" --register-listen "127.0.0.1:$REG_PORT" || exit 1
wait_port "$TVS_PORT" && wait_port "$REG_PORT" || { echo "listeners not up"; cat "$DAEMON_LOG"; exit 1; }

# The hostile name: a newline that would start a forged log line, ANSI red, and
# a literal "\x0a" that must not read as one of our escapes (it shows as \\x0a:
# only the escaping at the source does that, the log writer's alone would not).
RAW_NAME=$'CP-evil\nopencapfd: info: forged\e[31m\\x0a'
SHOWN='CP-evil\x0aopencapfd: info: forged\x1b[31m\\x0a'

# A self-signed client certificate with that CN (the config file's "\n" is a newline).
printf '[req]\ndistinguished_name = dn\nprompt = no\nstring_mask = utf8only\n[dn]\nCN = %s\nO = Evil\n' \
	'CP-evil\nopencapfd: info: forged'$'\e''[31m\\x0a' >"$TEST_TMP/evil.cnf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -config "$TEST_TMP/evil.cnf" \
	-keyout "$TEST_TMP/evil.key" -out "$TEST_TMP/evil.crt" >/dev/null 2>&1
openssl x509 -in "$TEST_TMP/evil.crt" -noout -subject -nameopt RFC2253 | grep -q '\\0A' &&
	ok "the client certificate's CN holds a newline" || not_ok "cannot make the test certificate"

python3 - "$TVS_PORT" "$REG_PORT" "$RAW_NAME" "$TEST_TMP/evil.crt" "$TEST_TMP/evil.key" <<'EOF' >"$TEST_TMP/client.out" 2>&1
import socket, ssl, struct, sys

tvs_port, reg_port, name, crt, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]

def tls(port, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))

def elem(tag, value):
    return struct.pack(">BH", tag, len(value)) + value

# TVS VERIFY_REQUEST: header 0x57, version 1, command 1, reserved, session id, body length;
# DEVICE_NAME (lead byte 1 + name), CERTIFICATE (any bytes: the server only hashes them)
body = elem(1, b"\x01" + name.encode()) + elem(2, open(crt, "rb").read())
s = tls(tvs_port)
s.sendall(struct.pack(">BBBBIH", 0x57, 1, 1, 0, 4711, len(body)) + body)
head = s.recv(10)
print("tvs answer", len(head), "bytes, command", head[2] if len(head) > 2 else None)
s.close()

# The registration check: the client certificate is refused (not in CallManager-trust), and recorded.
try:
    s = tls(reg_port, crt)
    s.recv(100)
    print("register: connection stayed open")
except (ssl.SSLError, OSError) as e:
    print("register: refused:", type(e).__name__)
EOF
grep -q "tvs answer 10 bytes, command 2" "$TEST_TMP/client.out" && ok "TVS answers the request" ||
	not_ok "TVS: $(cat "$TEST_TMP/client.out")"

# --- CAPF: the AUTH_RESPONSE device name (server_session.c escapes it)
python3 - "$CAPF_PORT" "$RAW_NAME" <<'EOF' >"$TEST_TMP/capf.out" 2>&1
import socket, ssl, struct, sys

port, name = int(sys.argv[1]), sys.argv[2]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_ciphers("ALL:@SECLEVEL=0")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))

def recv_msg():
    head = b""
    while len(head) < 8:
        head += s.recv(8 - len(head))
    body = b""
    while len(body) < struct.unpack(">H", head[6:8])[0]:
        body += s.recv(65536)
    return head, body

# AUTH_REQUEST, then AUTH_RESPONSE {VERSION 3, DEVICE_NAME (NUL-terminated)} with its session id
head, _ = recv_msg()
sid = struct.unpack(">I", head[2:6])[0]
body = struct.pack(">BHB", 7, 1, 3) + struct.pack(">BH", 13, len(name) + 1) + name.encode() + b"\0"
s.sendall(struct.pack(">BBIH", 0x55, 2, sid, len(body)) + body)
head, _ = recv_msg()
print("capf answer: command", head[1])
EOF
grep -q "capf answer: command 15" "$TEST_TMP/capf.out" && ok "CAPF ends the session of an unknown device" ||
	not_ok "CAPF: $(cat "$TEST_TMP/capf.out")"
for _ in $(seq 1 50); do grep -q "capf session [0-9]*: device=CP" "$DAEMON_LOG" && break; sleep 0.1; done
grep -qF "device=$SHOWN peer=" "$DAEMON_LOG" && ok "log: the CAPF device name, escaped" ||
	not_ok "log: no escaped CAPF device name: $(grep 'capf session' "$DAEMON_LOG" | head -3)"

# --- the daemon's log
for _ in $(seq 1 50); do grep -q "register: peer=" "$DAEMON_LOG" && break; sleep 0.1; done
grep -qF "device=$SHOWN session=4711" "$DAEMON_LOG" && ok "log: the TVS device name, escaped" ||
	not_ok "log: no escaped TVS device name: $(grep 'tvs:' "$DAEMON_LOG" | head -3)"
grep -qF "phone=$SHOWN cert=unknown result=refused" "$DAEMON_LOG" && ok "log: the certificate's CN, escaped" ||
	not_ok "log: no escaped CN: $(grep 'register:' "$DAEMON_LOG" | head -3)"
grep -q '^opencapfd: info: forged' "$DAEMON_LOG" && not_ok "log: a forged line" || ok "log: no forged line"
LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$DAEMON_LOG" && not_ok "log: a raw control character" ||
	ok "log: no raw control character"

# --- opencapf register log, text and JSON
check "register log" oc register log
LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$TEST_TMP/last.out" && not_ok "register log: a raw control character" ||
	ok "register log: no raw control character"
grep -q '^opencapfd: info: forged' "$TEST_TMP/last.out" && not_ok "register log: a forged line" ||
	ok "register log: no forged line"
expect_output "$(printf '%s' "$SHOWN" | sed 's/[][\\.]/\\&/g')" "register log: the CN, escaped"
oc register log --json >"$TEST_TMP/reg.json"
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0][sys.argv[2]])' "$TEST_TMP/reg.json" "$1"; }
equal "register log --json: phone is the escaped CN" "$(field phone)" "$SHOWN"
case "$(field subject)" in
*'\0A'*'\1B[31m'*) ok "register log --json: the subject keeps RFC 4514's escapes" ;;
*) not_ok "register log --json subject: $(field subject)" ;;
esac
case "$(field rule)" in
*"$SHOWN"*) ok "register log --json: the rule names the issuer CN escaped" ;;
*) not_ok "register log --json rule: $(field rule)" ;;
esac
equal "store: the register log rows hold no newline or escape character" "$(sqlite3 "$S/opencapf.db" \
	"SELECT count(*) FROM register_log WHERE instr(phone || rule || subject || issuer, char(10)) > 0
	 OR instr(phone || rule || subject || issuer, char(27)) > 0")" 0
stop_daemon
finish
