/*
 * sgn.c: decoding, checking and re-encoding `.sgn` / `.enc.sgn` headers
 * (sgn.h, docs/protocol/provisioning.md §3-4). The builder is in
 * sgn_build.c.
 *
 * Invariants:
 * - Every read of file bytes is bounds-checked against the innermost limit
 *   (container end, header end) first; wire_tlv_next does the element checks.
 * - The TLV list covers every header byte exactly once, in order, so
 *   sgn_encode reproduces a decoded file byte for byte.
 * - No allocation: each known tag may appear once, so the list is bounded.
 */
#include "wire/sgn.h"

#include <string.h>

#include "wire/tlv.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define LEAD_LEN 10 /* VERSION and HEADER_LENGTH, 5 bytes each */
#define MAX_DEPTH 3

struct tag_info {
	uint8_t tag;
	const char *name;
	uint8_t fixed_len; /* required value length, 0 when variable */
	uint8_t container;
};

static const struct tag_info tags[] = {
	{ SGN_VERSION, "VERSION", 2, 0 },
	{ SGN_HEADER_LENGTH, "HEADER_LENGTH", 2, 0 },
	{ SGN_SIGNER_INFO, "SIGNER_INFO", 0, 1 },
	{ SGN_SIGNER_NAME, "SIGNER_NAME", 0, 0 },
	{ SGN_SERIAL_NUMBER, "SERIAL_NUMBER", 0, 0 },
	{ SGN_ISSUER_NAME, "ISSUER_NAME", 0, 0 },
	{ SGN_SIGNATURE_INFO, "SIGNATURE_INFO", 0, 1 },
	{ SGN_HASH_ALGORITHM, "HASH_ALGORITHM", 1, 0 },
	{ SGN_SIGNATURE_ALGORITHM_INFO, "SIGNATURE_ALGORITHM_INFO", 0, 1 },
	{ SGN_SIGNATURE_ALGORITHM, "SIGNATURE_ALGORITHM", 1, 0 },
	{ SGN_SIGNATURE_MODULUS, "SIGNATURE_MODULUS", 1, 0 },
	{ SGN_SIGNATURE, "SIGNATURE", 0, 0 },
	{ SGN_PADDING, "PADDING", 0, 0 },
	{ SGN_FILENAME, "FILENAME", 0, 0 },
	{ SGN_TIMESTAMP, "TIMESTAMP", 4, 0 },
	{ SGN_ENCRYPTION_INFO, "ENCRYPTION_INFO", 0, 1 },
	{ SGN_ENCRYPTION_IV_INFO, "ENCRYPTION_IV_INFO", 0, 1 },
	{ SGN_ENCRYPTION_IV_TYPE, "ENCRYPTION_IV_TYPE", 1, 0 },
	{ SGN_ENCRYPTION_IV, "ENCRYPTION_IV", 0, 0 },
	{ SGN_ENCRYPTION_PADDING, "ENCRYPTION_PADDING", 2, 0 },
	{ SGN_ENCRYPTION_KEY_INFO, "ENCRYPTION_KEY_INFO", 0, 1 },
	{ SGN_ENCRYPTION_KEY_TYPE, "ENCRYPTION_KEY_TYPE", 1, 0 },
	{ SGN_ENCRYPTION_KEY_SIZE, "ENCRYPTION_KEY_SIZE", 2, 0 },
	{ SGN_ENCRYPTION_KEY_ALGORITHM, "ENCRYPTION_KEY_ALGORITHM", 1, 0 },
	{ SGN_ENCRYPTION_KEY, "ENCRYPTION_KEY", 0, 0 },
	{ SGN_ENCRYPTION_HASH_ALGORITHM, "ENCRYPTION_HASH_ALGORITHM", 1, 0 },
	{ SGN_ENCRYPTION_HASH, "ENCRYPTION_HASH", 0, 0 },
};

static const struct wire_name hash_names[] = {
	{ SGN_HASH_SHA1, "SHA1" },
	{ SGN_HASH_SHA256, "SHA256" },
	{ SGN_HASH_SHA512, "SHA512" },
};

static const struct tag_info *tag_info(uint8_t tag)
{
	for (size_t i = 0; i < NELEMS(tags); i++)
		if (tags[i].tag == tag)
			return &tags[i];
	return NULL;
}

const char *sgn_tag_name(uint8_t tag)
{
	const struct tag_info *t = tag_info(tag);

	return t ? t->name : "UNKNOWN";
}

const char *sgn_hash_name(int hash_alg)
{
	if (hash_alg < 0 || hash_alg > 255)
		return "UNKNOWN";
	return wire_name_lookup(hash_names, NELEMS(hash_names), (uint8_t)hash_alg, "UNKNOWN");
}

size_t sgn_hash_len(int hash_alg)
{
	switch (hash_alg) {
	case SGN_HASH_SHA1: return 20;
	case SGN_HASH_SHA256: return 32;
	case SGN_HASH_SHA512: return 64;
	default: return 0;
	}
}

size_t sgn_modulus_bytes(int modulus_index)
{
	if (modulus_index < 0 || modulus_index > 3)
		return 0;
	return (size_t)64 << modulus_index;
}

/* ---- decoding ---- */

struct parser {
	struct sgn_file *f;
	uint32_t seen; /* tags (all < 32) already met */
	size_t end[MAX_DEPTH];
	int depth;
	char *err;
	size_t errlen;
};

static int push(struct parser *p, const struct sgn_tlv *t)
{
	if (p->f->ntlvs == SGN_MAX_TLVS) {
		seterr(p->err, p->errlen, "header has more than %d fields (at byte %zu)",
		       SGN_MAX_TLVS, t->offset);
		return -1;
	}
	p->f->tlvs[p->f->ntlvs++] = *t;
	return 0;
}

static struct sgn_bytes bytes_of(const struct sgn_tlv *t)
{
	return (struct sgn_bytes){ .p = t->val, .len = t->len };
}

static void enc_field(struct sgn_enc *e, const struct sgn_tlv *t)
{
	const uint8_t *v = t->val;

	switch (t->tag) {
	case SGN_ENCRYPTION_INFO: e->present = 1; break;
	case SGN_ENCRYPTION_IV_TYPE: e->iv_type = v[0]; break;
	case SGN_ENCRYPTION_IV: e->iv = bytes_of(t); break;
	case SGN_ENCRYPTION_PADDING: e->pad = get_u16(v); break;
	case SGN_ENCRYPTION_KEY_TYPE: e->key_type = v[0]; break;
	case SGN_ENCRYPTION_KEY_SIZE: e->key_bits = get_u16(v); break;
	case SGN_ENCRYPTION_KEY_ALGORITHM: e->key_alg = v[0]; break;
	case SGN_ENCRYPTION_KEY: e->key = bytes_of(t); break;
	case SGN_ENCRYPTION_HASH_ALGORITHM: e->hash_alg = v[0]; break;
	case SGN_ENCRYPTION_HASH: e->hash = bytes_of(t); break;
	default: break;
	}
}

/* Fills the typed field a TLV stands for. */
static void field(struct sgn_file *f, const struct sgn_tlv *t)
{
	const uint8_t *v = t->val;

	switch (t->tag) {
	case SGN_VERSION: f->version_major = v[0]; f->version_minor = v[1]; break;
	case SGN_HEADER_LENGTH: f->header_length = get_u16(v); break;
	case SGN_SIGNER_NAME: f->signer_name = bytes_of(t); break;
	case SGN_ISSUER_NAME: f->issuer_name = bytes_of(t); break;
	case SGN_SERIAL_NUMBER: f->serial = bytes_of(t); break;
	case SGN_HASH_ALGORITHM: f->hash_alg = v[0]; break;
	case SGN_SIGNATURE_ALGORITHM: f->sig_alg = v[0]; break;
	case SGN_SIGNATURE_MODULUS: f->modulus_index = v[0]; break;
	case SGN_SIGNATURE:
		f->signature = bytes_of(t);
		f->signature_offset = t->offset;
		break;
	case SGN_FILENAME: f->filename = bytes_of(t); break;
	case SGN_TIMESTAMP: f->has_timestamp = 1; f->timestamp = get_u32(v); break;
	default: enc_field(&f->enc, t); break;
	}
}

/* A TLV with a known tag: no repeats, the right size; then its field. */
static int add_tlv(struct parser *p, const struct sgn_tlv *t)
{
	const struct tag_info *info = tag_info(t->tag);

	if (!info || t->tag == SGN_PADDING) {
		seterr(p->err, p->errlen, "unknown header tag %u (0x%02x) at byte %zu", t->tag, t->tag,
		       t->offset);
		return -1;
	}
	if (p->seen & (UINT32_C(1) << t->tag)) {
		seterr(p->err, p->errlen, "header repeats %s (tag %u) at byte %zu", info->name, t->tag,
		       t->offset);
		return -1;
	}
	p->seen |= UINT32_C(1) << t->tag;
	if (info->fixed_len && t->len != info->fixed_len) {
		seterr(p->err, p->errlen, "header field %s at byte %zu has length %u, expected %u",
		       info->name, t->offset, t->len, info->fixed_len);
		return -1;
	}
	if (t->kind == SGN_TLV_VALUE || t->tag == SGN_ENCRYPTION_INFO)
		field(p->f, t);
	return push(p, t);
}

/* VERSION then HEADER_LENGTH, always the first two fields. */
static int parse_lead(struct parser *p)
{
	static const uint8_t want[2] = { SGN_VERSION, SGN_HEADER_LENGTH };
	const struct sgn_file *f = p->f;
	size_t pos = 0;

	for (int i = 0; i < 2; i++) {
		struct sgn_tlv t = { .offset = pos };

		enum wire_tlv_status st = wire_tlv_next(f->data, f->len, &pos, &t.tag, &t.len, &t.val);

		if (st != WIRE_TLV_OK && (st == WIRE_TLV_END || t.tag == want[i])) {
			seterr(p->err, p->errlen, "truncated header at byte %zu: a signed file starts "
			       "with VERSION and HEADER_LENGTH", t.offset);
			return -1;
		}
		if (t.tag != want[i]) {
			seterr(p->err, p->errlen, "header field at byte %zu is tag %u, expected %s "
			       "(tag %u): not a signed file", t.offset, t.tag, sgn_tag_name(want[i]),
			       want[i]);
			return -1;
		}
		if (add_tlv(p, &t) < 0)
			return -1;
	}
	if (f->header_length < LEAD_LEN || f->header_length > f->len) {
		seterr(p->err, p->errlen, "HEADER_LENGTH %u is outside the %zu-byte file (it must "
		       "cover at least its first %d bytes)", f->header_length, f->len, LEAD_LEN);
		return -1;
	}
	return 0;
}

static int padding_run(struct parser *p, size_t *pos, size_t limit)
{
	struct sgn_tlv t = { .offset = *pos, .tag = SGN_PADDING, .kind = SGN_TLV_PADDING,
			     .depth = (uint8_t)p->depth };

	while (*pos < limit && p->f->data[*pos] == SGN_PADDING && t.len < UINT16_MAX) {
		t.len++;
		(*pos)++;
	}
	return push(p, &t);
}

static int tlv_error(struct parser *p, enum wire_tlv_status st, const struct sgn_tlv *t,
		     size_t limit)
{
	const char *where = p->depth ? "its container" : "the header";

	if (st == WIRE_TLV_SHORT_HEADER)
		seterr(p->err, p->errlen, "truncated header field at byte %zu (%s ends at byte %zu)",
		       t->offset, where, limit);
	else
		seterr(p->err, p->errlen, "header field %s (tag %u) at byte %zu has length %u, past "
		       "the end of %s at byte %zu", sgn_tag_name(t->tag), t->tag, t->offset, t->len,
		       where, limit);
	return -1;
}

/* One header TLV at *pos, inside the innermost open container. */
static int parse_tlv(struct parser *p, size_t *pos)
{
	size_t limit = p->depth ? p->end[p->depth - 1] : p->f->header_length;
	struct sgn_tlv t = { .offset = *pos, .depth = (uint8_t)p->depth };
	const struct tag_info *info;
	enum wire_tlv_status st;

	if (p->f->data[*pos] == SGN_PADDING)
		return padding_run(p, pos, limit);
	st = wire_tlv_next(p->f->data, limit, pos, &t.tag, &t.len, &t.val);
	if (st != WIRE_TLV_OK)
		return tlv_error(p, st, &t, limit);
	info = tag_info(t.tag);
	if (info && info->container) {
		if (p->depth == MAX_DEPTH) {
			seterr(p->err, p->errlen, "header containers nest more than %d deep at byte "
			       "%zu", MAX_DEPTH, t.offset);
			return -1;
		}
		t.kind = SGN_TLV_CONTAINER;
		*pos = t.offset + WIRE_TLV_HDR; /* the nested fields come next */
		p->end[p->depth++] = *pos + t.len;
	}
	return add_tlv(p, &t);
}

static void file_init(struct sgn_file *f, const uint8_t *data, size_t len)
{
	memset(f, 0, sizeof *f);
	f->data = data;
	f->len = len;
	f->hash_alg = f->sig_alg = f->modulus_index = -1;
	f->enc.iv_type = f->enc.key_type = f->enc.key_alg = -1;
	f->enc.pad = f->enc.key_bits = f->enc.hash_alg = -1;
}

int sgn_decode(struct sgn_file *f, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct parser p = { .f = f, .err = err, .errlen = errlen };
	size_t pos = LEAD_LEN;

	file_init(f, data, len);
	if (parse_lead(&p) < 0)
		goto fail;
	while (pos < f->header_length) {
		if (parse_tlv(&p, &pos) < 0)
			goto fail;
		while (p.depth > 0 && p.end[p.depth - 1] == pos)
			p.depth--;
	}
	if (!f->signature.p) {
		seterr(err, errlen, "the header has no SIGNATURE field (tag %d)", SGN_SIGNATURE);
		goto fail;
	}
	f->content = data + f->header_length;
	f->content_len = len - f->header_length;
	return 0;
fail:
	file_init(f, NULL, 0);
	return -1;
}

/* ---- checking ---- */

static int is_cstr(const struct sgn_bytes *b)
{
	return b->p && b->len > 1 && b->p[b->len - 1] == '\0' &&
	       memchr(b->p, '\0', b->len - 1) == NULL;
}

/* The first field a signed file must have that f lacks, or NULL. */
static const char *missing_field(const struct sgn_file *f)
{
	if (!is_cstr(&f->signer_name))
		return "SIGNER_NAME (NUL-terminated text)";
	if (!is_cstr(&f->issuer_name))
		return "ISSUER_NAME (NUL-terminated text)";
	if (!f->serial.p || f->serial.len == 0)
		return "SERIAL_NUMBER";
	if (f->hash_alg < 0)
		return "HASH_ALGORITHM";
	if (f->sig_alg < 0)
		return "SIGNATURE_ALGORITHM";
	if (f->modulus_index < 0)
		return "SIGNATURE_MODULUS";
	if (!is_cstr(&f->filename))
		return "FILENAME (NUL-terminated text)";
	return f->has_timestamp ? NULL : "TIMESTAMP";
}

static int check_signature(const struct sgn_file *f, char *err, size_t errlen)
{
	size_t want = sgn_modulus_bytes(f->modulus_index);

	if (f->hash_alg != SGN_HASH_SHA1 && f->hash_alg != SGN_HASH_SHA512) {
		seterr(err, errlen, "HASH_ALGORITHM %d (%s) is not accepted: phones take 1 (SHA1) "
		       "or 3 (SHA512)", f->hash_alg, sgn_hash_name(f->hash_alg));
		return -1;
	}
	if (f->sig_alg != 0) {
		seterr(err, errlen, "SIGNATURE_ALGORITHM %d is not 0 (RSA)", f->sig_alg);
		return -1;
	}
	if (want == 0 || f->signature.len != want) {
		seterr(err, errlen, "SIGNATURE is %zu bytes but SIGNATURE_MODULUS %d means %zu",
		       f->signature.len, f->modulus_index, want);
		return -1;
	}
	return 0;
}

static const char *enc_problem(const struct sgn_enc *e, size_t content_len)
{
	if (!e->iv.p || e->iv.len != SGN_AES_BLOCK)
		return "ENCRYPTION_IV is not 16 bytes";
	if (e->pad < 0 || e->pad > SGN_AES_BLOCK)
		return "ENCRYPTION_PADDING is absent or over 16";
	if (content_len == 0 || content_len % SGN_AES_BLOCK || content_len < (size_t)e->pad)
		return "the encrypted content is not a whole number of 16-byte AES blocks";
	if (e->key_alg != 1)
		return "ENCRYPTION_KEY_ALGORITHM is absent or not 1 (AES-128)";
	if (!e->key.p || e->key.len == 0)
		return "ENCRYPTION_KEY is absent";
	if (e->key_bits != (int)(e->key.len * 8))
		return "ENCRYPTION_KEY_SIZE is not the bits of ENCRYPTION_KEY";
	if (e->hash_alg != SGN_HASH_SHA1 && e->hash_alg != SGN_HASH_SHA512)
		return "ENCRYPTION_HASH_ALGORITHM is absent or not 1 (SHA1) or 3 (SHA512)";
	if (!e->hash.p || e->hash.len != sgn_hash_len(e->hash_alg))
		return "ENCRYPTION_HASH is absent or not the size of its algorithm";
	return NULL;
}

int sgn_check(const struct sgn_file *f, char *err, size_t errlen)
{
	const char *missing = missing_field(f), *why;

	if (f->version_major == 1 && f->enc.present) {
		seterr(err, errlen, "VERSION %u.%u but the header has ENCRYPTION_INFO (an encrypted "
		       "file is version 2.0)", f->version_major, f->version_minor);
		return -1;
	}
	if (f->version_major == 2 && !f->enc.present) {
		seterr(err, errlen, "VERSION 2.%u (encrypted) but the header has no ENCRYPTION_INFO",
		       f->version_minor);
		return -1;
	}
	if (f->version_major != 1 && f->version_major != 2) {
		seterr(err, errlen, "VERSION %u.%u is neither 1.0 (signed) nor 2.0 (encrypted)",
		       f->version_major, f->version_minor);
		return -1;
	}
	if (missing) {
		seterr(err, errlen, "the header lacks %s", missing);
		return -1;
	}
	if (check_signature(f, err, errlen) < 0)
		return -1;
	if (f->enc.present && (why = enc_problem(&f->enc, f->content_len)) != NULL) {
		seterr(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}

/* ---- encoding ---- */

int sgn_encode(const struct sgn_file *f, struct buf *out)
{
	for (size_t i = 0; i < f->ntlvs; i++) {
		const struct sgn_tlv *t = &f->tlvs[i];

		if (t->kind == SGN_TLV_PADDING) {
			for (uint16_t j = 0; j < t->len; j++)
				buf_put_u8(out, SGN_PADDING);
			continue;
		}
		buf_put_u8(out, t->tag);
		buf_put_u16(out, t->len);
		if (t->kind == SGN_TLV_VALUE)
			buf_put(out, t->val, t->len);
	}
	buf_put(out, f->content, f->content_len);
	return out->failed ? -1 : 0;
}

int sgn_signed_data(const struct sgn_file *f, struct buf *out, char *err, size_t errlen)
{
	if (!f->signature.p) {
		seterr(err, errlen, "the file has no SIGNATURE field");
		return -1;
	}
	return wire_signed_bytes(f->data, f->len, f->signature_offset, f->signature.len, out, err, errlen);
}

int sgn_text(const struct sgn_bytes *b, char *out, size_t outcap)
{
	return wire_field_text(b->p, b->len, out, outcap);
}
