/*
 * pki_capf.c: the CAPF certificate: the organisation fields an administrator
 * types once (pki_org_parse) and the self-signed CA built from them
 * (pki_capf_cert_create).
 *
 * Phones refuse the TLS connection unless the CAPF certificate carries
 * basicConstraints CA:TRUE, pathlen:0 and keyUsage digitalSignature +
 * keyCertSign, so those are fixed here and not configurable. keyUsage also
 * carries cRLSign, so that the CAPF key can sign the CRLs of its LSCs
 * (verifiers refuse a CRL from a key without it); phones ignore the bit,
 * and pki_capf_cert_check still accepts certificates without it. The subject is
 * encoded CN first (CN, OU, O, L, ST, C), as the vendor and the test vectors
 * do; LSC subjects copy the same order from it (pki_lsc.c).
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ORG_TEXT_MAX 1024

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

/* One "KEY=value" component (escapes already removed). */
static int org_field(char *comp, struct pki_org *org, unsigned *seen, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off, cap;
	} fields[] = {
		{ "O", offsetof(struct pki_org, o), sizeof org->o },
		{ "OU", offsetof(struct pki_org, ou), sizeof org->ou },
		{ "L", offsetof(struct pki_org, l), sizeof org->l },
		{ "ST", offsetof(struct pki_org, st), sizeof org->st },
		{ "C", offsetof(struct pki_org, c), sizeof org->c },
	};
	char *eq = strchr(comp, '=');
	char *key, *val;

	if (!eq) {
		seterr(err, errlen, "organisation: \"%s\" is not of the form KEY=value", comp);
		return -1;
	}
	*eq = '\0';
	key = trim(comp);
	val = trim(eq + 1);
	if (strcasecmp(key, "CN") == 0) {
		seterr(err, errlen, "organisation: CN cannot be set here (the CAPF CN is CAPF-<8 hex digits>, "
				    "an LSC's is the device name)");
		return -1;
	}
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		char *dst = (char *)org + fields[i].off;
		size_t n = strlen(val);

		if (strcasecmp(key, fields[i].key) != 0)
			continue;
		if (*seen & (1u << i)) {
			seterr(err, errlen, "organisation: %s is given twice", fields[i].key);
			return -1;
		}
		*seen |= 1u << i;
		if (n == 0) {
			seterr(err, errlen, "organisation: %s is empty", fields[i].key);
			return -1;
		}
		if (strcmp(fields[i].key, "C") == 0 &&
		    (n != 2 || !isalpha((unsigned char)val[0]) || !isalpha((unsigned char)val[1]))) {
			seterr(err, errlen, "organisation: C must be a two-letter country code, not \"%s\"", val);
			return -1;
		}
		if (n >= fields[i].cap) {
			seterr(err, errlen, "organisation: %s is longer than %zu characters", fields[i].key,
			       fields[i].cap - 1);
			return -1;
		}
		for (size_t j = 0; j < n; j++) {
			if ((unsigned char)val[j] < 0x20 || val[j] == 0x7f) {
				seterr(err, errlen, "organisation: %s contains a control character", fields[i].key);
				return -1;
			}
		}
		if (strcmp(fields[i].key, "C") == 0) {
			val[0] = (char)toupper((unsigned char)val[0]);
			val[1] = (char)toupper((unsigned char)val[1]);
		}
		memcpy(dst, val, n + 1);
		return 0;
	}
	seterr(err, errlen, "organisation: unknown attribute \"%s\" (use O, OU, L, ST and C)", key);
	return -1;
}

int pki_org_parse(const char *text, struct pki_org *org, char *err, size_t errlen)
{
	char comp[ORG_TEXT_MAX + 1];
	size_t n = 0;
	unsigned seen = 0;
	int slash;
	const char *p;

	if (!org) {
		seterr(err, errlen, "organisation: no output");
		return -1;
	}
	memset(org, 0, sizeof *org);
	if (!text)
		return 0;
	if (strlen(text) > ORG_TEXT_MAX) {
		seterr(err, errlen, "organisation: text longer than %d characters", ORG_TEXT_MAX);
		return -1;
	}
	p = text;
	while (*p == ' ' || *p == '\t')
		p++;
	slash = *p == '/';
	/* split on the separators, honouring backslash escapes ("O=Smith\, Jones") */
	for (;; p++) {
		int sep = *p == '\0' || (slash ? *p == '/' : (*p == ',' || *p == ';'));

		if (!sep) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			comp[n++] = *p;
			continue;
		}
		comp[n] = '\0';
		if (trim(comp)[0] != '\0' && org_field(comp, org, &seen, err, errlen) != 0) {
			memset(org, 0, sizeof *org);
			return -1;
		}
		n = 0;
		if (*p == '\0')
			break;
	}
	return 0;
}

static int name_add(X509_NAME *name, int nid, const char *value)
{
	if (!value || !value[0])
		return 0;
	return X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1,
					  0) == 1 ? 0 : -1;
}

X509 *pki_capf_cert_create(EVP_PKEY *key, const struct pki_org *org, int days, char *err, size_t errlen)
{
	static const struct pki_org no_org;
	enum pki_key_kind kind;
	int bits;
	unsigned char rnd[4];
	char cn[16];
	X509 *x = NULL;
	X509_NAME *name = NULL;

	if (!org)
		org = &no_org;
	if (!key || pki_key_info(key, &kind, &bits) != 0) {
		seterr(err, errlen, "the CAPF key must be RSA or EC on P-256, P-384 or P-521");
		return NULL;
	}
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		pki_ossl_err(err, errlen, "no random bytes");
		return NULL;
	}
	memcpy(cn, "CAPF-", 5);
	hex_encode(rnd, sizeof rnd, cn + 5);

	x = X509_new();
	name = X509_NAME_new();
	if (!x || !name) {
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	if (name_add(name, NID_commonName, cn) || name_add(name, NID_organizationalUnitName, org->ou) ||
	    name_add(name, NID_organizationName, org->o) || name_add(name, NID_localityName, org->l) ||
	    name_add(name, NID_stateOrProvinceName, org->st) || name_add(name, NID_countryName, org->c)) {
		pki_ossl_err(err, errlen, "cannot build the CAPF subject");
		goto fail;
	}
	if (X509_set_version(x, X509_VERSION_3) != 1 || pki_set_random_serial(x) != 0 ||
	    X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1) {
		pki_ossl_err(err, errlen, "cannot build the CAPF certificate");
		goto fail;
	}
	if (pki_set_validity(x, time(NULL), days, err, errlen) != 0)
		goto fail;
	if (pki_add_ext_conf(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", err, errlen) ||
	    pki_add_ext_conf(x, x, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign", err, errlen) ||
	    pki_add_ext_conf(x, x, NID_subject_key_identifier, "hash", err, errlen))
		goto fail;
	/* sha256WithRSAEncryption for RSA, ecdsa-with-SHA256 for EC */
	if (X509_sign(x, key, EVP_sha256()) <= 0) {
		pki_ossl_err(err, errlen, "cannot sign the CAPF certificate");
		goto fail;
	}
	X509_NAME_free(name);
	return x;
fail:
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}
