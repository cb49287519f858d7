/*
 * pki_lsc.c: build a phone's Locally Significant Certificate from the device
 * name and the public key the phone generated, and have the signer sign it.
 *
 * The layout is the one capf-protocol.md describes and the test vectors
 * show: subject CN = device name followed by OU, O, L, ST, C copied (entry
 * by entry, keeping their string types) from the CAPF subject; critical
 * basicConstraints CA:FALSE and keyUsage digitalSignature+keyEncipherment;
 * EKU serverAuth, clientAuth, IPsec end system; SAN URI = device name; AKI
 * = the CAPF key identifier. The device name reaches the certificate only
 * through typed OpenSSL calls, never through configuration-string parsing,
 * so a hostile name cannot add extensions.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#define DEVNAME_MAX 64 /* ub-common-name */

static int devname_ok(const char *devname)
{
	size_t n = devname ? strlen(devname) : 0;

	if (n == 0 || n > DEVNAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)devname[i] <= 0x20 || (unsigned char)devname[i] >= 0x7f)
			return 0;
	return 1;
}

static int build_subject(X509 *x, const char *devname, X509 *capf)
{
	static const int copied[] = { NID_organizationalUnitName, NID_organizationName, NID_localityName,
				      NID_stateOrProvinceName, NID_countryName };
	const X509_NAME *from = X509_get_subject_name(capf);
	X509_NAME *name = X509_NAME_new();
	int ok = name != NULL;

	ok = ok && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					      (const unsigned char *)devname, -1, -1, 0) == 1;
	for (size_t i = 0; ok && i < sizeof copied / sizeof copied[0]; i++) {
		int idx = -1;

		while (ok && (idx = X509_NAME_get_index_by_NID(from, copied[i], idx)) >= 0)
			ok = X509_NAME_add_entry(name, X509_NAME_get_entry(from, idx), -1, 0) == 1;
	}
	ok = ok && X509_set_subject_name(x, name) == 1;
	X509_NAME_free(name);
	return ok ? 0 : -1;
}

static int add_san_uri(X509 *x, const char *devname)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
	int ok = 0;

	if (gens && gn && uri && ASN1_STRING_set(uri, devname, -1) == 1) {
		GENERAL_NAME_set0_value(gn, GEN_URI, uri);
		uri = NULL;
		if (sk_GENERAL_NAME_push(gens, gn)) {
			gn = NULL;
			ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
		}
	}
	ASN1_IA5STRING_free(uri);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

/* keyIdentifier of the CAPF certificate: its SKI, or the RFC 5280 SHA-1 of its key. */
static int add_aki(X509 *x, X509 *capf)
{
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(capf);
	int ok = 0;

	if (!akid)
		return -1;
	if (skid) {
		akid->keyid = ASN1_OCTET_STRING_dup(skid);
	} else {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int n = 0;

		if (X509_pubkey_digest(capf, EVP_sha1(), md, &n) == 1 &&
		    (akid->keyid = ASN1_OCTET_STRING_new()) != NULL &&
		    ASN1_OCTET_STRING_set(akid->keyid, md, (int)n) != 1) {
			ASN1_OCTET_STRING_free(akid->keyid);
			akid->keyid = NULL;
		}
	}
	if (akid->keyid)
		ok = X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, X509V3_ADD_DEFAULT) == 1;
	AUTHORITY_KEYID_free(akid);
	return ok ? 0 : -1;
}

/* An LSC never outlives the CAPF certificate that signs it: past the
 * issuer's notAfter its chain is expired and every verifier refuses it. */
static int clip_to_issuer(X509 *x, X509 *issuer, char *err, size_t errlen)
{
	const ASN1_TIME *end = X509_get0_notAfter(issuer);

	if (ASN1_TIME_compare(X509_get0_notAfter(x), end) <= 0)
		return 0;
	if (X509_set1_notAfter(x, end) != 1) {
		pki_ossl_err(err, errlen, "cannot set the LSC's end to its issuer's");
		return -1;
	}
	return 0;
}

/* set_key: how the phone's key goes in (X509_set_pubkey, or the DER-only
 * pki_x509_set_pubkey of pki_spki.c). */
static X509 *lsc_build(struct signer *s, const char *devname, EVP_PKEY *phone_pub, int days,
		       int (*set_key)(X509 *, EVP_PKEY *), char *err, size_t errlen)
{
	X509 *x;

	if (!s || !s->issuer || !s->sign_cert) {
		seterr(err, errlen, "no CAPF signer");
		return NULL;
	}
	if (!devname_ok(devname)) {
		seterr(err, errlen, "device name must be 1 to %d printable ASCII characters without spaces",
		       DEVNAME_MAX);
		return NULL;
	}
	if (!phone_pub || pki_key_info(phone_pub, NULL, NULL) != 0) {
		seterr(err, errlen, "%s: the phone key is not RSA or EC on P-256, P-384 or P-521", devname);
		return NULL;
	}
	x = X509_new();
	if (!x) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || pki_set_random_serial(x) != 0 ||
	    build_subject(x, devname, s->issuer) != 0 ||
	    X509_set_issuer_name(x, X509_get_subject_name(s->issuer)) != 1 ||
	    set_key(x, phone_pub) != 0) {
		pki_ossl_err(err, errlen, "cannot build the LSC");
		goto fail;
	}
	if (pki_set_validity(x, time(NULL), days, err, errlen) != 0 || clip_to_issuer(x, s->issuer, err, errlen) != 0)
		goto fail;
	if (pki_add_ext_conf(x, s->issuer, NID_basic_constraints, "critical,CA:FALSE", err, errlen) ||
	    pki_add_ext_conf(x, s->issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment", err,
			     errlen) ||
	    pki_add_ext_conf(x, s->issuer, NID_ext_key_usage, "serverAuth,clientAuth,1.3.6.1.5.5.7.3.5", err,
			     errlen))
		goto fail;
	if (s->crl_url[0] && pki_add_ext_conf(x, s->issuer, NID_crl_distribution_points, s->crl_url, err, errlen))
		goto fail;
	if (s->ocsp_url[0] && pki_add_ext_conf(x, s->issuer, NID_info_access, s->ocsp_url, err, errlen))
		goto fail;
	if (add_san_uri(x, devname) != 0 || add_aki(x, s->issuer) != 0) {
		pki_ossl_err(err, errlen, "cannot add the LSC name extensions");
		goto fail;
	}
	if (s->sign_cert(s, x, err, errlen) != 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

static int set_key_cached(X509 *x, EVP_PKEY *key)
{
	return X509_set_pubkey(x, key) == 1 ? 0 : -1;
}

X509 *pki_lsc_issue(struct signer *s, const char *devname, EVP_PKEY *phone_pub, int days,
		    char *err, size_t errlen)
{
	return lsc_build(s, devname, phone_pub, days, set_key_cached, err, errlen);
}

int pki_lsc_issue_der(struct signer *s, const char *devname, EVP_PKEY *phone_pub, int days,
		      uint8_t **der, size_t *len, char *err, size_t errlen)
{
	X509 *x = lsc_build(s, devname, phone_pub, days, pki_x509_set_pubkey, err, errlen);
	int rc = -1;

	*der = NULL;
	*len = 0;
	if (x && (rc = pki_cert_to_der(x, der, len)) < 0)
		seterr(err, errlen, "cannot encode the LSC");
	X509_free(x);
	return rc;
}
