/*
 * pki_util.c: the small pieces every certificate builder in pki/ shares (see
 * pki_internal.h): OpenSSL error text, serials, validity, extensions from
 * constant configuration strings, CAPF hash ids.
 */
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

void pki_ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason)
		seterr(err, errlen, "%s: %s", what, reason);
	else
		seterr(err, errlen, "%s", what);
	ERR_clear_error();
}

int pki_set_random_serial(X509 *x)
{
	unsigned char b[16];
	BIGNUM *bn;
	ASN1_INTEGER *ai;
	int ok;

	do {
		if (RAND_bytes(b, sizeof b) != 1)
			return -1;
		b[0] &= 0x7f; /* positive: no 00 pad byte needed */
	} while (b[0] == 0); /* a leading zero byte would shorten the DER to 15 bytes */
	bn = BN_bin2bn(b, sizeof b, NULL);
	ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = ai && X509_set_serialNumber(x, ai) == 1;
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : -1;
}

int pki_set_validity(X509 *x, time_t now, int days, char *err, size_t errlen)
{
	if (days <= 0 || days > PKI_MAX_DAYS) {
		seterr(err, errlen, "validity of %d days is out of range (1..%d)", days, PKI_MAX_DAYS);
		return -1;
	}
	if (!X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now)) {
		pki_ossl_err(err, errlen, "cannot set the validity");
		return -1;
	}
	return 0;
}

int pki_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value, char *err, size_t errlen)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	ok = ext && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	if (!ok) {
		char what[96];

		snprintf(what, sizeof what, "cannot add the %s extension", OBJ_nid2ln(nid));
		pki_ossl_err(err, errlen, what);
		return -1;
	}
	return 0;
}

const EVP_MD *pki_hash_md(int hash_id)
{
	switch (hash_id) {
	case 1: return EVP_sha1();
	case 2: return EVP_sha256();
	case 3: return EVP_sha512();
	default: return NULL;
	}
}
