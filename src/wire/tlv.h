/*
 * tlv.h: the tag(1) length(2) value layer the wire codecs share: the one
 * element type of CAPF and TVS messages (struct wire_elem) with its decoder,
 * builder, encoder and accessors; the message framing both codecs use (a
 * fixed header ending in the body length); a bounds-checked cursor over
 * elements; name tables for logs; text extraction.
 *
 * CAPF bodies, TVS bodies, SUDI_DATA and ITL files all use the same
 * tag/length/value shape; keeping the bounds checks in one place means there
 * is one place to get them right. struct wire_elem reaches callers through
 * capf_msg.h and tvs_msg.h; everything else here is for src/wire only.
 */
#ifndef OPENCAPF_WIRE_TLV_H
#define OPENCAPF_WIRE_TLV_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define WIRE_TLV_HDR 3 /* tag (1) + length (2) */

struct wire_name {
	uint8_t id;
	const char *name;
};

/* The name for id in table t of n entries, or `dflt` when absent. */
const char *wire_name_lookup(const struct wire_name *t, size_t n, uint8_t id, const char *dflt);

enum wire_tlv_status {
	WIRE_TLV_OK = 1,
	WIRE_TLV_END = 0,
	WIRE_TLV_SHORT_HEADER = -1, /* fewer than 3 bytes left for tag + length */
	WIRE_TLV_SHORT_VALUE = -2,  /* the length runs past the end */
};

/* Read the element at *pos of p[0..len). On WIRE_TLV_OK fills tag, vlen, val
 * and advances *pos past it. On an error *pos stays at the bad element (and
 * tag/vlen are filled as far as they could be read) so the caller can name
 * the byte offset. */
enum wire_tlv_status wire_tlv_next(const uint8_t *p, size_t len, size_t *pos, uint8_t *tag,
				   uint16_t *vlen, const uint8_t **val);

/* Append one element; a value over 65535 bytes marks out failed instead. */
void wire_tlv_put(struct buf *out, uint8_t tag, const void *val, size_t len);

/* Big-endian store of v into p[0..4). */
void wire_store_u32(uint8_t *p, uint32_t v);

/* The text of a NUL-terminated value: exactly one NUL, at the end. Copies the
 * text before it into out (outcap includes the NUL). -1 if the value is
 * empty, lacks the final NUL, has an inner NUL, or does not fit. */
int wire_cstr_copy(const uint8_t *val, size_t len, char *out, size_t outcap);

/* Text that is not NUL-terminated (TVS DEVICE_NAME after its lead byte):
 * copies len bytes and adds a NUL. -1 on an inner NUL or no room. */
int wire_text_copy(const uint8_t *val, size_t len, char *out, size_t outcap);

/* A text field of an ITL-style header (ITL, CTL, .sgn): NUL-terminated as
 * wire_cstr_copy reads it, or without the NUL as wire_text_copy does. -1
 * when absent (val NULL) or unreadable. */
int wire_field_text(const uint8_t *val, size_t len, char *out, size_t outcap);

/* The bytes an ITL-style file's signature covers: data[0..len) with the
 * SIGNATURE TLV (its header at sig_offset and sig_len value bytes) cut out,
 * appended to out. 0, or -1 with err. */
int wire_signed_bytes(const uint8_t *data, size_t len, size_t sig_offset, size_t sig_len, struct buf *out,
		      char *err, size_t errlen);

/* ---- message elements (CAPF and TVS bodies) ---- */

/* One element of a message body. val points into the decoded input or into
 * the builder's storage; it is never copied. A message keeps its elements in
 * an array in wire order, so decode followed by encode is byte-exact. */
struct wire_elem {
	uint8_t tag;
	uint16_t len;
	const uint8_t *val;
};

/* What the shared framing needs to know of a codec. Its header is hdrlen
 * bytes and ends with the big-endian u16 body length. */
struct wire_codec {
	const char *name; /* "CAPF", "TVS": starts the error sentences */
	size_t hdrlen;
	size_t max_elems;
	const char *(*tag_name)(uint8_t tag);
	/* The protocol id (and version) checks on the first `avail` header
	 * bytes, which may be fewer than hdrlen: -1 with err when wrong. */
	int (*check_ids)(const uint8_t *data, size_t avail, char *err, size_t errlen);
};

/* Framing on a stream: 1 and *total (header + body) when a whole message is
 * in data[0..avail), 0 when more bytes are needed, -1 with err on bad ids. */
int wire_frame_length(const struct wire_codec *c, const uint8_t *data, size_t avail,
		      size_t *total, char *err, size_t errlen);

/* The header of exactly one whole message of len bytes: long enough, right
 * ids, and a body length equal to what follows it. 0, or -1 with err. */
int wire_header_check(const struct wire_codec *c, const uint8_t *data, size_t len, char *err,
		      size_t errlen);

/* The elements of body[0..bodylen) into elems (room for c->max_elems), *n
 * counting them. -1 with err on a truncated element or too many. */
int wire_elems_decode(const struct wire_codec *c, const uint8_t *body, size_t bodylen,
		      struct wire_elem *elems, size_t *n, char *err, size_t errlen);

/* Append an element to elems[0..*n) of room max: -1 when full, len > 65535,
 * or a value missing. The value is not copied. */
int wire_elems_add(struct wire_elem *elems, size_t *n, size_t max, uint8_t tag, const void *val,
		   size_t len);

/* Append the header prefix (hdrlen - 2 bytes: all but the body length), the
 * body length and the elements to out. -1, appending nothing, when there are
 * more than max_elems, the body exceeds 65535 bytes or out already failed. */
int wire_msg_encode(const struct wire_codec *c, const uint8_t *prefix,
		    const struct wire_elem *elems, size_t n, struct buf *out);

/* Accessors over elems[0..n): the first element with tag, or NULL. */
const struct wire_elem *wire_elems_find(const struct wire_elem *elems, size_t n, uint8_t tag);
/* 0 and *v when the element exists with exactly 1 (2, 4) bytes; -1 otherwise. */
int wire_elems_get_u8(const struct wire_elem *elems, size_t n, uint8_t tag, uint8_t *v);
int wire_elems_get_u16(const struct wire_elem *elems, size_t n, uint8_t tag, uint16_t *v);
int wire_elems_get_u32(const struct wire_elem *elems, size_t n, uint8_t tag, uint32_t *v);
/* A NUL-terminated text element, as wire_cstr_copy; -1 also when absent. */
int wire_elems_get_cstr(const struct wire_elem *elems, size_t n, uint8_t tag, char *out,
			size_t outcap);

#endif
