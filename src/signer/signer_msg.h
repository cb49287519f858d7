/*
 * signer_msg.h: the messages between opencapfd's network-facing process and
 * its signer process (signer_proc.h), and nothing else: bytes in, structs
 * out, and back. No I/O, no keys.
 *
 * Request:  version (1 byte, SIGNER_MSG_VERSION), type (1), purpose (1),
 *           key slot (1), payload length (4, big-endian), payload.
 * Response: version (1), status (1), two zero bytes, payload length (4,
 *           big-endian), payload (a signature, a certificate, a slot and
 *           public key, or a sentence saying why not).
 * A payload is at most SIGNER_MSG_MAX bytes; a frame whose length field
 * disagrees with the bytes that came, a reserved byte that is not zero, an
 * unknown version, type or purpose is refused before anything else looks at
 * it. Payload layouts per type are below; every integer is big-endian.
 */
#ifndef OPENCAPF_SIGNER_MSG_H
#define OPENCAPF_SIGNER_MSG_H

#include <stddef.h>
#include <stdint.h>

#define SIGNER_MSG_VERSION 1
#define SIGNER_MSG_HEADER 8
#define SIGNER_MSG_MAX (256 * 1024)

enum signer_type {
	SIGNER_LOAD_KEY = 1,    /* payload: u16 path length, path, the certificate's DER (may be empty)
				 * -> u8 slot, the key's SubjectPublicKeyInfo DER */
	SIGNER_SIGN_CERT = 2,   /* payload: a whole certificate template (DER; its signature is ignored)
				 * -> the signed certificate's DER */
	SIGNER_SIGN = 3,        /* payload: signer_sig_params (4 bytes), the message to sign -> the
				 * signature. The signer tells by the bytes what the message is (a TLS
				 * handshake's signed data, a CRL, an OCSP response, other data) and
				 * signs only what the key's role allows; a purpose other than NONE
				 * must agree with what it found. */
	SIGNER_DECRYPT_TLS = 4, /* payload: u16 client version, u16 negotiated version, RSA ciphertext
				 * -> the 48-byte premaster secret (random when the padding is bad) */
	/* Only on the administrators' door (signer_proc.h), never on the daemon's channels: */
	SIGNER_GENERATE_KEY = 5, /* payload: u8 kind (1 RSA, 2 EC), u16 bits -> u8 slot, the new key's
				  * SubjectPublicKeyInfo DER; the key stays in the signer, unsaved */
	SIGNER_SAVE_KEY = 6,     /* header slot: a generated key; payload: u16 path length, path (a new
				  * file in the keys folder) -> nothing; the file's name gives its role */
	SIGNER_TYPE_MAX = 6,
};

enum signer_purpose {
	SIGNER_PURPOSE_NONE = 0, /* LOAD_KEY */
	SIGNER_PURPOSE_LSC = 1,
	SIGNER_PURPOSE_TLS = 2,
	SIGNER_PURPOSE_FILE = 3, /* ITLFile.tlv, CTLFile.tlv, configuration files' .sgn */
	SIGNER_PURPOSE_CRL = 4,
	SIGNER_PURPOSE_OCSP = 5,
	SIGNER_PURPOSE_MAX = 5,
};

enum signer_status {
	SIGNER_OK = 0,
	SIGNER_REFUSED = 1,      /* policy: not something this key signs */
	SIGNER_BAD_REQUEST = 2,  /* malformed */
	SIGNER_FAILED = 3,       /* the operation itself failed */
	SIGNER_RATE_LIMITED = 4,
	SIGNER_STATUS_MAX = 4,
};

/* Digests a signature may use (SIGN). */
enum signer_md {
	SIGNER_MD_SHA1 = 1, SIGNER_MD_SHA256 = 2, SIGNER_MD_SHA384 = 3, SIGNER_MD_SHA512 = 4,
	SIGNER_MD_MD5_SHA1 = 5, /* TLS 1.0/1.1 RSA */
	SIGNER_MD_MAX = 5,
};

/* Padding of an RSA signature; EC keys take SIGNER_PAD_NONE. */
enum signer_pad { SIGNER_PAD_NONE = 0, SIGNER_PAD_PKCS1 = 1, SIGNER_PAD_PSS = 2, SIGNER_PAD_MAX = 2 };

struct signer_sig_params {
	uint8_t md;       /* enum signer_md */
	uint8_t pad;      /* enum signer_pad */
	int16_t saltlen;  /* PSS: bytes, or -1 = the digest's length */
};
#define SIGNER_SIG_PARAMS_LEN 4

struct signer_req {
	uint8_t type, purpose, slot;
	const uint8_t *payload; /* points into the decoded buffer */
	size_t len;
};

struct signer_resp {
	uint8_t status;
	const uint8_t *payload;
	size_t len;
};

/* The payload length a header announces: 0 and *len, or -1 (err says why)
 * when the header itself is bad. `hdr` holds SIGNER_MSG_HEADER bytes. */
int signer_req_header(const uint8_t *hdr, size_t *len, char *err, size_t errlen);
int signer_resp_header(const uint8_t *hdr, size_t *len, char *err, size_t errlen);

/* A whole frame (header + payload, exactly `n` bytes): 0, or -1 with err. */
int signer_req_decode(const uint8_t *buf, size_t n, struct signer_req *req, char *err, size_t errlen);
int signer_resp_decode(const uint8_t *buf, size_t n, struct signer_resp *resp, char *err, size_t errlen);

/* Write a header into hdr (SIGNER_MSG_HEADER bytes); -1 if len is too big
 * or a field is out of range. */
int signer_req_header_encode(uint8_t *hdr, uint8_t type, uint8_t purpose, uint8_t slot, size_t len);
int signer_resp_header_encode(uint8_t *hdr, uint8_t status, size_t len);

/* Payload parts. */
int signer_sig_params_decode(const uint8_t *p, size_t n, struct signer_sig_params *sp, const uint8_t **data,
			     size_t *datalen, char *err, size_t errlen);
void signer_sig_params_encode(uint8_t *out, const struct signer_sig_params *sp);
/* LOAD_KEY: path (NUL-terminated copy into path[pathcap]) and certificate. */
int signer_load_decode(const uint8_t *p, size_t n, char *path, size_t pathcap, const uint8_t **der, size_t *derlen,
		       char *err, size_t errlen);
/* GENERATE_KEY: kind 1 (RSA) or 2 (EC) and bits. */
int signer_generate_decode(const uint8_t *p, size_t n, unsigned *kind, unsigned *bits, char *err, size_t errlen);
void signer_generate_encode(uint8_t out[3], unsigned kind, unsigned bits);
#define SIGNER_KIND_RSA 1
#define SIGNER_KIND_EC 2
/* DECRYPT_TLS. */
int signer_decrypt_decode(const uint8_t *p, size_t n, unsigned *client_version, unsigned *negotiated_version,
			  const uint8_t **ct, size_t *ctlen, char *err, size_t errlen);

const char *signer_type_name(unsigned type);
const char *signer_purpose_name(unsigned purpose);
const char *signer_md_name(unsigned md); /* OpenSSL's digest name, NULL if unknown */
/* The signer_md of an OpenSSL digest name ("SHA256", "SHA2-256", "MD5-SHA1", ...); 0 if none. */
int signer_md_from_name(const char *name);

#endif
