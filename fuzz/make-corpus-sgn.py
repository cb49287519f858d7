#!/usr/bin/env python3
"""make-corpus-sgn.py: write the seed corpora of the `.sgn` readers.

    python3 fuzz/make-corpus-sgn.py [VECTORS_DIR]

An independent writer of provisioning.md §3-4 (Python `cryptography`, not
this project's codec), in the open tools' field order (SIGNER_INFO holding
SIGNER_NAME, SERIAL_NUMBER, ISSUER_NAME; `;`-joined names): signed with the
test SAST key (tests/vectors/keys/sast.pem), encrypted to the RSA LSC
(keys/lsc-rsa.pem), which is what fuzz_sgn_enc.c holds.

corpus/sgn/: signed files (SHA-1, SHA-512, empty content, padding inside a
container) and one encrypted file; corpus/sgn_enc/: encrypted files (SHA-1
and SHA-512, whole-block plaintext) and one signed file. RSA PKCS#1 v1.5
encryption is randomised, so the encrypted seeds differ on each run; the
output is committed.
"""
import os
import struct
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, '..', 'tests', 'vectors')
HASHES = {1: hashes.SHA1, 3: hashes.SHA512}
XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<device>\n<fullConfig>true</fullConfig>\n'
       b'<deviceSecurityMode>3</deviceSecurityMode>\n<capfAuthMode>2</capfAuthMode>\n'
       b'<capfList><capf><phonePort>3804</phonePort><processNodeName>capf.example.net'
       b'</processNodeName></capf></capfList>\n</device>\n')


def tlv(tag, value):
    return struct.pack('>BH', tag, len(value)) + value


def box(tag, inner):
    return struct.pack('>BH', tag, len(inner)) + inner


def load(name):
    with open(os.path.join(VECTORS, 'keys', name), 'rb') as f:
        pem = f.read()
    return x509.load_pem_x509_certificate(pem), serialization.load_pem_private_key(pem, None)


def name_text(name):
    return ';'.join(a.rfc4514_string() for a in name).encode() + b'\0'


def signed(content, filename, hash_id, enc=b'', version=b'\x01\x00', inner_pad=False):
    cert, key = load('sast.pem')
    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 7) // 8, 'big')
    info = tlv(4, name_text(cert.subject)) + tlv(5, serial) + tlv(6, name_text(cert.issuer))
    if inner_pad:
        info += b'\x0d'
    head = tlv(1, version) + tlv(2, b'\0\0') + box(3, info)
    head += box(7, tlv(8, bytes([hash_id])) + box(9, tlv(10, b'\0') + tlv(11, b'\x02')))
    cut = len(head)
    tail = tlv(14, filename + b'\0') + tlv(15, struct.pack('>I', 1800000000)) + enc
    while (len(head) + len(tail) + 3 + 256) % 4:
        tail += b'\x0d'
    hlen = len(head) + len(tail) + 3 + 256
    head = head[:5] + tlv(2, struct.pack('>H', hlen)) + head[10:]
    data = head + tail + content
    sig = key.sign(data, padding.PKCS1v15(), HASHES[hash_id]())
    return head[:cut] + tlv(12, sig) + head[cut:] + tail + content


def encrypted(xml, filename, hash_id):
    phone, _ = load('lsc-rsa.pem')
    aes, iv = os.urandom(16), os.urandom(16)
    pad = 16 - len(xml) % 16
    enc = Cipher(algorithms.AES(aes), modes.CBC(iv)).encryptor()
    body = enc.update(xml + b'\r' * pad) + enc.finalize()
    wrapped = phone.public_key().encrypt(aes, padding.PKCS1v15())
    digest = hashes.Hash(HASHES[hash_id]())
    digest.update(xml)
    info = box(17, tlv(18, b'\0') + tlv(19, iv) + tlv(20, struct.pack('>H', pad)))
    info += box(21, tlv(22, b'\0') + tlv(23, struct.pack('>H', len(wrapped) * 8)) +
                tlv(24, b'\x01') + tlv(25, wrapped))
    fields = box(16, info) + tlv(26, bytes([hash_id])) + tlv(27, digest.finalize())
    return signed(body, filename, hash_id, fields, b'\x02\x00')


def write(folder, name, data):
    path = os.path.join(HERE, 'corpus', folder)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), 'wb') as f:
        f.write(data)


def main():
    cnf = b'SEP0011223344AA.cnf.xml'
    write('sgn', 'sha1.sgn', signed(XML, cnf + b'.sgn', 1))
    write('sgn', 'sha512.sgn', signed(XML, cnf + b'.sgn', 3))
    write('sgn', 'empty.sgn', signed(b'', b'empty.sgn', 1))
    write('sgn', 'inner-padding.sgn', signed(b'ring list\n', b'RingList.xml.sgn', 1, inner_pad=True))
    write('sgn', 'sha1.enc.sgn', encrypted(XML, cnf + b'.enc.sgn', 1))
    write('sgn_enc', 'sha1.enc.sgn', encrypted(XML, cnf + b'.enc.sgn', 1))
    write('sgn_enc', 'sha512.enc.sgn', encrypted(XML, cnf + b'.enc.sgn', 3))
    write('sgn_enc', 'blocks.enc.sgn', encrypted(b'0123456789abcdef' * 4, cnf + b'.enc.sgn', 1))
    write('sgn_enc', 'sha1.sgn', signed(XML, cnf + b'.sgn', 1))


if __name__ == '__main__':
    main()
