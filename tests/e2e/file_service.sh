#!/usr/bin/env bash
# file_service.sh: opencapfd's file service over the provisioning folder
# (the folder ITLFile.tlv is published to), with real clients on loopback:
# the Debian tftp-hpa client and curl (tftp://, http://) fetch files
# byte-identical to the folder's, small and of more than 65535 blocks
# (block numbers roll over), with and without blksize; raw packets crafted
# with python3 get the RFCs' answers: ".." and absolute paths, a write
# request, a link out of the folder (error 2), a missing file (1), blksize
# out of range (8), an unknown option left out of the OACK, retransmission
# of an unacknowledged block; and none of it changes the folder. Files signed
# with `opencapf sign` verify after the trip. Requests are logged escaped and
# counted in /metrics. Over HTTPS, a configuration's .sgn is answered
# unsigned (the file beside it, or the .sgn without its header).
#
# Needs tftp (tftp-hpa), curl, python3 and openssl: exit 77 without them.
set -u
for tool in tftp curl python3 openssl; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
done
curl --version | grep -qw tftp || { echo "SKIP: curl lacks tftp"; exit 77; }
. "$(dirname "$0")/lib.sh"

STATE=$TEST_TMP/state
DIR=$STATE/tftp
OUT=$TEST_TMP/out
mkdir -p "$OUT"
check "init" "$OPENCAPF" --state "$STATE" init --subject "O=Example,OU=Voice,C=NZ"

# ---- the folder ----
printf '<device>\n<fullConfig>true</fullConfig>\n</device>\n' >"$DIR/SEP001122334455.cnf.xml"
check "sign the config" "$OPENCAPF" --state "$STATE" sign "$DIR/SEP001122334455.cnf.xml"
printf '<device><capfAuthMode>2</capfAuthMode></device>\n' >"$TEST_TMP/SEP00AABBCCDDEE.cnf.xml"
check "sign a config kept only signed" "$OPENCAPF" --state "$STATE" sign --hash sha512 \
	-o "$DIR/SEP00AABBCCDDEE.cnf.xml.sgn" "$TEST_TMP/SEP00AABBCCDDEE.cnf.xml"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=files.example -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$TEST_TMP/https.key" -out "$TEST_TMP/https.pem" >/dev/null 2>&1
head -c 70000 /dev/urandom >"$DIR/small.bin"
head -c $((33 * 1024 * 1024 + 100)) /dev/urandom >"$DIR/big.bin"   # 67585 blocks of 512
: >"$DIR/empty.bin"
head -c 1024 /dev/urandom >"$DIR/exact.bin"                         # two whole blocks
mkdir -p "$DIR/Desktops"
echo "background" >"$DIR/Desktops/back.txt"
echo "secret" >"$TEST_TMP/outside.txt"
ln -s "$TEST_TMP/outside.txt" "$DIR/leak.txt"
ln -s small.bin "$DIR/alias.bin"
# What the requests could change: every file of the test (not what the daemon
# publishes there itself: ITL, CTL, CRLs), their sizes, times and contents.
snapshot() {
	(cd "$DIR" && find . -mindepth 1 -not -name 'ITLFile.tlv' -not -name 'CTLFile.tlv' -not -name '*.crl' \
		-not -name '*.crl.pem' -printf '%p %s %T@\n' | sort && sha256sum ./*.bin ./*.sgn 2>/dev/null)
}

# ---- the daemon ----
INI=$TEST_TMP/opencapfd.ini
printf '[files]\ntftp_timeout_ms = 300\ntftp_retries = 2\ntftp_max_per_address = 2\n' >"$INI"
TFTP_PORT=
for _ in 1 2 3 4 5; do
	TFTP_PORT=$(free_port)
	HTTP_PORT=$(free_port)
	API_PORT=$(free_port)
	HTTPS_PORT=$(free_port)
	start_daemon "$STATE" --config "$INI" --tftp-listen "127.0.0.1:$TFTP_PORT" \
		--http-files-listen "127.0.0.1:$HTTP_PORT" --http-listen "127.0.0.1:$API_PORT" \
		--https-files-listen "127.0.0.1:$HTTPS_PORT" --https-files-cert "$TEST_TMP/https.pem" \
		--https-files-key "$TEST_TMP/https.key" || exit 1
	if wait_port "$HTTP_PORT" && kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
	TFTP_PORT=
done
[ -n "$TFTP_PORT" ] || { echo "cannot start the file service"; cat "$DAEMON_LOG"; exit 1; }
grep -q "TFTP listening on 127.0.0.1:$TFTP_PORT" "$DAEMON_LOG" && ok "TFTP listener started" ||
	not_ok "TFTP listener started"
snapshot >"$TEST_TMP/before.txt"

same() { # DESCRIPTION FILE-IN-FOLDER FETCHED
	if cmp -s "$DIR/$2" "$3"; then ok "$1"; else not_ok "$1 ($3 differs from $2)"; fi
}

# ---- real clients ----
tftp_get() { # NAME DEST: tftp-hpa in binary mode (default 512-byte blocks)
	timeout 120 tftp -m binary 127.0.0.1 "$TFTP_PORT" -c get "$1" "$2"
}
check "tftp-hpa fetches small.bin" tftp_get small.bin "$OUT/t-small.bin"
same "tftp-hpa: small.bin byte-identical" small.bin "$OUT/t-small.bin"
check "tftp-hpa fetches big.bin (block numbers roll over)" tftp_get big.bin "$OUT/t-big.bin"
same "tftp-hpa: big.bin byte-identical" big.bin "$OUT/t-big.bin"
check "tftp-hpa fetches exact.bin (a final empty block)" tftp_get exact.bin "$OUT/t-exact.bin"
same "tftp-hpa: exact.bin byte-identical" exact.bin "$OUT/t-exact.bin"
check "tftp-hpa fetches a file in a subfolder" tftp_get Desktops/back.txt "$OUT/t-back.txt"
same "tftp-hpa: Desktops/back.txt byte-identical" Desktops/back.txt "$OUT/t-back.txt"
check "tftp-hpa fetches a link inside the folder" tftp_get alias.bin "$OUT/t-alias.bin"
same "tftp-hpa: alias.bin is small.bin" small.bin "$OUT/t-alias.bin"

curl_tftp() { # NAME DEST [CURL OPTIONS]
	local name=$1 dest=$2; shift 2
	curl -sS --max-time 120 "$@" -o "$dest" "tftp://127.0.0.1:$TFTP_PORT/$name"
}
check "curl tftp:// fetches small.bin" curl_tftp small.bin "$OUT/c-small.bin"
same "curl tftp://: small.bin byte-identical" small.bin "$OUT/c-small.bin"
check "curl tftp:// fetches big.bin with blksize 1428" curl_tftp big.bin "$OUT/c-big.bin" --tftp-blksize 1428
same "curl tftp:// blksize 1428: big.bin byte-identical" big.bin "$OUT/c-big.bin"
check "curl tftp:// fetches big.bin with blksize 512" curl_tftp big.bin "$OUT/c-big512.bin" --tftp-blksize 512
same "curl tftp:// blksize 512: big.bin byte-identical" big.bin "$OUT/c-big512.bin"
check "curl tftp:// fetches empty.bin" curl_tftp empty.bin "$OUT/c-empty.bin"
same "curl tftp://: empty.bin byte-identical" empty.bin "$OUT/c-empty.bin"
check "curl tftp:// fetches the signed config" curl_tftp SEP001122334455.cnf.xml.sgn "$OUT/c.sgn"
check "the signed config verifies after the trip" "$OPENCAPF" --state "$STATE" sgn verify "$OUT/c.sgn"

curl_http() { # NAME DEST
	curl -sS --max-time 60 -f -o "$2" "http://127.0.0.1:$HTTP_PORT/$1"
}
check "curl http:// fetches small.bin" curl_http small.bin "$OUT/h-small.bin"
same "curl http://: small.bin byte-identical" small.bin "$OUT/h-small.bin"
check "curl http:// fetches big.bin" curl_http big.bin "$OUT/h-big.bin"
same "curl http://: big.bin byte-identical" big.bin "$OUT/h-big.bin"
check "curl http:// fetches ITLFile.tlv" curl_http ITLFile.tlv "$OUT/h-itl.tlv"
same "curl http://: ITLFile.tlv byte-identical" ITLFile.tlv "$OUT/h-itl.tlv"
http_code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@"; }
check "curl http:// fetches a signed config" curl_http SEP001122334455.cnf.xml.sgn "$OUT/h.sgn"
same "curl http://: the signed config as signed" SEP001122334455.cnf.xml.sgn "$OUT/h.sgn"
curl_https() { # NAME DEST
	curl -sS --max-time 60 -f --cacert "$TEST_TMP/https.pem" -o "$2" "https://127.0.0.1:$HTTPS_PORT/$1"
}
wait_port "$HTTPS_PORT"
check "curl https:// fetches small.bin" curl_https small.bin "$OUT/s-small.bin"
same "curl https://: small.bin byte-identical" small.bin "$OUT/s-small.bin"
check "curl https:// asks for a signed config" curl_https SEP001122334455.cnf.xml.sgn "$OUT/s-cnf.xml"
same "curl https://: a signed config is answered unsigned" SEP001122334455.cnf.xml "$OUT/s-cnf.xml"
check "curl https:// asks for a config kept only signed" curl_https SEP00AABBCCDDEE.cnf.xml.sgn "$OUT/s-only.xml"
if cmp -s "$TEST_TMP/SEP00AABBCCDDEE.cnf.xml" "$OUT/s-only.xml"; then
	ok "curl https://: its content is answered without the header"; else
	not_ok "curl https://: its content is answered without the header"; fi
equal "HTTPS HEAD gives the unsigned length" \
	"$(curl -sI --max-time 10 --cacert "$TEST_TMP/https.pem" "https://127.0.0.1:$HTTPS_PORT/SEP00AABBCCDDEE.cnf.xml.sgn" |
		tr -d '\r' | sed -n 's/^Content-Length: //p')" "$(stat -c %s "$TEST_TMP/SEP00AABBCCDDEE.cnf.xml")"
equal "HTTPS: .. is 403" "$(http_code --cacert "$TEST_TMP/https.pem" --path-as-is "https://127.0.0.1:$HTTPS_PORT/../x")" 403
equal "HTTP HEAD gives the length" \
	"$(curl -sI --max-time 10 "http://127.0.0.1:$HTTP_PORT/small.bin" | tr -d '\r' | sed -n 's/^Content-Length: //p')" 70000
equal "HTTP: a missing file is 404" "$(http_code "http://127.0.0.1:$HTTP_PORT/nothere")" 404
equal "HTTP: .. is 403" "$(http_code --path-as-is "http://127.0.0.1:$HTTP_PORT/../etc/passwd")" 403
equal "HTTP: encoded .. is 403" "$(http_code --path-as-is "http://127.0.0.1:$HTTP_PORT/%2e%2e/etc/passwd")" 403
equal "HTTP: a link out of the folder is 403" "$(http_code "http://127.0.0.1:$HTTP_PORT/leak.txt")" 403
equal "HTTP: PUT is 405" "$(http_code -X PUT --data x "http://127.0.0.1:$HTTP_PORT/new.txt")" 405

# ---- raw packets ----
cat >"$TEST_TMP/tftpc.py" <<'EOF'
# tftpc.py PORT OPCODE NAME [OPTION VALUE]... [--silent]: send one request
# and print the first answer (ERROR code message / OACK options / DATA block
# size); --silent: never acknowledge, count the DATA packets that come.
import socket, struct, sys
args = sys.argv[1:]
silent = '--silent' in args
burst = int(args[args.index('--burst') + 1]) if '--burst' in args else 0
args = [a for a in args[:args.index('--burst')] if a != '--silent'] if burst else \
    [a for a in args if a != '--silent']
port, op, name, opts = int(args[0]), int(args[1]), args[2], args[3:]
name = name.encode().decode('unicode_escape').encode('latin1')
pkt = struct.pack('>H', op) + name + b'\0octet\0' + b''.join(o.encode() + b'\0' for o in opts)
def show(data):
    code = struct.unpack('>H', data[:2])[0]
    if code == 5:
        return 'ERROR %d %s' % (struct.unpack('>H', data[2:4])[0], data[4:-1].decode('latin1'))
    if code == 6:
        return 'OACK ' + ' '.join(x.decode() for x in data[2:-1].split(b'\0'))
    if code == 3:
        return 'DATA %d %d' % (struct.unpack('>H', data[2:4])[0], len(data) - 4)
    return 'OPCODE %d' % code
if burst:  # several requests at once from one address: each first answer, then end them
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(burst)]
    for k in socks:
        k.settimeout(3); k.sendto(pkt, ('127.0.0.1', port))
    answers = []
    for k in socks:
        data, peer = k.recvfrom(70000)
        answers.append(show(data).split(' ')[0] + ' ' + show(data).split(' ')[1])
        if data[:2] == b'\0\3':
            k.sendto(b'\0\5\0\0done\0', peer)
    print(' '.join(sorted(answers)))
    sys.exit(0)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(pkt, ('127.0.0.1', port))
try:
    data, peer = s.recvfrom(70000)
except socket.timeout:
    print('NOTHING'); sys.exit(0)
print(show(data))
if silent:
    n = 1
    try:
        while True:
            data, _ = s.recvfrom(70000); n += 1
    except socket.timeout:
        pass
    print('PACKETS %d' % n)
elif data[:2] in (b'\0\3', b'\0\6'):  # a transfer: after the OACK take block 1, then end it
    if data[:2] == b'\0\6':
        s.sendto(b'\0\4\0\0', peer)
        data, _ = s.recvfrom(70000)
        print(show(data))
    s.sendto(b'\0\5\0\0done\0', peer)
EOF
raw() { timeout 20 python3 "$TEST_TMP/tftpc.py" "$TFTP_PORT" "$@" >"$TEST_TMP/last.out" 2>&1; }
raw 1 "../etc/passwd";      expect_output "^ERROR 2 " "RRQ with .. gets error 2 (access violation)"
raw 1 "Desktops/../../x";   expect_output "^ERROR 2 " "RRQ with an inner .. gets error 2"
raw 1 "/etc/passwd";        expect_output "^ERROR 2 " "RRQ with an absolute path gets error 2"
raw 1 "leak.txt";           expect_output "^ERROR 2 .*outside" "RRQ of a link out of the folder gets error 2"
raw 1 "Desktops";           expect_output "^ERROR 2 " "RRQ of a folder gets error 2"
raw 1 "nothere.txt";        expect_output "^ERROR 1 " "RRQ of a missing file gets error 1"
raw 2 "new.txt";            expect_output "^ERROR 2 " "WRQ gets error 2 (access violation)"
raw 2 "small.bin" tsize 5;  expect_output "^ERROR 2 " "WRQ over an existing file gets error 2"
raw 1 "small.bin" blksize 7;     expect_output "^ERROR 8 " "blksize 7 gets error 8"
raw 1 "small.bin" blksize 65465; expect_output "^ERROR 8 " "blksize 65465 gets error 8"
raw 1 "small.bin" blksize abc;   expect_output "^ERROR 8 " "a blksize that is no number gets error 8"
raw 3 "x";                       expect_output "^ERROR 4 " "DATA on the server port gets error 4"
raw 1 "small.bin" blksize 1024 tsize 0 foo bar
expect_output "^OACK blksize 1024 tsize 70000$" "OACK answers blksize and tsize, leaves the unknown option out"
expect_output "^DATA 1 1024$" "then block 1 of the negotiated size"
raw 1 "small.bin" foo bar;  expect_output "^DATA 1 512$" "only unknown options: no OACK, plain 512-byte blocks"
raw 1 "small.bin" --silent; expect_output "^PACKETS 3$" "an unacknowledged block is sent again, twice, then given up"
raw 1 'bad\x01name';        expect_output "^ERROR 2 " "a control character gets error 2"
sleep 1 # the given-up transfer ends
raw 1 "small.bin" --burst 3; expect_output "^DATA 1 DATA 1 ERROR 0$" "a third transfer at once from one address gets error 0 (busy)"
snapshot >"$TEST_TMP/after.txt"
if cmp -s "$TEST_TMP/before.txt" "$TEST_TMP/after.txt"; then ok "the folder is unchanged"; else
	not_ok "the folder is unchanged"; diff "$TEST_TMP/before.txt" "$TEST_TMP/after.txt" | head; fi
[ ! -e "$DIR/new.txt" ] && [ ! -e "$TEST_TMP/x" ] && ok "nothing was written" || not_ok "nothing was written"

# ---- log and metrics ----
sleep 1.5 # the given-up transfer's last timeout
grep -q 'RRQ "bad\\x01name": refused, error 2' "$DAEMON_LOG" && ok "names are logged escaped" ||
	{ not_ok "names are logged escaped"; grep 'bad' "$DAEMON_LOG" | head -3; }
grep -q 'RRQ "small.bin": timed out after 2 retransmissions' "$DAEMON_LOG" &&
	ok "the given-up transfer is logged" || not_ok "the given-up transfer is logged"
grep -q 'RRQ "big.bin" blksize=1428 tsize.*: sent 34603108 bytes in 24232 blocks' "$DAEMON_LOG" &&
	ok "a finished transfer is logged with its options and size" ||
	{ not_ok "a finished transfer is logged with its options and size"; grep big.bin "$DAEMON_LOG" | head -3; }
TOKEN=$("$OPENCAPF" --state "$STATE" token create --role read | tail -1)
curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT/metrics" >"$TEST_TMP/last.out"
expect_output '^opencapf_tftp_requests_total\{outcome="sent"\} (1[0-9])$' "metrics count TFTP files sent"
expect_output '^opencapf_tftp_requests_total\{outcome="access_violation"\} [5-9]$' "metrics count access violations"
expect_output '^opencapf_tftp_requests_total\{outcome="write_refused"\} 2$' "metrics count refused writes"
expect_output '^opencapf_tftp_requests_total\{outcome="bad_option"\} 3$' "metrics count refused options"
expect_output '^opencapf_tftp_requests_total\{outcome="timeout"\} 1$' "metrics count given-up transfers"
expect_output '^opencapf_tftp_requests_total\{outcome="busy"\} 1$' "metrics count busy refusals"
expect_output '^opencapf_http_files_requests_total\{outcome="sent"\} ([4-9]|1[0-9])$' "metrics count HTTP files sent"
expect_output '^opencapf_tftp_transfers 0$' "no transfer is left running"

stop_daemon
finish
