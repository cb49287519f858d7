/*
 * mfg.c: the test manufacturing CA and the MICs it issues, so that tests
 * can exercise "authenticate by MIC" without the vendor's CAs.
 *
 * The real manufacturing CAs are long-lived roots; the MICs carry
 * digitalSignature + keyEncipherment and clientAuth, which is what phones
 * present to 802.1X and VPN servers. Built with OpenSSL's X509 and X509V3
 * APIs (no deprecated calls); pki.h has no CA-for-others function because
 * the daemon never needs one.
 */
#include "cmd/phonesim/phonesim.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "pki/pki.h"

#define NAME_TEXT_MAX 1024

static void ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[200] = "";

	if (e)
		ERR_error_string_n(e, detail, sizeof detail);
	ERR_clear_error();
	seterr(err, errlen, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static int name_add_component(X509_NAME *name, char *comp, char *err, size_t errlen)
{
	char *eq = strchr(comp, '='), *key, *val;

	if (!eq) {
		seterr(err, errlen, "\"%s\" is not of the form KEY=value", comp);
		return -1;
	}
	*eq = '\0';
	key = trim(comp);
	val = trim(eq + 1);
	if (!*val) {
		seterr(err, errlen, "%s is empty", key);
		return -1;
	}
	if (X509_NAME_add_entry_by_txt(name, key, MBSTRING_UTF8, (const unsigned char *)val, -1, -1, 0) != 1) {
		ERR_clear_error();
		seterr(err, errlen, "unknown attribute \"%s\" or bad value", key);
		return -1;
	}
	return 0;
}

X509_NAME *mfg_name_parse(const char *text, char *err, size_t errlen)
{
	char comp[NAME_TEXT_MAX + 1];
	X509_NAME *name;
	size_t n = 0;
	int slash;
	const char *p = text;

	if (strlen(text) > NAME_TEXT_MAX) {
		seterr(err, errlen, "longer than %d characters", NAME_TEXT_MAX);
		return NULL;
	}
	name = X509_NAME_new();
	if (!name) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	while (*p == ' ')
		p++;
	slash = *p == '/';
	for (;; p++) {
		int sep = *p == '\0' || (slash ? *p == '/' : *p == ',');

		if (!sep) {
			if (*p == '\\' && p[1])
				p++;
			comp[n++] = *p;
			continue;
		}
		comp[n] = '\0';
		n = 0;
		if (*trim(comp) && name_add_component(name, comp, err, errlen) < 0) {
			X509_NAME_free(name);
			return NULL;
		}
		if (*p == '\0')
			break;
	}
	if (X509_NAME_entry_count(name) == 0) {
		seterr(err, errlen, "empty");
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

/* 16 random bytes, positive, first byte non-zero. */
static int set_random_serial(X509 *x)
{
	unsigned char rnd[16];
	ASN1_INTEGER *serial;
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof rnd) != 1)
		return -1;
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x10);
	bn = BN_bin2bn(rnd, sizeof rnd, NULL);
	serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = serial && X509_set_serialNumber(x, serial) == 1;
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1) == 1;

	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Version, serial, names, key and validity of a new certificate. */
static X509 *cert_skeleton(X509_NAME *subject, X509_NAME *issuer, EVP_PKEY *key, int days)
{
	X509 *x = X509_new();

	if (!x)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || set_random_serial(x) < 0 ||
	    X509_set_subject_name(x, subject) != 1 || X509_set_issuer_name(x, issuer) != 1 ||
	    X509_set_pubkey(x, key) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *mfg_ca_create(EVP_PKEY *key, X509_NAME *subject, int days, char *err, size_t errlen)
{
	X509V3_CTX ctx;
	X509 *x = cert_skeleton(subject, subject, key, days);

	if (!x) {
		ossl_err(err, errlen, "cannot build the manufacturing CA certificate");
		return NULL;
	}
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		ossl_err(err, errlen, "cannot sign the manufacturing CA certificate");
		X509_free(x);
		return NULL;
	}
	return x;
}

/* CN=cn plus the CA's O (or "Example"). */
static X509_NAME *mic_subject(X509 *ca, const char *cn)
{
	X509_NAME *name = X509_NAME_new();
	char org[128];

	if (pki_name_entry(X509_get_subject_name(ca), NID_organizationName, org, sizeof org) < 0)
		snprintf(org, sizeof org, "Example");
	if (!name ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_NID(name, NID_organizationName, MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0) != 1) {
		X509_NAME_free(name);
		return NULL;
	}
	return name;
}

X509 *mfg_mic_issue(X509 *ca, EVP_PKEY *ca_key, EVP_PKEY *mic_key, const char *cn, int days,
		    char *err, size_t errlen)
{
	X509_NAME *subject = mic_subject(ca, cn);
	X509V3_CTX ctx;
	X509 *x = subject ? cert_skeleton(subject, X509_get_subject_name(ca), mic_key, days) : NULL;

	X509_NAME_free(subject);
	if (!x) {
		ossl_err(err, errlen, "cannot build the MIC");
		return NULL;
	}
	X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
	if (add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature,keyEncipherment") < 0 ||
	    add_ext(x, &ctx, NID_ext_key_usage, "clientAuth") < 0 ||
	    add_ext(x, &ctx, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &ctx, NID_authority_key_identifier, "keyid") < 0 ||
	    X509_sign(x, ca_key, EVP_sha256()) <= 0) {
		ossl_err(err, errlen, "cannot sign the MIC");
		X509_free(x);
		return NULL;
	}
	return x;
}
