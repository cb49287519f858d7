#!/usr/bin/env python3
"""make-corpus.py: write the fuzz seed corpora from the golden vectors.

    python3 fuzz/make-corpus.py [VECTORS_DIR]

corpus/capf/: every message of every session in capf-sessions.json;
corpus/tvs/: every message in tvs-sessions.json; corpus/itl/: both ITL
vectors plus a small hand-made file with what they lack (header padding,
DNS_NAME, IP_ADDRESS, CERTIFICATE_HASH, HASH_ALGORITHM, two roles, an unknown
record tag). File names are stable, so re-running it changes nothing unless
the vectors change. The output is committed.
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'tests', 'vectors')


def write(folder, name, data):
    path = os.path.join(HERE, 'corpus', folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), 'wb') as f:
        f.write(data)


def sessions(file, folder):
    with open(os.path.join(VECTORS, file)) as f:
        cases = json.load(f)['cases']
    seen = set()
    for i, case in enumerate(cases, 1):
        for j, msg in enumerate(case['messages'], 1):
            data = bytes.fromhex(msg['hex'])
            if data in seen:
                continue
            seen.add(data)
            what = msg.get('command', msg['from']).replace('COMMAND_', '').lower()
            write(folder, 's%02d-m%02d-%s.bin' % (i, j, what), data)


def tlv(tag, value):
    return struct.pack('>BH', tag, len(value)) + value


def handmade_itl():
    """An ITL with padding and the record fields the vectors lack."""
    signer = b'CN=ITLRECOVERY_x;OU=TAC;O=Cisco Systems;L=Boxborough;ST=MA;C=US\0'
    issuer = b'CN=ITLRECOVERY_x;OU=TAC\0'
    serial = bytes.fromhex('64f2fe613b')
    info = tlv(4, signer) + tlv(6, issuer) + tlv(5, serial)
    alg = tlv(10, b'\0') + tlv(11, b'\0')  # RSA, 64-byte signature
    header = (tlv(1, b'\x01\x02') + tlv(2, b'\0\0') + tlv(28, b'\x01\x00') +
              struct.pack('>BH', 3, len(info)) + info +
              struct.pack('>BH', 7, 4 + 3 + len(alg)) + tlv(8, b'\x02') +
              struct.pack('>BH', 9, len(alg)) + alg +
              tlv(12, bytes(64)) + tlv(14, b'ITLFile.tlv\0') + tlv(15, struct.pack('>I', 1795803682)))
    header += b'\x0d' * (-len(header) % 4)
    header = header[:5] + tlv(2, struct.pack('>H', len(header))) + header[10:]

    def record(body):
        return tlv(1, struct.pack('>H', 5 + len(body))) + body

    rec1 = record(tlv(2, b'\0') + tlv(3, b'CN=CAPF-7f0ae8d7;OU=TAC\0') + tlv(4, b'\0\x04') +
                  tlv(5, b'CN=CAPF-7f0ae8d7;OU=TAC\0') + tlv(6, serial) + tlv(7, bytes(12)) +
                  tlv(8, bytes(8)) + tlv(11, bytes(range(20))) + tlv(12, b'\x01'))
    rec2 = record(tlv(2, b'cucm.example.net\0') + tlv(4, b'\0\x01') + tlv(4, b'\0\x03') +
                  tlv(10, bytes([192, 0, 2, 7])) + tlv(0x2a, b'?'))
    return header + rec1 + rec2


def main():
    sessions('capf-sessions.json', 'capf')
    sessions('tvs-sessions.json', 'tvs')
    for name in ('ITLFile-sha1.tlv', 'ITLFile-sha512.tlv'):
        with open(os.path.join(VECTORS, name), 'rb') as f:
            write('itl', name, f.read())
    write('itl', 'handmade-padding.tlv', handmade_itl())


if __name__ == '__main__':
    main()
