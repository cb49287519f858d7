/*
 * itl.c: ITL / CTL file decoding, re-encoding and accessors (itl.h,
 * docs/protocol/tvs-and-itl.md). The builder is in itl_build.c.
 *
 * Invariants:
 * - Every read of file bytes is bounds-checked against the innermost limit
 *   that applies (container end, header end, record end, file end) before it
 *   happens; wire_tlv_next does the element checks.
 * - The TLV list covers every byte of the file exactly once, in order, so
 *   itl_encode reproduces a decoded file byte for byte.
 * - Allocation is bounded: the file is at most ITL_MAX_FILE bytes, so there
 *   are at most that many TLVs, and at most ITL_MAX_RECORDS records.
 * - The tag tables below are the only place tag names live.
 */
#include "wire/itl.h"

#include <stdlib.h>
#include <string.h>

#include "wire/tlv.h"

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define ITL_MAX_DEPTH 3      /* the three container tags, each at most once */
#define ITL_LEAD_LEN 10      /* VERSION and HEADER_LENGTH, 5 bytes each */
#define RECORD_LENGTH_LEN 5  /* the RECORD_LENGTH TLV */

struct itl_tag_info {
	uint8_t tag;
	const char *name;
	const char *vendor;
	uint8_t fixed_len; /* required value length, 0 when variable */
};

static const struct itl_tag_info header_tags[] = {
	{ ITL_H_VERSION, "VERSION", "VERSION", 2 },
	{ ITL_H_HEADER_LENGTH, "HEADER_LENGTH", "HEADERLENGTH", 2 },
	{ ITL_H_SIGNER_INFO, "SIGNER_INFO", "SIGNERINFO", 0 },
	{ ITL_H_SIGNER_NAME, "SIGNER_NAME", "SIGNERNAME", 0 },
	{ ITL_H_SERIAL_NUMBER, "SERIAL_NUMBER", "SERIALNUMBER", 0 },
	{ ITL_H_ISSUER_NAME, "ISSUER_NAME", "ISSUERNAME", 0 },
	{ ITL_H_SIGNATURE_INFO, "SIGNATURE_INFO", "SIGNATUREINFO", 0 },
	{ ITL_H_HASH_ALGORITHM, "HASH_ALGORITHM", "HASHALGORITHM", 1 },
	{ ITL_H_SIGNATURE_ALGORITHM_INFO, "SIGNATURE_ALGORITHM_INFO", "SIGNATUREALGORITHMINFO", 0 },
	{ ITL_H_SIGNATURE_ALGORITHM, "SIGNATURE_ALGORITHM", "SIGNATUREALGORITHM", 1 },
	{ ITL_H_SIGNATURE_MODULUS, "SIGNATURE_MODULUS", "SIGNATUREMODULUS", 1 },
	{ ITL_H_SIGNATURE, "SIGNATURE", "SIGNATURE", 0 },
	{ ITL_H_PADDING, "PADDING", "PADDING", 0 },
	{ ITL_H_FILENAME, "FILENAME", "FILENAME", 0 },
	{ ITL_H_TIMESTAMP, "TIMESTAMP", "TIMESTAMP", 4 },
	{ ITL_H_SIGNER_VERSION, "SIGNER_VERSION", "SIGNERVERSION", 2 },
};

static const struct itl_tag_info record_tags[] = {
	{ ITL_R_RECORD_LENGTH, "RECORD_LENGTH", "RECORDLENGTH", 2 },
	{ ITL_R_DNS_NAME, "DNS_NAME", "DNSNAME", 0 },
	{ ITL_R_SUBJECT_NAME, "SUBJECT_NAME", "SUBJECTNAME", 0 },
	{ ITL_R_ROLE, "ROLE", "FUNCTION", 0 },
	{ ITL_R_ISSUER_NAME, "ISSUER_NAME", "ISSUERNAME", 0 },
	{ ITL_R_SERIAL_NUMBER, "SERIAL_NUMBER", "SERIALNUMBER", 0 },
	{ ITL_R_PUBLIC_KEY, "PUBLIC_KEY", "PUBLICKEY", 0 },
	{ ITL_R_SIGNATURE, "SIGNATURE", "SIGNATURE", 0 },
	{ ITL_R_CERTIFICATE, "CERTIFICATE", "CERTIFICATE", 0 },
	{ ITL_R_IP_ADDRESS, "IP_ADDRESS", "IPADDRESS", 0 },
	{ ITL_R_CERTIFICATE_HASH, "CERTIFICATE_HASH", "CERTHASH", 0 },
	{ ITL_R_HASH_ALGORITHM, "HASH_ALGORITHM", "HASH ALGORITHM", 0 },
};

static const struct wire_name hash_names[] = {
	{ ITL_HASH_SHA1, "SHA1" },
	{ ITL_HASH_SHA256, "SHA256" },
	{ ITL_HASH_SHA512, "SHA512" },
};

static const struct itl_tag_info *tag_info(enum itl_scope scope, uint8_t tag)
{
	const struct itl_tag_info *t = scope == ITL_SCOPE_HEADER ? header_tags : record_tags;
	size_t n = scope == ITL_SCOPE_HEADER ? NELEMS(header_tags) : NELEMS(record_tags);

	for (size_t i = 0; i < n; i++)
		if (t[i].tag == tag)
			return &t[i];
	return NULL;
}

const char *itl_tag_name(enum itl_scope scope, uint8_t tag)
{
	const struct itl_tag_info *t = tag_info(scope, tag);

	return t ? t->name : "UNKNOWN";
}

const char *itl_tag_vendor_name(enum itl_scope scope, uint8_t tag)
{
	const struct itl_tag_info *t = tag_info(scope, tag);

	return t ? t->vendor : "UNKNOWN";
}

const char *itl_hash_name(int hash_alg)
{
	if (hash_alg < 0 || hash_alg > 255)
		return "UNKNOWN";
	return wire_name_lookup(hash_names, NELEMS(hash_names), (uint8_t)hash_alg, "UNKNOWN");
}

size_t itl_modulus_bytes(int modulus_index)
{
	if (modulus_index < 0 || modulus_index > 3)
		return 0;
	return (size_t)64 << modulus_index;
}

static int is_container(uint8_t tag)
{
	return tag == ITL_H_SIGNER_INFO || tag == ITL_H_SIGNATURE_INFO ||
	       tag == ITL_H_SIGNATURE_ALGORITHM_INFO;
}

/* ---- decoding ---- */

struct parser {
	struct itl_file *f;
	size_t tlv_cap;
	size_t rec_cap;
	uint32_t seen; /* header tags (all < 32) already met, to refuse repeats */
	char *err;
	size_t errlen;
};

static int grow(void **arr, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elsize);
	if (!p)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static int push_tlv(struct parser *p, const struct itl_tlv *t)
{
	struct itl_file *f = p->f;

	if (grow((void **)&f->tlvs, &p->tlv_cap, f->ntlvs + 1, sizeof *f->tlvs) < 0) {
		seterr(p->err, p->errlen, "out of memory reading the ITL file");
		return -1;
	}
	f->tlvs[f->ntlvs++] = *t;
	return 0;
}

static int check_fixed_len(struct parser *p, enum itl_scope scope, const struct itl_tlv *t)
{
	const struct itl_tag_info *info = tag_info(scope, t->tag);

	if (!info || info->fixed_len == 0 || t->len == info->fixed_len)
		return 0;
	seterr(p->err, p->errlen, "%s %s at byte %zu has length %u, expected %u",
	       scope == ITL_SCOPE_HEADER ? "header field" : "record field", info->name,
	       t->offset, t->len, info->fixed_len);
	return -1;
}

static struct itl_bytes bytes_of(const struct itl_tlv *t)
{
	return (struct itl_bytes){ .p = t->val, .len = t->len };
}

/* Fills the typed header field a known header TLV stands for. */
static void header_field(struct itl_header *h, const struct itl_tlv *t)
{
	const uint8_t *v = t->val;

	switch (t->tag) {
	case ITL_H_VERSION: h->version_major = v[0]; h->version_minor = v[1]; break;
	case ITL_H_HEADER_LENGTH: h->header_length = get_u16(v); break;
	case ITL_H_SIGNER_VERSION:
		h->has_signer_version = 1;
		h->signer_version_major = v[0];
		h->signer_version_minor = v[1];
		break;
	case ITL_H_SIGNER_NAME: h->signer_name = bytes_of(t); break;
	case ITL_H_ISSUER_NAME: h->issuer_name = bytes_of(t); break;
	case ITL_H_SERIAL_NUMBER: h->serial = bytes_of(t); break;
	case ITL_H_HASH_ALGORITHM: h->hash_alg = v[0]; break;
	case ITL_H_SIGNATURE_ALGORITHM: h->sig_alg = v[0]; break;
	case ITL_H_SIGNATURE_MODULUS: h->modulus_index = v[0]; break;
	case ITL_H_SIGNATURE:
		h->signature = bytes_of(t);
		h->signature_offset = t->offset;
		break;
	case ITL_H_FILENAME: h->filename = bytes_of(t); break;
	case ITL_H_TIMESTAMP: h->has_timestamp = 1; h->timestamp = get_u32(v); break;
	default: break;
	}
}

/* Records a header TLV: refuses repeats and wrong sizes of known fields. */
static int add_header_tlv(struct parser *p, struct itl_tlv *t)
{
	t->known = tag_info(ITL_SCOPE_HEADER, t->tag) != NULL;
	if (t->known && t->kind != ITL_TLV_PADDING) {
		if (p->seen & (UINT32_C(1) << t->tag)) {
			seterr(p->err, p->errlen, "header repeats %s (tag %u) at byte %zu",
			       itl_tag_name(ITL_SCOPE_HEADER, t->tag), t->tag, t->offset);
			return -1;
		}
		p->seen |= UINT32_C(1) << t->tag;
		if (check_fixed_len(p, ITL_SCOPE_HEADER, t) < 0)
			return -1;
		if (t->kind == ITL_TLV_VALUE)
			header_field(&p->f->hdr, t);
	}
	return push_tlv(p, t);
}

/* VERSION then HEADER_LENGTH, always the first two fields. */
static int parse_lead(struct parser *p, size_t *hlen)
{
	static const uint8_t want[2] = { ITL_H_VERSION, ITL_H_HEADER_LENGTH };
	const uint8_t *d = p->f->data;
	size_t len = p->f->len, pos = 0;

	for (int i = 0; i < 2; i++) {
		struct itl_tlv t = { .offset = pos };

		if (wire_tlv_next(d, len, &pos, &t.tag, &t.len, &t.val) != WIRE_TLV_OK) {
			seterr(p->err, p->errlen, "truncated header at byte %zu", t.offset);
			return -1;
		}
		if (t.tag != want[i]) {
			seterr(p->err, p->errlen, "header field at byte %zu is tag 0x%02x, expected %s "
			       "(tag %u)", t.offset, t.tag, itl_tag_name(ITL_SCOPE_HEADER, want[i]),
			       want[i]);
			return -1;
		}
		if (add_header_tlv(p, &t) < 0)
			return -1;
	}
	*hlen = p->f->hdr.header_length;
	if (*hlen < ITL_LEAD_LEN || *hlen > len) {
		seterr(p->err, p->errlen, "header length %zu is outside the %zu-byte file "
		       "(it must cover at least its first %d bytes)", *hlen, len, ITL_LEAD_LEN);
		return -1;
	}
	return 0;
}

struct nesting {
	size_t end[ITL_MAX_DEPTH];
	int depth;
};

static int header_tlv_error(struct parser *p, enum wire_tlv_status st, const struct itl_tlv *t,
			    const struct nesting *n, size_t limit)
{
	if (st == WIRE_TLV_SHORT_HEADER) {
		seterr(p->err, p->errlen, "truncated header field at byte %zu (the %s ends at byte %zu)",
		       t->offset, n->depth ? "container" : "header", limit);
		return -1;
	}
	seterr(p->err, p->errlen, "header field %s (tag %u) at byte %zu has length %u, past the "
	       "end of its %s at byte %zu", itl_tag_name(ITL_SCOPE_HEADER, t->tag), t->tag,
	       t->offset, t->len, n->depth ? "container" : "header", limit);
	return -1;
}

/* One header TLV at *pos, inside the innermost open container. */
static int parse_header_tlv(struct parser *p, size_t *pos, struct nesting *n, size_t hlen)
{
	const uint8_t *d = p->f->data;
	size_t limit = n->depth ? n->end[n->depth - 1] : hlen;
	struct itl_tlv t = { .offset = *pos, .depth = (uint8_t)n->depth };
	enum wire_tlv_status st;

	if (d[*pos] == ITL_H_PADDING) {
		t.tag = ITL_H_PADDING;
		t.kind = ITL_TLV_PADDING;
		*pos += 1;
		return add_header_tlv(p, &t);
	}
	st = wire_tlv_next(d, limit, pos, &t.tag, &t.len, &t.val);
	if (st != WIRE_TLV_OK)
		return header_tlv_error(p, st, &t, n, limit);
	if (is_container(t.tag)) {
		if (n->depth == ITL_MAX_DEPTH) {
			seterr(p->err, p->errlen, "header containers nest more than %d deep at byte %zu",
			       ITL_MAX_DEPTH, t.offset);
			return -1;
		}
		t.kind = ITL_TLV_CONTAINER;
		*pos = t.offset + WIRE_TLV_HDR; /* the nested TLVs come next */
		n->end[n->depth++] = *pos + t.len;
	}
	return add_header_tlv(p, &t);
}

static int parse_header(struct parser *p, size_t *hlen)
{
	struct nesting n = { .depth = 0 };
	size_t pos = ITL_LEAD_LEN;

	if (parse_lead(p, hlen) < 0)
		return -1;
	while (pos < *hlen) {
		if (parse_header_tlv(p, &pos, &n, *hlen) < 0)
			return -1;
		while (n.depth > 0 && n.end[n.depth - 1] == pos)
			n.depth--;
	}
	p->f->nheader_tlvs = p->f->ntlvs;
	return 0;
}

static int push_record(struct parser *p, size_t offset, uint16_t length)
{
	struct itl_file *f = p->f;

	if (f->nrecords == ITL_MAX_RECORDS) {
		seterr(p->err, p->errlen, "more than %d records (record at byte %zu)",
		       ITL_MAX_RECORDS, offset);
		return -1;
	}
	if (grow((void **)&f->records, &p->rec_cap, f->nrecords + 1, sizeof *f->records) < 0) {
		seterr(p->err, p->errlen, "out of memory reading the ITL file");
		return -1;
	}
	f->records[f->nrecords++] = (struct itl_record){
		.offset = offset, .length = length, .first = f->ntlvs };
	return 0;
}

/* The RECORD_LENGTH field at pos; sets *end to the byte after the record. */
static int parse_record_length(struct parser *p, size_t pos, size_t *end)
{
	const uint8_t *d = p->f->data;
	size_t left = p->f->len - pos, num = p->f->nrecords + 1;
	uint16_t rlen;

	if (left < RECORD_LENGTH_LEN) {
		seterr(p->err, p->errlen, "truncated record at byte %zu: %zu bytes left, too few for "
		       "its RECORD_LENGTH", pos, left);
		return -1;
	}
	if (d[pos] != ITL_R_RECORD_LENGTH || get_u16(d + pos + 1) != 2) {
		seterr(p->err, p->errlen, "record %zu at byte %zu does not start with RECORD_LENGTH "
		       "(tag 1, length 2): found tag 0x%02x length %u", num, pos, d[pos],
		       get_u16(d + pos + 1));
		return -1;
	}
	rlen = get_u16(d + pos + 3);
	if (rlen < RECORD_LENGTH_LEN) {
		seterr(p->err, p->errlen, "record %zu at byte %zu has RECORD_LENGTH %u, less than "
		       "the %d bytes of that field itself", num, pos, rlen, RECORD_LENGTH_LEN);
		return -1;
	}
	if (rlen > left) {
		seterr(p->err, p->errlen, "truncated record at byte %zu: RECORD_LENGTH says %u bytes "
		       "but %zu remain", pos, rlen, left);
		return -1;
	}
	*end = pos + rlen;
	return push_record(p, pos, rlen);
}

static int record_tlv_error(struct parser *p, enum wire_tlv_status st, const struct itl_tlv *t,
			    size_t end)
{
	size_t num = p->f->nrecords;

	if (st == WIRE_TLV_SHORT_HEADER)
		seterr(p->err, p->errlen, "truncated element at byte %zu in record %zu "
		       "(the record ends at byte %zu)", t->offset, num, end);
	else
		seterr(p->err, p->errlen, "record %zu field %s (tag 0x%02x) at byte %zu has length "
		       "%u, past the end of the record at byte %zu", num,
		       itl_tag_name(ITL_SCOPE_RECORD, t->tag), t->tag, t->offset, t->len, end);
	return -1;
}

static int parse_record(struct parser *p, size_t *pos)
{
	struct itl_file *f = p->f;
	size_t end;

	if (parse_record_length(p, *pos, &end) < 0)
		return -1;
	while (*pos < end) {
		struct itl_tlv t = { .offset = *pos };
		enum wire_tlv_status st = wire_tlv_next(f->data, end, pos, &t.tag, &t.len, &t.val);

		if (st != WIRE_TLV_OK)
			return record_tlv_error(p, st, &t, end);
		t.known = tag_info(ITL_SCOPE_RECORD, t.tag) != NULL;
		if (push_tlv(p, &t) < 0)
			return -1;
		f->records[f->nrecords - 1].nelems++;
	}
	return 0;
}

static void link_records(struct itl_file *f)
{
	for (size_t i = 0; i < f->nrecords; i++)
		f->records[i].elems = &f->tlvs[f->records[i].first];
}

static void header_init(struct itl_header *h)
{
	memset(h, 0, sizeof *h);
	h->hash_alg = -1;
	h->sig_alg = -1;
	h->modulus_index = -1;
}

int itl_decode(struct itl_file *f, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct parser p = { .f = f, .err = err, .errlen = errlen };
	size_t pos;

	memset(f, 0, sizeof *f);
	header_init(&f->hdr);
	if (len > ITL_MAX_FILE) {
		seterr(err, errlen, "ITL file of %zu bytes is over the %d-byte limit", len,
		       ITL_MAX_FILE);
		return -1;
	}
	f->data = data;
	f->len = len;
	if (parse_header(&p, &pos) < 0)
		goto fail;
	while (pos < len)
		if (parse_record(&p, &pos) < 0)
			goto fail;
	link_records(f);
	return 0;
fail:
	itl_free(f);
	return -1;
}

void itl_free(struct itl_file *f)
{
	free(f->tlvs);
	free(f->records);
	memset(f, 0, sizeof *f);
	header_init(&f->hdr);
}

/* ---- encoding and the signed bytes ---- */

int itl_encode(const struct itl_file *f, struct buf *out)
{
	for (size_t i = 0; i < f->ntlvs; i++) {
		const struct itl_tlv *t = &f->tlvs[i];

		buf_put_u8(out, t->tag);
		if (t->kind == ITL_TLV_PADDING)
			continue;
		buf_put_u16(out, t->len);
		if (t->kind == ITL_TLV_VALUE)
			buf_put(out, t->val, t->len);
	}
	return out->failed ? -1 : 0;
}

size_t itl_unknown_tags(const struct itl_file *f, char *err, size_t errlen)
{
	size_t count = 0, rec = 0;

	for (size_t i = 0; i < f->ntlvs; i++) {
		const struct itl_tlv *t = &f->tlvs[i];

		while (rec < f->nrecords && f->records[rec].first + f->records[rec].nelems <= i)
			rec++;
		if (t->known)
			continue;
		if (count++ > 0)
			continue;
		if (i < f->nheader_tlvs)
			seterr(err, errlen, "unknown tag 0x%02x at byte %zu in the header", t->tag,
			       t->offset);
		else
			seterr(err, errlen, "unknown tag 0x%02x at byte %zu in record %zu", t->tag,
			       t->offset, rec + 1);
	}
	return count;
}

int itl_signed_data(const struct itl_file *f, struct buf *out, char *err, size_t errlen)
{
	if (!f->hdr.signature.p) {
		seterr(err, errlen, "the ITL file has no SIGNATURE field");
		return -1;
	}
	return wire_signed_bytes(f->data, f->len, f->hdr.signature_offset, f->hdr.signature.len, out, err, errlen);
}

/* ---- accessors ---- */

int itl_text(const struct itl_bytes *b, char *out, size_t outcap)
{
	return wire_field_text(b->p, b->len, out, outcap);
}

const struct itl_tlv *itl_record_find(const struct itl_record *r, uint8_t tag)
{
	/* elems[0] is RECORD_LENGTH, found like any other when asked for. */
	for (size_t i = 0; i < r->nelems; i++)
		if (r->elems[i].tag == tag)
			return &r->elems[i];
	return NULL;
}

int itl_record_bytes(const struct itl_record *r, uint8_t tag, struct itl_bytes *out)
{
	const struct itl_tlv *t = itl_record_find(r, tag);

	if (!t)
		return -1;
	*out = bytes_of(t);
	return 0;
}

int itl_record_text(const struct itl_record *r, uint8_t tag, char *out, size_t outcap)
{
	struct itl_bytes b;

	if (itl_record_bytes(r, tag, &b) < 0)
		return -1;
	return itl_text(&b, out, outcap);
}

int itl_record_subject(const struct itl_record *r, char *out, size_t outcap)
{
	return itl_record_text(r, ITL_R_SUBJECT_NAME, out, outcap);
}

int itl_record_issuer(const struct itl_record *r, char *out, size_t outcap)
{
	return itl_record_text(r, ITL_R_ISSUER_NAME, out, outcap);
}

int itl_record_dns_name(const struct itl_record *r, char *out, size_t outcap)
{
	return itl_record_text(r, ITL_R_DNS_NAME, out, outcap);
}

int itl_record_serial(const struct itl_record *r, struct itl_bytes *out)
{
	return itl_record_bytes(r, ITL_R_SERIAL_NUMBER, out);
}

int itl_record_public_key(const struct itl_record *r, struct itl_bytes *out)
{
	return itl_record_bytes(r, ITL_R_PUBLIC_KEY, out);
}

int itl_record_signature(const struct itl_record *r, struct itl_bytes *out)
{
	return itl_record_bytes(r, ITL_R_SIGNATURE, out);
}

int itl_record_certificate(const struct itl_record *r, struct itl_bytes *out)
{
	return itl_record_bytes(r, ITL_R_CERTIFICATE, out);
}

int itl_record_cert_hash(const struct itl_record *r, struct itl_bytes *out)
{
	return itl_record_bytes(r, ITL_R_CERTIFICATE_HASH, out);
}

int itl_record_ip(const struct itl_record *r, uint8_t ip[4])
{
	const struct itl_tlv *t = itl_record_find(r, ITL_R_IP_ADDRESS);

	if (!t || t->len != 4)
		return -1;
	memcpy(ip, t->val, 4);
	return 0;
}

int itl_record_hash_alg(const struct itl_record *r, uint8_t *alg)
{
	const struct itl_tlv *t = itl_record_find(r, ITL_R_HASH_ALGORITHM);

	if (!t || t->len != 1)
		return -1;
	*alg = t->val[0];
	return 0;
}

size_t itl_record_roles(const struct itl_record *r, uint16_t *roles, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nelems; i++) {
		const struct itl_tlv *t = &r->elems[i];

		if (t->tag != ITL_R_ROLE || t->len != 2)
			continue;
		if (n < cap)
			roles[n] = get_u16(t->val);
		n++;
	}
	return n;
}

int itl_record_role(const struct itl_record *r, uint16_t *role)
{
	return itl_record_roles(r, role, 1) > 0 ? 0 : -1;
}

int itl_record_has_role(const struct itl_record *r, uint16_t role)
{
	for (size_t i = 0; i < r->nelems; i++) {
		const struct itl_tlv *t = &r->elems[i];

		if (t->tag == ITL_R_ROLE && t->len == 2 && get_u16(t->val) == role)
			return 1;
	}
	return 0;
}
