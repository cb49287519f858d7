/*
 * pki_crl.c: building, encoding and decoding CRLs (pki_crl.h) with
 * OpenSSL's X509_CRL functions; no DER is written by hand.
 */
#include "pki/pki_crl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"

static void ossl_err(char *err, size_t errlen, const char *what)
{
	char e[200] = "";

	ERR_error_string_n(ERR_get_error(), e, sizeof e);
	ERR_clear_error();
	seterr(err, errlen, "%s: %s", what, e[0] ? e : "OpenSSL failed");
}

/* A serial in the store's hex form as an ASN1_INTEGER. */
static ASN1_INTEGER *serial_int(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;

	if (hex && BN_hex2bn(&bn, hex) > 0)
		ai = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return ai;
}

static int add_entry(X509_CRL *crl, const struct pki_crl_entry *e, char *err, size_t errlen)
{
	X509_REVOKED *r = X509_REVOKED_new();
	ASN1_INTEGER *sn = serial_int(e->serial);
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)e->time);
	ASN1_ENUMERATED *reason = NULL;
	int ok = r && sn && t && X509_REVOKED_set_serialNumber(r, sn) && X509_REVOKED_set_revocationDate(r, t);

	if (ok && e->reason > 0) {
		ok = (reason = ASN1_ENUMERATED_new()) && ASN1_ENUMERATED_set(reason, e->reason) &&
		     X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, reason, 0, 0) == 1;
	}
	ASN1_ENUMERATED_free(reason);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	if (ok && X509_CRL_add0_revoked(crl, r))
		return 0;
	X509_REVOKED_free(r);
	seterr(err, errlen, "cannot add serial %s to the CRL", e->serial ? e->serial : "(none)");
	return -1;
}

/* cRLNumber and authorityKeyIdentifier. */
static int add_extensions(X509_CRL *crl, X509 *issuer, int64_t number)
{
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509V3_CTX ctx;
	X509_EXTENSION *aki;
	int ok = num && ASN1_INTEGER_set_int64(num, number) && X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);

	ASN1_INTEGER_free(num);
	if (!ok)
		return -1;
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	ok = aki && X509_CRL_add_ext(crl, aki, -1);
	X509_EXTENSION_free(aki);
	return ok ? 0 : -1;
}

static int set_times(X509_CRL *crl, int64_t this_update, int64_t next_update)
{
	ASN1_TIME *a = ASN1_TIME_set(NULL, (time_t)this_update), *b = ASN1_TIME_set(NULL, (time_t)next_update);
	int ok = a && b && X509_CRL_set1_lastUpdate(crl, a) && X509_CRL_set1_nextUpdate(crl, b);

	ASN1_TIME_free(a);
	ASN1_TIME_free(b);
	return ok ? 0 : -1;
}

X509_CRL *pki_crl_build(X509 *issuer, EVP_PKEY *key, const struct pki_crl_entry *e, size_t n, int64_t number,
			int64_t this_update, int64_t next_update, char *err, size_t errlen)
{
	X509_CRL *crl = X509_CRL_new();

	if (!crl || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
	    set_times(crl, this_update, next_update) < 0) {
		ossl_err(err, errlen, "cannot start a CRL");
		X509_CRL_free(crl);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (add_entry(crl, &e[i], err, errlen) < 0) {
			X509_CRL_free(crl);
			return NULL;
		}
	}
	if (!X509_CRL_sort(crl) || add_extensions(crl, issuer, number) < 0) {
		ossl_err(err, errlen, "cannot complete the CRL");
		X509_CRL_free(crl);
		return NULL;
	}
	if (!X509_CRL_sign(crl, key, EVP_sha256())) {
		ossl_err(err, errlen, "cannot sign the CRL");
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int pki_crl_to_der(X509_CRL *crl, uint8_t **der, size_t *len)
{
	unsigned char *out = NULL;
	int n = i2d_X509_CRL(crl, &out);

	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

int pki_crl_to_pem(X509_CRL *crl, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if (b && PEM_write_bio_X509_CRL(b, crl) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (*pem = OPENSSL_malloc((size_t)n + 1))) {
		memcpy(*pem, data, (size_t)n);
		(*pem)[n] = '\0';
		*len = (size_t)n;
		rc = 0;
	}
	BIO_free(b);
	return rc;
}

X509_CRL *pki_crl_from_der(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);

	if (!crl || p != der + len) {
		X509_CRL_free(crl);
		ERR_clear_error();
		seterr(err, errlen, "not a DER CRL");
		return NULL;
	}
	return crl;
}

void pki_capf_file_stem(X509 *cert, char *out, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(cert);
	char cn[128] = "", sha[80];
	int n = X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn), plain = n > 0 && n < 64 && cn[0] != '.';

	for (int i = 0; plain && cn[i]; i++)
		plain = (cn[i] >= 'a' && cn[i] <= 'z') || (cn[i] >= 'A' && cn[i] <= 'Z') || (cn[i] >= '0' && cn[i] <= '9') ||
			cn[i] == '-' || cn[i] == '_' || cn[i] == '.';
	if (plain && (int)strlen(cn) == n) {
		snprintf(out, cap, "%s", cn);
		return;
	}
	ERR_clear_error();
	pki_fingerprint(cert, "sha256", 0, sha, sizeof sha);
	snprintf(out, cap, "CAPF-%.8s", sha);
}

int pki_cert_can_sign_crl(X509 *cert)
{
	uint32_t ku = X509_get_key_usage(cert);

	return ku == UINT32_MAX || (ku & KU_CRL_SIGN) != 0;
}
