/*
 * fuzz_sgn.c: fuzz target for the `.sgn` / `.enc.sgn` codec (src/wire/sgn.h).
 *
 * Any bytes must either decode or be refused with an error sentence. A
 * decoded file must re-encode to the same bytes, its TLV list must tile the
 * header, its signed bytes must be the file minus the SIGNATURE TLV, the
 * checker and text accessors must be safe, and a file the checker accepts,
 * rebuilt with the builder from its own fields, must decode and check again
 * with the same fields and content.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sgn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_tiling(const struct sgn_file *f)
{
	size_t pos = 0;

	for (size_t i = 0; i < f->ntlvs; i++) {
		const struct sgn_tlv *t = &f->tlvs[i];

		check(t->offset == pos);
		if (t->kind == SGN_TLV_PADDING)
			pos += t->len;
		else
			pos += t->kind == SGN_TLV_CONTAINER ? 3 : 3 + (size_t)t->len;
	}
	check(pos == f->header_length && f->content == f->data + pos);
	check(f->content_len == f->len - pos);
}

static void check_signed_data(const struct sgn_file *f)
{
	struct buf b;
	char err[ERRLEN] = "";

	buf_init(&b);
	check(sgn_signed_data(f, &b, err, sizeof err) == 0);
	check(b.len == f->len - 3 - f->signature.len);
	buf_free(&b);
}

static void exercise(const struct sgn_file *f)
{
	char text[256];

	(void)sgn_text(&f->signer_name, text, sizeof text);
	(void)sgn_text(&f->issuer_name, text, sizeof text);
	(void)sgn_text(&f->filename, text, sizeof text);
	(void)sgn_hash_name(f->hash_alg);
	(void)sgn_hash_name(f->enc.hash_alg);
	for (size_t i = 0; i < f->ntlvs; i++)
		(void)sgn_tag_name(f->tlvs[i].tag);
}

static void rebuild(const struct sgn_file *f)
{
	struct sgn_enc_spec es = { 0 };
	struct sgn_spec s = {
		.version_major = f->version_major, .version_minor = f->version_minor,
		.signer_name = (const char *)f->signer_name.p,
		.issuer_name = (const char *)f->issuer_name.p,
		.serial = f->serial.p, .serial_len = f->serial.len,
		.hash_alg = (uint8_t)f->hash_alg, .modulus_index = (uint8_t)f->modulus_index,
		.filename = (const char *)f->filename.p, .timestamp = f->timestamp,
	};
	struct sgn_file g;
	struct buf b;
	size_t sig_at = 0;
	char err[ERRLEN] = "";

	if (f->enc.present) {
		es = (struct sgn_enc_spec){ .iv = f->enc.iv.p, .pad = (uint16_t)f->enc.pad,
					    .key = f->enc.key.p, .key_len = f->enc.key.len,
					    .hash_alg = (uint8_t)f->enc.hash_alg, .hash = f->enc.hash.p,
					    .hash_len = f->enc.hash.len };
		s.enc = &es;
	}
	buf_init(&b);
	if (sgn_build(&s, f->content, f->content_len, &b, &sig_at, err, sizeof err) == 0) {
		memcpy(b.data + sig_at, f->signature.p, f->signature.len);
		check(sgn_decode(&g, b.data, b.len, err, sizeof err) == 0);
		check(sgn_check(&g, err, sizeof err) == 0);
		check(g.header_length % 4 == 0 && g.content_len == f->content_len);
		check(memcmp(g.content, f->content, f->content_len) == 0);
		check(g.serial.len == f->serial.len && g.enc.present == f->enc.present);
		check(memcmp(g.signature.p, f->signature.p, f->signature.len) == 0);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sgn_file f;
	char err[ERRLEN] = "";
	struct buf b;

	if (sgn_decode(&f, data, size, err, sizeof err) != 0) {
		check(err[0] != '\0' && f.ntlvs == 0);
		return 0;
	}
	buf_init(&b);
	check(sgn_encode(&f, &b) == 0);
	check(b.len == size && memcmp(b.data, data, size) == 0);
	buf_free(&b);
	check_tiling(&f);
	check_signed_data(&f);
	exercise(&f);
	if (sgn_check(&f, err, sizeof err) == 0)
		rebuild(&f);
	else
		check(err[0] != '\0');
	return 0;
}
