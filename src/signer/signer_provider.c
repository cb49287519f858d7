/*
 * signer_provider.c: the built-in provider "opencapf-signer"
 * (signer_provider.h): key management, signatures and RSA decryption for
 * keys held by the signer process.
 */
#include "signer/signer_provider.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "signer/signer_msg.h"

#define PROV_NAME "opencapf-signer"
#define REF_PARAM "opencapf-signer-ref"

/* What a key of this provider is. */
struct pkey_ref {
	const struct signer_key_backend *be; /* NULL: public only (imported to compare) */
	void *ctx;
	int slot;
	const char *path;
	EVP_PKEY *pub;
};

struct key_data {
	struct pkey_ref ref;
	char path[1024];
	int ec;
};

/* ---- key management ---- */

static void *km_new(int ec)
{
	struct key_data *k = calloc(1, sizeof *k);

	if (k)
		k->ec = ec;
	return k;
}

static void *km_rsa_new(void *provctx)
{
	return km_new(0);
}

static void *km_ec_new(void *provctx)
{
	return km_new(1);
}

static void km_free(void *kd)
{
	struct key_data *k = kd;

	if (k)
		EVP_PKEY_free(k->ref.pub);
	free(k);
}

static int km_has(const void *kd, int selection)
{
	const struct key_data *k = kd;

	if (!k || !k->ref.pub)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !k->ref.be)
		return 0;
	return 1;
}

/* A public key from the default provider (what a certificate holds). */
static EVP_PKEY *public_from_params(int ec, const OSSL_PARAM params[])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, ec ? "EC" : "RSA", "provider=default");
	EVP_PKEY *pub = NULL;

	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
		pub = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pub;
}

static int km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct key_data *k = kd;
	const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, REF_PARAM);
	const struct pkey_ref *ref;

	if (!k || k->ref.pub)
		return 0;
	if (p) {
		if (p->data_type != OSSL_PARAM_OCTET_STRING || p->data_size != sizeof *ref)
			return 0;
		ref = p->data;
		if (!ref->pub || EVP_PKEY_up_ref(ref->pub) != 1)
			return 0;
		k->ref = *ref;
		snprintf(k->path, sizeof k->path, "%s", ref->path ? ref->path : "");
		k->ref.path = k->path;
		return 1;
	}
	if (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY && OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D))
		return 0; /* private keys are never imported here */
	k->ref.pub = public_from_params(k->ec, params);
	return k->ref.pub != NULL;
}

static const OSSL_PARAM *km_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_octet_string(REF_PARAM, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_END,
	};

	return types;
}

/* Only public parts leave; asked for the private key, exporting fails (so
 * OpenSSL uses this provider's own operations instead of a copy). */
static int km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *cbarg)
{
	struct key_data *k = kd;

	if (!k || !k->ref.pub || (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
		return 0;
	return EVP_PKEY_export(k->ref.pub, selection, cb, cbarg);
}

static const OSSL_PARAM *km_export_types(int selection)
{
	return km_import_types(selection) + 1;
}

static int km_get_params(void *kd, OSSL_PARAM params[])
{
	struct key_data *k = kd;
	OSSL_PARAM *p = OSSL_PARAM_locate(params, REF_PARAM);

	if (!k || !k->ref.pub)
		return 0;
	if (p && k->ref.be && !OSSL_PARAM_set_octet_string(p, &k->ref, sizeof k->ref))
		return 0;
	return EVP_PKEY_get_params(k->ref.pub, params);
}

static const OSSL_PARAM *km_gettable_params(void *provctx)
{
	static const OSSL_PARAM gettable[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_octet_string(REF_PARAM, NULL, 0),
		OSSL_PARAM_END,
	};

	return gettable;
}

static int km_match(const void *a, const void *b, int selection)
{
	const struct key_data *x = a, *y = b;

	return x && y && x->ref.pub && y->ref.pub && EVP_PKEY_eq(x->ref.pub, y->ref.pub) == 1;
}

static const char *km_rsa_query(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE || operation_id == OSSL_OP_ASYM_CIPHER ? "RSA" : NULL;
}

static const char *km_ec_query(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

#define KM_COMMON                                                                              \
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },                                   \
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },                                     \
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import },                               \
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_import_types },                   \
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export },                               \
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))km_export_types },                   \
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params },                       \
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_gettable_params },             \
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match }

static const OSSL_DISPATCH km_rsa_functions[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_rsa_new },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_rsa_query },
	KM_COMMON,
	{ 0, NULL },
};

static const OSSL_DISPATCH km_ec_functions[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_ec_new },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))km_ec_query },
	KM_COMMON,
	{ 0, NULL },
};

/* ---- signatures: the whole message goes to the signer ---- */

struct sig_ctx {
	struct key_data *key;
	struct signer_sig_params sp;
	struct buf data;
};

static void prov_raise(const char *what)
{
	ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "opencapf signer: %s", what);
}

static void *sig_newctx(void *provctx, const char *propq)
{
	struct sig_ctx *c = calloc(1, sizeof *c);

	if (c)
		buf_init(&c->data);
	return c;
}

static void sig_freectx(void *vc)
{
	struct sig_ctx *c = vc;

	if (!c)
		return;
	buf_free(&c->data);
	free(c);
}

static void *sig_dupctx(void *vc)
{
	struct sig_ctx *c = vc, *d = sig_newctx(NULL, NULL);

	if (!d)
		return NULL;
	d->key = c->key;
	d->sp = c->sp;
	buf_put(&d->data, c->data.data, c->data.len);
	if (d->data.failed) {
		sig_freectx(d);
		return NULL;
	}
	return d;
}

static int set_pad(struct signer_sig_params *sp, const OSSL_PARAM *p)
{
	int mode = 0;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		const char *s = p->data;

		mode = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING
		       : strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0   ? RSA_PKCS1_PSS_PADDING : 0;
	} else if (!OSSL_PARAM_get_int(p, &mode)) {
		return 0;
	}
	if (mode == RSA_PKCS1_PADDING)
		sp->pad = SIGNER_PAD_PKCS1;
	else if (mode == RSA_PKCS1_PSS_PADDING)
		sp->pad = SIGNER_PAD_PSS;
	else
		return 0;
	if (sp->pad != SIGNER_PAD_PSS)
		sp->saltlen = 0;
	return 1;
}

static int set_saltlen(struct signer_sig_params *sp, const OSSL_PARAM *p)
{
	int len = 0;

	if (p->data_type == OSSL_PARAM_UTF8_STRING) {
		if (strcmp(p->data, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) != 0)
			return 0;
		len = RSA_PSS_SALTLEN_DIGEST;
	} else if (!OSSL_PARAM_get_int(p, &len)) {
		return 0;
	}
	if (len < RSA_PSS_SALTLEN_DIGEST || len > 1024)
		return 0;
	sp->saltlen = (int16_t)len;
	return 1;
}

static int sig_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
	struct sig_ctx *c = vc;
	const OSSL_PARAM *p;
	char md[64] = "", *mdp = md;

	if (!c)
		return 0;
	if (!params)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST))) {
		if (!OSSL_PARAM_get_utf8_string(p, &mdp, sizeof md) || !(c->sp.md = (uint8_t)signer_md_from_name(md)))
			return 0;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) && (c->key->ec || !set_pad(&c->sp, p)))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) && !set_saltlen(&c->sp, p))
		return 0;
	return 1;
}

static const OSSL_PARAM *sig_settable_ctx_params(void *vc, void *provctx)
{
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
		OSSL_PARAM_END,
	};

	return settable;
}

static int sig_digest_sign_init(void *vc, const char *mdname, void *kd, const OSSL_PARAM params[])
{
	struct sig_ctx *c = vc;
	struct key_data *k = kd;

	if (!c || !k || !k->ref.be) {
		prov_raise("not a key of the signer process");
		return 0;
	}
	c->key = k;
	c->sp = (struct signer_sig_params){ .md = (uint8_t)signer_md_from_name(mdname ? mdname : "SHA256"),
					    .pad = k->ec ? SIGNER_PAD_NONE : SIGNER_PAD_PKCS1 };
	buf_reset(&c->data);
	if (!c->sp.md) {
		prov_raise("unsupported digest");
		return 0;
	}
	return sig_set_ctx_params(c, params);
}

static int sig_digest_sign_update(void *vc, const unsigned char *data, size_t len)
{
	struct sig_ctx *c = vc;

	if (c->data.len + len > SIGNER_MSG_MAX - SIGNER_SIG_PARAMS_LEN) {
		prov_raise("message too long for the signer");
		return 0;
	}
	buf_put(&c->data, data, len);
	return !c->data.failed;
}

/* The signature of `data`: sig NULL asks for the size. */
static int remote_sign(struct sig_ctx *c, unsigned char *sig, size_t *siglen, size_t sigsize, const uint8_t *data,
		       size_t len)
{
	const struct pkey_ref *r = &c->key->ref;
	struct buf resp;
	char err[ERRLEN];
	int ok = 0;

	if (!sig) {
		*siglen = (size_t)EVP_PKEY_get_size(r->pub);
		return 1;
	}
	buf_init(&resp);
	if (r->be->sign(r->ctx, r->slot, &c->sp, data, len, &resp, err, sizeof err) < 0)
		prov_raise(err);
	else if (resp.len > sigsize)
		prov_raise("signature too long");
	else {
		memcpy(sig, resp.data, resp.len);
		*siglen = resp.len;
		ok = 1;
	}
	buf_free(&resp);
	return ok;
}

static int sig_digest_sign_final(void *vc, unsigned char *sig, size_t *siglen, size_t sigsize)
{
	struct sig_ctx *c = vc;

	return remote_sign(c, sig, siglen, sigsize, c->data.data, c->data.len);
}

static int sig_digest_sign(void *vc, unsigned char *sig, size_t *siglen, size_t sigsize, const unsigned char *tbs,
			   size_t tbslen)
{
	return remote_sign(vc, sig, siglen, sigsize, tbs, tbslen);
}

/* Verifying: with the public key, in the default provider. */
static int sig_digest_verify_init(void *vc, const char *mdname, void *kd, const OSSL_PARAM params[])
{
	struct sig_ctx *c = vc;
	struct key_data *k = kd;

	if (!c || !k || !k->ref.pub)
		return 0;
	c->key = k;
	c->sp = (struct signer_sig_params){ .md = (uint8_t)signer_md_from_name(mdname ? mdname : "SHA256"),
					    .pad = k->ec ? SIGNER_PAD_NONE : SIGNER_PAD_PKCS1 };
	buf_reset(&c->data);
	return c->sp.md && sig_set_ctx_params(c, params);
}

static int sig_digest_verify_final(void *vc, const unsigned char *sig, size_t siglen)
{
	struct sig_ctx *c = vc;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = m && EVP_DigestVerifyInit_ex(m, &pctx, signer_md_name(c->sp.md), NULL, "provider=default",
					      c->key->ref.pub, NULL) == 1;

	if (ok && c->sp.pad == SIGNER_PAD_PSS)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
		     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, c->sp.saltlen < 0 ? RSA_PSS_SALTLEN_DIGEST : c->sp.saltlen) > 0;
	ok = ok && EVP_DigestVerify(m, sig, siglen, c->data.data ? c->data.data : (const uint8_t *)"", c->data.len) == 1;
	EVP_MD_CTX_free(m);
	return ok;
}

static int sig_digest_verify(void *vc, const unsigned char *sig, size_t siglen, const unsigned char *tbs, size_t tbslen)
{
	struct sig_ctx *c = vc;

	buf_reset(&c->data);
	return sig_digest_sign_update(c, tbs, tbslen) && sig_digest_verify_final(c, sig, siglen);
}

/* The AlgorithmIdentifier of this signature, for certificates, CRLs and
 * OCSP responses signed with the key (PKCS#1 v1.5 and ECDSA only). */
static int sig_get_ctx_params(void *vc, OSSL_PARAM params[])
{
	struct sig_ctx *c = vc;
	OSSL_PARAM *p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
	const EVP_MD *md;
	X509_ALGOR *alg;
	unsigned char *der = NULL;
	int nid = NID_undef, len, ok;

	if (!p)
		return 1;
	if (!c || !c->key || c->sp.pad == SIGNER_PAD_PSS || !(md = EVP_get_digestbyname(signer_md_name(c->sp.md))) ||
	    !OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(md), c->key->ec ? NID_X9_62_id_ecPublicKey : NID_rsaEncryption))
		return 0;
	if (!(alg = X509_ALGOR_new()))
		return 0;
	X509_ALGOR_set0(alg, OBJ_nid2obj(nid), c->key->ec ? V_ASN1_UNDEF : V_ASN1_NULL, NULL);
	len = i2d_X509_ALGOR(alg, &der);
	ok = len > 0 && OSSL_PARAM_set_octet_string(p, der, (size_t)len);
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	return ok;
}

static const OSSL_PARAM *sig_gettable_ctx_params(void *vc, void *provctx)
{
	static const OSSL_PARAM gettable[] = {
		OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
		OSSL_PARAM_END,
	};

	return gettable;
}

static const OSSL_DISPATCH sig_functions[] = {
	{ OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void))sig_get_ctx_params },
	{ OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void))sig_gettable_ctx_params },
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_digest_sign_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_digest_sign_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))sig_digest_sign_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))sig_digest_sign },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))sig_digest_verify_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_UPDATE, (void (*)(void))sig_digest_sign_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_FINAL, (void (*)(void))sig_digest_verify_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))sig_digest_verify },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))sig_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))sig_settable_ctx_params },
	{ 0, NULL },
};

/* ---- RSA decryption for TLS RSA key exchange ---- */

struct dec_ctx {
	struct key_data *key;
	int pad;
	unsigned client_version, negotiated_version;
};

static void *dec_newctx(void *provctx)
{
	return calloc(1, sizeof(struct dec_ctx));
}

static void dec_freectx(void *vc)
{
	free(vc);
}

static void *dec_dupctx(void *vc)
{
	struct dec_ctx *d = malloc(sizeof *d);

	if (d)
		*d = *(struct dec_ctx *)vc;
	return d;
}

static int dec_set_ctx_params(void *vc, const OSSL_PARAM params[])
{
	struct dec_ctx *c = vc;
	const OSSL_PARAM *p;

	if (!params)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_PAD_MODE)) &&
	    (p->data_type == OSSL_PARAM_UTF8_STRING || !OSSL_PARAM_get_int(p, &c->pad)))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION)) &&
	    !OSSL_PARAM_get_uint(p, &c->client_version))
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION)) &&
	    !OSSL_PARAM_get_uint(p, &c->negotiated_version))
		return 0;
	return 1;
}

static const OSSL_PARAM *dec_settable_ctx_params(void *vc, void *provctx)
{
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_int(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, NULL),
		OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, NULL),
		OSSL_PARAM_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, NULL),
		OSSL_PARAM_END,
	};

	return settable;
}

static int dec_init(void *vc, void *kd, const OSSL_PARAM params[])
{
	struct dec_ctx *c = vc;
	struct key_data *k = kd;

	if (!k || !k->ref.be || k->ec)
		return 0;
	c->key = k;
	c->pad = RSA_PKCS1_PADDING;
	return dec_set_ctx_params(c, params);
}

static int dec_decrypt(void *vc, unsigned char *out, size_t *outlen, size_t outsize, const unsigned char *in,
		       size_t inlen)
{
	struct dec_ctx *c = vc;
	const struct pkey_ref *r = &c->key->ref;
	struct buf resp;
	char err[ERRLEN];
	int ok = 0;

	if (!out) {
		*outlen = (size_t)EVP_PKEY_get_size(c->key->ref.pub);
		return 1;
	}
	if (c->pad != RSA_PKCS1_WITH_TLS_PADDING) {
		prov_raise("RSA decryption only for TLS key exchange");
		return 0;
	}
	buf_init(&resp);
	if (r->be->decrypt_tls(r->ctx, r->slot, c->client_version, c->negotiated_version, in, inlen, &resp, err,
			       sizeof err) == 0 && resp.len <= outsize) {
		memcpy(out, resp.data, resp.len);
		*outlen = resp.len;
		ok = 1;
	} else
		prov_raise("the signer did not decrypt");
	OPENSSL_cleanse(resp.data, resp.len);
	buf_free(&resp);
	return ok;
}

static const OSSL_DISPATCH dec_functions[] = {
	{ OSSL_FUNC_ASYM_CIPHER_NEWCTX, (void (*)(void))dec_newctx },
	{ OSSL_FUNC_ASYM_CIPHER_FREECTX, (void (*)(void))dec_freectx },
	{ OSSL_FUNC_ASYM_CIPHER_DUPCTX, (void (*)(void))dec_dupctx },
	{ OSSL_FUNC_ASYM_CIPHER_DECRYPT_INIT, (void (*)(void))dec_init },
	{ OSSL_FUNC_ASYM_CIPHER_DECRYPT, (void (*)(void))dec_decrypt },
	{ OSSL_FUNC_ASYM_CIPHER_SET_CTX_PARAMS, (void (*)(void))dec_set_ctx_params },
	{ OSSL_FUNC_ASYM_CIPHER_SETTABLE_CTX_PARAMS, (void (*)(void))dec_settable_ctx_params },
	{ 0, NULL },
};

/* ---- the provider ---- */

#define RSA_NAMES "RSA:rsaEncryption:1.2.840.113549.1.1.1"
#define PROPS "provider=" PROV_NAME ",opencapf.signer=yes"

static const OSSL_ALGORITHM keymgmt_algs[] = {
	{ RSA_NAMES, PROPS, km_rsa_functions, "RSA key in the opencapf signer process" },
	{ "EC:id-ecPublicKey:1.2.840.10045.2.1", PROPS, km_ec_functions, "EC key in the opencapf signer process" },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM signature_algs[] = {
	{ RSA_NAMES, PROPS, sig_functions, NULL },
	{ "ECDSA", PROPS, sig_functions, NULL },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM cipher_algs[] = {
	{ RSA_NAMES, PROPS, dec_functions, NULL },
	{ NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int operation_id, int *no_cache)
{
	*no_cache = 0;
	switch (operation_id) {
	case OSSL_OP_KEYMGMT: return keymgmt_algs;
	case OSSL_OP_SIGNATURE: return signature_algs;
	case OSSL_OP_ASYM_CIPHER: return cipher_algs;
	default: return NULL;
	}
}

static const OSSL_DISPATCH prov_functions[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
	{ 0, NULL },
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
		     void **provctx)
{
	*out = prov_functions;
	*provctx = (void *)handle;
	return 1;
}

int signer_provider_load(char *err, size_t errlen)
{
	static OSSL_PROVIDER *deflt, *ours; /* loaded for the process's life */

	if (ours && deflt)
		return 0;
	if (OSSL_PROVIDER_add_builtin(NULL, PROV_NAME, prov_init) != 1 || !(deflt = OSSL_PROVIDER_load(NULL, "default")) ||
	    !(ours = OSSL_PROVIDER_load(NULL, PROV_NAME)) || EVP_set_default_properties(NULL, "?opencapf.signer=no") != 1) {
		seterr(err, errlen, "cannot load the OpenSSL provider %s", PROV_NAME);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

EVP_PKEY *signer_provider_key(const struct signer_key_backend *be, void *bectx, int slot, const char *path,
			      EVP_PKEY *pub, char *err, size_t errlen)
{
	struct pkey_ref ref = { .be = be, .ctx = bectx, .slot = slot, .path = path, .pub = pub };
	int ec = EVP_PKEY_is_a(pub, "EC");
	EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, ec ? "EC" : "RSA", "provider=" PROV_NAME);
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_octet_string(REF_PARAM, &ref, sizeof ref), OSSL_PARAM_END };
	EVP_PKEY *key = NULL;

	if (!ec && !EVP_PKEY_is_a(pub, "RSA")) {
		seterr(err, errlen, "%s: the signer holds a key that is neither RSA nor EC", path);
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	if (!pctx || EVP_PKEY_fromdata_init(pctx) != 1 || EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
		seterr(err, errlen, "%s: cannot make a key of the provider %s", path, PROV_NAME);
		key = NULL;
	}
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	return key;
}

int signer_provider_key_ref(const EVP_PKEY *key, const struct signer_key_backend **be, void **ctx, int *slot,
			    const char **path)
{
	struct pkey_ref ref;
	OSSL_PARAM params[2] = { OSSL_PARAM_construct_octet_string(REF_PARAM, &ref, sizeof ref), OSSL_PARAM_END };

	if (!key || EVP_PKEY_get_params(key, params) != 1 || !OSSL_PARAM_modified(params) ||
	    params[0].return_size != sizeof ref || !ref.be) {
		ERR_clear_error();
		return -1;
	}
	*be = ref.be;
	*ctx = ref.ctx;
	*slot = ref.slot;
	*path = ref.path;
	return 0;
}
