/*
 * pki_itl.c: the X.509 and RSA side of ITL / CTL files
 * (docs/protocol/tvs-and-itl.md): signing and verifying the file, the
 * PUBLIC_KEY and SIGNATURE values of a record, matching a record against a
 * certificate, and the self-signed service certificates (the SAST/TFTP
 * signer, the TVS certificate) that go into the file.
 *
 * The file signature is an ordinary RSA PKCS#1 v1.5 signature with
 * DigestInfo, over the file with its SIGNATURE TLV cut out (itl.h,
 * itl_signed_data), using the header's hash (1 SHA-1, 2 SHA-256, 3 SHA-512).
 * The signer is the record with role SAST whose SERIAL_NUMBER equals the
 * header's: verification uses that record's CERTIFICATE, never a key from
 * anywhere else, so a file can only vouch for itself through a SAST record
 * it carries (a phone then decides whether it trusts that signer).
 *
 * Record values are taken from the certificate as encoded: PUBLIC_KEY is the
 * subjectPublicKey BIT STRING content (a DER RSAPublicKey for RSA, the
 * uncompressed point for EC), SIGNATURE the certificate's signature bits.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"
#include "wire/itl.h"
#include "wire/roles.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

int pki_itl_sign(EVP_PKEY *key, int hash_alg, const uint8_t *data, size_t len, uint8_t **sig,
		 size_t *siglen, char *err, size_t errlen)
{
	const EVP_MD *md = pki_hash_md(hash_alg);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t n = 0;
	uint8_t *out = NULL;

	*sig = NULL;
	*siglen = 0;
	if (!md) {
		seterr(err, errlen, "unknown ITL hash algorithm %d", hash_alg);
		return -1;
	}
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		seterr(err, errlen, "the ITL signing key must be RSA");
		return -1;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestSignInit(ctx, &pctx, md, NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || !(out = OPENSSL_malloc(n)) ||
	    EVP_DigestSign(ctx, out, &n, data, len) != 1) {
		pki_ossl_err(err, errlen, "cannot sign the ITL file");
		OPENSSL_free(out);
		EVP_MD_CTX_free(ctx);
		return -1;
	}
	EVP_MD_CTX_free(ctx);
	*sig = out;
	*siglen = n;
	return 0;
}

int pki_itl_verify_sig(EVP_PKEY *pub, int hash_alg, const uint8_t *data, size_t len, const uint8_t *sig,
		       size_t siglen)
{
	const EVP_MD *md = pki_hash_md(hash_alg);
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int rc;

	if (!md || !pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pub) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(ctx);
		ERR_clear_error();
		return -1;
	}
	rc = EVP_DigestVerify(ctx, sig, siglen, data, len);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc == 1 ? 1 : 0;
}

int pki_itl_modulus_index(EVP_PKEY *key)
{
	int bytes;

	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
		return -1;
	bytes = EVP_PKEY_get_size(key);
	for (int i = 0; i < 4; i++)
		if (bytes == (64 << i))
			return i;
	return -1;
}

int pki_itl_cert_parts(X509 *cert, const uint8_t **pubkey, size_t *pubkeylen, const uint8_t **sig,
		       size_t *siglen)
{
	const unsigned char *pk = NULL;
	const ASN1_BIT_STRING *bits = NULL;
	int pklen = 0;

	if (!cert || X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, X509_get_X509_PUBKEY(cert)) != 1 ||
	    !pk || pklen <= 0) {
		ERR_clear_error();
		return -1;
	}
	X509_get0_signature(&bits, NULL, cert);
	if (!bits || ASN1_STRING_length(bits) <= 0)
		return -1;
	*pubkey = pk;
	*pubkeylen = (size_t)pklen;
	*sig = ASN1_STRING_get0_data(bits);
	*siglen = (size_t)ASN1_STRING_length(bits);
	return 0;
}

int pki_itl_record_matches(const struct itl_record *r, const uint8_t *der, size_t derlen)
{
	struct itl_bytes b;
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (itl_record_certificate(r, &b) == 0)
		return b.len == derlen && memcmp(b.p, der, derlen) == 0;
	if (itl_record_cert_hash(r, &b) == 0) {
		if (EVP_Digest(der, derlen, h, &hlen, EVP_sha1(), NULL) != 1) {
			ERR_clear_error();
			return 0;
		}
		return b.len == hlen && ct_equal(b.p, b.len, h, hlen);
	}
	return 0;
}

/* 1 valid, 0 invalid, -1 when the record's certificate cannot be used. */
static int verify_with_record(const struct itl_file *f, const struct itl_record *r, const struct buf *data,
			      char *why, size_t whylen)
{
	struct itl_bytes der;
	X509 *cert;
	EVP_PKEY *pub;
	int rc;

	if (itl_record_certificate(r, &der) < 0) {
		seterr(why, whylen, "the SAST record at byte %zu carries no certificate to check the "
		       "signature with", r->offset);
		return -1;
	}
	cert = pki_cert_from_der(der.p, der.len, why, whylen);
	if (!cert)
		return -1;
	pub = X509_get0_pubkey(cert);
	if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA) {
		seterr(why, whylen, "the SAST record at byte %zu holds a certificate without an RSA key",
		       r->offset);
		X509_free(cert);
		return -1;
	}
	rc = pki_itl_verify_sig(pub, f->hdr.hash_alg, data->data, data->len, f->hdr.signature.p,
				f->hdr.signature.len);
	X509_free(cert);
	return rc < 0 ? -1 : rc;
}

static int header_usable(const struct itl_file *f, char *err, size_t errlen)
{
	const struct itl_header *h = &f->hdr;

	if (!h->signature.p) {
		seterr(err, errlen, "the header has no SIGNATURE");
		return -1;
	}
	if (!h->serial.p) {
		seterr(err, errlen, "the header has no signer SERIAL_NUMBER");
		return -1;
	}
	if (!pki_hash_md(h->hash_alg)) {
		seterr(err, errlen, "unknown hash algorithm %d in the header", h->hash_alg);
		return -1;
	}
	if (h->sig_alg >= 0 && h->sig_alg != ITL_SIG_RSA) {
		seterr(err, errlen, "unknown signature algorithm %d in the header (only 0, RSA, exists)",
		       h->sig_alg);
		return -1;
	}
	if (h->modulus_index >= 0 && itl_modulus_bytes(h->modulus_index) != h->signature.len) {
		seterr(err, errlen, "the signature is %zu bytes but the header's modulus index %d says %zu",
		       h->signature.len, h->modulus_index, itl_modulus_bytes(h->modulus_index));
		return -1;
	}
	return 0;
}

int pki_itl_verify(const struct itl_file *f, size_t *signer, char *err, size_t errlen)
{
	struct buf data;
	char why[ERRLEN] = "", serial[64 * 3 + 4] = "";
	int candidates = 0, rc = -1;

	if (header_usable(f, err, errlen) < 0)
		return -1;
	buf_init(&data);
	if (itl_signed_data(f, &data, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < f->nrecords && rc != 0; i++) {
		const struct itl_record *r = &f->records[i];
		struct itl_bytes s;

		if (!itl_record_has_role(r, ROLE_SAST) || itl_record_serial(r, &s) < 0 ||
		    s.len != f->hdr.serial.len || memcmp(s.p, f->hdr.serial.p, s.len) != 0)
			continue;
		candidates++;
		switch (verify_with_record(f, r, &data, why, sizeof why)) {
		case 1:
			if (signer)
				*signer = i;
			rc = 0;
			break;
		case 0:
			seterr(why, sizeof why, "bad signature: the file does not verify with the key of "
			       "the SAST record at byte %zu (changed after signing, or signed by another key)",
			       r->offset);
			break;
		default:
			break;
		}
	}
	buf_free(&data);
	if (rc == 0)
		return 0;
	if (candidates == 0) {
		if (f->hdr.serial.len <= 64)
			hex_encode_sep(f->hdr.serial.p, f->hdr.serial.len, ':', 1, serial);
		seterr(err, errlen, "no SAST record matches the header's signer serial number %s",
		       serial[0] ? serial : "(too long to show)");
	} else {
		seterr(err, errlen, "%s", why);
	}
	return -1;
}

/* ---- service certificates ---- */

static int add_name(X509_NAME *name, int nid, const char *value)
{
	if (!value || !value[0])
		return 0;
	return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0) == 1
		       ? 0 : -1;
}

X509 *pki_service_cert_create(EVP_PKEY *key, const char *cn, const struct pki_org *org, int days,
			      char *err, size_t errlen)
{
	static const struct pki_org no_org;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	if (!org)
		org = &no_org;
	if (!x || !name) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (!key || pki_key_info(key, NULL, NULL) != 0) {
		seterr(err, errlen, "a service certificate needs an RSA or EC key");
		goto fail;
	}
	if (!cn || !cn[0] || strlen(cn) > 64) {
		seterr(err, errlen, "a service certificate needs a common name of 1 to 64 characters");
		goto fail;
	}
	if (add_name(name, NID_commonName, cn) || add_name(name, NID_organizationalUnitName, org->ou) ||
	    add_name(name, NID_organizationName, org->o) || add_name(name, NID_localityName, org->l) ||
	    add_name(name, NID_stateOrProvinceName, org->st) || add_name(name, NID_countryName, org->c)) {
		pki_ossl_err(err, errlen, "cannot build the certificate subject");
		goto fail;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || pki_set_random_serial(x) != 0 ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1) {
		pki_ossl_err(err, errlen, "cannot build the certificate");
		goto fail;
	}
	if (pki_set_validity(x, time(NULL), days, err, errlen) < 0)
		goto fail;
	if (pki_add_ext_conf(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err, errlen) < 0 ||
	    pki_add_ext_conf(x, x, NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign",
			     err, errlen) < 0 ||
	    pki_add_ext_conf(x, x, NID_ext_key_usage, "serverAuth,clientAuth", err, errlen) < 0 ||
	    pki_add_ext_conf(x, x, NID_subject_key_identifier, "hash", err, errlen) < 0)
		goto fail;
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		pki_ossl_err(err, errlen, "cannot sign the certificate");
		goto fail;
	}
	X509_NAME_free(name);
	return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}
