/*
 * tlv.c: the tag/length/value layer shared by the CAPF, TVS and ITL codecs
 * (tlv.h): the bounds-checked element cursor, name lookup and text helpers,
 * and the message framing, element list and accessors that capf_msg.c and
 * tvs_msg.c are thin wrappers over. Every read of outside bytes in those
 * codecs goes through a length check here or right next to it.
 */
#include "wire/tlv.h"

#include <string.h>

const char *wire_name_lookup(const struct wire_name *t, size_t n, uint8_t id, const char *dflt)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return t[i].name;
	return dflt;
}

enum wire_tlv_status wire_tlv_next(const uint8_t *p, size_t len, size_t *pos, uint8_t *tag,
				   uint16_t *vlen, const uint8_t **val)
{
	size_t at = *pos;

	if (at >= len)
		return WIRE_TLV_END;
	*tag = p[at];
	if (len - at < WIRE_TLV_HDR)
		return WIRE_TLV_SHORT_HEADER;
	*vlen = get_u16(p + at + 1);
	if (len - at - WIRE_TLV_HDR < *vlen)
		return WIRE_TLV_SHORT_VALUE;
	*val = p + at + WIRE_TLV_HDR;
	*pos = at + WIRE_TLV_HDR + *vlen;
	return WIRE_TLV_OK;
}

void wire_tlv_put(struct buf *out, uint8_t tag, const void *val, size_t len)
{
	if (len > UINT16_MAX) {
		out->failed = 1; /* cannot be one element; the encoder sees this */
		return;
	}
	buf_put_u8(out, tag);
	buf_put_u16(out, (uint16_t)len);
	buf_put(out, val, len);
}

void wire_store_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int wire_cstr_copy(const uint8_t *val, size_t len, char *out, size_t outcap)
{
	if (len == 0 || val[len - 1] != '\0')
		return -1;
	return wire_text_copy(val, len - 1, out, outcap);
}

int wire_text_copy(const uint8_t *val, size_t len, char *out, size_t outcap)
{
	if (len >= outcap || (len > 0 && memchr(val, '\0', len) != NULL))
		return -1;
	if (len > 0)
		memcpy(out, val, len);
	out[len] = '\0';
	return 0;
}

/* ---- framing ---- */

/* The body length: the last two bytes of the header. */
static size_t header_body_length(const struct wire_codec *c, const uint8_t *data)
{
	return get_u16(data + c->hdrlen - 2);
}

int wire_frame_length(const struct wire_codec *c, const uint8_t *data, size_t avail,
		      size_t *total, char *err, size_t errlen)
{
	if (c->check_ids(data, avail, err, errlen) < 0)
		return -1;
	if (avail < c->hdrlen)
		return 0;
	*total = c->hdrlen + header_body_length(c, data);
	return avail >= *total ? 1 : 0;
}

int wire_header_check(const struct wire_codec *c, const uint8_t *data, size_t len, char *err,
		      size_t errlen)
{
	size_t bodylen;

	if (len < c->hdrlen) {
		seterr(err, errlen, "%s message of %zu bytes is shorter than the %zu-byte header",
		       c->name, len, c->hdrlen);
		return -1;
	}
	if (c->check_ids(data, len, err, errlen) < 0)
		return -1;
	bodylen = header_body_length(c, data);
	if (bodylen > len - c->hdrlen) {
		seterr(err, errlen, "%s body length %zu runs past the %zu bytes received",
		       c->name, bodylen, len - c->hdrlen);
		return -1;
	}
	if (bodylen < len - c->hdrlen) {
		seterr(err, errlen, "%s message has %zu bytes after its %zu-byte body",
		       c->name, len - c->hdrlen - bodylen, bodylen);
		return -1;
	}
	return 0;
}

/* ---- the element list ---- */

/* The error sentence for a wire_tlv_next failure at body offset pos. */
static void elem_error(const struct wire_codec *c, enum wire_tlv_status st, size_t pos,
		       uint8_t tag, uint16_t vlen, char *err, size_t errlen)
{
	if (st == WIRE_TLV_SHORT_HEADER)
		seterr(err, errlen, "truncated %s element header at byte %zu", c->name,
		       c->hdrlen + pos);
	else
		seterr(err, errlen,
		       "%s element %s (tag %u) at byte %zu has length %u, past the end of the body",
		       c->name, c->tag_name(tag), tag, c->hdrlen + pos, vlen);
}

int wire_elems_decode(const struct wire_codec *c, const uint8_t *body, size_t bodylen,
		      struct wire_elem *elems, size_t *n, char *err, size_t errlen)
{
	size_t pos = 0;
	uint8_t tag = 0;
	uint16_t vlen = 0;
	const uint8_t *val = NULL;
	enum wire_tlv_status st;

	while ((st = wire_tlv_next(body, bodylen, &pos, &tag, &vlen, &val)) == WIRE_TLV_OK) {
		if (*n == c->max_elems) {
			seterr(err, errlen, "%s message has more than %zu elements", c->name,
			       c->max_elems);
			return -1;
		}
		elems[(*n)++] = (struct wire_elem){ .tag = tag, .len = vlen, .val = val };
	}
	if (st != WIRE_TLV_END) {
		elem_error(c, st, pos, tag, vlen, err, errlen);
		return -1;
	}
	return 0;
}

int wire_elems_add(struct wire_elem *elems, size_t *n, size_t max, uint8_t tag, const void *val,
		   size_t len)
{
	if (*n >= max || len > UINT16_MAX || (len > 0 && !val))
		return -1;
	elems[(*n)++] = (struct wire_elem){ .tag = tag, .len = (uint16_t)len, .val = val };
	return 0;
}

static size_t body_length(const struct wire_elem *elems, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += WIRE_TLV_HDR + elems[i].len;
	return len;
}

int wire_msg_encode(const struct wire_codec *c, const uint8_t *prefix,
		    const struct wire_elem *elems, size_t n, struct buf *out)
{
	size_t bodylen = body_length(elems, n);

	if (n > c->max_elems || bodylen > UINT16_MAX || out->failed)
		return -1;
	buf_put(out, prefix, c->hdrlen - 2);
	buf_put_u16(out, (uint16_t)bodylen);
	for (size_t i = 0; i < n; i++)
		wire_tlv_put(out, elems[i].tag, elems[i].val, elems[i].len);
	return out->failed ? -1 : 0;
}

/* ---- accessors ---- */

const struct wire_elem *wire_elems_find(const struct wire_elem *elems, size_t n, uint8_t tag)
{
	for (size_t i = 0; i < n; i++)
		if (elems[i].tag == tag)
			return &elems[i];
	return NULL;
}

/* The value of the first element with tag when it is exactly size bytes. */
static const uint8_t *sized_value(const struct wire_elem *elems, size_t n, uint8_t tag,
				  size_t size)
{
	const struct wire_elem *e = wire_elems_find(elems, n, tag);

	return e && e->len == size ? e->val : NULL;
}

int wire_elems_get_u8(const struct wire_elem *elems, size_t n, uint8_t tag, uint8_t *v)
{
	const uint8_t *p = sized_value(elems, n, tag, 1);

	if (!p)
		return -1;
	*v = p[0];
	return 0;
}

int wire_elems_get_u16(const struct wire_elem *elems, size_t n, uint8_t tag, uint16_t *v)
{
	const uint8_t *p = sized_value(elems, n, tag, 2);

	if (!p)
		return -1;
	*v = get_u16(p);
	return 0;
}

int wire_elems_get_u32(const struct wire_elem *elems, size_t n, uint8_t tag, uint32_t *v)
{
	const uint8_t *p = sized_value(elems, n, tag, 4);

	if (!p)
		return -1;
	*v = get_u32(p);
	return 0;
}

int wire_elems_get_cstr(const struct wire_elem *elems, size_t n, uint8_t tag, char *out,
			size_t outcap)
{
	const struct wire_elem *e = wire_elems_find(elems, n, tag);

	if (!e)
		return -1;
	return wire_cstr_copy(e->val, e->len, out, outcap);
}

int wire_field_text(const uint8_t *val, size_t len, char *out, size_t outcap)
{
	if (!val)
		return -1;
	if (len > 0 && val[len - 1] == '\0')
		return wire_cstr_copy(val, len, out, outcap);
	return wire_text_copy(val, len, out, outcap);
}

int wire_signed_bytes(const uint8_t *data, size_t len, size_t sig_offset, size_t sig_len, struct buf *out,
		      char *err, size_t errlen)
{
	size_t after = sig_offset + WIRE_TLV_HDR + sig_len;

	buf_put(out, data, sig_offset);
	buf_put(out, data + after, len - after);
	if (out->failed) {
		seterr(err, errlen, "out of memory copying the signed bytes");
		return -1;
	}
	return 0;
}
