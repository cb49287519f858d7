#!/usr/bin/env bash
# sign.sh: `opencapf sign` and `opencapf sgn show|verify|strip` on a real
# state. Signed files are checked by an independent reader (python3 with
# `cryptography`, written from docs/protocol/provisioning.md §3, not from
# this project's codec): field order and values, HEADER_LENGTH a multiple of
# 4 and the content after it unchanged, and the RSA PKCS#1 v1.5 signature
# over the file without its SIGNATURE TLV, with the state's SAST/TFTP
# certificate. A batch with a missing file signs the others and exits 1; a
# changed byte, another certificate and an unsigned file are refused with
# the reason.
#
# Needs python3 with the cryptography module: exit 77 without it.
set -u
python3 -c 'import cryptography' 2>/dev/null || { echo "SKIP: python3 cryptography is not installed"; exit 77; }
. "$(dirname "$0")/lib.sh"

STATE=$TEST_TMP/state
F=$TEST_TMP/files
mkdir -p "$F"
check "init" "$OPENCAPF" --state "$STATE" init --subject "O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ"
"$OPENCAPF" --state "$STATE" itl signer show --pem >"$TEST_TMP/sast.pem"
printf '<device>\n<fullConfig>true</fullConfig>\n</device>\n' >"$F/SEP001122334455.cnf.xml"
printf 'softkeys\n' >"$F/Softkeys.xml"
head -c 200000 /dev/urandom >"$F/ringer.raw"
: >"$F/empty.txt"

expect_exit 1 "a batch with a missing file exits 1" "$OPENCAPF" --state "$STATE" sign \
	"$F/SEP001122334455.cnf.xml" "$F/missing.xml" "$F/Softkeys.xml" "$F/ringer.raw" "$F/empty.txt"
expect_output "missing.xml" "the missing file is named"
for f in SEP001122334455.cnf.xml Softkeys.xml ringer.raw empty.txt; do
	[ -s "$F/$f.sgn" ] && ok "$f.sgn written despite the failure" || not_ok "$f.sgn written despite the failure"
done
[ ! -e "$F/missing.xml.sgn" ] && ok "nothing written for the missing file" || not_ok "nothing written for the missing file"
check "sign with SHA-512 and vendor names" "$OPENCAPF" --state "$STATE" sign --hash sha512 --names vendor \
	-o "$F/dial.sgn" "$F/Softkeys.xml"

cat >"$TEST_TMP/reader.py" <<'EOF'
# reader.py SGN ORIGINAL CERT HASH-ID NAME-SEPARATOR: check one signed file.
import struct, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
sgn, orig, certfile, hash_id, sep = sys.argv[1:6]
data = open(sgn, 'rb').read()
cert = x509.load_pem_x509_certificate(open(certfile, 'rb').read())
def tlv(pos):
    tag = data[pos]
    if tag == 13:
        return tag, None, pos + 1
    ln = struct.unpack('>H', data[pos + 1:pos + 3])[0]
    return tag, data[pos + 3:pos + 3 + ln], pos + 3 + ln
tag, ver, pos = tlv(0); assert tag == 1 and ver == b'\x01\x00', 'VERSION 1.0 first'
tag, hl, pos = tlv(pos); assert tag == 2, 'HEADER_LENGTH second'
hlen = struct.unpack('>H', hl)[0]
assert hlen % 4 == 0, 'header length a multiple of 4'
fields, order = {}, []
while pos < hlen:
    start = pos
    if data[pos] in (3, 7, 9):
        order.append(data[pos]); pos += 3; continue
    tag, val, pos = tlv(pos)
    order.append(tag)
    if tag != 13:
        assert tag not in fields, 'tag %d once' % tag
        fields[tag] = (start, val)
assert pos == hlen, 'fields end at HEADER_LENGTH'
assert [t for t in order if t != 13] == [3, 4, 6, 5, 7, 8, 9, 10, 11, 12, 14, 15], order
assert data[hlen:] == open(orig, 'rb').read(), 'content unchanged'
serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8, 'big')
assert fields[5][1] == serial, 'serial'
assert fields[8][1] == bytes([int(hash_id)]), 'hash id'
assert fields[10][1] == b'\0' and fields[11][1] == b'\x02', 'RSA, 256-byte signature'
assert sep.encode() in fields[4][1] and fields[4][1].startswith(b'CN=ITLRECOVERY_'), fields[4][1]
assert fields[4][1].endswith(b'\0') and fields[6][1].endswith(b'\0'), 'names NUL-terminated'
assert fields[14][1].endswith(b'.sgn\0') or fields[14][1] == b'dial.sgn\0', fields[14][1]
sig_at, sig = fields[12]
signed = data[:sig_at] + data[sig_at + 3 + len(sig):]
h = hashes.SHA1() if hash_id == '1' else hashes.SHA512()
cert.public_key().verify(sig, signed, padding.PKCS1v15(), h)
print('independent reader: ok')
EOF
for f in SEP001122334455.cnf.xml Softkeys.xml ringer.raw empty.txt; do
	check "$f.sgn passes the independent reader" python3 "$TEST_TMP/reader.py" "$F/$f.sgn" "$F/$f" \
		"$TEST_TMP/sast.pem" 1 ","
done
check "SHA-512 with vendor names passes the independent reader" python3 "$TEST_TMP/reader.py" \
	"$F/dial.sgn" "$F/Softkeys.xml" "$TEST_TMP/sast.pem" 3 ";"

check "sgn verify: the whole batch" "$OPENCAPF" --state "$STATE" sgn verify "$F"/*.sgn
expect_output "dial.sgn: signature valid \(SHA512" "verify names the hash"
cp "$F/ringer.raw.sgn" "$TEST_TMP/renamed.sgn"
check "sgn verify of a renamed file" "$OPENCAPF" --state "$STATE" sgn verify "$TEST_TMP/renamed.sgn"
expect_output 'warning: .*renamed.sgn: the header names the file "ringer.raw.sgn"' "a renamed file gets a warning"
check "sgn verify --cert with the signer's certificate" "$OPENCAPF" --state "$STATE" sgn verify \
	--cert "$TEST_TMP/sast.pem" "$F/ringer.raw.sgn"
"$OPENCAPF" --state "$STATE" capf cert >"$TEST_TMP/capf.pem"
expect_exit 1 "sgn verify with another certificate fails" "$OPENCAPF" --state "$STATE" sgn verify \
	--cert "$TEST_TMP/capf.pem" "$F/ringer.raw.sgn"
expect_output "serial number" "the reason is the serial number"
cp "$F/ringer.raw.sgn" "$TEST_TMP/tampered.sgn"
flip_byte "$TEST_TMP/tampered.sgn" 1000
expect_exit 1 "a changed content byte fails verification" "$OPENCAPF" --state "$STATE" sgn verify "$TEST_TMP/tampered.sgn"
expect_output "bad signature" "the reason is a bad signature"
expect_exit 1 "an unsigned file is refused" "$OPENCAPF" --state "$STATE" sgn verify "$F/Softkeys.xml"
expect_output "not a signed file" "the reason says it is not signed"

check "sgn show" "$OPENCAPF" --state "$STATE" sgn show "$F/SEP001122334455.cnf.xml.sgn"
expect_output "^Version: +1\.0 \(signed\)" "show: version"
expect_output "^File name: +SEP001122334455\.cnf\.xml\.sgn$" "show: the header's file name"
expect_output "^Content: +49 bytes" "show: the content size"
expect_output "^Check: +well-formed" "show: the form check"

check "sgn strip to standard output" "$OPENCAPF" --state "$STATE" sgn strip -o - "$F/ringer.raw.sgn"
cmp -s "$TEST_TMP/last.out" "$F/ringer.raw" && ok "strip gives the original bytes" || not_ok "strip gives the original bytes"
mv "$F/Softkeys.xml" "$F/Softkeys.orig"
check "sgn strip beside the file" "$OPENCAPF" --state "$STATE" sgn strip "$F/Softkeys.xml.sgn"
cmp -s "$F/Softkeys.xml" "$F/Softkeys.orig" && ok "strip writes FILE without .sgn" || not_ok "strip writes FILE without .sgn"
expect_exit 2 "sign --hash sha256 is refused" "$OPENCAPF" --state "$STATE" sign --hash sha256 "$F/empty.txt"
expect_exit 2 "sign without a file is a usage error" "$OPENCAPF" --state "$STATE" sign
finish
