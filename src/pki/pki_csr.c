/*
 * pki_csr.c: the CAPF certificate when an outside CA signs it
 * (phone-certificates.md §5): the certificate signing request we hand to
 * that CA, the checks a certificate must pass before it may become the CAPF
 * certificate, and the "who signed whom" test that trust-store usage counts
 * and TLS chains are built from.
 *
 * Phones refuse the TLS connection to CAPF unless its certificate carries
 * basicConstraints CA:TRUE with pathlen:0 and keyUsage digitalSignature +
 * keyCertSign (capf-protocol.md), and an outside CA may drop extensions a
 * request asks for, so pki_capf_cert_check refuses such a certificate rather
 * than letting every phone fail later with "LSC: Connection failed".
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

static int name_add(X509_NAME *name, int nid, const char *value)
{
	if (!value || !value[0])
		return 0;
	return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
					  0) == 1 ? 0 : -1;
}

X509_NAME *pki_capf_subject_new(const struct pki_org *org, char *err, size_t errlen)
{
	static const struct pki_org no_org;
	unsigned char rnd[4];
	char cn[16];
	X509_NAME *name;

	if (!org)
		org = &no_org;
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		pki_ossl_err(err, errlen, "no random bytes");
		return NULL;
	}
	memcpy(cn, "CAPF-", 5);
	hex_encode(rnd, sizeof rnd, cn + 5);
	/* CN first, as pki_capf_cert_create encodes it */
	if (!(name = X509_NAME_new()) || name_add(name, NID_commonName, cn) ||
	    name_add(name, NID_organizationalUnitName, org->ou) || name_add(name, NID_organizationName, org->o) ||
	    name_add(name, NID_localityName, org->l) || name_add(name, NID_stateOrProvinceName, org->st) ||
	    name_add(name, NID_countryName, org->c)) {
		pki_ossl_err(err, errlen, "cannot build the CAPF subject");
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

void pki_org_from_name(const X509_NAME *name, struct pki_org *org)
{
	memset(org, 0, sizeof *org);
	/* a field that is absent or too long stays empty */
	if (pki_name_entry(name, NID_organizationName, org->o, sizeof org->o) < 0)
		org->o[0] = '\0';
	if (pki_name_entry(name, NID_organizationalUnitName, org->ou, sizeof org->ou) < 0)
		org->ou[0] = '\0';
	if (pki_name_entry(name, NID_localityName, org->l, sizeof org->l) < 0)
		org->l[0] = '\0';
	if (pki_name_entry(name, NID_stateOrProvinceName, org->st, sizeof org->st) < 0)
		org->st[0] = '\0';
	if (pki_name_entry(name, NID_countryName, org->c, sizeof org->c) < 0)
		org->c[0] = '\0';
}

/* The extensions a CAPF certificate must carry, as a request attribute. */
static int add_ca_request_exts(X509_REQ *req, char *err, size_t errlen)
{
	static const struct { int nid; const char *value; } exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign" },
	};
	STACK_OF(X509_EXTENSION) *sk = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;
	int rc = -1;

	if (!sk) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].value);

		if (!e || !sk_X509_EXTENSION_push(sk, e)) {
			X509_EXTENSION_free(e);
			pki_ossl_err(err, errlen, "cannot build the requested extensions");
			goto out;
		}
	}
	if (X509_REQ_add_extensions(req, sk) != 1) {
		pki_ossl_err(err, errlen, "cannot add the requested extensions");
		goto out;
	}
	rc = 0;
out:
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	return rc;
}

X509_REQ *pki_capf_csr_create(EVP_PKEY *key, const X509_NAME *subject, char *err, size_t errlen)
{
	X509_REQ *req;

	if (!key || !subject || pki_key_info(key, NULL, NULL) != 0) {
		seterr(err, errlen, "the CAPF key must be RSA or EC on P-256, P-384 or P-521");
		return NULL;
	}
	if (!(req = X509_REQ_new())) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
	    X509_REQ_set_subject_name(req, subject) != 1 || X509_REQ_set_pubkey(req, key) != 1) {
		pki_ossl_err(err, errlen, "cannot build the certificate signing request");
		goto fail;
	}
	if (add_ca_request_exts(req, err, errlen) < 0)
		goto fail;
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0) {
		pki_ossl_err(err, errlen, "cannot sign the certificate signing request");
		goto fail;
	}
	return req;
fail:
	X509_REQ_free(req);
	return NULL;
}

int pki_csr_to_pem(X509_REQ *req, char **pem, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	*pem = NULL;
	*len = 0;
	if (!b)
		return -1;
	if (PEM_write_bio_X509_REQ(b, req) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (*pem = OPENSSL_malloc((size_t)n + 1)) != NULL) {
		memcpy(*pem, data, (size_t)n);
		(*pem)[n] = '\0';
		*len = (size_t)n;
		rc = 0;
	}
	BIO_free(b);
	return rc;
}

/* basicConstraints CA:TRUE with pathlen 0, read without OpenSSL's cache. */
static int check_basic_constraints(X509 *cert, char *err, size_t errlen)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	int ok = bc && bc->ca && bc->pathlen && ASN1_INTEGER_get(bc->pathlen) == 0;

	if (!bc || !bc->ca)
		seterr(err, errlen, "the certificate is not a CA (basicConstraints CA:TRUE is missing): "
				    "phones would refuse the TLS connection to CAPF");
	else if (!ok)
		seterr(err, errlen, "the certificate's basicConstraints lack pathlen:0 "
				    "(CAPF needs CA:TRUE, pathlen:0): phones would refuse the TLS connection");
	BASIC_CONSTRAINTS_free(bc);
	ERR_clear_error();
	return ok ? 0 : -1;
}

static int check_key_usage(X509 *cert, char *err, size_t errlen)
{
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(cert, NID_key_usage, NULL, NULL);
	int sign = ku && ASN1_BIT_STRING_get_bit(ku, 0);       /* digitalSignature */
	int certsign = ku && ASN1_BIT_STRING_get_bit(ku, 5);   /* keyCertSign */

	ASN1_BIT_STRING_free(ku);
	ERR_clear_error();
	if (sign && certsign)
		return 0;
	seterr(err, errlen, "the certificate's keyUsage lacks %s (CAPF needs digitalSignature and "
			    "keyCertSign): phones would refuse the TLS connection",
	       !certsign && !sign ? "digitalSignature and keyCertSign" : !certsign ? "keyCertSign"
										: "digitalSignature");
	return -1;
}

int pki_capf_cert_check(X509 *cert, char *err, size_t errlen)
{
	time_t now = time(NULL);

	if (!cert) {
		seterr(err, errlen, "no certificate to check");
		return -1;
	}
	if (pki_key_info(X509_get0_pubkey(cert), NULL, NULL) != 0) {
		seterr(err, errlen, "the certificate's key must be RSA or EC on P-256, P-384 or P-521");
		return -1;
	}
	if (check_basic_constraints(cert, err, errlen) < 0 || check_key_usage(cert, err, errlen) < 0)
		return -1;
	if (X509_cmp_time(X509_get0_notBefore(cert), &now) > 0) {
		seterr(err, errlen, "the certificate is not valid yet");
		return -1;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &now) < 0) {
		seterr(err, errlen, "the certificate has expired");
		return -1;
	}
	return 0;
}

int pki_cert_signed_by(X509 *cert, X509 *issuer)
{
	EVP_PKEY *pub;
	int ok;

	if (!cert || !issuer || X509_check_issued(issuer, cert) != X509_V_OK)
		return 0;
	pub = X509_get0_pubkey(issuer);
	ok = pub && X509_verify(cert, pub) == 1;
	ERR_clear_error();
	return ok;
}
