/*
 * test_pki_sig.c: key generation and the bare-hash signatures of CAPF
 * authentication: round trips for every key CAPF knows, and the strictness
 * of the RSA check (DigestInfo blocks, wrong lengths, bent padding).
 * Keys are generated once for the whole group (RSA-4096 is slow).
 */
#include "pki_test_util.h"
#include "pki/pki.h"
#include "common/util.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	enum pki_key_kind kind;
	int bits;
	const char *describe;
} specs[] = {
	{ PKI_KEY_RSA, 512, "RSA 512" },   { PKI_KEY_RSA, 1024, "RSA 1024" }, { PKI_KEY_RSA, 2048, "RSA 2048" },
	{ PKI_KEY_RSA, 3072, "RSA 3072" }, { PKI_KEY_RSA, 4096, "RSA 4096" }, { PKI_KEY_EC, 256, "EC P-256" },
	{ PKI_KEY_EC, 384, "EC P-384" },   { PKI_KEY_EC, 521, "EC P-521" },
};
#define NKEYS (sizeof specs / sizeof specs[0])
static EVP_PKEY *keys[NKEYS];

static int setup_keys(void **state)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char err[ERRLEN] = "";

		keys[i] = pki_key_generate(specs[i].kind, specs[i].bits, err, sizeof err);
		if (!keys[i]) {
			fprintf(stderr, "generating %s: %s\n", specs[i].describe, err);
			return -1;
		}
	}
	return 0;
}

static int teardown_keys(void **state)
{
	for (size_t i = 0; i < NKEYS; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* A public-only copy, as a verifier would hold it. */
static EVP_PKEY *public_only(EVP_PKEY *key)
{
	uint8_t *der;
	size_t len;
	char err[ERRLEN];
	EVP_PKEY *pub;

	assert_int_equal(pki_pubkey_to_der(key, &der, &len), 0);
	pub = pki_pubkey_from_der(der, len, err, sizeof err);
	assert_non_null(pub);
	OPENSSL_free(der);
	return pub;
}

static void test_generated_keys(void **state)
{
	for (size_t i = 0; i < NKEYS; i++) {
		enum pki_key_kind kind;
		int bits;
		char desc[32];

		assert_int_equal(pki_key_info(keys[i], &kind, &bits), 0);
		assert_int_equal(kind, specs[i].kind);
		assert_int_equal(bits, specs[i].bits);
		pki_key_describe(keys[i], desc, sizeof desc);
		assert_string_equal(desc, specs[i].describe);
		if (kind == PKI_KEY_EC) {
			/* SubjectPublicKeyInfo: named curve (an OID parameter), uncompressed point */
			uint8_t *der;
			size_t len;
			const unsigned char *p, *pk;
			int pklen, ptype;
			const void *pval;
			X509_PUBKEY *xpk;
			X509_ALGOR *alg;

			assert_int_equal(pki_pubkey_to_der(keys[i], &der, &len), 0);
			p = der;
			xpk = d2i_X509_PUBKEY(NULL, &p, (long)len);
			assert_non_null(xpk);
			assert_int_equal(X509_PUBKEY_get0_param(NULL, &pk, &pklen, &alg, xpk), 1);
			X509_ALGOR_get0(NULL, &ptype, &pval, alg);
			assert_int_equal(ptype, V_ASN1_OBJECT);
			assert_int_equal(pk[0], 0x04);
			assert_int_equal(pklen, 1 + 2 * ((bits + 7) / 8));
			X509_PUBKEY_free(xpk);
			OPENSSL_free(der);
		}
	}
}

/* Keys CAPF does not use are not "ours": no kind/size, no signatures. */
static void test_foreign_keys(void **state)
{
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	unsigned char h[32] = { 1 };
	uint8_t *sig;
	size_t siglen;
	char desc[32];

	assert_non_null(k1);
	assert_non_null(k2);
	assert_int_equal(pki_key_info(k1, NULL, NULL), -1);
	assert_int_equal(pki_key_info(k2, NULL, NULL), -1);
	pki_key_describe(k1, desc, sizeof desc);
	assert_string_equal(desc, "EC secp256k1");
	assert_int_equal(pki_bare_sign(k2, h, sizeof h, &sig, &siglen), -1);
	assert_int_equal(pki_bare_verify(k2, h, sizeof h, h, sizeof h), -1);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void test_key_spec(void **state)
{
	static const struct { const char *spec; enum pki_key_kind kind; int bits; } good[] = {
		{ "rsa:512", PKI_KEY_RSA, 512 }, { "rsa:1024", PKI_KEY_RSA, 1024 }, { "rsa:2048", PKI_KEY_RSA, 2048 },
		{ "RSA:3072", PKI_KEY_RSA, 3072 }, { "rsa:4096", PKI_KEY_RSA, 4096 }, { "ec:p256", PKI_KEY_EC, 256 },
		{ "ec:p384", PKI_KEY_EC, 384 }, { "ec:P-521", PKI_KEY_EC, 521 },
	};
	static const char *bad[] = { "", "rsa", "rsa:", "rsa:2047", "rsa:8192", "rsa:2048x", "rsa:-2048",
				     "ec:p255", "ec:", "dsa:1024", "ed25519", "rsa 2048" };
	char err[ERRLEN];

	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		enum pki_key_kind kind = -1;
		int bits = 0;

		assert_int_equal(pki_key_parse_spec(good[i].spec, &kind, &bits, err, sizeof err), 0);
		assert_int_equal(kind, good[i].kind);
		assert_int_equal(bits, good[i].bits);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum pki_key_kind kind;
		int bits;

		err[0] = '\0';
		assert_int_equal(pki_key_parse_spec(bad[i], &kind, &bits, err, sizeof err), -1);
		assert_true(strlen(err) > 10);
	}
	assert_null(pki_key_generate(PKI_KEY_RSA, 1536, err, sizeof err));
	assert_null(pki_key_generate(PKI_KEY_EC, 255, err, sizeof err));
}

static void hash_of(int id, const char *text, unsigned char *h, size_t *hlen)
{
	static const char *names[] = { NULL, "SHA1", "SHA256", "SHA512" };
	unsigned int n;

	assert_int_equal(EVP_Digest(text, strlen(text), h, &n, EVP_get_digestbyname(names[id]), NULL), 1);
	*hlen = n;
}

static void test_round_trips(void **state)
{
	for (size_t i = 0; i < NKEYS; i++) {
		EVP_PKEY *pub = public_only(keys[i]);
		EVP_PKEY *other = keys[(i + 1) % NKEYS];

		for (int id = 1; id <= 3; id++) {
			unsigned char h[64], h2[64];
			size_t hlen, h2len;
			uint8_t *sig = NULL;
			size_t siglen = 0;

			hash_of(id, "auth data", h, &hlen);
			hash_of(id, "other data", h2, &h2len);
			if (specs[i].kind == PKI_KEY_RSA && specs[i].bits == 512 && id == 3) {
				/* 64-byte hash + 11 bytes of padding do not fit a 64-byte block */
				assert_int_equal(pki_bare_sign(keys[i], h, hlen, &sig, &siglen), -1);
				continue;
			}
			assert_int_equal(pki_bare_sign(keys[i], h, hlen, &sig, &siglen), 0);
			if (specs[i].kind == PKI_KEY_RSA)
				assert_int_equal(siglen, (size_t)specs[i].bits / 8);
			assert_int_equal(pki_bare_verify(pub, h, hlen, sig, siglen), 1);
			assert_int_equal(pki_bare_verify(keys[i], h, hlen, sig, siglen), 1);
			assert_int_equal(pki_bare_verify(pub, h2, h2len, sig, siglen), 0);
			if (EVP_PKEY_get_base_id(other) == EVP_PKEY_get_base_id(pub))
				assert_int_equal(pki_bare_verify(other, h, hlen, sig, siglen), 0);
			sig[siglen - 1] ^= 0x01;
			assert_int_equal(pki_bare_verify(pub, h, hlen, sig, siglen), 0);
			sig[siglen - 1] ^= 0x01;
			sig[siglen / 2] ^= 0x40;
			assert_int_equal(pki_bare_verify(pub, h, hlen, sig, siglen), 0);
			assert_int_equal(pki_bare_verify(pub, h, hlen, sig, 0), 0);
			sig[siglen / 2] ^= 0x40;
			{
				/* one byte more: an RSA length error, a DER ECDSA trailing byte */
				uint8_t *longer = OPENSSL_malloc(siglen + 1);

				memcpy(longer, sig, siglen);
				longer[siglen] = 0;
				assert_int_equal(pki_bare_verify(pub, h, hlen, longer, siglen + 1), 0);
				assert_int_equal(pki_bare_verify(pub, h, hlen, longer, siglen), 1);
				OPENSSL_free(longer);
			}
			OPENSSL_free(sig);
		}
		EVP_PKEY_free(pub);
	}
}

/* Raw RSA operation on a block of exactly the modulus length. */
static uint8_t *rsa_raw(EVP_PKEY *key, const uint8_t *block, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t outlen = len;
	uint8_t *out = OPENSSL_malloc(len);

	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, out, &outlen, block, len), 1);
	assert_int_equal(outlen, len);
	EVP_PKEY_CTX_free(ctx);
	return out;
}

static void test_rsa_strict(void **state)
{
	EVP_PKEY *key = keys[2]; /* RSA 2048 */
	EVP_PKEY *pub = public_only(key);
	unsigned char h[64];
	size_t hlen, k = 256, siglen = 0;
	uint8_t block[256], *sig, *bad;
	EVP_PKEY_CTX *ctx;

	hash_of(2, "auth data", h, &hlen);

	/* our block is exactly 00 01 FF..FF 00 || hash */
	block[0] = 0x00;
	block[1] = 0x01;
	memset(block + 2, 0xff, k - 3 - hlen);
	block[k - hlen - 1] = 0x00;
	memcpy(block + k - hlen, h, hlen);
	sig = rsa_raw(key, block, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, k), 1);
	{
		uint8_t *ours;
		size_t ourlen;

		assert_int_equal(pki_bare_sign(key, h, hlen, &ours, &ourlen), 0);
		assert_int_equal(ourlen, k);
		assert_memory_equal(ours, sig, k);
		OPENSSL_free(ours);
	}
	OPENSSL_free(sig);

	/* one padding byte bent */
	block[5] = 0xfe;
	sig = rsa_raw(key, block, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, k), 0);
	OPENSSL_free(sig);
	block[5] = 0xff;
	/* block type 2 instead of 1 */
	block[1] = 0x02;
	sig = rsa_raw(key, block, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, k), 0);
	OPENSSL_free(sig);
	block[1] = 0x01;
	/* the hash with one extra byte in front of it (recovered length differs) */
	block[k - hlen - 1] = 0x07;
	block[k - hlen - 2] = 0x00;
	sig = rsa_raw(key, block, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, k), 0);
	OPENSSL_free(sig);

	/* a normal PKCS#1 v1.5 signature: DigestInfo || hash */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	assert_non_null(ctx);
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
	sig = OPENSSL_malloc(k);
	siglen = k;
	assert_int_equal(EVP_PKEY_sign(ctx, sig, &siglen, h, hlen), 1);
	EVP_PKEY_CTX_free(ctx);
	assert_int_equal(siglen, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, siglen), 0);
	OPENSSL_free(sig);

	/* wrong lengths: a valid signature with a 00 in front, or cut short */
	assert_int_equal(pki_bare_sign(key, h, hlen, &sig, &siglen), 0);
	bad = OPENSSL_malloc(k + 1);
	bad[0] = 0;
	memcpy(bad + 1, sig, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, bad, k + 1), 0);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig, k - 1), 0);
	assert_int_equal(pki_bare_verify(pub, h, hlen, sig + 1, k - 1), 0);
	/* a value >= the modulus */
	memset(bad, 0xff, k);
	assert_int_equal(pki_bare_verify(pub, h, hlen, bad, k), 0);
	OPENSSL_free(bad);
	OPENSSL_free(sig);

	/* our errors, not the peer's: odd hash length, key types CAPF does not use */
	assert_int_equal(pki_bare_verify(pub, h, 17, h, 17), -1);
	assert_int_equal(pki_bare_verify(NULL, h, hlen, h, hlen), -1);
	EVP_PKEY_free(pub);
}

static void test_capf_auth_round_trip(void **state)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 }; /* any bytes will do */
	for (size_t i = 0; i < NKEYS; i++) {
		uint8_t *s1, *s3, *su;
		size_t l1, l3, lu;

		assert_int_equal(pki_capf_auth_sign(keys[i], "SEP001122334455", der, sizeof der, &s1, &l1, &s3, &l3), 0);
		assert_int_equal(pki_capf_auth_verify(keys[i], "SEP001122334455", der, sizeof der, 1, s1, l1), 1);
		assert_int_equal(pki_capf_auth_verify(keys[i], "SEP001122334456", der, sizeof der, 1, s1, l1), 0);
		if (specs[i].kind == PKI_KEY_RSA && specs[i].bits == 512) {
			assert_null(s3);
			assert_int_equal(l3, 0);
		} else {
			assert_int_equal(pki_capf_auth_verify(keys[i], "SEP001122334455", der, sizeof der, 3, s3, l3), 1);
			assert_int_equal(pki_capf_auth_verify(keys[i], "SEP001122334455", der, sizeof der - 1, 3, s3, l3),
					 0);
		}
		assert_int_equal(pki_sudi_sign(keys[i], 0x01020304, der, sizeof der, 1, &su, &lu), 0);
		assert_int_equal(pki_sudi_verify(keys[i], 0x01020304, der, sizeof der, 1, su, lu), 1);
		assert_int_equal(pki_sudi_verify(keys[i], 0x04030201, der, sizeof der, 1, su, lu), 0);
		assert_int_equal(pki_sudi_verify(keys[i], 0x01020304, der, sizeof der, 0, su, lu), -1);
		OPENSSL_free(su);
		OPENSSL_free(s1);
		OPENSSL_free(s3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_spec),
		cmocka_unit_test(test_foreign_keys),
		cmocka_unit_test(test_generated_keys),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_rsa_strict),
		cmocka_unit_test(test_capf_auth_round_trip),
	};
	return cmocka_run_group_tests_name("pki-sig", tests, setup_keys, teardown_keys);
}
