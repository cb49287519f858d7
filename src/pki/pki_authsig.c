/*
 * pki_authsig.c: the signatures of CAPF authentication (capf-protocol.md,
 * "Authentication"): SIGNED_DATA, SHA2_SIGNED_DATA and the SUDI signatures.
 *
 * They are not ordinary PKCS#1 v1.5 signatures: for RSA the signed block is
 * 00 01 FF..FF 00 || hash with no DigestInfo. OpenSSL 3 produces exactly that
 * with EVP_PKEY_sign, RSA_PKCS1_PADDING and no signature digest on the
 * context, and gives the hash back with EVP_PKEY_verify_recover, whose
 * type-1 padding check is strict; the recovered bytes must then equal the
 * hash exactly (constant-time compare), so a normal signature carrying a
 * DigestInfo is rejected. A signature must be exactly as long as the
 * modulus. For EC the signature is plain DER ECDSA over the hash bytes.
 *
 * Return convention of the verifiers: 1 valid, 0 invalid (anything a peer
 * can send that does not check out), -1 only for our own errors (no key, a
 * key type CAPF does not use, an unknown hash id, out of memory).
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/rsa.h>
#include <string.h>

static int hashlen_ok(size_t n)
{
	return n == 20 || n == 28 || n == 32 || n == 48 || n == 64;
}

int pki_bare_sign(EVP_PKEY *key, const uint8_t *hash, size_t hashlen, uint8_t **sig, size_t *siglen)
{
	EVP_PKEY_CTX *ctx;
	int type;
	unsigned char *out = NULL;
	size_t outlen = 0;
	int ok = 0;

	if (!key || !hash || !sig || !siglen || !hashlen_ok(hashlen))
		return -1;
	type = EVP_PKEY_get_base_id(key);
	if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC)
		return -1;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if (!ctx || EVP_PKEY_sign_init(ctx) <= 0)
		goto out;
	if (type == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	/* no EVP_PKEY_CTX_set_signature_md: the hash goes into the block bare */
	if (EVP_PKEY_sign(ctx, NULL, &outlen, hash, hashlen) <= 0)
		goto out;
	out = OPENSSL_malloc(outlen);
	if (!out || EVP_PKEY_sign(ctx, out, &outlen, hash, hashlen) <= 0)
		goto out;
	ok = 1;
out:
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		/* e.g. RSA-512 cannot carry a 64-byte hash in its 64-byte block */
		OPENSSL_free(out);
		ERR_clear_error();
		return -1;
	}
	*sig = out;
	*siglen = outlen;
	return 0;
}

static int verify_rsa(EVP_PKEY *pub, const uint8_t *hash, size_t hashlen, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx;
	unsigned char *rec = NULL;
	size_t modlen = (size_t)EVP_PKEY_get_size(pub);
	size_t reclen = modlen;
	int r = -1;

	if (modlen == 0)
		return -1;
	if (siglen != modlen)
		return 0;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	rec = OPENSSL_malloc(modlen);
	if (!ctx || !rec || EVP_PKEY_verify_recover_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (EVP_PKEY_verify_recover(ctx, rec, &reclen, sig, siglen) <= 0) {
		r = 0; /* bad padding, value >= modulus, ...: not a signature of anything */
		goto out;
	}
	r = ct_equal(rec, reclen, hash, hashlen) ? 1 : 0;
out:
	OPENSSL_free(rec);
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

static int verify_ec(EVP_PKEY *pub, const uint8_t *hash, size_t hashlen, const uint8_t *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
	int r = -1;

	if (ctx && EVP_PKEY_verify_init(ctx) > 0)
		r = EVP_PKEY_verify(ctx, sig, siglen, hash, hashlen) == 1 ? 1 : 0;
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

int pki_bare_verify(EVP_PKEY *pub, const uint8_t *hash, size_t hashlen, const uint8_t *sig, size_t siglen)
{
	if (!pub || !hash || !hashlen_ok(hashlen))
		return -1;
	if (!sig || siglen == 0)
		return 0;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_RSA:
		return verify_rsa(pub, hash, hashlen, sig, siglen);
	case EVP_PKEY_EC:
		return verify_ec(pub, hash, hashlen, sig, siglen);
	default:
		return -1;
	}
}

/* hash(a || b) with the digest of hash_id; returns the length or 0. */
static size_t hash2(int hash_id, const void *a, size_t alen, const void *b, size_t blen,
		    unsigned char out[EVP_MAX_MD_SIZE])
{
	const EVP_MD *md = pki_hash_md(hash_id);
	EVP_MD_CTX *ctx;
	unsigned int n = 0;
	int ok;

	if (!md || !(ctx = EVP_MD_CTX_new()))
		return 0;
	ok = EVP_DigestInit_ex(ctx, md, NULL) == 1 && EVP_DigestUpdate(ctx, a, alen) == 1 &&
	     EVP_DigestUpdate(ctx, b, blen) == 1 && EVP_DigestFinal_ex(ctx, out, &n) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		ERR_clear_error();
	return ok ? n : 0;
}

/* auth_data = devname + NUL + certificate DER */
static size_t auth_hash(int hash_id, const char *devname, const uint8_t *der, size_t derlen,
			unsigned char out[EVP_MAX_MD_SIZE])
{
	if (!devname || !der)
		return 0;
	return hash2(hash_id, devname, strlen(devname) + 1, der, derlen, out);
}

/* signed bytes = session id as 4 bytes little-endian + SUDI certificate DER */
static size_t sudi_hash(int hash_id, uint32_t session_id, const uint8_t *der, size_t derlen,
			unsigned char out[EVP_MAX_MD_SIZE])
{
	unsigned char le[4] = { (unsigned char)session_id, (unsigned char)(session_id >> 8),
				(unsigned char)(session_id >> 16), (unsigned char)(session_id >> 24) };

	if (!der)
		return 0;
	return hash2(hash_id, le, sizeof le, der, derlen, out);
}

int pki_capf_auth_sign(EVP_PKEY *key, const char *devname, const uint8_t *der, size_t derlen,
		       uint8_t **sig_sha1, size_t *sig_sha1_len, uint8_t **sig_sha512, size_t *sig_sha512_len)
{
	unsigned char h1[EVP_MAX_MD_SIZE], h3[EVP_MAX_MD_SIZE];
	size_t n1, n3;

	if (!sig_sha1 || !sig_sha1_len || !sig_sha512 || !sig_sha512_len)
		return -1;
	*sig_sha1 = *sig_sha512 = NULL;
	*sig_sha1_len = *sig_sha512_len = 0;
	n1 = auth_hash(1, devname, der, derlen, h1);
	n3 = auth_hash(3, devname, der, derlen, h3);
	if (!n1 || !n3 || pki_bare_sign(key, h1, n1, sig_sha1, sig_sha1_len) != 0)
		return -1;
	if (pki_bare_sign(key, h3, n3, sig_sha512, sig_sha512_len) != 0) {
		enum pki_key_kind kind;
		int bits;

		/* RSA-512: the 64-byte SHA-512 hash does not fit; a phone sends no SHA2_SIGNED_DATA */
		if (pki_key_info(key, &kind, &bits) == 0 && kind == PKI_KEY_RSA && bits < 1024) {
			*sig_sha512 = NULL;
			*sig_sha512_len = 0;
			return 0;
		}
		OPENSSL_free(*sig_sha1);
		*sig_sha1 = NULL;
		*sig_sha1_len = 0;
		return -1;
	}
	return 0;
}

int pki_capf_auth_verify(EVP_PKEY *pub, const char *devname, const uint8_t *der, size_t derlen,
			 int hash_id, const uint8_t *sig, size_t siglen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	size_t n = auth_hash(hash_id, devname, der, derlen, h);

	if (!n)
		return -1;
	return pki_bare_verify(pub, h, n, sig, siglen);
}

int pki_sudi_verify(EVP_PKEY *pub, uint32_t session_id, const uint8_t *der, size_t derlen,
		    int hash_id, const uint8_t *sig, size_t siglen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	size_t n = sudi_hash(hash_id, session_id, der, derlen, h);

	if (!n)
		return -1;
	return pki_bare_verify(pub, h, n, sig, siglen);
}

int pki_sudi_sign(EVP_PKEY *key, uint32_t session_id, const uint8_t *der, size_t derlen,
		  int hash_id, uint8_t **sig, size_t *siglen)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	size_t n = sudi_hash(hash_id, session_id, der, derlen, h);

	if (!n)
		return -1;
	return pki_bare_sign(key, h, n, sig, siglen);
}
