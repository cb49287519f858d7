/*
 * tlv.c: the bounds-checked element cursor, name lookup and text helpers
 * shared by the CAPF, TVS and ITL codecs. Every read of outside bytes in
 * those codecs goes through a length check here or right next to it.
 */
#include "wire/tlv.h"

#include <string.h>

#include "common/util.h"

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
