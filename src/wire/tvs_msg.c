/*
 * tvs_msg.c: the TVS message codec (tvs_msg.h,
 * ../shared/docs/tvs-and-itl.md).
 *
 * Invariants, as in capf_msg.c:
 * - The decoder never allocates and never reads outside [data, data + len);
 *   elements are bounds-checked by wire_tlv_next and point into the input.
 * - A decoded message accounts for every input byte (the reserved header
 *   byte is kept), so encoding it reproduces the input exactly.
 * - The tables below are the only place command, tag and status names live.
 */
#include "wire/tvs_msg.h"

#include <string.h>

#include "wire/tlv.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct wire_name cmd_names[] = {
	{ TVS_CMD_VERIFY_REQUEST, "VERIFY_REQUEST" },
	{ TVS_CMD_VERIFY_RESPONSE, "VERIFY_RESPONSE" },
	{ TVS_CMD_QUERY_REQUEST, "QUERY_REQUEST" },
	{ TVS_CMD_QUERY_RESPONSE, "QUERY_RESPONSE" },
};

static const struct wire_name tag_names[] = {
	{ TVS_TAG_DEVICE_NAME, "DEVICE_NAME" },
	{ TVS_TAG_CERTIFICATE, "CERTIFICATE" },
	{ TVS_TAG_STATUS, "STATUS" },
	{ TVS_TAG_ROLES, "ROLES" },
	{ TVS_TAG_TTL, "TTL" },
};

static const struct wire_name status_names[] = {
	{ TVS_STATUS_VALID, "VALID" },
	{ TVS_STATUS_INVALID, "INVALID" },
};

const char *tvs_cmd_name(uint8_t cmd)
{
	return wire_name_lookup(cmd_names, NELEMS(cmd_names), cmd, "UNKNOWN");
}

const char *tvs_tag_name(uint8_t tag)
{
	return wire_name_lookup(tag_names, NELEMS(tag_names), tag, "UNKNOWN");
}

const char *tvs_status_name(uint8_t status)
{
	return wire_name_lookup(status_names, NELEMS(status_names), status, "UNKNOWN");
}

/* ---- framing and decoding ---- */

/* Checks the bytes of the fixed header that are present (avail may be short). */
static int check_ids(const uint8_t *data, size_t avail, char *err, size_t errlen)
{
	if (avail >= 1 && data[0] != TVS_PROTOCOL_ID) {
		seterr(err, errlen, "not a TVS message: protocol id 0x%02x, expected 0x%02x",
		       data[0], TVS_PROTOCOL_ID);
		return -1;
	}
	if (avail >= 2 && data[1] != TVS_VERSION) {
		seterr(err, errlen, "unsupported TVS version %u, expected %d", data[1], TVS_VERSION);
		return -1;
	}
	return 0;
}

int tvs_frame_length(const uint8_t *data, size_t avail, size_t *total, char *err, size_t errlen)
{
	if (check_ids(data, avail, err, errlen) < 0)
		return -1;
	if (avail < TVS_HEADER_LEN)
		return 0;
	*total = TVS_HEADER_LEN + (size_t)get_u16(data + 8);
	return avail >= *total ? 1 : 0;
}

static int decode_header(struct tvs_msg *m, const uint8_t *data, size_t len, char *err,
			 size_t errlen)
{
	size_t bodylen;

	if (len < TVS_HEADER_LEN) {
		seterr(err, errlen, "TVS message of %zu bytes is shorter than the %d-byte header",
		       len, TVS_HEADER_LEN);
		return -1;
	}
	if (check_ids(data, len, err, errlen) < 0)
		return -1;
	bodylen = get_u16(data + 8);
	if (bodylen > len - TVS_HEADER_LEN) {
		seterr(err, errlen, "TVS body length %zu runs past the %zu bytes received",
		       bodylen, len - TVS_HEADER_LEN);
		return -1;
	}
	if (bodylen < len - TVS_HEADER_LEN) {
		seterr(err, errlen, "TVS message has %zu bytes after its %zu-byte body",
		       len - TVS_HEADER_LEN - bodylen, bodylen);
		return -1;
	}
	m->cmd = data[2];
	m->reserved = data[3];
	m->session_id = get_u32(data + 4);
	return 0;
}

static int decode_body(struct tvs_msg *m, const uint8_t *body, size_t bodylen, char *err,
		       size_t errlen)
{
	size_t pos = 0;
	uint8_t tag = 0;
	uint16_t vlen = 0;
	const uint8_t *val = NULL;
	enum wire_tlv_status st;

	while ((st = wire_tlv_next(body, bodylen, &pos, &tag, &vlen, &val)) == WIRE_TLV_OK) {
		if (m->nelems == TVS_MAX_ELEMS) {
			seterr(err, errlen, "TVS message has more than %d elements", TVS_MAX_ELEMS);
			return -1;
		}
		m->elems[m->nelems++] = (struct tvs_elem){ .tag = tag, .len = vlen, .val = val };
	}
	if (st == WIRE_TLV_SHORT_HEADER) {
		seterr(err, errlen, "truncated TVS element header at byte %zu", TVS_HEADER_LEN + pos);
		return -1;
	}
	if (st == WIRE_TLV_SHORT_VALUE) {
		seterr(err, errlen,
		       "TVS element %s (tag %u) at byte %zu has length %u, past the end of the body",
		       tvs_tag_name(tag), tag, TVS_HEADER_LEN + pos, vlen);
		return -1;
	}
	return 0;
}

int tvs_msg_decode(struct tvs_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	tvs_msg_init(m, 0, 0);
	if (decode_header(m, data, len, err, errlen) < 0)
		return -1;
	return decode_body(m, data + TVS_HEADER_LEN, len - TVS_HEADER_LEN, err, errlen);
}

/* ---- building and encoding ---- */

void tvs_msg_init(struct tvs_msg *m, uint8_t cmd, uint32_t session_id)
{
	m->cmd = cmd;
	m->reserved = 0;
	m->session_id = session_id;
	m->nelems = 0;
}

int tvs_msg_add(struct tvs_msg *m, uint8_t tag, const void *val, size_t len)
{
	if (m->nelems >= TVS_MAX_ELEMS || len > UINT16_MAX || (len > 0 && !val))
		return -1;
	m->elems[m->nelems++] = (struct tvs_elem){ .tag = tag, .len = (uint16_t)len, .val = val };
	return 0;
}

int tvs_msg_add_u8(struct tvs_msg *m, uint8_t tag, const uint8_t *val)
{
	return tvs_msg_add(m, tag, val, 1);
}

int tvs_msg_add_u32(struct tvs_msg *m, uint8_t tag, uint8_t store[4], uint32_t v)
{
	store[0] = (uint8_t)(v >> 24);
	store[1] = (uint8_t)(v >> 16);
	store[2] = (uint8_t)(v >> 8);
	store[3] = (uint8_t)v;
	return tvs_msg_add(m, tag, store, 4);
}

static size_t body_length(const struct tvs_msg *m)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nelems; i++)
		n += WIRE_TLV_HDR + m->elems[i].len;
	return n;
}

int tvs_msg_encode(const struct tvs_msg *m, struct buf *out)
{
	size_t bodylen = body_length(m);

	if (m->nelems > TVS_MAX_ELEMS || bodylen > TVS_MAX_BODY || out->failed)
		return -1;
	buf_put_u8(out, TVS_PROTOCOL_ID);
	buf_put_u8(out, TVS_VERSION);
	buf_put_u8(out, m->cmd);
	buf_put_u8(out, m->reserved);
	buf_put_u32(out, m->session_id);
	buf_put_u16(out, (uint16_t)bodylen);
	for (size_t i = 0; i < m->nelems; i++) {
		buf_put_u8(out, m->elems[i].tag);
		buf_put_u16(out, m->elems[i].len);
		buf_put(out, m->elems[i].val, m->elems[i].len);
	}
	return out->failed ? -1 : 0;
}

/* ---- accessors ---- */

const struct tvs_elem *tvs_msg_find(const struct tvs_msg *m, uint8_t tag)
{
	for (size_t i = 0; i < m->nelems; i++)
		if (m->elems[i].tag == tag)
			return &m->elems[i];
	return NULL;
}

int tvs_msg_get_u8(const struct tvs_msg *m, uint8_t tag, uint8_t *v)
{
	const struct tvs_elem *e = tvs_msg_find(m, tag);

	if (!e || e->len != 1)
		return -1;
	*v = e->val[0];
	return 0;
}

int tvs_msg_get_u32(const struct tvs_msg *m, uint8_t tag, uint32_t *v)
{
	const struct tvs_elem *e = tvs_msg_find(m, tag);

	if (!e || e->len != 4)
		return -1;
	*v = get_u32(e->val);
	return 0;
}

int tvs_msg_get_device_name(const struct tvs_msg *m, char *out, size_t outcap)
{
	const struct tvs_elem *e = tvs_msg_find(m, TVS_TAG_DEVICE_NAME);

	if (!e || e->len < 2 || e->val[0] != TVS_DEVICE_NAME_LEAD)
		return -1;
	return wire_text_copy(e->val + 1, e->len - 1u, out, outcap);
}

int tvs_msg_add_device_name(struct tvs_msg *m, struct buf *store, const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= UINT16_MAX)
		return -1;
	buf_reset(store);
	buf_put_u8(store, TVS_DEVICE_NAME_LEAD);
	buf_put(store, name, n);
	if (store->failed)
		return -1;
	return tvs_msg_add(m, TVS_TAG_DEVICE_NAME, store->data, store->len);
}

int tvs_msg_get_roles(const struct tvs_msg *m, uint8_t *roles, size_t cap, size_t *n)
{
	const struct tvs_elem *e = tvs_msg_find(m, TVS_TAG_ROLES);

	if (!e || e->len > cap)
		return -1;
	if (e->len > 0)
		memcpy(roles, e->val, e->len);
	*n = e->len;
	return 0;
}
