/*
 * capf_msg.h: the CAPF v3 message codec (docs/protocol/capf-protocol.md).
 *
 * One table of commands and tags, one decoder and one encoder, shared by the
 * daemon, the CLI and the phone emulator. Pure: bytes in, structs out, and
 * back; no I/O and no OpenSSL.
 *
 * A decoded message keeps its elements in wire order and points into the
 * caller's buffer (which must outlive the struct), so decode followed by
 * encode reproduces the input byte for byte.
 *
 * Framing: 8-byte header {0x55, command, session id (4), body length (2)},
 * then elements {tag (1), length (2), value}. The element list, framing and
 * accessors are the ones wire/tlv.h gives every codec; this header names the
 * CAPF commands, tags and values and parses the values that have an inner
 * structure.
 */
#ifndef OPENCAPF_WIRE_CAPF_MSG_H
#define OPENCAPF_WIRE_CAPF_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "wire/tlv.h"

#define CAPF_PROTOCOL_ID 0x55
#define CAPF_HEADER_LEN 8
#define CAPF_MAX_BODY 65535
#define CAPF_MAX_MSG (CAPF_HEADER_LEN + CAPF_MAX_BODY)
#define CAPF_MAX_ELEMS 64
#define CAPF_VERSION 3

enum capf_cmd {
	CAPF_CMD_AUTH_REQUEST = 1,
	CAPF_CMD_AUTH_RESPONSE = 2,
	CAPF_CMD_KEY_GENERATE_REQUEST = 3,
	CAPF_CMD_KEY_GENERATE_RESPONSE = 4,
	CAPF_CMD_ENCRYPT_RESPONSE = 5,
	CAPF_CMD_ENCRYPT_REQUEST = 6,
	CAPF_CMD_DECRYPT_REQUEST = 7,
	CAPF_CMD_DECRYPT_RESPONSE = 8,
	CAPF_CMD_STORE_CERTIFICATE_REQUEST = 9,
	CAPF_CMD_STORE_CERTIFICATE_RESPONSE = 10,
	CAPF_CMD_FETCH_CERTIFICATE_REQUEST = 11,
	CAPF_CMD_FETCH_CERTIFICATE_RESPONSE = 12,
	CAPF_CMD_DELETE_CERTIFICATE_REQUEST = 13,
	CAPF_CMD_DELETE_CERTIFICATE_RESPONSE = 14,
	CAPF_CMD_END_SESSION = 15,
	CAPF_CMD_RETRY_LATER = 16,
	CAPF_CMD_REQUEST_IN_PROGRESS = 17,
	CAPF_CMD_STATUS_REQUEST = 18,
	CAPF_CMD_STATUS_RESPONSE = 19,
	CAPF_CMD_ABORT_REQUEST = 20,
	CAPF_CMD_ABORT_RESPONSE = 21,
	CAPF_CMD_SIGN_CERTIFICATE_REQUEST = 22,
	CAPF_CMD_SIGN_CERTIFICATE_RESPONSE = 23,
};

enum capf_tag {
	CAPF_TAG_REASON = 1,
	CAPF_TAG_REASON_INFO = 2,
	CAPF_TAG_CERTIFICATE_TYPE = 3,
	CAPF_TAG_CERTIFICATE = 4,
	CAPF_TAG_CERTIFICATE_ID = 5,
	CAPF_TAG_SIGNED_DATA = 6,
	CAPF_TAG_VERSION = 7,
	CAPF_TAG_AUTH_TYPE = 8,
	CAPF_TAG_PUBLIC_KEY = 9,
	CAPF_TAG_KEY_SIZE = 10,
	CAPF_TAG_PASSWORD = 11,
	CAPF_TAG_RETRY_DELAY = 12,
	CAPF_TAG_DEVICE_NAME = 13,
	CAPF_TAG_SUDI_DATA = 16,
	CAPF_TAG_KEY_TYPE = 17,
	CAPF_TAG_CURVE = 18,
	CAPF_TAG_DIGEST_TYPE = 19,
	CAPF_TAG_SHA2_SIGNED_DATA = 20,
};

enum capf_reason {
	CAPF_REASON_NO_ACTION = 0,
	CAPF_REASON_UPDATE_CERTIFICATE = 1, /* also "success" */
	CAPF_REASON_INVALID_ELEMENT = 7,
	CAPF_REASON_UNKNOWN_DEVICE = 9,
};

enum capf_auth_type { CAPF_AUTH_NONE = 0, CAPF_AUTH_PASSWORD = 1, CAPF_AUTH_NO_PASSWORD = 2,
		      CAPF_AUTH_LSC = 3, CAPF_AUTH_MIC = 4 };
enum capf_cert_type { CAPF_CERT_LSC = 1, CAPF_CERT_MIC = 2 };
enum capf_key_type { CAPF_KEY_RSA = 0, CAPF_KEY_EC = 1 };
enum capf_curve { CAPF_CURVE_P256 = 0, CAPF_CURVE_P384 = 1, CAPF_CURVE_P521 = 2 };
enum capf_hash_id { CAPF_HASH_SHA1 = 1, CAPF_HASH_SHA256 = 2, CAPF_HASH_SHA512 = 3 };

/* An element is the shared struct wire_elem (wire/tlv.h): tag, len, and val
 * pointing into the decoded input or the builder's storage. `struct
 * capf_elem` is the name callers know it by. */
#define capf_elem wire_elem

struct capf_msg {
	uint8_t cmd;
	uint32_t session_id;
	size_t nelems;
	struct wire_elem elems[CAPF_MAX_ELEMS];
};

/* Names for logs ("AUTH_REQUEST", "DEVICE_NAME"); "UNKNOWN" otherwise. */
const char *capf_cmd_name(uint8_t cmd);
const char *capf_tag_name(uint8_t tag);
const char *capf_reason_name(uint8_t reason);

/* Framing on a stream: given `avail` bytes, say whether a whole message is
 * there. Returns 1 and sets *total (header + body) when it is, 0 when more
 * bytes are needed, -1 (with err) when the header is bad (wrong protocol id). */
int capf_frame_length(const uint8_t *data, size_t avail, size_t *total, char *err, size_t errlen);

/* Decode exactly one whole message of `len` bytes. Rejects: short header,
 * wrong protocol id, body length disagreeing with `len`, an element running
 * past the body, more than CAPF_MAX_ELEMS elements. */
int capf_msg_decode(struct capf_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen);

/* Start a message to build; elements are added in call order. */
void capf_msg_init(struct capf_msg *m, uint8_t cmd, uint32_t session_id);
/* Adding fails (-1) when there is no room or len > 65535. The value is not copied. */
int capf_msg_add(struct capf_msg *m, uint8_t tag, const void *val, size_t len);
int capf_msg_add_u8(struct capf_msg *m, uint8_t tag, const uint8_t *val);
/* Encode header + body into `out` (appending). -1 if the body exceeds 65535. */
int capf_msg_encode(const struct capf_msg *m, struct buf *out);

/* Accessors: the first element with `tag`, or NULL. */
const struct capf_elem *capf_msg_find(const struct capf_msg *m, uint8_t tag);
/* 0 and *v when the element exists with exactly 1 (or 2) bytes; -1 otherwise. */
int capf_msg_get_u8(const struct capf_msg *m, uint8_t tag, uint8_t *v);
int capf_msg_get_u16(const struct capf_msg *m, uint8_t tag, uint16_t *v);
/* A NUL-terminated text element (DEVICE_NAME, PASSWORD): copies the text
 * before the NUL into out (outcap incl. NUL). -1 if absent, missing its NUL,
 * holding an inner NUL, or too long. */
int capf_msg_get_cstr(const struct capf_msg *m, uint8_t tag, char *out, size_t outcap);

/* Wrapped certificate (value of CERTIFICATE): 0x01, u16 DER length + 2, 0x00,
 * type, DER. unwrap checks the inner length against the element length. */
int capf_cert_unwrap(const uint8_t *val, size_t len, const uint8_t **der, size_t *derlen,
		     uint8_t *type, char *err, size_t errlen);
void capf_cert_wrap(struct buf *out, const uint8_t *der, size_t derlen, uint8_t type);

/* The server's messages of an install session, encoded and appended to
 * `out` (0, or -1 when they cannot be encoded): AUTH_REQUEST {VERSION 3,
 * AUTH_TYPE none}; KEY_GENERATE_REQUEST for an RSA key of `bits` (KEY_SIZE,
 * KEY_TYPE) or an EC key on the curve of `bits` 256/384/521 (KEY_TYPE,
 * CURVE); STORE_CERTIFICATE_REQUEST {CERTIFICATE_TYPE LSC, the wrapped LSC};
 * END_SESSION {REASON}. */
int capf_put_auth_request(struct buf *out, uint32_t session_id);
int capf_put_key_request(struct buf *out, uint32_t session_id, uint8_t key_type, int bits);
int capf_put_store_lsc(struct buf *out, uint32_t session_id, const uint8_t *der, size_t derlen);
int capf_put_end_session(struct buf *out, uint32_t session_id, uint8_t reason);

/* SHA2_SIGNED_DATA value: hash id (1), u16 length, signature. */
int capf_sha2_signed_parse(const uint8_t *val, size_t len, uint8_t *hash_id,
			   const uint8_t **sig, size_t *siglen, char *err, size_t errlen);
void capf_sha2_signed_build(struct buf *out, uint8_t hash_id, const uint8_t *sig, size_t siglen);

/* SUDI_DATA value: TLVs (0, certificate DER), (1, SHA-1 signature),
 * (3, SHA-512 signature), each tag 1 byte, length 2 bytes. */
struct capf_sudi {
	const uint8_t *cert; size_t certlen;
	const uint8_t *sig_sha1; size_t sig_sha1_len;
	const uint8_t *sig_sha512; size_t sig_sha512_len;
};
int capf_sudi_parse(const uint8_t *val, size_t len, struct capf_sudi *out, char *err, size_t errlen);
void capf_sudi_build(struct buf *out, const struct capf_sudi *s);

#endif
