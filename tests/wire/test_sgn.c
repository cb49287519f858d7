/*
 * test_sgn.c: unit tests of the `.sgn` / `.enc.sgn` codec (src/wire/sgn.h)
 * and its cryptography (src/pki/pki_sgn.h), provisioning.md §3-4.
 *
 * A hand-made file in the open tools' field order decodes to the right
 * fields and re-encodes byte for byte; files we sign verify with plain
 * OpenSSL over the bytes the document names (computed here independently of
 * the codec); encrypted files decrypt with the phone key and nothing else;
 * and each structural or semantic fault gets an error naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki_sgn.h"
#include "wire/sgn.h"

static const char *vec(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("VECTORS_DIR");

	snprintf(path, sizeof path, "%s/keys/%s", dir ? dir : "tests/vectors", rel);
	return path;
}

static X509 *load_cert(const char *rel)
{
	FILE *f = fopen(vec(rel), "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *load_key(const char *rel)
{
	FILE *f = fopen(vec(rel), "r");
	EVP_PKEY *k;

	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

static void put_tlv(struct buf *b, uint8_t tag, const void *v, size_t len)
{
	buf_put_u8(b, tag);
	buf_put_u16(b, (uint16_t)len);
	buf_put(b, v, len);
}

/* The open tools' layout: SIGNER_INFO{4, 5, 6}, 64-byte signature, padding. */
static void handmade(struct buf *b, const char *content)
{
	static const uint8_t serial[] = { 0x64, 0xf2, 0xfe };
	static const uint8_t sig[64] = { 1, 2, 3 };
	const char name[] = "CN=ITLRECOVERY_x,O=Example", file[] = "a.cnf.xml.sgn";
	size_t info = 9 + sizeof name + sizeof serial + sizeof name;

	buf_init(b);
	put_tlv(b, SGN_VERSION, "\x01\x00", 2);
	put_tlv(b, SGN_HEADER_LENGTH, "\0\0", 2);
	buf_put_u8(b, SGN_SIGNER_INFO);
	buf_put_u16(b, (uint16_t)info);
	put_tlv(b, SGN_SIGNER_NAME, name, sizeof name);
	put_tlv(b, SGN_SERIAL_NUMBER, serial, sizeof serial);
	put_tlv(b, SGN_ISSUER_NAME, name, sizeof name);
	buf_put(b, "\x07\x00\x0f\x08\x00\x01\x01\x09\x00\x08\x0a\x00\x01\x00\x0b\x00\x01\x00", 18);
	put_tlv(b, SGN_SIGNATURE, sig, sizeof sig);
	put_tlv(b, SGN_FILENAME, file, sizeof file);
	put_tlv(b, SGN_TIMESTAMP, "\x6a\x0b\x0c\x0d", 4);
	while (b->len % 4)
		buf_put_u8(b, SGN_PADDING);
	buf_set_u16(b, 8, (uint16_t)b->len);
	buf_put(b, content, strlen(content));
}

static void test_handmade_decodes(void **state)
{
	struct buf b, again;
	struct sgn_file f;
	char err[ERRLEN] = "", text[128];

	(void)state;
	handmade(&b, "<device/>\n");
	assert_int_equal(sgn_decode(&f, b.data, b.len, err, sizeof err), 0);
	assert_int_equal(f.version_major, 1);
	assert_int_equal(f.header_length % 4, 0);
	assert_int_equal(sgn_text(&f.signer_name, text, sizeof text), 0);
	assert_string_equal(text, "CN=ITLRECOVERY_x,O=Example");
	assert_int_equal(sgn_text(&f.filename, text, sizeof text), 0);
	assert_string_equal(text, "a.cnf.xml.sgn");
	assert_int_equal(f.serial.len, 3);
	assert_int_equal(f.hash_alg, SGN_HASH_SHA1);
	assert_int_equal(f.modulus_index, 0);
	assert_int_equal(f.signature.len, 64);
	assert_int_equal(f.timestamp, 0x6a0b0c0d);
	assert_int_equal(f.content_len, 10);
	assert_memory_equal(f.content, "<device/>\n", 10);
	assert_int_equal(sgn_check(&f, err, sizeof err), 0);
	buf_init(&again);
	assert_int_equal(sgn_encode(&f, &again), 0);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	buf_free(&again);
	buf_free(&b);
}

/* The signed bytes cut by hand: find the SIGNATURE TLV by walking the header. */
static void verify_independently(const struct buf *file, X509 *cert, const EVP_MD *md)
{
	size_t pos = 10, hlen = (size_t)file->data[8] << 8 | file->data[9];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	struct buf data;

	while (pos < hlen && file->data[pos] != SGN_SIGNATURE) {
		uint8_t tag = file->data[pos];
		size_t len = (size_t)file->data[pos + 1] << 8 | file->data[pos + 2];

		if (tag == SGN_PADDING)
			pos += 1;
		else if (tag == 3 || tag == 7 || tag == 9)
			pos += 3;
		else
			pos += 3 + len;
	}
	assert_true(pos < hlen);
	size_t siglen = (size_t)file->data[pos + 1] << 8 | file->data[pos + 2];
	buf_init(&data);
	buf_put(&data, file->data, pos);
	buf_put(&data, file->data + pos + 3 + siglen, file->len - pos - 3 - siglen);
	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, md, NULL, X509_get0_pubkey(cert)), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_DigestVerify(ctx, file->data + pos + 3, siglen, data.data, data.len), 1);
	EVP_MD_CTX_free(ctx);
	buf_free(&data);
}

static void sign_with(int hash_alg, const EVP_MD *md)
{
	X509 *sast = load_cert("sast.pem"), *other = load_cert("capf.crt");
	EVP_PKEY *key = load_key("sast.pem");
	struct pki_sgn_opts o;
	struct sgn_file f;
	struct buf out, again;
	char err[ERRLEN] = "", text[64];
	const char *content = "<device><fullConfig>true</fullConfig></device>\n";

	pki_sgn_opts_default(&o);
	o.hash_alg = hash_alg;
	o.filename = "SEP001122334455.cnf.xml.sgn";
	o.timestamp = 1800000000;
	buf_init(&out);
	assert_int_equal(pki_sgn_sign(&o, sast, key, (const uint8_t *)content, strlen(content), &out,
				      err, sizeof err), 0);
	assert_int_equal(sgn_decode(&f, out.data, out.len, err, sizeof err), 0);
	assert_int_equal(f.version_major, 1);
	assert_int_equal(f.version_minor, 0);
	assert_int_equal(f.header_length % 4, 0);
	assert_int_equal(f.hash_alg, hash_alg);
	assert_int_equal(f.timestamp, 1800000000);
	assert_int_equal(sgn_text(&f.filename, text, sizeof text), 0);
	assert_string_equal(text, "SEP001122334455.cnf.xml.sgn");
	assert_int_equal(f.content_len, strlen(content));
	assert_memory_equal(f.content, content, strlen(content));
	assert_int_equal(pki_sgn_verify(&f, sast, err, sizeof err), 0);
	assert_int_equal(pki_sgn_verify(&f, other, err, sizeof err), -1);
	assert_non_null(strstr(err, "serial number"));
	buf_init(&again);
	assert_int_equal(sgn_encode(&f, &again), 0);
	assert_memory_equal(again.data, out.data, out.len);
	verify_independently(&out, sast, md);
	out.data[out.len - 2] ^= 1; /* the content is signed too */
	assert_int_equal(sgn_decode(&f, out.data, out.len, err, sizeof err), 0);
	assert_int_equal(pki_sgn_verify(&f, sast, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad signature"));
	buf_free(&again);
	buf_free(&out);
	X509_free(sast);
	X509_free(other);
	EVP_PKEY_free(key);
}

static void test_sign_sha1(void **state)
{
	(void)state;
	sign_with(SGN_HASH_SHA1, EVP_sha1());
}

static void test_sign_sha512(void **state)
{
	(void)state;
	sign_with(SGN_HASH_SHA512, EVP_sha512());
}

static void test_sign_refuses_ec_key(void **state)
{
	X509 *ec = load_cert("lsc-ec.pem");
	EVP_PKEY *key = load_key("lsc-ec.pem");
	struct pki_sgn_opts o;
	struct buf out;
	char err[ERRLEN] = "";

	(void)state;
	pki_sgn_opts_default(&o);
	o.filename = "x.sgn";
	buf_init(&out);
	assert_int_equal(pki_sgn_sign(&o, ec, key, (const uint8_t *)"x", 1, &out, err, sizeof err), -1);
	assert_non_null(strstr(err, "must be RSA"));
	assert_int_equal(out.len, 0);
	buf_free(&out);
	X509_free(ec);
	EVP_PKEY_free(key);
}

static void encrypt_and_decrypt(size_t xml_len, uint16_t want_pad)
{
	X509 *sast = load_cert("sast.pem"), *phone = load_cert("lsc-rsa.pem");
	EVP_PKEY *key = load_key("sast.pem"), *pk = load_key("lsc-rsa.pem");
	EVP_PKEY *wrong = load_key("lsc-rsa2.pem");
	struct pki_sgn_opts o;
	struct sgn_file f;
	struct buf out, xml;
	char err[ERRLEN] = "", *plain = malloc(xml_len);

	memset(plain, 'x', xml_len);
	pki_sgn_opts_default(&o);
	o.filename = "SEP001122334455.cnf.xml.enc.sgn";
	buf_init(&out);
	buf_init(&xml);
	assert_int_equal(pki_sgn_encrypt(&o, sast, key, phone, (uint8_t *)plain, xml_len, &out, err,
					 sizeof err), 0);
	assert_int_equal(sgn_decode(&f, out.data, out.len, err, sizeof err), 0);
	assert_int_equal(f.version_major, 2);
	assert_true(f.enc.present);
	assert_int_equal(f.enc.pad, want_pad);
	assert_int_equal(f.enc.iv.len, 16);
	assert_int_equal(f.enc.key_bits, (int)f.enc.key.len * 8);
	assert_int_equal(f.content_len, xml_len + want_pad);
	assert_int_equal(f.header_length % 4, 0);
	assert_int_equal(pki_sgn_verify(&f, sast, err, sizeof err), 0);
	assert_int_equal(pki_sgn_decrypt(&f, pk, &xml, err, sizeof err), 0);
	assert_int_equal(xml.len, xml_len);
	assert_memory_equal(xml.data, plain, xml_len);
	assert_int_equal(pki_sgn_decrypt(&f, wrong, &xml, err, sizeof err), -1);
	assert_int_equal(xml.len, xml_len);
	buf_free(&out);
	buf_free(&xml);
	free(plain);
	X509_free(sast);
	X509_free(phone);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pk);
	EVP_PKEY_free(wrong);
}

static void test_encrypt(void **state)
{
	(void)state;
	encrypt_and_decrypt(100, 12);
	encrypt_and_decrypt(32, 16); /* whole blocks still get a block of padding */
	encrypt_and_decrypt(1, 15);
}

static void test_encrypt_refuses_ec_phone(void **state)
{
	X509 *sast = load_cert("sast.pem"), *phone = load_cert("lsc-ec.pem");
	EVP_PKEY *key = load_key("sast.pem");
	struct pki_sgn_opts o;
	struct buf out;
	char err[ERRLEN] = "";

	(void)state;
	pki_sgn_opts_default(&o);
	o.filename = "x.enc.sgn";
	buf_init(&out);
	assert_int_equal(pki_sgn_encrypt(&o, sast, key, phone, (const uint8_t *)"<device/>", 9, &out,
					 err, sizeof err), -1);
	assert_non_null(strstr(err, "not RSA"));
	buf_free(&out);
	X509_free(sast);
	X509_free(phone);
	EVP_PKEY_free(key);
}

static struct buf read_seed(const char *name)
{
	char path[4096];
	const char *dir = getenv("VECTORS_DIR");
	struct buf b;
	uint8_t chunk[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "%s/../../fuzz/corpus/%s", dir ? dir : "tests/vectors", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_put(&b, chunk, n);
	fclose(f);
	return b;
}

/* Files written by an independent writer (fuzz/make-corpus-sgn.py). */
static void test_independent_files(void **state)
{
	static const char *const names[] = { "sgn/sha1.sgn", "sgn/sha512.sgn", "sgn/inner-padding.sgn",
					     "sgn_enc/sha1.enc.sgn", "sgn_enc/sha512.enc.sgn",
					     "sgn_enc/blocks.enc.sgn" };
	X509 *sast = load_cert("sast.pem");
	EVP_PKEY *pk = load_key("lsc-rsa.pem");
	char err[ERRLEN] = "";

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		struct buf b = read_seed(names[i]), xml;
		struct sgn_file f;

		if (sgn_decode(&f, b.data, b.len, err, sizeof err) < 0 ||
		    pki_sgn_verify(&f, sast, err, sizeof err) < 0)
			fail_msg("%s: %s", names[i], err);
		buf_init(&xml);
		if (f.enc.present && pki_sgn_decrypt(&f, pk, &xml, err, sizeof err) < 0)
			fail_msg("%s: %s", names[i], err);
		if (f.enc.present)
			assert_true(xml.len > 0 && xml.len + (size_t)f.enc.pad == f.content_len);
		buf_free(&xml);
		buf_free(&b);
	}
	X509_free(sast);
	EVP_PKEY_free(pk);
}

/* Decoding a mutated handmade file fails with an error containing want. */
static void expect_decode_error(struct buf *b, const char *want)
{
	struct sgn_file f;
	char err[ERRLEN] = "";

	assert_int_equal(sgn_decode(&f, b->data, b->len, err, sizeof err), -1);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_int_equal(f.ntlvs, 0);
}

static void test_decode_errors(void **state)
{
	struct buf b;

	(void)state;
	handmade(&b, "x");
	b.len = 4;
	expect_decode_error(&b, "truncated header");
	buf_free(&b);
	handmade(&b, "x");
	b.data[0] = 28;
	expect_decode_error(&b, "expected VERSION");
	buf_free(&b);
	handmade(&b, "x");
	b.data[8] = 0xff; /* HEADER_LENGTH past the end */
	expect_decode_error(&b, "outside the");
	buf_free(&b);
	handmade(&b, "x");
	b.data[13] = 28; /* SIGNER_NAME becomes an unknown tag */
	expect_decode_error(&b, "unknown header tag 28");
	buf_free(&b);
	handmade(&b, "x");
	b.data[13] = SGN_ISSUER_NAME; /* ISSUER_NAME twice */
	expect_decode_error(&b, "repeats ISSUER_NAME");
	buf_free(&b);
	handmade(&b, "x");
	b.data[12] = 0xff; /* SIGNER_INFO runs past the header */
	expect_decode_error(&b, "past the end of the header");
	buf_free(&b);
}

static void test_check_errors(void **state)
{
	struct buf b;
	struct sgn_file f;
	char err[ERRLEN] = "";

	(void)state;
	handmade(&b, "x");
	assert_int_equal(sgn_decode(&f, b.data, b.len, err, sizeof err), 0);
	f.hash_alg = SGN_HASH_SHA256;
	assert_int_equal(sgn_check(&f, err, sizeof err), -1);
	assert_non_null(strstr(err, "SHA256"));
	f.hash_alg = SGN_HASH_SHA1;
	f.version_major = 2;
	assert_int_equal(sgn_check(&f, err, sizeof err), -1);
	assert_non_null(strstr(err, "no ENCRYPTION_INFO"));
	f.version_major = 1;
	f.modulus_index = 2;
	assert_int_equal(sgn_check(&f, err, sizeof err), -1);
	assert_non_null(strstr(err, "SIGNATURE_MODULUS"));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handmade_decodes),
		cmocka_unit_test(test_sign_sha1),
		cmocka_unit_test(test_sign_sha512),
		cmocka_unit_test(test_sign_refuses_ec_key),
		cmocka_unit_test(test_encrypt),
		cmocka_unit_test(test_encrypt_refuses_ec_phone),
		cmocka_unit_test(test_independent_files),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_check_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
