/*
 * tvs_msg.c: the TVS message codec (tvs_msg.h,
 * docs/protocol/tvs-and-itl.md).
 *
 * Invariants, as in capf_msg.c:
 * - The decoder never allocates and never reads outside [data, data + len);
 *   the framing, element list and accessors are the shared ones of tlv.c
 *   (elements bounds-checked by wire_tlv_next, pointing into the input);
 *   this file gives them the TVS header layout and names, and reads the
 *   DEVICE_NAME and ROLES values.
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

/* wire_msg_encode refuses a body over the 2-byte length field's 65535. */
_Static_assert(TVS_MAX_BODY == UINT16_MAX, "TVS_MAX_BODY is the body length field's limit");

static const struct wire_codec codec = {
	.name = "TVS",
	.hdrlen = TVS_HEADER_LEN,
	.max_elems = TVS_MAX_ELEMS,
	.tag_name = tvs_tag_name,
	.check_ids = check_ids,
};

int tvs_frame_length(const uint8_t *data, size_t avail, size_t *total, char *err, size_t errlen)
{
	return wire_frame_length(&codec, data, avail, total, err, errlen);
}

int tvs_msg_decode(struct tvs_msg *m, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	tvs_msg_init(m, 0, 0);
	if (wire_header_check(&codec, data, len, err, errlen) < 0)
		return -1;
	m->cmd = data[2];
	m->reserved = data[3];
	m->session_id = get_u32(data + 4);
	return wire_elems_decode(&codec, data + TVS_HEADER_LEN, len - TVS_HEADER_LEN, m->elems,
				 &m->nelems, err, errlen);
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
	return wire_elems_add(m->elems, &m->nelems, TVS_MAX_ELEMS, tag, val, len);
}

int tvs_msg_add_u8(struct tvs_msg *m, uint8_t tag, const uint8_t *val)
{
	return tvs_msg_add(m, tag, val, 1);
}

int tvs_msg_add_u32(struct tvs_msg *m, uint8_t tag, uint8_t store[4], uint32_t v)
{
	wire_store_u32(store, v);
	return tvs_msg_add(m, tag, store, 4);
}

int tvs_msg_encode(const struct tvs_msg *m, struct buf *out)
{
	uint8_t prefix[TVS_HEADER_LEN - 2] = { TVS_PROTOCOL_ID, TVS_VERSION, m->cmd, m->reserved };

	wire_store_u32(prefix + 4, m->session_id);
	return wire_msg_encode(&codec, prefix, m->elems, m->nelems, out);
}

/* ---- accessors ---- */

const struct tvs_elem *tvs_msg_find(const struct tvs_msg *m, uint8_t tag)
{
	return wire_elems_find(m->elems, m->nelems, tag);
}

int tvs_msg_get_u8(const struct tvs_msg *m, uint8_t tag, uint8_t *v)
{
	return wire_elems_get_u8(m->elems, m->nelems, tag, v);
}

int tvs_msg_get_u32(const struct tvs_msg *m, uint8_t tag, uint32_t *v)
{
	return wire_elems_get_u32(m->elems, m->nelems, tag, v);
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
