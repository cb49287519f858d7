/*
 * itl_build.c: writing ITL / CTL files (itl.h, docs/protocol/tvs-and-itl.md).
 *
 * The builder owns the bytes it writes (a struct buf), so nothing given to it
 * needs to outlive the call. It computes every length field itself:
 * HEADER_LENGTH, the three container lengths, each RECORD_LENGTH, and pads
 * the header with single PADDING bytes to a multiple of 4. The SIGNATURE
 * value is written as zeros of the size the modulus index gives; it is cut
 * out of the signed bytes, so it can be filled in after signing.
 *
 * Errors stick: the first one is kept in b->err, every later call fails,
 * and itl_builder_finish reports it. Callers may therefore ignore the
 * return values of the put calls and check once at the end.
 */
#include "wire/itl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wire/tlv.h"

#define HEADER_ALIGN 4
#define MAX_SIG 512 /* itl_modulus_bytes(3) */

static int fail(struct itl_builder *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct itl_builder *b, const char *fmt, ...)
{
	va_list ap;

	if (b->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(b->err, sizeof b->err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void put_tlv(struct buf *out, uint8_t tag, const void *val, size_t len)
{
	buf_put_u8(out, tag);
	buf_put_u16(out, (uint16_t)len);
	buf_put(out, val, len);
}

static void put_text(struct buf *out, uint8_t tag, const char *s)
{
	put_tlv(out, tag, s, strlen(s) + 1); /* the NUL is part of the value */
}

static void put_u8(struct buf *out, uint8_t tag, uint8_t v)
{
	put_tlv(out, tag, &v, 1);
}

static void put_pair(struct buf *out, uint8_t tag, uint8_t major, uint8_t minor)
{
	const uint8_t v[2] = { major, minor };

	put_tlv(out, tag, v, 2);
}

static void put_container(struct buf *out, uint8_t tag, size_t len)
{
	buf_put_u8(out, tag);
	buf_put_u16(out, (uint16_t)len);
}

void itl_header_spec_init(struct itl_header_spec *s)
{
	memset(s, 0, sizeof *s);
	s->version_major = ITL_FORMAT_MAJOR;
	s->version_minor = ITL_FORMAT_MINOR;
	s->signer_version_major = 1;
	s->signer_version_minor = 0;
	s->hash_alg = ITL_HASH_SHA1;
	s->sig_alg = ITL_SIG_RSA;
	s->modulus_index = 2;
	s->filename = "ITLFile.tlv";
}

static int is_cstr(const struct itl_bytes *b)
{
	return b->p && b->len > 0 && b->p[b->len - 1] == '\0' &&
	       memchr(b->p, '\0', b->len - 1) == NULL;
}

/* The first header field the builder needs that f lacks, or NULL. */
static const char *missing_field(const struct itl_header *h)
{
	if (!h->has_signer_version)
		return "SIGNER_VERSION";
	if (!is_cstr(&h->signer_name))
		return "SIGNER_NAME (NUL-terminated text)";
	if (!is_cstr(&h->issuer_name))
		return "ISSUER_NAME (NUL-terminated text)";
	if (!h->serial.p)
		return "SERIAL_NUMBER";
	if (h->hash_alg < 0)
		return "HASH_ALGORITHM";
	if (h->sig_alg < 0)
		return "SIGNATURE_ALGORITHM";
	if (h->modulus_index < 0)
		return "SIGNATURE_MODULUS";
	if (!is_cstr(&h->filename))
		return "FILENAME (NUL-terminated text)";
	return h->has_timestamp ? NULL : "TIMESTAMP";
}

int itl_header_spec_from(const struct itl_file *f, struct itl_header_spec *s, char *err,
			 size_t errlen)
{
	const struct itl_header *h = &f->hdr;
	const char *missing = missing_field(h);

	if (missing) {
		seterr(err, errlen, "the ITL header lacks %s, which the builder needs", missing);
		return -1;
	}
	*s = (struct itl_header_spec){
		.version_major = h->version_major, .version_minor = h->version_minor,
		.signer_version_major = h->signer_version_major,
		.signer_version_minor = h->signer_version_minor,
		.signer_name = (const char *)h->signer_name.p,
		.issuer_name = (const char *)h->issuer_name.p,
		.serial = h->serial.p, .serial_len = h->serial.len,
		.hash_alg = (uint8_t)h->hash_alg, .sig_alg = (uint8_t)h->sig_alg,
		.modulus_index = (uint8_t)h->modulus_index,
		.filename = (const char *)h->filename.p, .timestamp = h->timestamp,
	};
	return 0;
}

/* Sizes the header needs; -1 (in b->err) when a field cannot be written. */
static int check_spec(struct itl_builder *b, const struct itl_header_spec *h,
		      size_t *signer_info_len)
{
	if (!h->signer_name || !h->issuer_name || !h->filename || (!h->serial && h->serial_len))
		return fail(b, "the ITL header needs a signer name, issuer name and filename");
	if (itl_modulus_bytes(h->modulus_index) == 0)
		return fail(b, "signature modulus index %u is not one of 0..3", h->modulus_index);
	*signer_info_len = 3 * WIRE_TLV_HDR + strlen(h->signer_name) + 1 +
			   strlen(h->issuer_name) + 1 + h->serial_len;
	if (*signer_info_len > UINT16_MAX || strlen(h->filename) + 1 > UINT16_MAX)
		return fail(b, "ITL header names are too long for their length fields");
	return 0;
}

static void put_signature_info(struct buf *out, const struct itl_header_spec *h)
{
	/* Fixed sizes: HASH_ALGORITHM (4) + the algorithm info container (3 + 8). */
	put_container(out, ITL_H_SIGNATURE_INFO, 15);
	put_u8(out, ITL_H_HASH_ALGORITHM, h->hash_alg);
	put_container(out, ITL_H_SIGNATURE_ALGORITHM_INFO, 8);
	put_u8(out, ITL_H_SIGNATURE_ALGORITHM, h->sig_alg);
	put_u8(out, ITL_H_SIGNATURE_MODULUS, h->modulus_index);
}

static void put_signature_placeholder(struct itl_builder *b, size_t siglen)
{
	static const uint8_t zeros[MAX_SIG];

	b->sig_offset = b->out.len;
	b->sig_len = siglen;
	put_tlv(&b->out, ITL_H_SIGNATURE, zeros, siglen);
}

int itl_builder_init(struct itl_builder *b, const struct itl_header_spec *h, char *err,
		     size_t errlen)
{
	struct buf *out = &b->out;
	size_t signer_info_len = 0, hlen_at;

	memset(b, 0, sizeof *b);
	buf_init(out);
	if (check_spec(b, h, &signer_info_len) < 0) {
		seterr(err, errlen, "%s", b->err);
		return -1;
	}
	put_pair(out, ITL_H_VERSION, h->version_major, h->version_minor);
	hlen_at = out->len + WIRE_TLV_HDR;
	put_tlv(out, ITL_H_HEADER_LENGTH, "\0", 2); /* patched below */
	put_pair(out, ITL_H_SIGNER_VERSION, h->signer_version_major, h->signer_version_minor);
	put_container(out, ITL_H_SIGNER_INFO, signer_info_len);
	put_text(out, ITL_H_SIGNER_NAME, h->signer_name);
	put_text(out, ITL_H_ISSUER_NAME, h->issuer_name);
	put_tlv(out, ITL_H_SERIAL_NUMBER, h->serial, h->serial_len);
	put_signature_info(out, h);
	put_signature_placeholder(b, itl_modulus_bytes(h->modulus_index));
	put_text(out, ITL_H_FILENAME, h->filename);
	buf_put_u8(out, ITL_H_TIMESTAMP);
	buf_put_u16(out, 4);
	buf_put_u32(out, h->timestamp);
	while (out->len % HEADER_ALIGN)
		buf_put_u8(out, ITL_H_PADDING);
	buf_set_u16(out, hlen_at, (uint16_t)out->len);
	if (out->len > UINT16_MAX || out->failed) {
		fail(b, "%s", out->failed ? "out of memory building the ITL header" :
		     "the ITL header is over 65535 bytes");
		seterr(err, errlen, "%s", b->err);
		return -1;
	}
	return 0;
}

int itl_builder_record_begin(struct itl_builder *b)
{
	if (b->err[0])
		return -1;
	if (b->in_record)
		return fail(b, "record %zu was begun before the previous one ended", b->nrecords + 1);
	b->in_record = 1;
	b->record_start = b->out.len;
	put_tlv(&b->out, ITL_R_RECORD_LENGTH, "\0", 2); /* patched by record_end */
	return 0;
}

int itl_builder_put(struct itl_builder *b, uint8_t tag, const void *val, size_t len)
{
	if (b->err[0])
		return -1;
	if (!b->in_record)
		return fail(b, "element tag %u was put outside a record", tag);
	if (len > UINT16_MAX)
		return fail(b, "record %zu element tag %u of %zu bytes is over 65535",
			    b->nrecords + 1, tag, len);
	if (len > 0 && !val)
		return fail(b, "record %zu element tag %u has no value", b->nrecords + 1, tag);
	put_tlv(&b->out, tag, val, len);
	return 0;
}

int itl_builder_put_text(struct itl_builder *b, uint8_t tag, const char *s)
{
	if (!s)
		return fail(b, "record %zu text element tag %u is NULL", b->nrecords + 1, tag);
	return itl_builder_put(b, tag, s, strlen(s) + 1);
}

int itl_builder_put_u8(struct itl_builder *b, uint8_t tag, uint8_t v)
{
	return itl_builder_put(b, tag, &v, 1);
}

int itl_builder_put_u16(struct itl_builder *b, uint8_t tag, uint16_t v)
{
	const uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return itl_builder_put(b, tag, be, 2);
}

int itl_builder_record_end(struct itl_builder *b)
{
	size_t len = b->out.len - b->record_start;

	if (b->err[0])
		return -1;
	if (!b->in_record)
		return fail(b, "a record was ended that was not begun");
	if (len > UINT16_MAX)
		return fail(b, "record %zu is %zu bytes, over 65535", b->nrecords + 1, len);
	if (b->nrecords == ITL_MAX_RECORDS)
		return fail(b, "more than %d records", ITL_MAX_RECORDS);
	buf_set_u16(&b->out, b->record_start + WIRE_TLV_HDR, (uint16_t)len);
	b->in_record = 0;
	b->nrecords++;
	return 0;
}

int itl_builder_add_record(struct itl_builder *b, const struct itl_record *r)
{
	itl_builder_record_begin(b);
	for (size_t i = 1; i < r->nelems; i++)
		itl_builder_put(b, r->elems[i].tag, r->elems[i].val, r->elems[i].len);
	return itl_builder_record_end(b);
}

int itl_builder_finish(struct itl_builder *b, char *err, size_t errlen)
{
	if (b->in_record)
		fail(b, "record %zu was not ended", b->nrecords + 1);
	if (b->out.failed)
		fail(b, "out of memory building the ITL file");
	if (b->out.len > ITL_MAX_FILE)
		fail(b, "the ITL file is %zu bytes, over the %d-byte limit", b->out.len, ITL_MAX_FILE);
	if (b->err[0]) {
		seterr(err, errlen, "%s", b->err);
		return -1;
	}
	return 0;
}

int itl_builder_signed_data(const struct itl_builder *b, struct buf *out)
{
	size_t after = b->sig_offset + WIRE_TLV_HDR + b->sig_len;

	if (b->err[0] || after > b->out.len)
		return -1;
	buf_put(out, b->out.data, b->sig_offset);
	buf_put(out, b->out.data + after, b->out.len - after);
	return out->failed ? -1 : 0;
}

int itl_builder_set_signature(struct itl_builder *b, const uint8_t *sig, size_t siglen,
			      char *err, size_t errlen)
{
	if (b->err[0] || b->sig_offset + WIRE_TLV_HDR + b->sig_len > b->out.len) {
		seterr(err, errlen, "the ITL file was not built");
		return -1;
	}
	if (siglen != b->sig_len) {
		seterr(err, errlen, "the signature is %zu bytes but the header has room for %zu",
		       siglen, b->sig_len);
		return -1;
	}
	memcpy(b->out.data + b->sig_offset + WIRE_TLV_HDR, sig, siglen);
	return 0;
}

void itl_builder_free(struct itl_builder *b)
{
	buf_free(&b->out);
	b->err[0] = '\0';
}
