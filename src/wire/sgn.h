/*
 * sgn.h: the codec of signed provisioning files (`.sgn`) and encrypted
 * configuration files (`.enc.sgn`), docs/protocol/provisioning.md §3 and §4.
 *
 * A file is a header of TLVs (tag 1 byte, length 2 bytes big-endian, value;
 * tag 13 PADDING is a single byte) then the original file's bytes unchanged
 * (for `.enc.sgn`: the AES-128-CBC ciphertext). Tags 3, 7, 9, 16, 17 and 21
 * are containers: their length covers the nested TLVs that follow them.
 *
 * The decoder keeps every header TLV in file order with its offset and a
 * pointer into the caller's buffer (a run of PADDING bytes is one entry), so
 * sgn_encode of a decoded file reproduces it byte for byte. It checks the
 * structure only: VERSION and HEADER_LENGTH first, lengths within their
 * container and the header, known tags only and each at most once, fixed
 * sizes. sgn_check then says whether the file is one phones accept (version,
 * algorithms, sizes, the fields a signed or encrypted file must carry).
 *
 * The builder writes a header in the order of the open tools: VERSION,
 * HEADER_LENGTH, SIGNER_INFO{SIGNER_NAME, ISSUER_NAME, SERIAL_NUMBER},
 * SIGNATURE_INFO{HASH_ALGORITHM, SIGNATURE_ALGORITHM_INFO{SIGNATURE_ALGORITHM,
 * SIGNATURE_MODULUS}}, SIGNATURE (zeros), FILENAME, TIMESTAMP, for an
 * encrypted file ENCRYPTION_INFO{ENCRYPTION_IV_INFO{18, IV, PADDING},
 * ENCRYPTION_KEY_INFO{22, KEY_SIZE, KEY_ALGORITHM, KEY}}, ENCRYPTION_HASH_
 * ALGORITHM, ENCRYPTION_HASH, then PADDING to a multiple of 4 bytes; the
 * content follows. The caller signs sgn_signed_data of the result (a higher
 * layer with OpenSSL) and fills the signature in.
 *
 * Pure: no I/O, no OpenSSL, no allocation in the decoder.
 */
#ifndef OPENCAPF_WIRE_SGN_H
#define OPENCAPF_WIRE_SGN_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SGN_MAX_TLVS 64 /* 24 known tags, each once, and padding runs between them */
#define SGN_AES_BLOCK 16

enum sgn_tag {
	SGN_VERSION = 1,
	SGN_HEADER_LENGTH = 2,
	SGN_SIGNER_INFO = 3,               /* container */
	SGN_SIGNER_NAME = 4,
	SGN_SERIAL_NUMBER = 5,
	SGN_ISSUER_NAME = 6,
	SGN_SIGNATURE_INFO = 7,            /* container */
	SGN_HASH_ALGORITHM = 8,
	SGN_SIGNATURE_ALGORITHM_INFO = 9,  /* container */
	SGN_SIGNATURE_ALGORITHM = 10,
	SGN_SIGNATURE_MODULUS = 11,
	SGN_SIGNATURE = 12,
	SGN_PADDING = 13,                  /* a single byte, no length */
	SGN_FILENAME = 14,
	SGN_TIMESTAMP = 15,
	SGN_ENCRYPTION_INFO = 16,          /* container */
	SGN_ENCRYPTION_IV_INFO = 17,       /* container */
	SGN_ENCRYPTION_IV_TYPE = 18,       /* 1 byte, 0 */
	SGN_ENCRYPTION_IV = 19,
	SGN_ENCRYPTION_PADDING = 20,       /* 2 bytes: pad bytes after the plaintext */
	SGN_ENCRYPTION_KEY_INFO = 21,      /* container */
	SGN_ENCRYPTION_KEY_TYPE = 22,      /* 1 byte, 0 */
	SGN_ENCRYPTION_KEY_SIZE = 23,      /* 2 bytes: bits of the wrapped key */
	SGN_ENCRYPTION_KEY_ALGORITHM = 24, /* 1 byte, 1 */
	SGN_ENCRYPTION_KEY = 25,           /* the AES key wrapped with RSA PKCS#1 v1.5 */
	SGN_ENCRYPTION_HASH_ALGORITHM = 26,
	SGN_ENCRYPTION_HASH = 27,
};

enum sgn_hash { SGN_HASH_SHA1 = 1, SGN_HASH_SHA256 = 2, SGN_HASH_SHA512 = 3 };
enum sgn_tlv_kind { SGN_TLV_VALUE = 0, SGN_TLV_CONTAINER = 1, SGN_TLV_PADDING = 2 };

struct sgn_tlv {
	size_t offset;      /* byte position of the tag */
	const uint8_t *val; /* into the file; NULL for padding */
	uint16_t len;       /* value length; container: nested bytes; padding: bytes in the run */
	uint8_t tag;
	uint8_t kind;       /* enum sgn_tlv_kind */
	uint8_t depth;      /* container nesting, 0 at top level */
};

struct sgn_bytes {
	const uint8_t *p; /* NULL when absent */
	size_t len;
};

struct sgn_enc {
	int present;                 /* ENCRYPTION_INFO seen */
	int iv_type, key_type;       /* tags 18, 22; -1 when absent */
	int key_alg;                 /* tag 24; -1 when absent */
	int pad;                     /* tag 20; -1 when absent */
	int key_bits;                /* tag 23; -1 when absent */
	struct sgn_bytes iv, key, hash;
	int hash_alg;                /* tag 26; -1 when absent */
};

struct sgn_file {
	const uint8_t *data;
	size_t len;
	uint8_t version_major, version_minor;
	uint16_t header_length;
	struct sgn_bytes signer_name, issuer_name, serial, signature, filename;
	size_t signature_offset;     /* byte position of the SIGNATURE tag */
	int hash_alg, sig_alg, modulus_index; /* -1 when absent */
	int has_timestamp;
	uint32_t timestamp;
	struct sgn_enc enc;
	const uint8_t *content;      /* data + header_length */
	size_t content_len;
	struct sgn_tlv tlvs[SGN_MAX_TLVS];
	size_t ntlvs;
};

/* "SIGNER_NAME", "ENCRYPTION_IV", ... or "UNKNOWN". */
const char *sgn_tag_name(uint8_t tag);
const char *sgn_hash_name(int hash_alg); /* "SHA1", "SHA256", "SHA512", "UNKNOWN" */
/* Digest bytes of a hash id (20, 32, 64), 0 when unknown. */
size_t sgn_hash_len(int hash_alg);
/* Signature bytes for a modulus index: 64 << index; 0 if not 0..3. */
size_t sgn_modulus_bytes(int modulus_index);

/* Decode the structure of a whole file (see above). 0, or -1 with err naming
 * the byte offset and what is wrong. data must outlive f. */
int sgn_decode(struct sgn_file *f, const uint8_t *data, size_t len, char *err, size_t errlen);
/* Whether a decoded file is one phones accept: VERSION 1.x without and 2.x
 * with ENCRYPTION_INFO, the signer fields, SHA-1 or SHA-512, RSA, a signature
 * of the modulus's size, FILENAME and TIMESTAMP; for 2.x a 16-byte IV, a pad
 * count of at most 16, a whole number of AES blocks, key algorithm 1, KEY_SIZE
 * equal to the wrapped key's bits and a hash of its algorithm's size.
 * 0, or -1 with err naming the first problem. */
int sgn_check(const struct sgn_file *f, char *err, size_t errlen);
/* Re-encode a decoded file (appending to out): its exact bytes. */
int sgn_encode(const struct sgn_file *f, struct buf *out);
/* The signed bytes: the whole file with the SIGNATURE TLV cut out. -1 with err
 * when there is no signature or out of memory. */
int sgn_signed_data(const struct sgn_file *f, struct buf *out, char *err, size_t errlen);
/* Text of a NUL-terminated field without its NUL (also accepted without one);
 * -1 if absent, with an inner NUL, or longer than outcap - 1. */
int sgn_text(const struct sgn_bytes *b, char *out, size_t outcap);

/* ---- building ---- */

struct sgn_enc_spec {
	const uint8_t *iv;       /* SGN_AES_BLOCK bytes */
	uint16_t pad;            /* pad bytes the plaintext got */
	const uint8_t *key;      /* the wrapped AES key */
	size_t key_len;
	uint8_t hash_alg;        /* enum sgn_hash */
	const uint8_t *hash;     /* hash of the plaintext */
	size_t hash_len;
};

struct sgn_spec {
	uint8_t version_major, version_minor; /* 1.0 signed, 2.0 encrypted */
	const char *signer_name; /* written with its NUL */
	const char *issuer_name;
	const uint8_t *serial;
	size_t serial_len;
	uint8_t hash_alg;        /* enum sgn_hash */
	uint8_t modulus_index;   /* signature of sgn_modulus_bytes(index) bytes */
	const char *filename;    /* the signed file's own name, e.g. "SEP...cnf.xml.sgn" */
	uint32_t timestamp;
	const struct sgn_enc_spec *enc; /* NULL for a plain signed file */
};

/* Append header (zero signature) and content to out; *sig_at is the offset
 * of the signature's value in out (sgn_modulus_bytes long). 0, or -1 with
 * err (appending nothing that counts: out is reset to its old length). */
int sgn_build(const struct sgn_spec *s, const uint8_t *content, size_t content_len,
	      struct buf *out, size_t *sig_at, char *err, size_t errlen);

#endif
