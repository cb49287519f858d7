/*
 * test_pki_files.c: keys and certificates in files and memory, and the text
 * forms: key files (PKCS#8, 0600, atomic), certificate bundles (PEM with
 * other blocks, DER, garbage, limits), public keys from the recorded
 * sessions, names and fingerprints checked against what the independent
 * ITL tool printed (tests/vectors/ITLFile-sha1.tlv.parsed.txt), the
 * certificate summary, and the organisation parser.
 */
#include "pki_test_util.h"
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *tmpdir;

static int setup(void **state)
{
	tmpdir = make_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	remove_tmpdir(tmpdir);
	return 0;
}

static const char *tmp(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *data;
	char err[ERRLEN];

	if (read_file(path, 4 << 20, &data, len, err, sizeof err) != 0)
		fail_msg("%s", err);
	return data;
}

static int mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (int)(st.st_mode & 07777);
}

static int files_in_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_key_files(void **state)
{
	char err[ERRLEN] = "";
	EVP_PKEY *rsa = pki_key_generate(PKI_KEY_RSA, 1024, err, sizeof err);
	EVP_PKEY *ec = pki_key_generate(PKI_KEY_EC, 384, err, sizeof err);
	EVP_PKEY *back;
	uint8_t *data;
	size_t len;
	char path[4096];
	int before = files_in_tmpdir();

	assert_non_null(rsa);
	assert_non_null(ec);
	snprintf(path, sizeof path, "%s", tmp("rsa.key"));
	assert_int_equal(pki_key_save(path, rsa, err, sizeof err), 0);
	assert_int_equal(mode_of(path), 0600);
	data = slurp(path, &len);
	assert_int_equal(strncmp((char *)data, "-----BEGIN PRIVATE KEY-----\n", 28), 0); /* PKCS#8 */
	free(data);
	back = pki_key_load(path, err, sizeof err);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(back, rsa), 1);
	assert_int_not_equal(EVP_PKEY_eq(back, ec), 1); /* -1: not even the same type */
	EVP_PKEY_free(back);

	/* overwriting a world-readable file leaves a 0600 one, and no temp file */
	write_bytes(path, "old", 3);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(pki_key_save(path, ec, err, sizeof err), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(files_in_tmpdir(), before + 1);
	back = pki_key_load(path, err, sizeof err);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(back, ec), 1);
	EVP_PKEY_free(back);

	/* errors name the file, never its content */
	assert_null(pki_key_load(tmp("missing.key"), err, sizeof err));
	assert_non_null(strstr(err, "missing.key"));
	assert_null(pki_key_load(vec_path("keys/capf.crt"), err, sizeof err));
	assert_non_null(strstr(err, "capf.crt"));
	assert_int_equal(pki_key_save(tmp("no/such/dir.key"), ec, err, sizeof err), -1);
	/* an encrypted key fails without prompting on a terminal */
	{
		BIO *b = BIO_new_file(tmp("enc.key"), "w");
		assert_non_null(b);
		assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, ec, EVP_aes_128_cbc(), "pw", 2, NULL, NULL), 1);
		BIO_free(b);
		assert_null(pki_key_load(tmp("enc.key"), err, sizeof err));
		assert_non_null(strstr(err, "enc.key"));
	}
	/* the vector keys belong to their certificates */
	{
		X509 *capf = vec_cert("keys/capf.crt");
		EVP_PKEY *k = vec_key("keys/capf.key"), *m = vec_key("keys/mic.key");

		assert_int_equal(pki_cert_key_match(capf, k), 1);
		assert_int_equal(pki_cert_key_match(capf, m), 0);
		EVP_PKEY_free(k);
		EVP_PKEY_free(m);
		X509_free(capf);
		/* a phone's store: certificate first, then its key, in one file */
		capf = vec_cert("keys/lsc-rsa2.pem");
		k = vec_key("keys/lsc-rsa2.pem");
		assert_int_equal(pki_cert_key_match(capf, k), 1);
		assert_int_equal(EVP_PKEY_get_bits(k), 1024);
		EVP_PKEY_free(k);
		X509_free(capf);
	}
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

static void cat_files(const char *out, const char **rels, size_t n)
{
	FILE *f = fopen(out, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		uint8_t *d = slurp(vec_path(rels[i]), &len);
		assert_int_equal(fwrite(d, 1, len, f), len);
		free(d);
	}
	fclose(f);
}

static void expect_load_error(const char *path, const char *words)
{
	char err[ERRLEN] = "";
	STACK_OF(X509) *sk = pki_certs_load(path, err, sizeof err);

	if (sk)
		fail_msg("%s loaded, expected an error", path);
	if (!strstr(err, path) || !strstr(err, words))
		fail_msg("error \"%s\" should name %s and say \"%s\"", err, path, words);
}

static void test_cert_bundles(void **state)
{
	static const char *bundle[] = { "keys/capf.crt", "keys/mfg.key", "keys/mfg.crt", "keys/sast.pem" };
	char err[ERRLEN] = "";
	STACK_OF(X509) *sk;
	X509 *capf = vec_cert("keys/capf.crt"), *mfg = vec_cert("keys/mfg.crt"), *sast = vec_cert("keys/sast.crt");
	uint8_t *der, *data;
	size_t len;

	cat_files(tmp("bundle.pem"), bundle, 4);
	sk = pki_certs_load(tmp("bundle.pem"), err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 3);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), capf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 1), mfg), 0);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 2), sast), 0);
	sk_X509_pop_free(sk, X509_free);

	/* the same from memory */
	data = slurp(tmp("bundle.pem"), &len);
	sk = pki_certs_parse(data, len, err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 3);
	sk_X509_pop_free(sk, X509_free);
	free(data);

	/* one DER certificate */
	assert_int_equal(pki_cert_to_der(mfg, &der, &len), 0);
	write_bytes(tmp("mfg.der"), der, len);
	sk = pki_certs_load(tmp("mfg.der"), err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 1);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), mfg), 0);
	sk_X509_pop_free(sk, X509_free);
	{
		X509 *x = pki_cert_from_der(der, len, err, sizeof err);
		assert_non_null(x);
		assert_int_equal(X509_cmp(x, mfg), 0);
		X509_free(x);
		assert_null(pki_cert_from_der(der, len - 1, err, sizeof err));
	}
	/* DER with a stray byte after it */
	{
		uint8_t *more = malloc(len + 1);
		memcpy(more, der, len);
		more[len] = 0;
		write_bytes(tmp("stray.der"), more, len + 1);
		free(more);
		expect_load_error(tmp("stray.der"), "stray");
	}
	OPENSSL_free(der);

	write_bytes(tmp("garbage.bin"), "\x01\x02hello, not a certificate\n", 26);
	expect_load_error(tmp("garbage.bin"), "not a PEM or DER certificate");
	write_bytes(tmp("empty.pem"), "", 0);
	expect_load_error(tmp("empty.pem"), "no certificate");
	expect_load_error(vec_path("keys/capf.key"), "no certificate found");
	expect_load_error(tmp("missing.pem"), "cannot open");
	/* a CERTIFICATE block whose content is not a certificate */
	write_bytes(tmp("badblock.pem"), "-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n", 64);
	expect_load_error(tmp("badblock.pem"), "certificate 1");
	/* broken base64 */
	write_bytes(tmp("badb64.pem"), "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", 60);
	expect_load_error(tmp("badb64.pem"), "PEM");
	/* over 1 MiB */
	{
		size_t big = (1 << 20) + 1;
		char *junk = malloc(big);
		memset(junk, 'A', big);
		write_bytes(tmp("big.pem"), junk, big);
		free(junk);
		expect_load_error(tmp("big.pem"), "larger than");
		assert_null(pki_certs_parse((const uint8_t *)"x", (1 << 20) + 1, err, sizeof err));
	}
	X509_free(capf);
	X509_free(mfg);
	X509_free(sast);
}

static void test_cert_limit(void **state)
{
	char err[ERRLEN] = "";
	EVP_PKEY *key = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	X509 *x = pki_capf_cert_create(key, NULL, 30, err, sizeof err);
	char *pem;
	size_t len;
	struct buf b;
	STACK_OF(X509) *sk;

	assert_non_null(x);
	assert_int_equal(pki_cert_to_pem(x, &pem, &len), 0);
	assert_int_equal(strlen(pem), len);
	assert_true(len * 1001 < (1 << 20));
	buf_init(&b);
	for (int i = 0; i < 1000; i++)
		buf_put(&b, pem, len);
	assert_false(b.failed);
	sk = pki_certs_parse(b.data, b.len, err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(sk_X509_num(sk), 1000);
	sk_X509_pop_free(sk, X509_free);
	buf_put(&b, pem, len);
	assert_null(pki_certs_parse(b.data, b.len, err, sizeof err));
	assert_non_null(strstr(err, "1000"));
	buf_free(&b);

	/* PEM written for others: 0644, reads back */
	assert_int_equal(pki_cert_save_pem(tmp("capf.pem"), x, err, sizeof err), 0);
	assert_int_equal(mode_of(tmp("capf.pem")), 0644);
	sk = pki_certs_load(tmp("capf.pem"), err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(X509_cmp(sk_X509_value(sk, 0), x), 0);
	sk_X509_pop_free(sk, X509_free);
	OPENSSL_free(pem);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_session_public_keys(void **state)
{
	static const struct { const char *title; const char *want; } cases[] = {
		{ "install RSA-2048", "RSA 2048" },
		{ "install EC P-256", "EC P-256" },
		{ "upgrade to RSA-1024", "RSA 1024" },
	};
	json_t *root = vec_sessions();

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tmsg m;
		const uint8_t *val;
		size_t len;
		char err[ERRLEN], desc[32];
		EVP_PKEY *k;
		uint8_t *der, *more;
		size_t dlen;

		assert_int_equal(tmsg_find(vec_case(root, cases[i].title), 4, &m), 0);
		assert_int_equal(tmsg_elem(&m, 9, &val, &len), 0);
		k = pki_pubkey_from_der(val, len, err, sizeof err);
		assert_non_null(k);
		pki_key_describe(k, desc, sizeof desc);
		assert_string_equal(desc, cases[i].want);
		assert_int_equal(pki_pubkey_to_der(k, &der, &dlen), 0);
		assert_int_equal(dlen, len);
		assert_memory_equal(der, val, len);
		OPENSSL_free(der);
		EVP_PKEY_free(k);
		more = malloc(len + 1);
		memcpy(more, val, len);
		more[len] = 0;
		assert_null(pki_pubkey_from_der(more, len + 1, err, sizeof err));
		assert_null(pki_pubkey_from_der(more, len - 1, err, sizeof err));
		assert_null(pki_pubkey_from_der(more, 0, err, sizeof err));
		free(more);
		tmsg_free(&m);
	}
	json_decref(root);
}

/* pki_x509_set_pubkey puts the key's bits in without OpenSSL's encoder (so
 * the certificate's own key cache stays empty), and they are i2d_PUBKEY's. */
static void check_fast_set(EVP_PKEY *k)
{
	X509 *x = X509_new();
	uint8_t *want = NULL, *got = NULL;
	int want_len, got_len;

	assert_int_equal(pki_x509_set_pubkey(x, k), 0);
	assert_null(X509_PUBKEY_get0(X509_get_X509_PUBKEY(x)));
	ERR_clear_error();
	want_len = i2d_PUBKEY(k, &want);
	got_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &got);
	assert_true(want_len > 0);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, (size_t)want_len);
	OPENSSL_free(want);
	OPENSSL_free(got);
	X509_free(x);
}

static EVP_PKEY *spki_roundtrip(const char *spec)
{
	enum pki_key_kind kind;
	int bits;
	char err[ERRLEN];
	EVP_PKEY *k, *back;
	uint8_t *der, *again;
	size_t len, again_len;

	assert_int_equal(pki_key_parse_spec(spec, &kind, &bits, err, sizeof err), 0);
	assert_non_null(k = pki_key_generate(kind, bits, err, sizeof err));
	assert_int_equal(pki_pubkey_to_der(k, &der, &len), 0);
	if (!(back = pki_pubkey_from_der(der, len, err, sizeof err)))
		fail_msg("%s: %s", spec, err);
	assert_int_equal(EVP_PKEY_eq(back, k), 1);
	assert_int_equal(pki_pubkey_to_der(back, &again, &again_len), 0);
	assert_int_equal(again_len, len);
	assert_memory_equal(again, der, len);
	OPENSSL_free(der);
	OPENSSL_free(again);
	EVP_PKEY_free(back);
	check_fast_set(k);
	return k;
}

/* A DER SubjectPublicKeyInfo from hex; NULL from pki_pubkey_from_der
 * (err: what it said) or the key. */
static EVP_PKEY *spki_hex(const char *hex, char *err, size_t errlen)
{
	uint8_t der[600];
	size_t n = strlen(hex) / 2;

	assert_true(n <= sizeof der);
	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &der[i]);
	err[0] = '\0';
	return pki_pubkey_from_der(der, n, err, errlen);
}

/* The fast SubjectPublicKeyInfo reader of pki_spki.c: every key type phones
 * send round-trips byte for byte; broken keys are refused with a reason. */
static void test_spki_reader(void **state)
{
	static const char *specs[] = { "rsa:512", "rsa:1024", "rsa:2048", "ec:p256", "ec:p384", "ec:p521" };
	/* P-256 generator G: on the curve */
	static const char g_ok[] = "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
		"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
	/* G with the last byte of y changed: not on the curve */
	static const char g_off[] = "3059301306072a8648ce3d020106082a8648ce3d03010703420004"
		"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f6";
	/* rsaEncryption, NULL params, RSAPublicKey { n = -1 (0xff), e = 3 } */
	static const char rsa_neg[] = "301a300d06092a864886f70d0101010500030900300602"
		"01ff020103";
	/* rsaEncryption with an OID as parameters */
	static const char rsa_param[] = "3021301406092a864886f70d010101"
		"06072a8648ce3d0201030900300602010502" "0103";
	/* the bit string of g_ok with 1 unused bit */
	static const char g_unused[] = "3059301306072a8648ce3d020106082a8648ce3d03010703420104"
		"6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		"4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";
	char err[ERRLEN], desc[32];
	EVP_PKEY *k;

	(void)state;
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		EVP_PKEY_free(spki_roundtrip(specs[i]));
	assert_non_null(k = spki_hex(g_ok, err, sizeof err));
	pki_key_describe(k, desc, sizeof desc);
	assert_string_equal(desc, "EC P-256");
	EVP_PKEY_free(k);
	assert_null(spki_hex(g_off, err, sizeof err));
	assert_non_null(strstr(err, "not a point on its curve"));
	assert_null(spki_hex(rsa_neg, err, sizeof err));
	assert_non_null(strstr(err, "positive modulus"));
	assert_null(spki_hex(rsa_param, err, sizeof err));
	assert_non_null(strstr(err, "parameters must be NULL"));
	assert_null(spki_hex(g_unused, err, sizeof err));
	assert_non_null(strstr(err, "unused bits"));
	assert_null(spki_hex("3000", err, sizeof err));
	assert_true(err[0] != '\0');
}

/* pki_cert_spki_der finds the key of a certificate where d2i_X509 does, and
 * refuses what is not a certificate (truncated, trailing bytes, garbage). */
static void test_cert_spki_walk(void **state)
{
	X509 *x = vec_cert("keys/capf.crt");
	uint8_t *der = NULL, *want = NULL;
	size_t len;
	int want_len;
	const uint8_t *spki;
	size_t spki_len;
	uint8_t *longer;

	(void)state;
	assert_non_null(x);
	assert_int_equal(pki_cert_to_der(x, &der, &len), 0);
	want_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &want);
	assert_int_equal(pki_cert_spki_der(der, len, &spki, &spki_len), 0);
	assert_int_equal(spki_len, (size_t)want_len);
	assert_memory_equal(spki, want, spki_len);
	assert_int_equal(pki_cert_spki_der(der, len - 1, &spki, &spki_len), -1);
	assert_int_equal(pki_cert_spki_der(der, 200, &spki, &spki_len), -1);
	longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	assert_int_equal(pki_cert_spki_der(longer, len + 1, &spki, &spki_len), -1);
	memset(longer, 0x30, len);
	assert_int_equal(pki_cert_spki_der(longer, len, &spki, &spki_len), -1);
	assert_int_equal(pki_cert_spki_der(NULL, 0, &spki, &spki_len), -1);
	free(longer);
	OPENSSL_free(der);
	OPENSSL_free(want);
	X509_free(x);
}

/* "Subject Name:" and "Certificate Hash:" lines of the parsed ITL, in order. */
static void parsed_itl(char names[3][256], char hashes[3][64])
{
	size_t len;
	char *text = (char *)slurp(vec_path("ITLFile-sha1.tlv.parsed.txt"), &len);
	int ni = 0, hi = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "Subject Name:", 13) == 0 && ni < 3)
			snprintf(names[ni++], 256, "%s", line + 13 + strspn(line + 13, " "));
		if (strncmp(line, "Certificate Hash:", 17) == 0 && hi < 3)
			snprintf(hashes[hi++], 64, "%s", line + 17 + strspn(line + 17, " "));
	}
	free(text);
	assert_int_equal(ni, 3);
	assert_int_equal(hi, 3);
}

static void test_names_against_itl_tool(void **state)
{
	static const char *files[] = { "keys/sast.crt", "keys/capf.crt", "keys/mfg.crt" };
	char names[3][256], hashes[3][64], text[256], colons[64];

	parsed_itl(names, hashes);
	for (int i = 0; i < 3; i++) {
		X509 *x = vec_cert(files[i]);

		assert_int_equal(pki_name_text(X509_get_subject_name(x), PKI_NAME_RFC4514, text, sizeof text), 0);
		assert_string_equal(text, names[i]);
		assert_int_equal(pki_fingerprint(x, "sha1", 0, text, sizeof text), 0);
		assert_string_equal(text, hashes[i]);
		assert_int_equal(pki_fingerprint(x, "sha1", 1, colons, sizeof colons), 0);
		assert_int_equal(strlen(colons), 59);
		for (int j = 0; j < 20; j++) /* "AB:CD:.." upper case of the same bytes */
			assert_true(colons[j * 3] == (char)toupper((unsigned char)text[j * 2]) &&
				    colons[j * 3 + 1] == (char)toupper((unsigned char)text[j * 2 + 1]));
		assert_int_equal(pki_fingerprint(x, "sha256", 0, text, sizeof text), 0);
		assert_int_equal(strlen(text), 64);
		assert_int_equal(pki_fingerprint(x, "md5", 0, text, sizeof text), -1);
		assert_int_equal(pki_fingerprint(x, "sha256", 0, text, 64), -1); /* no room for the NUL */
		X509_free(x);
	}
	{
		X509 *capf = vec_cert("keys/capf.crt");
		assert_int_equal(pki_name_text(X509_get_subject_name(capf), PKI_NAME_VENDOR, text, sizeof text), 0);
		assert_string_equal(text, "CN=CAPF-0a1b2c3d;OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ");
		X509_free(capf);
	}
}

static X509_NAME *name_of(const char *const *kv)
{
	X509_NAME *n = X509_NAME_new();

	for (; kv[0]; kv += 2)
		assert_int_equal(X509_NAME_add_entry_by_txt(n, kv[0], MBSTRING_UTF8, (const unsigned char *)kv[1], -1,
							    -1, 0), 1);
	return n;
}

static void test_name_forms(void **state)
{
	/* encoded the other way round (C first), as OpenSSL-made names usually are */
	static const char *const cisco[] = { "C", "US", "ST", "MA", "L", "Boxborough", "O", "Cisco Systems",
					     "OU", "TAC", "CN", "CAPF-7f0ae8d7", NULL };
	static const char *const odd[] = { "O", "Smith, Jones", "CN", "Zürich+1", "emailAddress", "a@b.c", NULL };
	X509_NAME *n = name_of(cisco);
	char text[256], small[10];

	assert_int_equal(pki_name_text(n, PKI_NAME_VENDOR, text, sizeof text), 0);
	assert_string_equal(text, "CN=CAPF-7f0ae8d7;OU=TAC;O=Cisco Systems;L=Boxborough;ST=MA;C=US");
	assert_int_equal(strlen(text), 63); /* tvs-and-itl.md: SUBJECT_NAME length 64 with its NUL */
	assert_int_equal(pki_name_text(n, PKI_NAME_RFC4514, text, sizeof text), 0);
	assert_string_equal(text, "C=US,ST=MA,L=Boxborough,O=Cisco Systems,OU=TAC,CN=CAPF-7f0ae8d7");
	assert_int_equal(pki_name_text(n, PKI_NAME_VENDOR, small, sizeof small), -1);
	assert_string_equal(small, "CN=CAPF-7");
	assert_int_equal(pki_name_text(n, PKI_NAME_RFC4514, small, sizeof small), -1);
	assert_int_equal(strlen(small), 9);
	assert_int_equal(pki_name_entry(n, NID_organizationName, text, sizeof text), 0);
	assert_string_equal(text, "Cisco Systems");
	assert_int_equal(pki_name_entry(n, NID_serialNumber, text, sizeof text), -1);
	assert_string_equal(text, "");
	assert_int_equal(pki_name_entry(n, NID_organizationName, small, 4), -1);
	X509_NAME_free(n);

	n = name_of(odd);
	assert_int_equal(pki_name_text(n, PKI_NAME_RFC4514, text, sizeof text), 0);
	assert_string_equal(text, "O=Smith\\, Jones,CN=Zürich\\+1,emailAddress=a@b.c");
	assert_int_equal(pki_name_text(n, PKI_NAME_VENDOR, text, sizeof text), 0);
	assert_string_equal(text, "CN=Zürich+1;O=Smith, Jones;emailAddress=a@b.c");
	assert_int_equal(pki_name_entry(n, NID_commonName, text, sizeof text), 0);
	assert_string_equal(text, "Zürich+1");
	X509_NAME_free(n);
}

static void test_cert_info(void **state)
{
	X509 *capf = vec_cert("keys/capf.crt");
	X509 *lsc = vec_cert("keys/lsc-ec.pem");
	struct pki_cert_info info;
	int64_t t;

	assert_int_equal(pki_cert_info(capf, &info), 0);
	assert_string_equal(info.subject, "CN=CAPF-0a1b2c3d,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ");
	assert_string_equal(info.issuer, info.subject);
	assert_string_equal(info.cn, "CAPF-0a1b2c3d");
	assert_string_equal(info.issuer_cn, "CAPF-0a1b2c3d");
	assert_string_equal(info.serial, "12745ed7664723f7f3e5631390e709fb8a5619e9");
	assert_int_equal(parse_time_utc("2026-11-24 18:23:29", &t), 0);
	assert_int_equal(info.not_before, t);
	assert_int_equal(parse_time_utc("2036-11-21 18:23:29", &t), 0);
	assert_int_equal(info.not_after, t);
	assert_string_equal(info.key, "RSA 2048");
	assert_string_equal(info.sha1, "47d7ea2b2a6c382af81981a0bc7d7e7174c389ba");
	assert_int_equal(strlen(info.sha256), 64);
	assert_true(info.is_ca);
	assert_true(info.self_signed);

	assert_int_equal(pki_cert_info(lsc, &info), 0);
	assert_string_equal(info.cn, "SEP0011223344BB");
	assert_string_equal(info.issuer_cn, "CAPF-0a1b2c3d");
	assert_string_equal(info.key, "EC P-256");
	assert_false(info.is_ca);
	assert_false(info.self_signed);
	assert_int_equal(pki_cert_info(NULL, &info), -1);
	X509_free(capf);
	X509_free(lsc);
}

static void org_ok(const char *text, const char *o, const char *ou, const char *l, const char *st, const char *c)
{
	struct pki_org org;
	char err[ERRLEN] = "";

	if (pki_org_parse(text, &org, err, sizeof err) != 0)
		fail_msg("\"%s\": %s", text, err);
	assert_string_equal(org.o, o);
	assert_string_equal(org.ou, ou);
	assert_string_equal(org.l, l);
	assert_string_equal(org.st, st);
	assert_string_equal(org.c, c);
}

static void org_bad(const char *text, const char *words)
{
	struct pki_org org;
	char err[ERRLEN] = "";

	assert_int_equal(pki_org_parse(text, &org, err, sizeof err), -1);
	if (!strstr(err, words))
		fail_msg("\"%s\": error \"%s\" should say \"%s\"", text, err, words);
	assert_string_equal(org.o, ""); /* nothing half-filled */
}

static void test_org_parse(void **state)
{
	char long_o[80];

	org_ok("O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ", "Example", "Voice", "Wellington", "WGN", "NZ");
	org_ok("/O=Example/OU=Voice/L=Wellington/ST=WGN/C=nz", "Example", "Voice", "Wellington", "WGN", "NZ");
	org_ok(" o = Cisco Systems ; ou=TAC;l=Boxborough;st=MA;c=US ", "Cisco Systems", "TAC", "Boxborough", "MA",
	       "US");
	org_ok("O=Smith\\, Jones,C=GB", "Smith, Jones", "", "", "", "GB");
	org_ok("/O=A, B/OU=x", "A, B", "x", "", "", "");
	org_ok("", "", "", "", "", "");
	org_ok("O=Zürich AG", "Zürich AG", "", "", "", "");

	org_bad("X=1", "unknown attribute \"X\"");
	org_bad("O=Example,E=a@b.c", "unknown attribute \"E\"");
	org_bad("CN=foo,O=Example", "CN");
	org_bad("C=NZL", "two-letter");
	org_bad("C=N", "two-letter");
	org_bad("C=1Z", "two-letter");
	org_bad("O=a,O=b", "twice");
	org_bad("O=Example,Voice", "KEY=value");
	org_bad("O=", "empty");
	memset(long_o, 'x', sizeof long_o);
	memcpy(long_o, "O=", 2);
	long_o[2 + 65] = '\0';
	org_bad(long_o, "longer than 64");
	long_o[2 + 64] = '\0';
	{
		struct pki_org org;
		char err[ERRLEN];
		assert_int_equal(pki_org_parse(long_o, &org, err, sizeof err), 0);
		assert_int_equal(strlen(org.o), 64);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_cert_bundles),
		cmocka_unit_test(test_cert_limit),
		cmocka_unit_test(test_session_public_keys),
		cmocka_unit_test(test_spki_reader),
		cmocka_unit_test(test_cert_spki_walk),
		cmocka_unit_test(test_names_against_itl_tool),
		cmocka_unit_test(test_name_forms),
		cmocka_unit_test(test_cert_info),
		cmocka_unit_test(test_org_parse),
	};
	return cmocka_run_group_tests_name("pki-files", tests, setup, teardown);
}
