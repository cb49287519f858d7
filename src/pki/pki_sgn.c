/*
 * pki_sgn.c: signing, verifying, encrypting and decrypting `.sgn` and
 * `.enc.sgn` files (pki_sgn.h) on OpenSSL 3 EVP, with the byte layout left
 * to the codec (wire/sgn.h). The signature itself is the ITL's
 * (pki_itl_sign / pki_itl_verify_sig): same hash ids, same padding.
 */
#include "pki/pki_sgn.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "pki/pki_internal.h"
#include "wire/sgn.h"

#define NAME_MAX_TEXT 1024
#define AES_KEY_LEN 16

void pki_sgn_opts_default(struct pki_sgn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->hash_alg = SGN_HASH_SHA1;
	o->names = PKI_NAME_RFC4514;
}

static int serial_bytes(X509 *cert, const uint8_t **p, size_t *len)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(cert);

	if (!s || ASN1_STRING_length(s) <= 0)
		return -1;
	*p = ASN1_STRING_get0_data(s);
	*len = (size_t)ASN1_STRING_length(s);
	return 0;
}

struct names {
	char subject[NAME_MAX_TEXT], issuer[NAME_MAX_TEXT];
};

/* The header fields that come from the options, signer and key. */
static int spec_init(const struct pki_sgn_opts *o, X509 *signer, EVP_PKEY *key,
		     struct sgn_spec *s, struct names *n, char *err, size_t errlen)
{
	int mod = pki_itl_modulus_index(key);

	if (mod < 0) {
		seterr(err, errlen, "the signing key must be RSA of 512, 1024, 2048 or 4096 bits");
		return -1;
	}
	if (pki_cert_key_match(signer, key) != 1) {
		seterr(err, errlen, "the signing key does not belong to the signer certificate");
		return -1;
	}
	if (o->hash_alg != SGN_HASH_SHA1 && o->hash_alg != SGN_HASH_SHA512) {
		seterr(err, errlen, "hash algorithm %d is not SHA-1 (1) or SHA-512 (3)", o->hash_alg);
		return -1;
	}
	memset(s, 0, sizeof *s);
	if (!o->filename || pki_name_text(X509_get_subject_name(signer), o->names, n->subject,
					  sizeof n->subject) < 0 ||
	    pki_name_text(X509_get_issuer_name(signer), o->names, n->issuer, sizeof n->issuer) < 0 ||
	    serial_bytes(signer, &s->serial, &s->serial_len) < 0) {
		seterr(err, errlen, "cannot read the signer certificate's names and serial, or no "
		       "file name was given");
		return -1;
	}
	s->version_major = 1;
	s->signer_name = n->subject;
	s->issuer_name = n->issuer;
	s->hash_alg = (uint8_t)o->hash_alg;
	s->modulus_index = (uint8_t)mod;
	s->filename = o->filename;
	s->timestamp = o->timestamp ? o->timestamp : (uint32_t)now_utc();
	return 0;
}

/* Sign the file built at out[start..] in place, then check it as a reader. */
static int sign_built(struct buf *out, size_t start, size_t sig_at, EVP_PKEY *key, X509 *signer,
		      int hash_alg, char *err, size_t errlen)
{
	struct sgn_file f;
	struct buf data;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc = -1;

	buf_init(&data);
	if (sgn_decode(&f, out->data + start, out->len - start, err, errlen) < 0 ||
	    sgn_signed_data(&f, &data, err, errlen) < 0 ||
	    pki_itl_sign(key, hash_alg, data.data, data.len, &sig, &siglen, err, errlen) < 0)
		goto out;
	if (siglen != f.signature.len) {
		seterr(err, errlen, "the signature is %zu bytes, the header has room for %zu", siglen,
		       f.signature.len);
		goto out;
	}
	memcpy(out->data + sig_at, sig, siglen);
	rc = pki_sgn_verify(&f, signer, err, errlen);
out:
	OPENSSL_free(sig);
	buf_free(&data);
	if (rc < 0)
		out->len = start;
	return rc;
}

int pki_sgn_sign(const struct pki_sgn_opts *o, X509 *signer, EVP_PKEY *key, const uint8_t *content,
		 size_t len, struct buf *out, char *err, size_t errlen)
{
	struct sgn_spec s;
	struct names n;
	size_t start = out->len, sig_at = 0;

	if (spec_init(o, signer, key, &s, &n, err, errlen) < 0 ||
	    sgn_build(&s, content, len, out, &sig_at, err, errlen) < 0)
		return -1;
	return sign_built(out, start, sig_at, key, signer, o->hash_alg, err, errlen);
}

/* ---- encryption ---- */

static int digest(int hash_alg, const uint8_t *p, size_t len, uint8_t *md, size_t *mdlen)
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, md, &n, pki_hash_md(hash_alg), NULL) != 1) {
		ERR_clear_error();
		return -1;
	}
	*mdlen = n;
	return 0;
}

/* AES-128-CBC without OpenSSL's padding (the input is whole blocks). */
static int aes_cbc(int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len,
		   uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0, ok;

	ok = c && len <= INT32_MAX &&
	     EVP_CipherInit_ex(c, EVP_aes_128_cbc(), NULL, key, iv, enc) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	     EVP_CipherUpdate(c, out, &n1, in, (int)len) == 1 &&
	     EVP_CipherFinal_ex(c, out + n1, &n2) == 1 && (size_t)(n1 + n2) == len;
	EVP_CIPHER_CTX_free(c);
	ERR_clear_error();
	return ok ? 0 : -1;
}

/* RSA PKCS#1 v1.5 encrypt (enc) or decrypt of in with key into *out. */
static int rsa_wrap(int enc, EVP_PKEY *key, const uint8_t *in, size_t len, uint8_t *out,
		    size_t *outlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	int ok;

	ok = c && (enc ? EVP_PKEY_encrypt_init(c) : EVP_PKEY_decrypt_init(c)) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) == 1 &&
	     (enc ? EVP_PKEY_encrypt(c, out, outlen, in, len) :
		    EVP_PKEY_decrypt(c, out, outlen, in, len)) == 1;
	EVP_PKEY_CTX_free(c);
	ERR_clear_error();
	return ok ? 0 : -1;
}

struct enc_parts {
	uint8_t key[AES_KEY_LEN], iv[SGN_AES_BLOCK];
	uint8_t wrapped[512], hash[EVP_MAX_MD_SIZE];
	size_t wrapped_len, hash_len;
	struct buf cipher;
};

static int encrypt_parts(int hash_alg, EVP_PKEY *pub, const uint8_t *xml, size_t len,
			 struct enc_parts *e, struct sgn_enc_spec *es, char *err, size_t errlen)
{
	size_t pad = SGN_AES_BLOCK - len % SGN_AES_BLOCK; /* 1..16, never 0 */

	e->wrapped_len = sizeof e->wrapped;
	if (RAND_bytes(e->key, sizeof e->key) != 1 || RAND_bytes(e->iv, sizeof e->iv) != 1 ||
	    digest(hash_alg, xml, len, e->hash, &e->hash_len) < 0 ||
	    rsa_wrap(1, pub, e->key, sizeof e->key, e->wrapped, &e->wrapped_len) < 0) {
		seterr(err, errlen, "cannot make or wrap the AES key for the phone's RSA key");
		return -1;
	}
	buf_put(&e->cipher, xml, len);
	for (size_t i = 0; i < pad; i++)
		buf_put_u8(&e->cipher, '\r');
	if (e->cipher.failed ||
	    aes_cbc(1, e->key, e->iv, e->cipher.data, e->cipher.len, e->cipher.data) < 0) {
		seterr(err, errlen, "cannot encrypt the configuration (AES-128-CBC)");
		return -1;
	}
	*es = (struct sgn_enc_spec){ .iv = e->iv, .pad = (uint16_t)pad, .key = e->wrapped,
				     .key_len = e->wrapped_len, .hash_alg = (uint8_t)hash_alg,
				     .hash = e->hash, .hash_len = e->hash_len };
	return 0;
}

int pki_sgn_encrypt(const struct pki_sgn_opts *o, X509 *signer, EVP_PKEY *key, X509 *phone,
		    const uint8_t *xml, size_t len, struct buf *out, char *err, size_t errlen)
{
	EVP_PKEY *pub = phone ? X509_get0_pubkey(phone) : NULL;
	struct enc_parts e;
	struct sgn_enc_spec es;
	struct sgn_spec s;
	struct names n;
	size_t start = out->len, sig_at = 0;
	int rc = -1;

	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		seterr(err, errlen, "the phone certificate's key is not RSA: a configuration can only "
		       "be encrypted to an RSA phone key (an EC-only phone cannot get one)");
		return -1;
	}
	buf_init(&e.cipher);
	if (spec_init(o, signer, key, &s, &n, err, errlen) < 0 ||
	    encrypt_parts(o->hash_alg, pub, xml, len, &e, &es, err, errlen) < 0)
		goto out;
	s.version_major = 2;
	s.enc = &es;
	if (sgn_build(&s, e.cipher.data, e.cipher.len, out, &sig_at, err, errlen) == 0)
		rc = sign_built(out, start, sig_at, key, signer, o->hash_alg, err, errlen);
out:
	OPENSSL_cleanse(e.key, sizeof e.key);
	buf_free(&e.cipher);
	return rc;
}

/* ---- verifying and decrypting ---- */

static int serial_matches(const struct sgn_file *f, X509 *cert, char *err, size_t errlen)
{
	const uint8_t *p;
	size_t len;
	char want[80], got[80];

	if (serial_bytes(cert, &p, &len) < 0) {
		seterr(err, errlen, "cannot read the certificate's serial number");
		return -1;
	}
	if (len == f->serial.len && memcmp(p, f->serial.p, len) == 0)
		return 0;
	hex_encode(f->serial.p, f->serial.len < 32 ? f->serial.len : 32, got);
	hex_encode(p, len < 32 ? len : 32, want);
	seterr(err, errlen, "the file was signed by serial number %s, the certificate's is %s",
	       got, want);
	return -1;
}

int pki_sgn_verify(const struct sgn_file *f, X509 *cert, char *err, size_t errlen)
{
	EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL;
	struct buf data;
	int rc;

	if (sgn_check(f, err, errlen) < 0 || serial_matches(f, cert, err, errlen) < 0)
		return -1;
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		seterr(err, errlen, "the certificate's key is not RSA");
		return -1;
	}
	buf_init(&data);
	if (sgn_signed_data(f, &data, err, errlen) < 0) {
		buf_free(&data);
		return -1;
	}
	rc = pki_itl_verify_sig(pub, f->hash_alg, data.data, data.len, f->signature.p,
				f->signature.len);
	buf_free(&data);
	if (rc != 1) {
		seterr(err, errlen, "bad signature: the file's %s signature does not verify with "
		       "the certificate's key", sgn_hash_name(f->hash_alg));
		return -1;
	}
	return 0;
}

static int unwrap_key(const struct sgn_file *f, EVP_PKEY *phone_key, uint8_t key[AES_KEY_LEN],
		      char *err, size_t errlen)
{
	uint8_t out[512];
	size_t outlen = sizeof out;

	if (!phone_key || EVP_PKEY_get_base_id(phone_key) != EVP_PKEY_RSA) {
		seterr(err, errlen, "the phone key is not RSA");
		return -1;
	}
	if (rsa_wrap(0, phone_key, f->enc.key.p, f->enc.key.len, out, &outlen) < 0 ||
	    outlen != AES_KEY_LEN) {
		seterr(err, errlen, "cannot unwrap the AES key with this phone key (encrypted to "
		       "another certificate?)");
		OPENSSL_cleanse(out, sizeof out);
		return -1;
	}
	memcpy(key, out, AES_KEY_LEN);
	OPENSSL_cleanse(out, sizeof out);
	return 0;
}

int pki_sgn_decrypt(const struct sgn_file *f, EVP_PKEY *phone_key, struct buf *xml, char *err,
		    size_t errlen)
{
	uint8_t key[AES_KEY_LEN], md[EVP_MAX_MD_SIZE];
	size_t start = xml->len, plain, mdlen = 0;

	if (sgn_check(f, err, errlen) < 0)
		return -1;
	if (!f->enc.present) {
		seterr(err, errlen, "the file is not encrypted (no ENCRYPTION_INFO)");
		return -1;
	}
	if (unwrap_key(f, phone_key, key, err, errlen) < 0)
		return -1;
	buf_put(xml, f->content, f->content_len);
	if (xml->failed || aes_cbc(0, key, f->enc.iv.p, xml->data + start, f->content_len,
				   xml->data + start) < 0) {
		OPENSSL_cleanse(key, sizeof key);
		seterr(err, errlen, "cannot decrypt the configuration (AES-128-CBC)");
		xml->len = start;
		return -1;
	}
	OPENSSL_cleanse(key, sizeof key);
	plain = f->content_len - (size_t)f->enc.pad;
	xml->len = start + plain;
	if (digest(f->enc.hash_alg, xml->data + start, plain, md, &mdlen) < 0 ||
	    !ct_equal(md, mdlen, f->enc.hash.p, f->enc.hash.len)) {
		seterr(err, errlen, "the decrypted configuration does not match ENCRYPTION_HASH");
		xml->len = start;
		return -1;
	}
	return 0;
}
