/*
 * test_itl.c: unit tests of the ITL/CTL codec (src/wire/itl.h).
 *
 * The two vector files (SHA-1 and SHA-512 signed) are decoded and checked
 * against what an independent parser printed for them (*.parsed.txt),
 * re-encoded byte for byte, and rebuilt with the builder to identical bytes.
 * Then the structural edge cases: truncation, bad lengths, containers, unknown
 * tags, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"
#include "wire/itl.h"
#include "wire/roles.h"

/* ---- the independent parser's printout ---- */

#define MAX_KV 16
#define MAX_BLOCKS 8

struct block {
	char key[MAX_KV][40];
	char val[MAX_KV][160];
	size_t n;
};

struct printout {
	struct block b[MAX_BLOCKS]; /* b[0] the header, then one per record */
	size_t n;
};

static void add_line(struct printout *p, char *line)
{
	struct block *b = &p->b[p->n - 1];
	char *colon = strchr(line, ':'), *v;

	if (!colon || b->n == MAX_KV)
		return;
	*colon = '\0';
	for (v = colon + 1; *v == ' '; v++)
		;
	snprintf(b->key[b->n], sizeof b->key[0], "%s", line);
	snprintf(b->val[b->n], sizeof b->val[0], "%s", v);
	b->n++;
}

/* "Key: value" lines; a new block starts at each "Record Length:". */
static void load_printout(const char *file, struct printout *p)
{
	size_t len;
	char *text = (char *)vec_read(file, &len), *save = NULL, *line;

	memset(p, 0, sizeof *p);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strchr(line, ':'))
			continue; /* "Valid signature" */
		if (strncmp(line, "Record Length:", 14) == 0 || p->n == 0) {
			assert_true(p->n < MAX_BLOCKS);
			p->n++;
		}
		add_line(p, line);
	}
	free(text);
}

static const char *get(const struct block *b, const char *key)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->key[i], key) == 0)
			return b->val[i];
	fail_msg("printout has no '%s'", key);
	return NULL;
}

/* ---- helpers ---- */

struct loaded {
	uint8_t *data;
	size_t len;
	struct itl_file f;
};

static void load_itl(const char *file, struct loaded *l)
{
	char err[ERRLEN] = "";

	l->data = vec_read(file, &l->len);
	if (itl_decode(&l->f, l->data, l->len, err, sizeof err) != 0)
		fail_msg("%s: %s", file, err);
}

static void unload(struct loaded *l)
{
	itl_free(&l->f);
	free(l->data);
}

static void text_of(const struct itl_bytes *b, char *out, size_t cap)
{
	assert_int_equal(itl_text(b, out, cap), 0);
}

static void hex_of(const struct itl_bytes *b, char *out)
{
	hex_encode(b->p, b->len, out);
}

static void sized(char *out, size_t cap, size_t n)
{
	snprintf(out, cap, "%zu bytes", n);
}

static void sha1_hex(const struct itl_bytes *b, char *out)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	assert_int_equal(EVP_Digest(b->p, b->len, md, &mdlen, EVP_sha1(), NULL), 1);
	hex_encode(md, mdlen, out);
}

/* ---- the vectors ---- */

static void check_header(const struct itl_file *f, const struct block *b)
{
	const struct itl_header *h = &f->hdr;
	char s[256];

	snprintf(s, sizeof s, "%u.%u", h->version_major, h->version_minor);
	assert_string_equal(s, get(b, "Version"));
	sized(s, sizeof s, h->header_length);
	assert_string_equal(s, get(b, "Header Length"));
	assert_true(h->has_signer_version);
	snprintf(s, sizeof s, "%u.%u", h->signer_version_major, h->signer_version_minor);
	assert_string_equal(s, get(b, "Signer Version"));
	text_of(&h->signer_name, s, sizeof s);
	assert_string_equal(s, get(b, "Signer Name"));
	text_of(&h->issuer_name, s, sizeof s);
	assert_string_equal(s, get(b, "Issuer Name"));
	hex_of(&h->serial, s);
	assert_string_equal(s, get(b, "Serial Number"));
	assert_string_equal(itl_hash_name(h->hash_alg), get(b, "Digest Algorithm"));
	sized(s, sizeof s, h->signature.len);
	assert_string_equal(s, get(b, "Signature"));
	text_of(&h->filename, s, sizeof s);
	assert_string_equal(s, get(b, "Filename"));
	assert_true(h->has_timestamp);
	fmt_time_utc(h->timestamp, s, sizeof s);
	assert_memory_equal(s, get(b, "Timestamp"), strlen(get(b, "Timestamp")));
}

static void check_record(const struct itl_record *r, const struct block *b)
{
	struct itl_bytes x;
	uint16_t role;
	char s[256];

	sized(s, sizeof s, r->length);
	assert_string_equal(s, get(b, "Record Length"));
	assert_int_equal(itl_record_subject(r, s, sizeof s), 0);
	assert_string_equal(s, get(b, "Subject Name"));
	assert_int_equal(itl_record_issuer(r, s, sizeof s), 0);
	assert_string_equal(s, get(b, "Issuer Name"));
	assert_int_equal(itl_record_serial(r, &x), 0);
	hex_of(&x, s);
	assert_string_equal(s, get(b, "Serial Numer")); /* sic */
	assert_int_equal(itl_record_role(r, &role), 0);
	assert_string_equal(role_name(role), get(b, "Role"));
	assert_int_equal(itl_record_public_key(r, &x), 0);
	sized(s, sizeof s, x.len);
	assert_string_equal(s, get(b, "Public Key"));
	assert_int_equal(itl_record_signature(r, &x), 0);
	sized(s, sizeof s, x.len);
	assert_string_equal(s, get(b, "Signature"));
	assert_int_equal(itl_record_certificate(r, &x), 0);
	sized(s, sizeof s, x.len);
	assert_string_equal(s, get(b, "Certificate"));
	sha1_hex(&x, s);
	assert_string_equal(s, get(b, "Certificate Hash"));
}

static void check_vector(const char *file, int hash_alg)
{
	static const uint16_t lengths[] = { 1692, 1668, 1504 };
	static const uint16_t roles[] = { ROLE_SAST, ROLE_CAPF, ROLE_TVS };
	static const size_t certs[] = { 984, 972, 860 };
	char txt[128], err[ERRLEN];
	struct printout p;
	struct loaded l;
	struct itl_bytes cert;

	load_itl(file, &l);
	snprintf(txt, sizeof txt, "%s.parsed.txt", file);
	load_printout(txt, &p);
	assert_int_equal(p.n, 1 + l.f.nrecords);
	check_header(&l.f, &p.b[0]);
	for (size_t i = 0; i < l.f.nrecords; i++)
		check_record(&l.f.records[i], &p.b[i + 1]);

	/* The facts the brief names, independently of the printout. */
	assert_int_equal(l.f.hdr.header_length, 480);
	assert_int_equal(l.f.hdr.version_major, 1);
	assert_int_equal(l.f.hdr.version_minor, 2);
	assert_int_equal(l.f.hdr.hash_alg, hash_alg);
	assert_int_equal(l.f.hdr.sig_alg, ITL_SIG_RSA);
	assert_int_equal(l.f.hdr.modulus_index, 2);
	assert_int_equal(l.f.hdr.signature.len, itl_modulus_bytes(2));
	assert_int_equal(l.f.hdr.signature_offset, 199);
	assert_int_equal(l.f.nrecords, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(l.f.records[i].length, lengths[i]);
		assert_true(itl_record_has_role(&l.f.records[i], roles[i]));
		assert_int_equal(itl_record_certificate(&l.f.records[i], &cert), 0);
		assert_int_equal(cert.len, certs[i]);
	}
	assert_int_equal(itl_unknown_tags(&l.f, err, sizeof err), 0);
	unload(&l);
}

static void test_vector_sha1(void **state)
{
	check_vector("ITLFile-sha1.tlv", ITL_HASH_SHA1);
}

static void test_vector_sha512(void **state)
{
	check_vector("ITLFile-sha512.tlv", ITL_HASH_SHA512);
}

/* The header TLVs in file order, offsets included ("BYTEPOS TAG ..."). */
static void test_tlv_listing(void **state)
{
	static const struct { size_t off; uint8_t tag; uint16_t len; uint8_t kind, depth; } want[] = {
		{ 0, 1, 2, ITL_TLV_VALUE, 0 }, { 5, 2, 2, ITL_TLV_VALUE, 0 },
		{ 10, 28, 2, ITL_TLV_VALUE, 0 }, { 15, 3, 163, ITL_TLV_CONTAINER, 0 },
		{ 18, 4, 67, ITL_TLV_VALUE, 1 }, { 88, 6, 67, ITL_TLV_VALUE, 1 },
		{ 158, 5, 20, ITL_TLV_VALUE, 1 }, { 181, 7, 15, ITL_TLV_CONTAINER, 0 },
		{ 184, 8, 1, ITL_TLV_VALUE, 1 }, { 188, 9, 8, ITL_TLV_CONTAINER, 1 },
		{ 191, 10, 1, ITL_TLV_VALUE, 2 }, { 195, 11, 1, ITL_TLV_VALUE, 2 },
		{ 199, 12, 256, ITL_TLV_VALUE, 0 }, { 458, 14, 12, ITL_TLV_VALUE, 0 },
		{ 473, 15, 4, ITL_TLV_VALUE, 0 },
	};
	static const size_t rec1[] = { 480, 485, 555, 625, 648, 653, 926, 1185 };
	struct loaded l;

	load_itl("ITLFile-sha1.tlv", &l);
	assert_int_equal(l.f.nheader_tlvs, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < l.f.nheader_tlvs; i++) {
		const struct itl_tlv *t = &l.f.tlvs[i];

		assert_int_equal(t->offset, want[i].off);
		assert_int_equal(t->tag, want[i].tag);
		assert_int_equal(t->len, want[i].len);
		assert_int_equal(t->kind, want[i].kind);
		assert_int_equal(t->depth, want[i].depth);
		assert_true(t->known);
	}
	assert_int_equal(l.f.records[0].nelems, 8);
	assert_ptr_equal(l.f.records[0].elems, &l.f.tlvs[l.f.nheader_tlvs]);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(l.f.records[0].elems[i].offset, rec1[i]);
	assert_string_equal(itl_tag_name(ITL_SCOPE_HEADER, 28), "SIGNER_VERSION");
	assert_string_equal(itl_tag_name(ITL_SCOPE_RECORD, 4), "ROLE");
	assert_string_equal(itl_tag_vendor_name(ITL_SCOPE_RECORD, 4), "FUNCTION");
	assert_string_equal(itl_tag_vendor_name(ITL_SCOPE_RECORD, 11), "CERTHASH");
	assert_string_equal(itl_tag_name(ITL_SCOPE_RECORD, 13), "UNKNOWN");
	unload(&l);
}

static void check_round_trip_and_rebuild(const char *file)
{
	struct itl_header_spec spec;
	struct itl_builder b;
	struct buf out, signed1, signed2;
	struct loaded l;
	char err[ERRLEN] = "";

	load_itl(file, &l);
	buf_init(&out);
	assert_int_equal(itl_encode(&l.f, &out), 0);
	assert_int_equal(out.len, l.len);
	assert_memory_equal(out.data, l.data, l.len);

	assert_int_equal(itl_header_spec_from(&l.f, &spec, err, sizeof err), 0);
	assert_int_equal(itl_builder_init(&b, &spec, err, sizeof err), 0);
	for (size_t i = 0; i < l.f.nrecords; i++)
		assert_int_equal(itl_builder_add_record(&b, &l.f.records[i]), 0);
	if (itl_builder_finish(&b, err, sizeof err) != 0)
		fail_msg("finish: %s", err);

	/* Same bytes to sign before the signature is in... */
	buf_init(&signed1);
	buf_init(&signed2);
	assert_int_equal(itl_signed_data(&l.f, &signed1, err, sizeof err), 0);
	assert_int_equal(itl_builder_signed_data(&b, &signed2), 0);
	assert_int_equal(signed1.len, l.len - 3 - 256);
	assert_int_equal(signed2.len, signed1.len);
	assert_memory_equal(signed1.data, signed2.data, signed1.len);
	assert_memory_equal(signed1.data, l.data, 199);
	assert_memory_equal(signed1.data + 199, l.data + 199 + 259, l.len - 199 - 259);

	/* ...and the same file once it is. */
	assert_int_equal(itl_builder_set_signature(&b, l.f.hdr.signature.p, l.f.hdr.signature.len,
						   err, sizeof err), 0);
	assert_int_equal(b.out.len, l.len);
	assert_memory_equal(b.out.data, l.data, l.len);

	itl_builder_free(&b);
	buf_free(&signed1);
	buf_free(&signed2);
	buf_free(&out);
	unload(&l);
}

static void test_round_trip_and_rebuild(void **state)
{
	check_round_trip_and_rebuild("ITLFile-sha1.tlv");
	check_round_trip_and_rebuild("ITLFile-sha512.tlv");
}

/* ---- building from fields ---- */

static const uint8_t serial[] = { 0x64, 0xf2, 0xfe, 0x61, 0x3b };
static const uint8_t pubkey[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const uint8_t certhash[20] = { 0xc3, 0xe6, 0x97 };
static const uint8_t ip[4] = { 192, 0, 2, 7 };

static void build_sample(struct itl_builder *b, uint8_t modulus_index)
{
	struct itl_header_spec h;
	char err[ERRLEN] = "";

	itl_header_spec_init(&h);
	h.signer_name = "CN=ITLRECOVERY_x;OU=TAC;O=Cisco Systems;L=Boxborough;ST=MA;C=US";
	h.issuer_name = "CN=ITLRECOVERY_x;OU=TAC";
	h.serial = serial;
	h.serial_len = sizeof serial;
	h.hash_alg = ITL_HASH_SHA256;
	h.modulus_index = modulus_index;
	h.timestamp = 1795803682;
	if (itl_builder_init(b, &h, err, sizeof err) != 0)
		fail_msg("init: %s", err);
	/* The vendor's record layout, with only a CERTIFICATE_HASH. */
	itl_builder_record_begin(b);
	itl_builder_put_text(b, ITL_R_DNS_NAME, "");
	itl_builder_put_text(b, ITL_R_SUBJECT_NAME, "CN=CAPF-7f0ae8d7;OU=TAC");
	itl_builder_put_u16(b, ITL_R_ROLE, ROLE_CAPF);
	itl_builder_put_text(b, ITL_R_ISSUER_NAME, "CN=CAPF-7f0ae8d7;OU=TAC");
	itl_builder_put(b, ITL_R_SERIAL_NUMBER, serial, sizeof serial);
	itl_builder_put(b, ITL_R_PUBLIC_KEY, pubkey, sizeof pubkey);
	itl_builder_put(b, ITL_R_SIGNATURE, serial, 3);
	itl_builder_put(b, ITL_R_CERTIFICATE_HASH, certhash, sizeof certhash);
	itl_builder_put_u8(b, ITL_R_HASH_ALGORITHM, ITL_HASH_SHA1);
	itl_builder_record_end(b);
	/* A second record with two roles and an address. */
	itl_builder_record_begin(b);
	itl_builder_put_text(b, ITL_R_DNS_NAME, "cucm.example.net");
	itl_builder_put_u16(b, ITL_R_ROLE, ROLE_CCM);
	itl_builder_put_u16(b, ITL_R_ROLE, ROLE_TFTP);
	itl_builder_put(b, ITL_R_IP_ADDRESS, ip, sizeof ip);
	itl_builder_record_end(b);
	if (itl_builder_finish(b, err, sizeof err) != 0)
		fail_msg("finish: %s", err);
}

static void test_build_from_fields(void **state)
{
	struct itl_builder b;
	struct itl_file f;
	struct itl_bytes x;
	char s[128], err[ERRLEN] = "";
	uint16_t roles[4];
	uint8_t got_ip[4], alg;
	size_t npad = 0;
	uint8_t sig[128];

	build_sample(&b, 1);
	if (itl_decode(&f, b.out.data, b.out.len, err, sizeof err) != 0)
		fail_msg("decode: %s", err);
	assert_int_equal(f.hdr.header_length % 4, 0);
	assert_int_equal(get_u16(b.out.data + 8), f.hdr.header_length);
	for (size_t i = 0; i < f.nheader_tlvs; i++)
		npad += f.tlvs[i].kind == ITL_TLV_PADDING;
	assert_true(npad > 0 && npad < 4); /* these names need padding */
	assert_int_equal(f.tlvs[f.nheader_tlvs - 1].kind, ITL_TLV_PADDING);
	assert_int_equal(f.hdr.hash_alg, ITL_HASH_SHA256);
	assert_int_equal(f.hdr.signature.len, 128);
	assert_int_equal(f.hdr.timestamp, 1795803682);
	text_of(&f.hdr.issuer_name, s, sizeof s);
	assert_string_equal(s, "CN=ITLRECOVERY_x;OU=TAC");
	assert_int_equal(f.nrecords, 2);

	assert_int_equal(itl_record_dns_name(&f.records[0], s, sizeof s), 0);
	assert_string_equal(s, "");
	assert_int_equal(itl_record_cert_hash(&f.records[0], &x), 0);
	assert_int_equal(x.len, 20);
	assert_int_equal(itl_record_certificate(&f.records[0], &x), -1);
	assert_int_equal(itl_record_hash_alg(&f.records[0], &alg), 0);
	assert_int_equal(alg, ITL_HASH_SHA1);
	assert_int_equal(itl_record_ip(&f.records[0], got_ip), -1);
	assert_int_equal(f.records[0].length, b.out.len - f.hdr.header_length - f.records[1].length);

	assert_int_equal(itl_record_dns_name(&f.records[1], s, sizeof s), 0);
	assert_string_equal(s, "cucm.example.net");
	assert_int_equal(itl_record_roles(&f.records[1], roles, 4), 2);
	assert_int_equal(roles[0], ROLE_CCM);
	assert_int_equal(roles[1], ROLE_TFTP);
	assert_true(itl_record_has_role(&f.records[1], ROLE_TFTP));
	assert_false(itl_record_has_role(&f.records[1], ROLE_SAST));
	assert_int_equal(itl_record_roles(&f.records[1], roles, 1), 2); /* counts all */
	assert_int_equal(itl_record_ip(&f.records[1], got_ip), 0);
	assert_memory_equal(got_ip, ip, 4);
	assert_int_equal(itl_record_subject(&f.records[1], s, sizeof s), -1);
	itl_free(&f);

	/* Filling the signature: only the right size fits. */
	memset(sig, 0xab, sizeof sig);
	assert_int_equal(itl_builder_set_signature(&b, sig, 127, err, sizeof err), -1);
	assert_non_null(strstr(err, "127 bytes but the header has room for 128"));
	assert_int_equal(itl_builder_set_signature(&b, sig, sizeof sig, err, sizeof err), 0);
	assert_int_equal(itl_decode(&f, b.out.data, b.out.len, err, sizeof err), 0);
	assert_memory_equal(f.hdr.signature.p, sig, sizeof sig);
	itl_free(&f);
	itl_builder_free(&b);
}

static void test_builder_errors(void **state)
{
	struct itl_header_spec h;
	struct itl_builder b;
	char err[ERRLEN] = "";
	static uint8_t big[65536];

	itl_header_spec_init(&h);
	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), -1); /* no names */
	assert_non_null(strstr(err, "signer name"));
	itl_builder_free(&b);
	h.signer_name = h.issuer_name = "CN=x";
	h.modulus_index = 4;
	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "modulus index 4"));
	itl_builder_free(&b);
	h.modulus_index = 0;

	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	assert_int_equal(itl_builder_put_u8(&b, ITL_R_HASH_ALGORITHM, 1), -1);
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), -1);
	assert_non_null(strstr(err, "outside a record"));
	itl_builder_free(&b);

	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	itl_builder_record_begin(&b);
	assert_int_equal(itl_builder_put(&b, ITL_R_CERTIFICATE, big, sizeof big), -1);
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), -1);
	assert_non_null(strstr(err, "65536 bytes is over 65535"));
	itl_builder_free(&b);

	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	itl_builder_record_begin(&b);
	itl_builder_put(&b, ITL_R_CERTIFICATE, big, 40000);
	itl_builder_put(&b, ITL_R_PUBLIC_KEY, big, 40000);
	assert_int_equal(itl_builder_record_end(&b), -1);
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), -1);
	assert_non_null(strstr(err, "record 1 is 80011 bytes, over 65535"));
	itl_builder_free(&b);

	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	itl_builder_record_begin(&b);
	assert_int_equal(itl_builder_record_begin(&b), -1);
	itl_builder_free(&b);

	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	itl_builder_record_begin(&b);
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), -1);
	assert_non_null(strstr(err, "record 1 was not ended"));
	itl_builder_free(&b);
}

/* ---- decoding edge cases ---- */

static uint8_t *vector_copy(size_t *len)
{
	return vec_read("ITLFile-sha1.tlv", len);
}

static void decode_fails(const uint8_t *data, size_t len, const char *needle)
{
	struct itl_file f;
	char err[ERRLEN] = "";

	assert_int_equal(itl_decode(&f, data, len, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_int_equal(f.ntlvs, 0);
	assert_null(f.tlvs);
	itl_free(&f);
}

static void test_truncated_files(void **state)
{
	size_t len;
	uint8_t *d = vector_copy(&len);

	decode_fails(d, 0, "truncated header at byte 0");
	decode_fails(d, 3, "truncated header at byte 0");
	decode_fails(d, 7, "truncated header at byte 5");
	decode_fails(d, 200, "header length 480 is outside the 200-byte file");
	decode_fails(d, 479, "header length 480 is outside");
	decode_fails(d, 482, "truncated record at byte 480: 2 bytes left");
	decode_fails(d, 2000, "truncated record at byte 480: RECORD_LENGTH says 1692 bytes but "
		     "1520 remain");
	decode_fails(d, len - 1, "truncated record at byte 3840");
	/* Every cut point fails cleanly, except at a record boundary. */
	for (size_t n = 0; n < len; n++) {
		struct itl_file f;
		char err[ERRLEN];
		int rc = itl_decode(&f, d, n, err, sizeof err);
		int boundary = n == 480 || n == 2172 || n == 3840;

		assert_int_equal(rc, boundary ? 0 : -1);
		itl_free(&f);
	}
	free(d);
}

static void test_bad_header_structure(void **state)
{
	size_t len;
	uint8_t *d = vector_copy(&len);

	d[0] = 2;
	decode_fails(d, len, "header field at byte 0 is tag 0x02, expected VERSION (tag 1)");
	d[0] = 1;
	d[8] = 0, d[9] = 8; /* header length 8: shorter than VERSION + HEADER_LENGTH */
	decode_fails(d, len, "header length 8 is outside");
	d[8] = 0x01, d[9] = 0xe0;
	d[17] = 100; /* SIGNER_INFO 163 -> 100 */
	decode_fails(d, len, "header field ISSUER_NAME (tag 6) at byte 88 has length 67, past the "
		     "end of its container at byte 118");
	d[17] = 163;
	d[9] = 0xdf; /* header length 479: TIMESTAMP runs past it */
	decode_fails(d, len, "header field TIMESTAMP (tag 15) at byte 473 has length 4, past the "
		     "end of its header at byte 479");
	free(d);
}

static void test_small_headers(void **state)
{
	/* VERSION, HEADER_LENGTH 16, HASH_ALGORITHM of 2 bytes, padding. */
	static const uint8_t wrong_size[] = { 1, 0, 2, 1, 2, 2, 0, 2, 0, 16, 8, 0, 2, 1, 1, 13 };
	/* Two FILENAMEs. */
	static const uint8_t dup[] = { 1, 0, 2, 1, 2, 2, 0, 2, 0, 20, 14, 0, 2, 'a', 0,
				       14, 0, 2, 'b', 0 };
	/* Five nested SIGNATURE_INFO containers: refused as a repeat (the three
	 * container tags can only nest three deep). */
	static const uint8_t deep[] = { 1, 0, 2, 1, 2, 2, 0, 2, 0, 28, 7, 0, 12, 7, 0, 9, 7, 0, 6,
					7, 0, 3, 7, 0, 0, 13, 13, 13 };
	/* SIGNER_INFO{SIGNATURE_INFO{SIGNATURE_ALGORITHM_INFO{padding}}}: fine. */
	static const uint8_t nested[] = { 1, 0, 2, 1, 2, 2, 0, 2, 0, 20, 3, 0, 7, 7, 0, 4, 9, 0, 1,
					  13 };
	/* VERSION, HEADER_LENGTH 12, two padding bytes, no records. */
	static const uint8_t bare[] = { 1, 0, 2, 1, 2, 2, 0, 2, 0, 12, 13, 13 };
	struct itl_header_spec spec;
	struct itl_file f;
	struct buf b;
	char err[ERRLEN] = "";

	decode_fails(wrong_size, sizeof wrong_size,
		     "header field HASH_ALGORITHM at byte 10 has length 2, expected 1");
	decode_fails(dup, sizeof dup, "header repeats FILENAME (tag 14) at byte 15");
	decode_fails(deep, sizeof deep, "header repeats SIGNATURE_INFO (tag 7) at byte 13");
	assert_int_equal(itl_decode(&f, nested, sizeof nested, err, sizeof err), 0);
	assert_int_equal(f.ntlvs, 6);
	assert_int_equal(f.tlvs[4].kind, ITL_TLV_CONTAINER);
	assert_int_equal(f.tlvs[5].kind, ITL_TLV_PADDING);
	assert_int_equal(f.tlvs[5].depth, 3);
	itl_free(&f);

	assert_int_equal(itl_decode(&f, bare, sizeof bare, err, sizeof err), 0);
	assert_int_equal(f.nrecords, 0);
	assert_int_equal(f.ntlvs, 4);
	assert_null(f.hdr.signature.p);
	assert_int_equal(f.hdr.hash_alg, -1);
	buf_init(&b);
	assert_int_equal(itl_signed_data(&f, &b, err, sizeof err), -1);
	assert_non_null(strstr(err, "no SIGNATURE"));
	assert_int_equal(itl_header_spec_from(&f, &spec, err, sizeof err), -1);
	assert_string_equal(err, "the ITL header lacks SIGNER_VERSION, which the builder needs");
	assert_int_equal(itl_encode(&f, &b), 0);
	assert_int_equal(b.len, sizeof bare);
	assert_memory_equal(b.data, bare, sizeof bare);
	buf_free(&b);
	itl_free(&f);
}

static void test_bad_records(void **state)
{
	size_t len;
	uint8_t *d = vector_copy(&len);

	d[480] = 3;
	decode_fails(d, len, "record 1 at byte 480 does not start with RECORD_LENGTH");
	d[480] = 1;
	d[2173] = 0, d[2174] = 3; /* record 2 RECORD_LENGTH length 3 */
	decode_fails(d, len, "record 2 at byte 2172 does not start with RECORD_LENGTH");
	d[2174] = 2;
	d[2175] = 0, d[2176] = 4;
	decode_fails(d, len, "record 2 at byte 2172 has RECORD_LENGTH 4, less than");
	d[2175] = 0x06, d[2176] = 0x84;
	d[1187] = 0xd9; /* CERTIFICATE 984 -> 985 */
	decode_fails(d, len, "record 1 field CERTIFICATE (tag 0x09) at byte 1185 has length 985, "
		     "past the end of the record at byte 2172");
	d[1187] = 0xd8;
	d[484] = 0x9e; /* record 1 length 1692 -> 1694: ends in record 2's header */
	decode_fails(d, len, "truncated element at byte 2172 in record 1");
	free(d);
}

static void test_unknown_tags_are_kept(void **state)
{
	size_t len;
	uint8_t *d = vector_copy(&len);
	struct itl_file f;
	struct itl_bytes x;
	struct buf b;
	char err[ERRLEN] = "";

	d[625] = 0x2a;  /* record 1 SERIAL_NUMBER */
	d[2606] = 0x30; /* record 2 SIGNATURE */
	d[458] = 0x20;  /* header FILENAME */
	assert_int_equal(itl_decode(&f, d, len, err, sizeof err), 0);
	assert_int_equal(itl_unknown_tags(&f, err, sizeof err), 3);
	assert_string_equal(err, "unknown tag 0x20 at byte 458 in the header");
	assert_null(f.hdr.filename.p);
	assert_int_equal(itl_record_serial(&f.records[0], &x), -1);
	assert_int_equal(itl_record_signature(&f.records[1], &x), -1);
	buf_init(&b);
	assert_int_equal(itl_encode(&f, &b), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, d, len);
	itl_free(&f);

	d[458] = 14;
	assert_int_equal(itl_decode(&f, d, len, err, sizeof err), 0);
	assert_int_equal(itl_unknown_tags(&f, err, sizeof err), 2);
	assert_string_equal(err, "unknown tag 0x2a at byte 625 in record 1");
	itl_free(&f);
	d[625] = 6;
	assert_int_equal(itl_decode(&f, d, len, err, sizeof err), 0);
	assert_int_equal(itl_unknown_tags(&f, err, sizeof err), 1);
	assert_string_equal(err, "unknown tag 0x30 at byte 2606 in record 2");
	itl_free(&f);
	buf_free(&b);
	free(d);
}

static void test_limits(void **state)
{
	struct itl_header_spec h;
	struct itl_builder b;
	struct itl_file f;
	char err[ERRLEN] = "";
	uint8_t *big = calloc(1, ITL_MAX_FILE + 1);
	static const uint8_t extra[] = { 1, 0, 2, 0, 5 };

	assert_non_null(big);
	big[0] = 1;
	decode_fails(big, ITL_MAX_FILE + 1, "over the 1048576-byte limit");
	free(big);

	itl_header_spec_init(&h);
	h.signer_name = h.issuer_name = "CN=x";
	assert_int_equal(itl_builder_init(&b, &h, err, sizeof err), 0);
	for (int i = 0; i < ITL_MAX_RECORDS; i++) {
		itl_builder_record_begin(&b);
		itl_builder_put_u16(&b, ITL_R_ROLE, ROLE_CCM);
		itl_builder_record_end(&b);
	}
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), 0);
	assert_int_equal(itl_decode(&f, b.out.data, b.out.len, err, sizeof err), 0);
	assert_int_equal(f.nrecords, ITL_MAX_RECORDS);
	assert_int_equal(f.records[ITL_MAX_RECORDS - 1].length, 10);
	itl_free(&f);
	buf_put(&b.out, extra, sizeof extra);
	decode_fails(b.out.data, b.out.len, "more than 10000 records");
	itl_builder_record_begin(&b);
	assert_int_equal(itl_builder_record_end(&b), -1);
	assert_int_equal(itl_builder_finish(&b, err, sizeof err), -1);
	assert_non_null(strstr(err, "more than 10000 records"));
	itl_builder_free(&b);
}

static void test_text_helper(void **state)
{
	struct itl_bytes b = { (const uint8_t *)"CN=a\0", 5 };
	char s[8];

	assert_int_equal(itl_text(&b, s, sizeof s), 0);
	assert_string_equal(s, "CN=a");
	b.len = 4; /* without its NUL: accepted */
	assert_int_equal(itl_text(&b, s, sizeof s), 0);
	assert_string_equal(s, "CN=a");
	b = (struct itl_bytes){ (const uint8_t *)"C\0N\0", 4 };
	assert_int_equal(itl_text(&b, s, sizeof s), -1);
	b = (struct itl_bytes){ (const uint8_t *)"CN=abcdefgh\0", 12 };
	assert_int_equal(itl_text(&b, s, sizeof s), -1);
	b = (struct itl_bytes){ NULL, 0 };
	assert_int_equal(itl_text(&b, s, sizeof s), -1);
	assert_string_equal(itl_hash_name(2), "SHA256");
	assert_string_equal(itl_hash_name(-1), "UNKNOWN");
	assert_int_equal(itl_modulus_bytes(3), 512);
	assert_int_equal(itl_modulus_bytes(4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_sha1),
		cmocka_unit_test(test_vector_sha512),
		cmocka_unit_test(test_tlv_listing),
		cmocka_unit_test(test_round_trip_and_rebuild),
		cmocka_unit_test(test_build_from_fields),
		cmocka_unit_test(test_builder_errors),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_bad_header_structure),
		cmocka_unit_test(test_small_headers),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_unknown_tags_are_kept),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_text_helper),
	};

	return cmocka_run_group_tests_name("wire-itl", tests, NULL, NULL);
}
