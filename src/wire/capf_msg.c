/*
 * capf_msg.c: the CAPF v3 message codec (capf_msg.h,
 * docs/protocol/capf-protocol.md).
 *
 * Invariants:
 * - The decoder never allocates and never reads outside [data, data + len):
 *   the framing, element list and accessors are the shared ones of tlv.c
 *   (every element bounds-checked by wire_tlv_next before it is stored,
 *   stored elements pointing into the caller's buffer); this file gives them
 *   the CAPF header layout and names, and parses the structured values.
 * - A decoded message accounts for every byte of its input (header, then
 *   elements back to back to the end of the body), so capf_msg_encode of a
 *   decoded message reproduces the input exactly.
 * - The tables below are the only place command, tag and reason names live.
 */
#include "wire/capf_msg.h"

#include <string.h>

#include "wire/tlv.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct wire_name cmd_names[] = {
	{ CAPF_CMD_AUTH_REQUEST, "AUTH_REQUEST" },
	{ CAPF_CMD_AUTH_RESPONSE, "AUTH_RESPONSE" },
	{ CAPF_CMD_KEY_GENERATE_REQUEST, "KEY_GENERATE_REQUEST" },
	{ CAPF_CMD_KEY_GENERATE_RESPONSE, "KEY_GENERATE_RESPONSE" },
	{ CAPF_CMD_ENCRYPT_RESPONSE, "ENCRYPT_RESPONSE" },
	{ CAPF_CMD_ENCRYPT_REQUEST, "ENCRYPT_REQUEST" },
	{ CAPF_CMD_DECRYPT_REQUEST, "DECRYPT_REQUEST" },
	{ CAPF_CMD_DECRYPT_RESPONSE, "DECRYPT_RESPONSE" },
	{ CAPF_CMD_STORE_CERTIFICATE_REQUEST, "STORE_CERTIFICATE_REQUEST" },
	{ CAPF_CMD_STORE_CERTIFICATE_RESPONSE, "STORE_CERTIFICATE_RESPONSE" },
	{ CAPF_CMD_FETCH_CERTIFICATE_REQUEST, "FETCH_CERTIFICATE_REQUEST" },
	{ CAPF_CMD_FETCH_CERTIFICATE_RESPONSE, "FETCH_CERTIFICATE_RESPONSE" },
	{ CAPF_CMD_DELETE_CERTIFICATE_REQUEST, "DELETE_CERTIFICATE_REQUEST" },
	{ CAPF_CMD_DELETE_CERTIFICATE_RESPONSE, "DELETE_CERTIFICATE_RESPONSE" },
	{ CAPF_CMD_END_SESSION, "END_SESSION" },
	{ CAPF_CMD_RETRY_LATER, "RETRY_LATER" },
	{ CAPF_CMD_REQUEST_IN_PROGRESS, "REQUEST_IN_PROGRESS" },
	{ CAPF_CMD_STATUS_REQUEST, "STATUS_REQUEST" },
	{ CAPF_CMD_STATUS_RESPONSE, "STATUS_RESPONSE" },
	{ CAPF_CMD_ABORT_REQUEST, "ABORT_REQUEST" },
	{ CAPF_CMD_ABORT_RESPONSE, "ABORT_RESPONSE" },
	{ CAPF_CMD_SIGN_CERTIFICATE_REQUEST, "SIGN_CERTIFICATE_REQUEST" },
	{ CAPF_CMD_SIGN_CERTIFICATE_RESPONSE, "SIGN_CERTIFICATE_RESPONSE" },
};

static const struct wire_name tag_names[] = {
	{ CAPF_TAG_REASON, "REASON" },
	{ CAPF_TAG_REASON_INFO, "REASON_INFO" },
	{ CAPF_TAG_CERTIFICATE_TYPE, "CERTIFICATE_TYPE" },
	{ CAPF_TAG_CERTIFICATE, "CERTIFICATE" },
	{ CAPF_TAG_CERTIFICATE_ID, "CERTIFICATE_ID" },
	{ CAPF_TAG_SIGNED_DATA, "SIGNED_DATA" },
	{ CAPF_TAG_VERSION, "VERSION" },
	{ CAPF_TAG_AUTH_TYPE, "AUTH_TYPE" },
	{ CAPF_TAG_PUBLIC_KEY, "PUBLIC_KEY" },
	{ CAPF_TAG_KEY_SIZE, "KEY_SIZE" },
	{ CAPF_TAG_PASSWORD, "PASSWORD" },
	{ CAPF_TAG_RETRY_DELAY, "RETRY_DELAY" },
	{ CAPF_TAG_DEVICE_NAME, "DEVICE_NAME" },
	{ CAPF_TAG_SUDI_DATA, "SUDI_DATA" },
	{ CAPF_TAG_KEY_TYPE, "KEY_TYPE" },
	{ CAPF_TAG_CURVE, "CURVE" },
	{ CAPF_TAG_DIGEST_TYPE, "DIGEST_TYPE" },
	{ CAPF_TAG_SHA2_SIGNED_DATA, "SHA2_SIGNED_DATA" },
};

static const struct wire_name reason_names[] = {
	{ CAPF_REASON_NO_ACTION, "NO_ACTION" },
	{ CAPF_REASON_UPDATE_CERTIFICATE, "UPDATE_CERTIFICATE" },
	{ CAPF_REASON_INVALID_ELEMENT, "INVALID_ELEMENT" },
	{ CAPF_REASON_UNKNOWN_DEVICE, "UNKNOWN_DEVICE" },
};

/* SUDI_DATA inner tags (capf-protocol.md, Authentication). */
enum { SUDI_TAG_CERT = 0, SUDI_TAG_SIG_SHA1 = 1, SUDI_TAG_SIG_SHA512 = 3 };

/* Wrapped certificate inner header: 0x01, u16 DER length + 2, 0x00, type. */
#define WRAP_HDR 5
#define WRAP_MAGIC 0x01

const char *capf_cmd_name(uint8_t cmd)
{
	return wire_name_lookup(cmd_names, NELEMS(cmd_names), cmd, "UNKNOWN");
}

const char *capf_tag_name(uint8_t tag)
{
	return wire_name_lookup(tag_names, NELEMS(tag_names), tag, "UNKNOWN");
}

const char *capf_reason_name(uint8_t reason)
{
	return wire_name_lookup(reason_names, NELEMS(reason_names), reason, "UNKNOWN");
}

/* ---- framing and decoding ---- */

static int check_ids(const uint8_t *data, size_t avail, char *err, size_t errlen)
{
	if (avail >= 1 && data[0] != CAPF_PROTOCOL_ID) {
		seterr(err, errlen, "not a CAPF message: protocol id 0x%02x, expected 0x%02x",
		       data[0], CAPF_PROTOCOL_ID);
		return -1;
	}
	return 0;
}

/* wire_msg_encode refuses a body over the 2-byte length field's 65535. */
_Static_assert(CAPF_MAX_BODY == UINT16_MAX, "CAPF_MAX_BODY is the body length field's limit");

static const struct wire_codec codec = {
	.name = "CAPF",
	.hdrlen = CAPF_HEADER_LEN,
	.max_elems = CAPF_MAX_ELEMS,
	.tag_name = capf_tag_name,
	.check_ids = check_ids,
};

int capf_frame_length(const uint8_t *data, size_t avail, size_t *total, char *err, size_t errlen)
{
	return wire_frame_length(&codec, data, avail, total, err, errlen);
}

int capf_msg_decode(struct capf_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	capf_msg_init(m, 0, 0);
	if (wire_header_check(&codec, data, len, err, errlen) < 0)
		return -1;
	m->cmd = data[1];
	m->session_id = get_u32(data + 2);
	return wire_elems_decode(&codec, data + CAPF_HEADER_LEN, len - CAPF_HEADER_LEN, m->elems,
				 &m->nelems, err, errlen);
}

/* ---- building and encoding ---- */

void capf_msg_init(struct capf_msg *m, uint8_t cmd, uint32_t session_id)
{
	m->cmd = cmd;
	m->session_id = session_id;
	m->nelems = 0;
}

int capf_msg_add(struct capf_msg *m, uint8_t tag, const void *val, size_t len)
{
	return wire_elems_add(m->elems, &m->nelems, CAPF_MAX_ELEMS, tag, val, len);
}

int capf_msg_add_u8(struct capf_msg *m, uint8_t tag, const uint8_t *val)
{
	return capf_msg_add(m, tag, val, 1);
}

int capf_msg_encode(const struct capf_msg *m, struct buf *out)
{
	uint8_t prefix[CAPF_HEADER_LEN - 2] = { CAPF_PROTOCOL_ID, m->cmd };

	wire_store_u32(prefix + 2, m->session_id);
	return wire_msg_encode(&codec, prefix, m->elems, m->nelems, out);
}

/* ---- accessors ---- */

const struct capf_elem *capf_msg_find(const struct capf_msg *m, uint8_t tag)
{
	return wire_elems_find(m->elems, m->nelems, tag);
}

int capf_msg_get_u8(const struct capf_msg *m, uint8_t tag, uint8_t *v)
{
	return wire_elems_get_u8(m->elems, m->nelems, tag, v);
}

int capf_msg_get_u16(const struct capf_msg *m, uint8_t tag, uint16_t *v)
{
	return wire_elems_get_u16(m->elems, m->nelems, tag, v);
}

int capf_msg_get_cstr(const struct capf_msg *m, uint8_t tag, char *out, size_t outcap)
{
	return wire_elems_get_cstr(m->elems, m->nelems, tag, out, outcap);
}

/* ---- wrapped certificate ---- */

int capf_cert_unwrap(const uint8_t *val, size_t len, const uint8_t **der, size_t *derlen,
		     uint8_t *type, char *err, size_t errlen)
{
	size_t inner;

	if (len <= WRAP_HDR) {
		seterr(err, errlen, "wrapped certificate of %zu bytes has no room for a certificate "
		       "after its %d-byte header", len, WRAP_HDR);
		return -1;
	}
	if (val[0] != WRAP_MAGIC) {
		seterr(err, errlen, "wrapped certificate starts with 0x%02x, expected 0x%02x",
		       val[0], WRAP_MAGIC);
		return -1;
	}
	/* The inner length counts the DER plus the 0x00 and type bytes. */
	inner = get_u16(val + 1);
	if (inner != len - WRAP_HDR + 2) {
		seterr(err, errlen, "wrapped certificate says %zu bytes of certificate but the "
		       "element holds %zu", inner >= 2 ? inner - 2 : 0, len - WRAP_HDR);
		return -1;
	}
	/* val[3] is 0x00 in every capture; it is not checked so that a peer
	 * writing something else there still interoperates. */
	if (type)
		*type = val[4];
	*der = val + WRAP_HDR;
	*derlen = len - WRAP_HDR;
	return 0;
}

void capf_cert_wrap(struct buf *out, const uint8_t *der, size_t derlen, uint8_t type)
{
	if (derlen > UINT16_MAX - WRAP_HDR) {
		out->failed = 1; /* cannot fit one element; the encoder sees this */
		return;
	}
	buf_put_u8(out, WRAP_MAGIC);
	buf_put_u16(out, (uint16_t)(derlen + 2));
	buf_put_u8(out, 0x00);
	buf_put_u8(out, type);
	buf_put(out, der, derlen);
}

/* ---- the server's messages ---- */

int capf_put_auth_request(struct buf *out, uint32_t session_id)
{
	static const uint8_t version = CAPF_VERSION, auth_type = CAPF_AUTH_NONE;
	struct capf_msg m;

	capf_msg_init(&m, CAPF_CMD_AUTH_REQUEST, session_id);
	capf_msg_add_u8(&m, CAPF_TAG_VERSION, &version);
	capf_msg_add_u8(&m, CAPF_TAG_AUTH_TYPE, &auth_type);
	return capf_msg_encode(&m, out);
}

int capf_put_key_request(struct buf *out, uint32_t session_id, uint8_t key_type, int bits)
{
	uint8_t size[2] = { (uint8_t)(bits >> 8), (uint8_t)bits }, curve;
	struct capf_msg m;

	capf_msg_init(&m, CAPF_CMD_KEY_GENERATE_REQUEST, session_id);
	if (key_type == CAPF_KEY_RSA) {
		capf_msg_add(&m, CAPF_TAG_KEY_SIZE, size, 2);
		capf_msg_add_u8(&m, CAPF_TAG_KEY_TYPE, &key_type);
	} else {
		curve = bits == 384 ? CAPF_CURVE_P384 : bits == 521 ? CAPF_CURVE_P521 : CAPF_CURVE_P256;
		capf_msg_add_u8(&m, CAPF_TAG_KEY_TYPE, &key_type);
		capf_msg_add_u8(&m, CAPF_TAG_CURVE, &curve);
	}
	return capf_msg_encode(&m, out);
}

int capf_put_store_lsc(struct buf *out, uint32_t session_id, const uint8_t *der, size_t derlen)
{
	static const uint8_t type = CAPF_CERT_LSC;
	struct capf_msg m;
	struct buf wrapped;
	int rc;

	buf_init(&wrapped);
	capf_cert_wrap(&wrapped, der, derlen, CAPF_CERT_LSC);
	capf_msg_init(&m, CAPF_CMD_STORE_CERTIFICATE_REQUEST, session_id);
	capf_msg_add_u8(&m, CAPF_TAG_CERTIFICATE_TYPE, &type);
	capf_msg_add(&m, CAPF_TAG_CERTIFICATE, wrapped.data, wrapped.len);
	rc = wrapped.failed ? -1 : capf_msg_encode(&m, out);
	buf_free(&wrapped);
	return rc;
}

int capf_put_end_session(struct buf *out, uint32_t session_id, uint8_t reason)
{
	struct capf_msg m;

	capf_msg_init(&m, CAPF_CMD_END_SESSION, session_id);
	capf_msg_add_u8(&m, CAPF_TAG_REASON, &reason);
	return capf_msg_encode(&m, out);
}

/* ---- SHA2_SIGNED_DATA ---- */

int capf_sha2_signed_parse(const uint8_t *val, size_t len, uint8_t *hash_id,
			   const uint8_t **sig, size_t *siglen, char *err, size_t errlen)
{
	size_t n;

	if (len < 3) {
		seterr(err, errlen, "SHA2_SIGNED_DATA of %zu bytes is shorter than its 3-byte header",
		       len);
		return -1;
	}
	n = get_u16(val + 1);
	if (n != len - 3) {
		seterr(err, errlen, "SHA2_SIGNED_DATA says %zu signature bytes but holds %zu",
		       n, len - 3);
		return -1;
	}
	if (n == 0) {
		seterr(err, errlen, "SHA2_SIGNED_DATA holds an empty signature");
		return -1;
	}
	*hash_id = val[0];
	*sig = val + 3;
	*siglen = n;
	return 0;
}

void capf_sha2_signed_build(struct buf *out, uint8_t hash_id, const uint8_t *sig, size_t siglen)
{
	if (siglen > UINT16_MAX - 3) {
		out->failed = 1;
		return;
	}
	buf_put_u8(out, hash_id);
	buf_put_u16(out, (uint16_t)siglen);
	buf_put(out, sig, siglen);
}

/* ---- SUDI_DATA ---- */

static int sudi_store(struct capf_sudi *s, uint8_t tag, const uint8_t *val, size_t vlen,
		      size_t at, char *err, size_t errlen)
{
	const uint8_t **slot;
	size_t *slotlen;

	switch (tag) {
	case SUDI_TAG_CERT: slot = &s->cert; slotlen = &s->certlen; break;
	case SUDI_TAG_SIG_SHA1: slot = &s->sig_sha1; slotlen = &s->sig_sha1_len; break;
	case SUDI_TAG_SIG_SHA512: slot = &s->sig_sha512; slotlen = &s->sig_sha512_len; break;
	default:
		seterr(err, errlen, "SUDI_DATA has unknown part %u at byte %zu", tag, at);
		return -1;
	}
	if (*slot) {
		seterr(err, errlen, "SUDI_DATA repeats part %u at byte %zu", tag, at);
		return -1;
	}
	if (vlen == 0) {
		seterr(err, errlen, "SUDI_DATA part %u at byte %zu is empty", tag, at);
		return -1;
	}
	*slot = val;
	*slotlen = vlen;
	return 0;
}

int capf_sudi_parse(const uint8_t *val, size_t len, struct capf_sudi *out, char *err, size_t errlen)
{
	size_t pos = 0, at = 0;
	uint8_t tag = 0;
	uint16_t vlen = 0;
	const uint8_t *v = NULL;
	enum wire_tlv_status st;

	memset(out, 0, sizeof *out);
	while ((st = wire_tlv_next(val, len, &pos, &tag, &vlen, &v)) == WIRE_TLV_OK) {
		if (sudi_store(out, tag, v, vlen, at, err, errlen) < 0)
			return -1;
		at = pos;
	}
	if (st != WIRE_TLV_END) {
		seterr(err, errlen, "SUDI_DATA is truncated: part at byte %zu runs past its %zu bytes",
		       pos, len);
		return -1;
	}
	if (!out->cert || !out->sig_sha1 || !out->sig_sha512) {
		seterr(err, errlen, "SUDI_DATA lacks its %s", !out->cert ? "certificate" :
		       !out->sig_sha1 ? "SHA-1 signature" : "SHA-512 signature");
		return -1;
	}
	return 0;
}

void capf_sudi_build(struct buf *out, const struct capf_sudi *s)
{
	wire_tlv_put(out, SUDI_TAG_CERT, s->cert, s->certlen);
	wire_tlv_put(out, SUDI_TAG_SIG_SHA1, s->sig_sha1, s->sig_sha1_len);
	wire_tlv_put(out, SUDI_TAG_SIG_SHA512, s->sig_sha512, s->sig_sha512_len);
}
