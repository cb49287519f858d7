/*
 * tlv.h: helpers the wire codecs share (internal to src/wire): name tables
 * for logs, a bounds-checked cursor over tag(1) length(2) value elements,
 * and NUL-terminated text extraction.
 *
 * CAPF bodies, TVS bodies, SUDI_DATA and ITL files all use the same
 * tag/length/value shape; keeping the bounds checks in one place means there
 * is one place to get them right.
 */
#ifndef OPENCAPF_WIRE_TLV_H
#define OPENCAPF_WIRE_TLV_H

#include <stddef.h>
#include <stdint.h>

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

/* The text of a NUL-terminated value: exactly one NUL, at the end. Copies the
 * text before it into out (outcap includes the NUL). -1 if the value is
 * empty, lacks the final NUL, has an inner NUL, or does not fit. */
int wire_cstr_copy(const uint8_t *val, size_t len, char *out, size_t outcap);

/* Text that is not NUL-terminated (TVS DEVICE_NAME after its lead byte):
 * copies len bytes and adds a NUL. -1 on an inner NUL or no room. */
int wire_text_copy(const uint8_t *val, size_t len, char *out, size_t outcap);

#endif
