/*
 * tvs_msg.h: the TVS (Trust Verification Service) message codec
 * (docs/protocol/tvs-and-itl.md).
 *
 * Same design as capf_msg.h, over the same element list, framing and
 * accessors (wire/tlv.h): one table of commands and tags, one decoder and
 * one encoder, shared by the daemon and the phone emulator. Pure: bytes in,
 * structs out, and back; no I/O, no allocation.
 *
 * A decoded message keeps its elements in wire order and points into the
 * caller's buffer (which must outlive the struct), so decode followed by
 * encode reproduces the input byte for byte. Values added when building a
 * message are not copied either: the caller's storage must outlive the
 * encode call.
 *
 * Framing: 10-byte header {0x57, version 1, command, reserved 0,
 * session id (4), body length (2)}, then elements {tag (1), length (2), value}.
 * The session id is chosen by the client and echoed by the server.
 */
#ifndef OPENCAPF_WIRE_TVS_MSG_H
#define OPENCAPF_WIRE_TVS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "wire/tlv.h"

#define TVS_PROTOCOL_ID 0x57
#define TVS_VERSION 1
#define TVS_HEADER_LEN 10
#define TVS_MAX_BODY 65535
#define TVS_MAX_MSG (TVS_HEADER_LEN + TVS_MAX_BODY)
#define TVS_MAX_ELEMS 64
#define TVS_DEVICE_NAME_LEAD 0x01 /* first byte of a DEVICE_NAME value */

enum tvs_cmd {
	TVS_CMD_VERIFY_REQUEST = 1,
	TVS_CMD_VERIFY_RESPONSE = 2,
	TVS_CMD_QUERY_REQUEST = 3,
	TVS_CMD_QUERY_RESPONSE = 4,
};

enum tvs_tag {
	TVS_TAG_DEVICE_NAME = 1,
	TVS_TAG_CERTIFICATE = 2,
	TVS_TAG_STATUS = 7,
	TVS_TAG_ROLES = 8,
	TVS_TAG_TTL = 9,
};

enum tvs_status { TVS_STATUS_VALID = 0, TVS_STATUS_INVALID = 1 };

/* An element is the shared struct wire_elem (wire/tlv.h), as in CAPF
 * messages; `struct tvs_elem` is the name callers know it by. */
#define tvs_elem wire_elem

struct tvs_msg {
	uint8_t cmd;
	uint8_t reserved; /* kept as received so re-encoding is exact; 0 when built */
	uint32_t session_id;
	size_t nelems;
	struct wire_elem elems[TVS_MAX_ELEMS];
};

/* Names for logs ("VERIFY_REQUEST", "ROLES", "VALID"); "UNKNOWN" otherwise. */
const char *tvs_cmd_name(uint8_t cmd);
const char *tvs_tag_name(uint8_t tag);
const char *tvs_status_name(uint8_t status);

/* Framing on a stream: given `avail` bytes, say whether a whole message is
 * there. Returns 1 and sets *total (header + body) when it is, 0 when more
 * bytes are needed, -1 (with err) when the header is bad (wrong protocol id
 * or version). */
int tvs_frame_length(const uint8_t *data, size_t avail, size_t *total, char *err, size_t errlen);

/* Decode exactly one whole message of `len` bytes. Rejects: short header,
 * wrong protocol id or version, body length disagreeing with `len`, an
 * element running past the body, more than TVS_MAX_ELEMS elements. */
int tvs_msg_decode(struct tvs_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen);

/* Start a message to build; elements are added in call order. */
void tvs_msg_init(struct tvs_msg *m, uint8_t cmd, uint32_t session_id);
/* Adding fails (-1) when there is no room or len > 65535. Not copied. */
int tvs_msg_add(struct tvs_msg *m, uint8_t tag, const void *val, size_t len);
int tvs_msg_add_u8(struct tvs_msg *m, uint8_t tag, const uint8_t *val);
/* Writes v big-endian into store (which must outlive the encode) and adds it. */
int tvs_msg_add_u32(struct tvs_msg *m, uint8_t tag, uint8_t store[4], uint32_t v);
/* Encode header + body into `out` (appending). -1 if the body exceeds 65535. */
int tvs_msg_encode(const struct tvs_msg *m, struct buf *out);

/* Accessors: the first element with `tag`, or NULL. */
const struct tvs_elem *tvs_msg_find(const struct tvs_msg *m, uint8_t tag);
/* 0 and *v when the element exists with exactly 1 (or 4) bytes; -1 otherwise. */
int tvs_msg_get_u8(const struct tvs_msg *m, uint8_t tag, uint8_t *v);
int tvs_msg_get_u32(const struct tvs_msg *m, uint8_t tag, uint32_t *v);

/* DEVICE_NAME: lead byte 0x01 then text without a NUL
 * ("CP-7962-SEP001122334455"). get copies the text (outcap incl. NUL);
 * -1 if absent, empty, with another lead byte, an inner NUL, or too long. */
int tvs_msg_get_device_name(const struct tvs_msg *m, char *out, size_t outcap);
/* Writes the DEVICE_NAME value for `name` into store (reset first) and adds
 * it; store must not change until the message is encoded. */
int tvs_msg_add_device_name(struct tvs_msg *m, struct buf *store, const char *name);

/* ROLES: one byte per role (ids in wire/roles.h). Copies them into roles and
 * sets *n. -1 if absent or holding more than cap. */
int tvs_msg_get_roles(const struct tvs_msg *m, uint8_t *roles, size_t cap, size_t *n);

#endif
