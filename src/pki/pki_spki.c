/*
 * pki_spki.c: public keys in and out of DER SubjectPublicKeyInfo on the
 * CAPF hot path, without OpenSSL 3.0's decoder and encoder lookups.
 *
 * In OpenSSL 3.0, d2i_PUBKEY (and every X509_PUBKEY decode, including the
 * one hidden in X509_set_pubkey, which encodes the key and decodes it back)
 * builds an OSSL_DECODER context that walks every provider's decoders and key
 * managers under their locks: about 100 us per key, more than signing the
 * LSC. For the two key types phones send (RSA, EC on P-256/384/521) the
 * structure is parsed here with strict DER templates and the key built with
 * EVP_PKEY_fromdata, which goes straight to the key manager (and checks an
 * EC point is on its curve); certificates get the key's bits with
 * X509_PUBKEY_set0_param. Anything else falls back to OpenSSL's general
 * path, so behaviour for odd keys is unchanged (pki_key_info rejects them).
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <string.h>

/* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING } */
typedef struct {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *key;
} PKI_SPKI;

ASN1_SEQUENCE(PKI_SPKI) = {
	ASN1_SIMPLE(PKI_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(PKI_SPKI, key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(PKI_SPKI)

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
typedef struct {
	ASN1_INTEGER *n;
	ASN1_INTEGER *e;
} PKI_RSAPUB;

ASN1_SEQUENCE(PKI_RSAPUB) = {
	ASN1_SIMPLE(PKI_RSAPUB, n, ASN1_INTEGER),
	ASN1_SIMPLE(PKI_RSAPUB, e, ASN1_INTEGER),
} static_ASN1_SEQUENCE_END(PKI_RSAPUB)

/* A key's group name ("prime256v1", or "P-256") to one of our curves. */
static int curve_nid(const char *group)
{
	int nid = OBJ_sn2nid(group);

	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return pki_ec_group_of_nid(nid) ? nid : NID_undef;
}

/* ---- in ---- */

static EVP_PKEY *key_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
	EVP_PKEY *key = NULL;

	if (ctx && EVP_PKEY_fromdata_init(ctx) == 1)
		EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static int positive_integer(const ASN1_INTEGER *i)
{
	return ASN1_STRING_type(i) == V_ASN1_INTEGER && ASN1_STRING_length(i) > 0;
}

/* RSA: parameters NULL (or absent), the bit string one whole RSAPublicKey. */
static EVP_PKEY *rsa_from_spki(const PKI_SPKI *spki, char *err, size_t errlen)
{
	const unsigned char *p = ASN1_STRING_get0_data(spki->key);
	long len = ASN1_STRING_length(spki->key);
	const void *pval;
	int ptype;
	PKI_RSAPUB *rsa;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *key = NULL;

	X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
	if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
		seterr(err, errlen, "RSA public key: the algorithm parameters must be NULL");
		return NULL;
	}
	rsa = (PKI_RSAPUB *)ASN1_item_d2i(NULL, &p, len, ASN1_ITEM_rptr(PKI_RSAPUB));
	if (!rsa || p != ASN1_STRING_get0_data(spki->key) + len || !positive_integer(rsa->n) ||
	    !positive_integer(rsa->e)) {
		seterr(err, errlen, "RSA public key: not one RSAPublicKey with a positive modulus and exponent");
		goto done;
	}
	n = ASN1_INTEGER_to_BN(rsa->n, NULL);
	e = ASN1_INTEGER_to_BN(rsa->e, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 || !(key = key_fromdata("RSA", bld)))
		pki_ossl_err(err, errlen, "RSA public key: cannot be loaded");
done:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ASN1_item_free((ASN1_VALUE *)rsa, ASN1_ITEM_rptr(PKI_RSAPUB));
	return key;
}

/* EC: a named curve, the bit string an encoded point on it. NULL with err
 * empty: not one of our curves (the general path decides). */
static EVP_PKEY *ec_from_spki(const PKI_SPKI *spki, char *err, size_t errlen)
{
	const void *pval;
	const char *group;
	int ptype;
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *key = NULL;

	X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
	if (ptype != V_ASN1_OBJECT || !(group = pki_ec_group_of_nid(OBJ_obj2nid(pval))))
		return NULL;
	bld = OSSL_PARAM_BLD_new();
	if (!bld || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, ASN1_STRING_get0_data(spki->key),
					     (size_t)ASN1_STRING_length(spki->key)) != 1 ||
	    !(key = key_fromdata("EC", bld)))
		pki_ossl_err(err, errlen, "EC public key: not a point on its curve");
	OSSL_PARAM_BLD_free(bld);
	return key;
}

/* Any other key: OpenSSL's general decoder. */
static EVP_PKEY *general_from_der(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);

	if (!key)
		pki_ossl_err(err, errlen, "public key is not a valid DER SubjectPublicKeyInfo");
	return key;
}

EVP_PKEY *pki_pubkey_from_der(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	PKI_SPKI *spki;
	EVP_PKEY *key = NULL;
	char why[ERRLEN] = "";   /* set when a known key type is broken */

	if (!der || len == 0 || len > PKI_MAX_INPUT) {
		seterr(err, errlen, "public key: empty or too large (%zu bytes)", len);
		return NULL;
	}
	if (!(spki = (PKI_SPKI *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(PKI_SPKI)))) {
		pki_ossl_err(err, errlen, "public key is not a valid DER SubjectPublicKeyInfo");
		return NULL;
	}
	if ((size_t)(p - der) != len) {
		seterr(err, errlen, "public key: %zu stray bytes after the SubjectPublicKeyInfo",
		       len - (size_t)(p - der));
	} else if (spki->key->flags & 0x07) {
		seterr(err, errlen, "public key: the key bit string has unused bits");
	} else {
		switch (OBJ_obj2nid(spki->algor->algorithm)) {
		case NID_rsaEncryption: key = rsa_from_spki(spki, why, sizeof why); break;
		case NID_X9_62_id_ecPublicKey: key = ec_from_spki(spki, why, sizeof why); break;
		}
		if (why[0])
			seterr(err, errlen, "%s", why);
		else if (!key)
			key = general_from_der(der, len, err, errlen);
	}
	ASN1_item_free((ASN1_VALUE *)spki, ASN1_ITEM_rptr(PKI_SPKI));
	ERR_clear_error();
	return key;
}

/* ---- out ---- */

static int rsa_spki_bits(EVP_PKEY *key, unsigned char **penc, int *penclen)
{
	BIGNUM *n = NULL, *e = NULL;
	PKI_RSAPUB rsa = { NULL, NULL };
	int ok = 0;

	*penc = NULL;
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
	    EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && (rsa.n = BN_to_ASN1_INTEGER(n, NULL)) &&
	    (rsa.e = BN_to_ASN1_INTEGER(e, NULL)))
		ok = (*penclen = ASN1_item_i2d((ASN1_VALUE *)&rsa, penc, ASN1_ITEM_rptr(PKI_RSAPUB))) > 0;
	ASN1_INTEGER_free(rsa.n);
	ASN1_INTEGER_free(rsa.e);
	BN_free(n);
	BN_free(e);
	return ok ? 0 : -1;
}

static int ec_spki_bits(EVP_PKEY *key, int *curve, unsigned char **penc, int *penclen)
{
	char group[32];
	size_t glen = 0, plen = 0;

	*penc = NULL;
	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen) != 1 ||
	    (*curve = curve_nid(group)) == NID_undef ||
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, NULL, 0, &plen) != 1 || plen == 0 ||
	    plen > 1024 || !(*penc = OPENSSL_malloc(plen)) ||
	    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, *penc, plen, &plen) != 1) {
		OPENSSL_free(*penc);
		*penc = NULL;
		return -1;
	}
	*penclen = (int)plen;
	return 0;
}

/* The key's bits for RSA and EC on our curves: 0 with the algorithm set in
 * pub, or -1 (nothing changed: use OpenSSL's general path). */
static int pubkey_set_fast(X509_PUBKEY *pub, EVP_PKEY *key)
{
	unsigned char *penc = NULL;
	int penclen = 0, curve = NID_undef;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && rsa_spki_bits(key, &penc, &penclen) == 0) {
		if (X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_rsaEncryption), V_ASN1_NULL, NULL, penc, penclen) == 1)
			return 0;
	} else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && ec_spki_bits(key, &curve, &penc, &penclen) == 0) {
		if (X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
					   OBJ_nid2obj(curve), penc, penclen) == 1)
			return 0;
	}
	OPENSSL_free(penc);
	ERR_clear_error();
	return -1;
}

int pki_pubkey_to_der(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	X509_PUBKEY *pub;
	unsigned char *out = NULL;
	int n = -1;

	if (!key || !der || !len)
		return -1;
	if ((pub = X509_PUBKEY_new()) != NULL && pubkey_set_fast(pub, key) == 0)
		n = i2d_X509_PUBKEY(pub, &out);
	else
		n = i2d_PUBKEY(key, &out);
	X509_PUBKEY_free(pub);
	ERR_clear_error();
	if (n <= 0) {
		OPENSSL_free(out);
		return -1;
	}
	*der = out;
	*len = (size_t)n;
	return 0;
}

int pki_x509_set_pubkey(X509 *x, EVP_PKEY *key)
{
	X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);

	if (pub && pubkey_set_fast(pub, key) == 0)
		return 0;
	return X509_set_pubkey(x, key) == 1 ? 0 : -1;
}

/* ---- the key inside a certificate, by walking its DER ---- */

/* The next TLV at *p (before end): its class, tag and constructed bit; *p
 * past it; *start at its header. -1 if it does not fit. */
static int next_tlv(const unsigned char **p, const unsigned char *end, const unsigned char **start, int *tag,
		    int *xclass, int *constructed, const unsigned char **content)
{
	long len;
	int rc;

	*start = *p;
	rc = ASN1_get_object(p, &len, tag, xclass, end - *p);
	if ((rc & 0x80) || len > end - *p)
		return -1;
	*constructed = rc == V_ASN1_CONSTRUCTED;
	*content = *p;
	*p += len;
	return 0;
}

int pki_cert_spki_der(const uint8_t *der, size_t len, const uint8_t **spki, size_t *spki_len)
{
	const unsigned char *p = der, *end = der + len, *start, *content, *tbs_end;
	int tag, xclass, cons;

	/* Certificate ::= SEQUENCE { tbsCertificate, ... }: enter both. */
	if (!der || len == 0 || len > PKI_MAX_INPUT ||
	    next_tlv(&p, end, &start, &tag, &xclass, &cons, &content) < 0 || tag != V_ASN1_SEQUENCE || !cons ||
	    p != end)
		return -1;
	p = content;
	if (next_tlv(&p, end, &start, &tag, &xclass, &cons, &content) < 0 || tag != V_ASN1_SEQUENCE || !cons)
		return -1;
	tbs_end = p;
	p = content;
	/* [0] version (optional), serialNumber, signature, issuer, validity, subject */
	for (int field = 0; field < 6; field++) {
		if (next_tlv(&p, tbs_end, &start, &tag, &xclass, &cons, &content) < 0)
			return -1;
		if (field == 0 && !(xclass == V_ASN1_CONTEXT_SPECIFIC && tag == 0))
			field++;        /* no version: this was the serial number */
	}
	if (next_tlv(&p, tbs_end, &start, &tag, &xclass, &cons, &content) < 0 || tag != V_ASN1_SEQUENCE || !cons ||
	    xclass != V_ASN1_UNIVERSAL)
		return -1;
	*spki = start;
	*spki_len = (size_t)(p - start);
	return 0;
}
