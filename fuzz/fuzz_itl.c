/*
 * fuzz_itl.c: fuzz target for the ITL/CTL codec (src/wire/itl.h).
 *
 * Any bytes must either decode or be refused with an error sentence. A
 * decoded file must re-encode to the same bytes, its TLV list must tile the
 * file, its signed bytes must be the file minus the SIGNATURE TLV, every
 * accessor must be safe, and rebuilding it with the builder (header spec from
 * the file, records copied) must give a file that decodes to the same records.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/itl.h"
#include "wire/roles.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static size_t tlv_size(const struct itl_tlv *t)
{
	if (t->kind == ITL_TLV_PADDING)
		return 1;
	return t->kind == ITL_TLV_CONTAINER ? 3 : 3 + (size_t)t->len;
}

static void check_tiling(const struct itl_file *f)
{
	size_t pos = 0;

	for (size_t i = 0; i < f->ntlvs; i++) {
		check(f->tlvs[i].offset == pos);
		pos += tlv_size(&f->tlvs[i]);
	}
	check(pos == f->len);
	for (size_t i = 0; i < f->nrecords; i++) {
		const struct itl_record *r = &f->records[i];
		size_t sum = 0;

		for (size_t j = 0; j < r->nelems; j++)
			sum += tlv_size(&r->elems[j]);
		check(sum == r->length && r->elems[0].offset == r->offset);
	}
}

static void check_signed_data(const struct itl_file *f)
{
	struct buf b;
	char err[ERRLEN] = "";

	buf_init(&b);
	if (itl_signed_data(f, &b, err, sizeof err) == 0)
		check(b.len == f->len - 3 - f->hdr.signature.len);
	else
		check(!f->hdr.signature.p && err[0] != '\0');
	buf_free(&b);
}

static void exercise_record(const struct itl_record *r)
{
	char text[512];
	struct itl_bytes x;
	uint16_t roles[8], role;
	uint8_t ip[4], alg;
	size_t n;

	(void)itl_record_subject(r, text, sizeof text);
	(void)itl_record_issuer(r, text, sizeof text);
	(void)itl_record_dns_name(r, text, sizeof text);
	(void)itl_record_serial(r, &x);
	(void)itl_record_public_key(r, &x);
	(void)itl_record_signature(r, &x);
	(void)itl_record_certificate(r, &x);
	(void)itl_record_cert_hash(r, &x);
	(void)itl_record_ip(r, ip);
	(void)itl_record_hash_alg(r, &alg);
	n = itl_record_roles(r, roles, 8);
	check((itl_record_role(r, &role) == 0) == (n > 0));
	for (size_t i = 0; i < n && i < 8; i++) {
		(void)role_name(roles[i]);
		check(itl_record_has_role(r, roles[i]));
	}
	for (size_t i = 0; i < r->nelems; i++)
		(void)itl_tag_vendor_name(ITL_SCOPE_RECORD, r->elems[i].tag);
}

static void exercise_header(const struct itl_file *f)
{
	char text[512];

	(void)itl_text(&f->hdr.signer_name, text, sizeof text);
	(void)itl_text(&f->hdr.issuer_name, text, sizeof text);
	(void)itl_text(&f->hdr.filename, text, sizeof text);
	(void)itl_hash_name(f->hdr.hash_alg);
	(void)itl_modulus_bytes(f->hdr.modulus_index);
	for (size_t i = 0; i < f->nheader_tlvs; i++)
		(void)itl_tag_name(ITL_SCOPE_HEADER, f->tlvs[i].tag);
}

static void check_same_records(const struct itl_file *a, const struct itl_file *b)
{
	check(a->nrecords == b->nrecords);
	for (size_t i = 0; i < a->nrecords; i++) {
		const struct itl_record *x = &a->records[i], *y = &b->records[i];

		check(x->length == y->length && x->nelems == y->nelems);
		for (size_t j = 0; j < x->nelems; j++)
			check(x->elems[j].tag == y->elems[j].tag && x->elems[j].len == y->elems[j].len &&
			      memcmp(x->elems[j].val, y->elems[j].val, x->elems[j].len) == 0);
	}
}

static void check_rebuild(const struct itl_file *f)
{
	struct itl_header_spec spec;
	struct itl_builder b;
	struct itl_file again;
	char err[ERRLEN] = "";

	if (itl_header_spec_from(f, &spec, err, sizeof err) != 0)
		return;
	if (itl_builder_init(&b, &spec, err, sizeof err) != 0) {
		itl_builder_free(&b);
		return;
	}
	for (size_t i = 0; i < f->nrecords; i++)
		itl_builder_add_record(&b, &f->records[i]);
	if (itl_builder_finish(&b, err, sizeof err) != 0) {
		/* Only possible when a bigger signature placeholder pushes a file
		 * near the size limit over it. */
		check(f->len + 1024 > ITL_MAX_FILE);
		itl_builder_free(&b);
		return;
	}
	(void)itl_builder_set_signature(&b, f->hdr.signature.p, f->hdr.signature.len, err,
					sizeof err);
	check(itl_decode(&again, b.out.data, b.out.len, err, sizeof err) == 0);
	check(again.hdr.header_length % 4 == 0);
	check_same_records(f, &again);
	itl_free(&again);
	itl_builder_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct itl_file f;
	char err[ERRLEN] = "";
	struct buf b;

	if (itl_decode(&f, data, size, err, sizeof err) != 0) {
		check(err[0] != '\0' && f.tlvs == NULL && f.records == NULL);
		return 0;
	}
	buf_init(&b);
	check(itl_encode(&f, &b) == 0);
	check(b.len == size && memcmp(b.data, data, size) == 0);
	buf_free(&b);
	check_tiling(&f);
	check_signed_data(&f);
	(void)itl_unknown_tags(&f, err, sizeof err);
	exercise_header(&f);
	for (size_t i = 0; i < f.nrecords; i++)
		exercise_record(&f.records[i]);
	check_rebuild(&f);
	itl_free(&f);
	return 0;
}
