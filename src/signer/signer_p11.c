/*
 * signer_p11.c: keys in PKCS#11 tokens through p11-kit (signer_p11.h):
 * finding the token an RFC 7512 URI names, logging in, generating and
 * finding key pairs, and the provider backend that signs and decrypts with
 * C_Sign / C_Decrypt.
 */
#include "signer/signer_p11.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"
#include "signer/signer_provider.h"

#define URI_MAX 1024
#define MAX_TOKENS 8

struct p11_token {
	CK_FUNCTION_LIST *mod;
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE sess;
	CK_TOKEN_INFO info;
	pthread_mutex_t lock;
};

struct p11_key {
	struct p11_token *tok;
	CK_OBJECT_HANDLE priv;
	int ec;
	CK_ULONG siglen;          /* RSA modulus bytes, or twice the EC field bytes */
	char uri[URI_MAX];        /* without pin-value */
	struct p11_key *next;     /* every key made or loaded: they live as long as the process */
};

static struct p11_token *tokens[MAX_TOKENS];
static int ntokens;
static pthread_mutex_t tokens_lock = PTHREAD_MUTEX_INITIALIZER;
static char store_uri[URI_MAX];
static struct p11_key *all_keys;

/* ---- URIs ---- */

/* A query attribute's value (percent-decoded), or -1 if absent. */
static int query_attr(const char *uri, const char *name, char *out, size_t cap)
{
	const char *q = strchr(uri, '?');
	size_t nl = strlen(name);

	for (const char *p = q ? q + 1 : NULL; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		size_t o = 0;

		if (strncmp(p, name, nl) != 0 || p[nl] != '=')
			continue;
		for (p += nl + 1; *p && *p != '&' && o + 1 < cap; p++) {
			unsigned v;

			if (*p == '%' && sscanf(p + 1, "%2x", &v) == 1) {
				out[o++] = (char)v;
				p += 2;
			} else
				out[o++] = *p;
		}
		out[o] = 0;
		return 0;
	}
	return -1;
}

int signer_p11_uri_public(const char *uri, char *out, size_t outcap)
{
	const char *q = strchr(uri, '?');
	size_t n = q ? (size_t)(q - uri) : strlen(uri);
	int first = 1;

	if (n >= outcap)
		return -1;
	memcpy(out, uri, n);
	out[n] = 0;
	for (const char *p = q ? q + 1 : NULL; p && *p;) {
		const char *end = strchr(p, '&');
		size_t l = end ? (size_t)(end - p) : strlen(p);

		if (strncmp(p, "pin-value=", 10) != 0) {
			if (n + l + 2 >= outcap)
				return -1;
			out[n++] = first ? '?' : '&';
			memcpy(out + n, p, l);
			n += l;
			out[n] = 0;
			first = 0;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

/* The PIN: pin-value, pin-source (a file), $OPENCAPF_PKCS11_PIN, $OPENCAPF_PKCS11_PIN_FILE. */
static int find_pin(const char *uri, char *pin, size_t cap, char *err, size_t errlen)
{
	char src[512];
	const char *env = getenv("OPENCAPF_PKCS11_PIN"), *file = getenv("OPENCAPF_PKCS11_PIN_FILE");
	FILE *f;

	if (query_attr(uri, "pin-value", pin, cap) == 0)
		return 0;
	if (env && *env) {
		snprintf(pin, cap, "%s", env);
		return 0;
	}
	if (query_attr(uri, "pin-source", src, sizeof src) == 0)
		file = strncmp(src, "file:", 5) == 0 ? src + 5 : src;
	if (!file || !*file) {
		seterr(err, errlen, "no PIN for the token: pin-source in the URI, or OPENCAPF_PKCS11_PIN(_FILE)");
		return -1;
	}
	if (!(f = fopen(file, "r")) || !fgets(pin, (int)cap, f)) {
		seterr(err, errlen, "cannot read the PIN from %s", file);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	pin[strcspn(pin, "\r\n")] = 0;
	return 0;
}

/* ---- tokens ---- */

/* The modules to look in: module-path, $OPENCAPF_PKCS11_MODULE, or all of p11-kit's. */
static CK_FUNCTION_LIST **modules_for(const char *uri, char *err, size_t errlen)
{
	char path[512];
	const char *env = getenv("OPENCAPF_PKCS11_MODULE");
	CK_FUNCTION_LIST **list;

	if (query_attr(uri, "module-path", path, sizeof path) < 0) {
		if (!env || !*env) {
			if (!(list = p11_kit_modules_load_and_initialize(0)))
				seterr(err, errlen, "p11-kit: %s", p11_kit_message() ? p11_kit_message() : "no modules");
			return list;
		}
		snprintf(path, sizeof path, "%s", env);
	}
	if (!(list = calloc(2, sizeof *list)) || !(list[0] = p11_kit_module_load(path, 0)) ||
	    p11_kit_module_initialize(list[0]) != CKR_OK) {
		seterr(err, errlen, "cannot load the PKCS#11 module %s", path);
		free(list);
		return NULL;
	}
	return list;
}

static int find_slot(CK_FUNCTION_LIST *mod, P11KitUri *u, CK_SLOT_ID *slot, CK_TOKEN_INFO *info)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64;

	if (mod->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return -1;
	for (CK_ULONG i = 0; i < n; i++)
		if (mod->C_GetTokenInfo(slots[i], info) == CKR_OK && p11_kit_uri_match_token_info(u, info)) {
			*slot = slots[i];
			return 0;
		}
	return -1;
}

static int token_login(struct p11_token *t, const char *uri, char *err, size_t errlen)
{
	char pin[256];
	CK_RV rv;

	if (t->mod->C_OpenSession(t->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &t->sess) != CKR_OK) {
		seterr(err, errlen, "cannot open a session with the token");
		return -1;
	}
	if (find_pin(uri, pin, sizeof pin, err, errlen) < 0)
		return -1;
	rv = t->mod->C_Login(t->sess, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin));
	OPENSSL_cleanse(pin, sizeof pin);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		seterr(err, errlen, "the token refused the PIN (PKCS#11 error 0x%lx)", (unsigned long)rv);
		return -1;
	}
	return 0;
}

/* The token a URI names, opened and logged in once per process. */
static struct p11_token *token_open(const char *uri, P11KitUri *u, char *err, size_t errlen)
{
	struct p11_token *t = NULL;
	CK_FUNCTION_LIST **mods;

	pthread_mutex_lock(&tokens_lock);
	for (int i = 0; i < ntokens && !t; i++)
		if (p11_kit_uri_match_token_info(u, &tokens[i]->info))
			t = tokens[i];
	if (t || ntokens >= MAX_TOKENS || !(mods = modules_for(uri, err, errlen)))
		goto out;
	if (!(t = calloc(1, sizeof *t)))
		goto out;
	for (int i = 0; mods[i] && !t->mod; i++)
		if (find_slot(mods[i], u, &t->slot, &t->info) == 0)
			t->mod = mods[i];
	free(mods);
	if (!t->mod)
		seterr(err, errlen, "no PKCS#11 token matches %s", uri);
	if (!t->mod || token_login(t, uri, err, errlen) < 0) {
		free(t);
		t = NULL;
		goto out;
	}
	pthread_mutex_init(&t->lock, NULL);
	tokens[ntokens++] = t;
out:
	pthread_mutex_unlock(&tokens_lock);
	if (!t && ntokens >= MAX_TOKENS)
		seterr(err, errlen, "too many PKCS#11 tokens (%d)", MAX_TOKENS);
	return t;
}

/* One attribute's value into out (called with the token's lock held). */
static int get_attr(struct p11_token *t, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, struct buf *out)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };

	buf_reset(out);
	if (t->mod->C_GetAttributeValue(t->sess, o, &a, 1) != CKR_OK || a.ulValueLen == (CK_ULONG)-1 ||
	    a.ulValueLen > 8192)
		return -1;
	if (!(a.pValue = malloc(a.ulValueLen ? a.ulValueLen : 1)))
		return -1;
	if (t->mod->C_GetAttributeValue(t->sess, o, &a, 1) != CKR_OK) {
		free(a.pValue);
		return -1;
	}
	buf_put(out, a.pValue, a.ulValueLen);
	free(a.pValue);
	return out->failed ? -1 : 0;
}

/* The one object of a class with the URI's label and id (lock held). */
static int find_object(struct p11_token *t, P11KitUri *u, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *o)
{
	CK_ATTRIBUTE tmpl[3] = { { CKA_CLASS, &cls, sizeof cls } };
	CK_ATTRIBUTE_PTR a;
	CK_ULONG n = 1, found = 0;

	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)))
		tmpl[n++] = *a;
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)))
		tmpl[n++] = *a;
	if (n == 1 || t->mod->C_FindObjectsInit(t->sess, tmpl, n) != CKR_OK)
		return -1;
	if (t->mod->C_FindObjects(t->sess, o, 1, &found) != CKR_OK)
		found = 0;
	t->mod->C_FindObjectsFinal(t->sess);
	return found == 1 ? 0 : -1;
}

/* ---- public keys ---- */

static EVP_PKEY *pub_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
	EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, type, "provider=default") : NULL;
	EVP_PKEY *pub = NULL;

	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pub = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pub;
}

static EVP_PKEY *rsa_public(struct p11_token *t, CK_OBJECT_HANDLE o, CK_ULONG *siglen)
{
	struct buf n, e;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pub = NULL;

	buf_init(&n);
	buf_init(&e);
	if (bld && get_attr(t, o, CKA_MODULUS, &n) == 0 && get_attr(t, o, CKA_PUBLIC_EXPONENT, &e) == 0 &&
	    (bn = BN_bin2bn(n.data, (int)n.len, NULL)) && (be = BN_bin2bn(e.data, (int)e.len, NULL)) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		pub = pub_from_params("RSA", bld);
	*siglen = (CK_ULONG)BN_num_bytes(bn ? bn : be);
	BN_free(bn);
	BN_free(be);
	OSSL_PARAM_BLD_free(bld);
	buf_free(&n);
	buf_free(&e);
	return pub;
}

static EVP_PKEY *ec_public(struct p11_token *t, CK_OBJECT_HANDLE o, CK_ULONG *siglen)
{
	struct buf params, point;
	const unsigned char *p;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *os = NULL;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY *pub = NULL;
	const char *group = NULL;

	buf_init(&params);
	buf_init(&point);
	if (bld && get_attr(t, o, CKA_EC_PARAMS, &params) == 0 && get_attr(t, o, CKA_EC_POINT, &point) == 0 &&
	    (p = params.data, oid = d2i_ASN1_OBJECT(NULL, &p, (long)params.len)) &&
	    (group = OBJ_nid2sn(OBJ_obj2nid(oid))) && (p = point.data, os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)point.len)) &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, os->data, (size_t)os->length))
		pub = pub_from_params("EC", bld);
	if (pub)
		*siglen = 2 * (CK_ULONG)((EVP_PKEY_get_bits(pub) + 7) / 8);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(os);
	OSSL_PARAM_BLD_free(bld);
	buf_free(&params);
	buf_free(&point);
	ERR_clear_error();
	return pub;
}

/* ---- the provider's backend ---- */

static const uint8_t *digest_info(int md, size_t *len)
{
	static const uint8_t sha1[] = { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14 };
	static const uint8_t sha2[3][19] = {
		{ 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 },
		{ 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 },
		{ 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 },
	};

	*len = md == SIGNER_MD_SHA1 ? sizeof sha1 : md == SIGNER_MD_MD5_SHA1 ? 0 : sizeof sha2[0];
	return md == SIGNER_MD_SHA1 ? sha1 : md == SIGNER_MD_MD5_SHA1 ? NULL : sha2[md - SIGNER_MD_SHA256];
}

static CK_MECHANISM_TYPE pss_hash(int md, CK_RSA_PKCS_MGF_TYPE *mgf)
{
	static const CK_MECHANISM_TYPE hashes[] = { 0, CKM_SHA_1, CKM_SHA256, CKM_SHA384, CKM_SHA512 };
	static const CK_RSA_PKCS_MGF_TYPE mgfs[] = { 0, CKG_MGF1_SHA1, CKG_MGF1_SHA256, CKG_MGF1_SHA384, CKG_MGF1_SHA512 };

	*mgf = md >= 1 && md <= 4 ? mgfs[md] : 0;
	return md >= 1 && md <= 4 ? hashes[md] : 0;
}

/* The token's raw signature over `in` with mechanism m (lock taken here). */
static int token_sign(struct p11_key *k, CK_MECHANISM *m, const uint8_t *in, size_t len, uint8_t *sig, CK_ULONG *siglen)
{
	CK_RV rv;

	pthread_mutex_lock(&k->tok->lock);
	rv = k->tok->mod->C_SignInit(k->tok->sess, m, k->priv);
	if (rv == CKR_OK)
		rv = k->tok->mod->C_Sign(k->tok->sess, (CK_BYTE *)in, len, sig, siglen);
	pthread_mutex_unlock(&k->tok->lock);
	return rv == CKR_OK ? 0 : -1;
}

/* r || s from the token as a DER ECDSA-Sig-Value. */
static int ecdsa_der(const uint8_t *rs, CK_ULONG n, struct buf *out)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, (int)(n / 2), NULL), *s = BN_bin2bn(rs + n / 2, (int)(n / 2), NULL);
	unsigned char *der = NULL;
	int len = -1;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s) == 1) {
		r = s = NULL;
		len = i2d_ECDSA_SIG(sig, &der);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	if (len > 0)
		buf_put(out, der, (size_t)len);
	OPENSSL_free(der);
	return len > 0 ? 0 : -1;
}

static int p11_sign(void *ctx, int slot, const struct signer_sig_params *sp, const uint8_t *data, size_t len,
		    struct buf *out, char *err, size_t errlen)
{
	struct p11_key *k = ctx;
	uint8_t in[128], hash[EVP_MAX_MD_SIZE], sig[1024];
	unsigned hlen = 0;
	size_t dil = 0, inlen;
	const uint8_t *di = digest_info(sp->md, &dil);
	CK_RSA_PKCS_MGF_TYPE mgf = 0;
	CK_MECHANISM_TYPE pss_md = pss_hash(sp->md, &mgf);
	CK_RSA_PKCS_PSS_PARAMS pss = { pss_md, mgf, 0 };
	CK_MECHANISM m = { k->ec ? CKM_ECDSA : CKM_RSA_PKCS, NULL, 0 };
	CK_ULONG siglen = k->siglen;

	if (EVP_Digest(data, len, hash, &hlen, EVP_get_digestbyname(signer_md_name(sp->md)), NULL) != 1 ||
	    siglen > sizeof sig) {
		seterr(err, errlen, "cannot hash with %s", signer_md_name(sp->md));
		return -1;
	}
	memcpy(in, di, dil);
	memcpy(in + dil, hash, hlen);
	inlen = dil + hlen;
	if (!k->ec && sp->pad == SIGNER_PAD_PSS) {
		pss.sLen = sp->saltlen < 0 ? hlen : (CK_ULONG)sp->saltlen;
		m = (CK_MECHANISM){ CKM_RSA_PKCS_PSS, &pss, sizeof pss };
		memcpy(in, hash, hlen);
		inlen = hlen;
	} else if (k->ec) {
		memcpy(in, hash, hlen);
		inlen = hlen;
	}
	if (token_sign(k, &m, in, inlen, sig, &siglen) < 0) {
		seterr(err, errlen, "the token did not sign");
		return -1;
	}
	if (k->ec)
		return ecdsa_der(sig, siglen, out);
	buf_put(out, sig, siglen);
	return 0;
}

/* RSA PKCS#1 v1.5 decryption in the token; a bad block or version gives a
 * random premaster secret, as OpenSSL's TLS padding mode does. */
static int p11_decrypt(void *ctx, int slot, unsigned client, unsigned negotiated, const uint8_t *ct, size_t len,
		       struct buf *out, char *err, size_t errlen)
{
	struct p11_key *k = ctx;
	CK_MECHANISM m = { CKM_RSA_PKCS, NULL, 0 };
	uint8_t pt[1024], fake[48];
	CK_ULONG ptlen = sizeof pt;
	CK_RV rv;

	if (RAND_bytes(fake, sizeof fake) != 1) {
		seterr(err, errlen, "no random bytes");
		return -1;
	}
	pthread_mutex_lock(&k->tok->lock);
	rv = k->tok->mod->C_DecryptInit(k->tok->sess, &m, k->priv);
	if (rv == CKR_OK)
		rv = k->tok->mod->C_Decrypt(k->tok->sess, (CK_BYTE *)ct, len, pt, &ptlen);
	pthread_mutex_unlock(&k->tok->lock);
	if (rv == CKR_OK && ptlen == 48 && pt[0] == (uint8_t)(client >> 8) && pt[1] == (uint8_t)client)
		buf_put(out, pt, 48);
	else
		buf_put(out, fake, sizeof fake);
	OPENSSL_cleanse(pt, sizeof pt);
	(void)negotiated;
	return 0;
}

static const struct signer_key_backend p11_backend = { p11_sign, p11_decrypt };

/* ---- keys ---- */

/* A provider key over the private key `priv` whose public half is `pubobj`. */
static EVP_PKEY *key_make(struct p11_token *t, CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pubobj, const char *uri,
			  char *err, size_t errlen)
{
	struct p11_key *k = calloc(1, sizeof *k);
	CK_KEY_TYPE type = 0;
	CK_ATTRIBUTE a = { CKA_KEY_TYPE, &type, sizeof type };
	EVP_PKEY *pub = NULL, *key = NULL;

	if (!k || signer_p11_uri_public(uri, k->uri, sizeof k->uri) < 0) {
		seterr(err, errlen, "out of memory or URI too long");
		free(k);
		return NULL;
	}
	k->tok = t;
	k->priv = priv;
	pthread_mutex_lock(&t->lock);
	if (t->mod->C_GetAttributeValue(t->sess, priv, &a, 1) == CKR_OK && (type == CKK_RSA || type == CKK_EC)) {
		k->ec = type == CKK_EC;
		pub = k->ec ? ec_public(t, pubobj, &k->siglen) : rsa_public(t, pubobj, &k->siglen);
	}
	pthread_mutex_unlock(&t->lock);
	if (!pub)
		seterr(err, errlen, "%s: not an RSA or EC key pair with a readable public key", uri);
	else
		key = signer_provider_key(&p11_backend, k, 0, k->uri, pub, err, errlen);
	EVP_PKEY_free(pub);
	if (!key) {
		free(k);
		return NULL;
	}
	pthread_mutex_lock(&tokens_lock); /* the provider key may outlive its EVP_PKEY's copies */
	k->next = all_keys;
	all_keys = k;
	pthread_mutex_unlock(&tokens_lock);
	return key;
}

static EVP_PKEY *p11_load(void *ctx, const char *uri, char *err, size_t errlen)
{
	P11KitUri *u = p11_kit_uri_new();
	struct p11_token *t;
	CK_OBJECT_HANDLE priv = 0, pub = 0;
	EVP_PKEY *key = NULL;
	int found;

	if (!u || p11_kit_uri_parse(uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, u) != P11_KIT_URI_OK) {
		seterr(err, errlen, "'%s' is not a PKCS#11 URI", uri);
		p11_kit_uri_free(u);
		return NULL;
	}
	if ((t = token_open(uri, u, err, errlen))) {
		pthread_mutex_lock(&t->lock);
		found = find_object(t, u, CKO_PRIVATE_KEY, &priv) == 0 && find_object(t, u, CKO_PUBLIC_KEY, &pub) == 0;
		pthread_mutex_unlock(&t->lock);
		if (!found)
			seterr(err, errlen, "no key pair in the token matches %s", uri);
		else
			key = key_make(t, priv, pub, uri, err, errlen);
	}
	p11_kit_uri_free(u);
	return key;
}

static const char *p11_ref_of(void *ctx, const EVP_PKEY *key)
{
	const struct signer_key_backend *be;
	const char *path;
	void *kctx;
	int slot;

	if (signer_provider_key_ref(key, &be, &kctx, &slot, &path) < 0 || be != &p11_backend)
		return NULL;
	return ((struct p11_key *)kctx)->uri;
}

/* The new key's URI: the store's path part, its object, id and type, the store's query. */
static int new_key_uri(const char *label, const uint8_t *id, size_t idlen, char *out, size_t cap)
{
	char pub[URI_MAX], *q;
	size_t n;

	if (signer_p11_uri_public(store_uri, pub, sizeof pub) < 0)
		return -1;
	q = strchr(pub, '?');
	if (q)
		*q++ = 0;
	n = (size_t)snprintf(out, cap, "%s%sobject=%s;type=private;id=", pub, strlen(pub) > 7 ? ";" : "", label);
	for (size_t i = 0; i < idlen && n + 4 < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%%%02x", id[i]);
	if (q && n < cap)
		n += (size_t)snprintf(out + n, cap - n, "?%s", q);
	return n < cap ? 0 : -1;
}

static int generate_pair(struct p11_token *t, enum pki_key_kind kind, int bits, const char *label, uint8_t *id,
			 size_t idlen, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_BYTE exponent[] = { 1, 0, 1 };
	CK_ULONG modbits = (CK_ULONG)bits;
	unsigned char oid[16], *po = oid;
	int nid = bits == 256 ? NID_X9_62_prime256v1 : bits == 384 ? NID_secp384r1 : NID_secp521r1;
	int oidlen = kind == PKI_KEY_EC ? i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &po) : 0;
	CK_MECHANISM m = { kind == PKI_KEY_EC ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_ATTRIBUTE pubt[] = {
		{ CKA_TOKEN, &yes, sizeof yes }, { CKA_LABEL, (void *)label, strlen(label) }, { CKA_ID, id, idlen },
		{ CKA_VERIFY, &yes, sizeof yes },
		kind == PKI_KEY_EC ? (CK_ATTRIBUTE){ CKA_EC_PARAMS, oid, (CK_ULONG)oidlen }
				   : (CK_ATTRIBUTE){ CKA_MODULUS_BITS, &modbits, sizeof modbits },
		{ CKA_PUBLIC_EXPONENT, exponent, sizeof exponent }, { CKA_ENCRYPT, &yes, sizeof yes },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_TOKEN, &yes, sizeof yes }, { CKA_LABEL, (void *)label, strlen(label) }, { CKA_ID, id, idlen },
		{ CKA_PRIVATE, &yes, sizeof yes }, { CKA_SENSITIVE, &yes, sizeof yes },
		{ CKA_EXTRACTABLE, &no, sizeof no }, { CKA_SIGN, &yes, sizeof yes }, { CKA_DECRYPT, &yes, sizeof yes },
	};
	CK_RV rv;

	if (kind == PKI_KEY_EC && oidlen <= 0)
		return -1;
	pthread_mutex_lock(&t->lock);
	rv = t->mod->C_GenerateKeyPair(t->sess, &m, pubt, kind == PKI_KEY_EC ? 5 : 7, privt, kind == PKI_KEY_EC ? 7 : 8,
				       pub, priv);
	pthread_mutex_unlock(&t->lock);
	return rv == CKR_OK ? 0 : -1;
}

static EVP_PKEY *p11_generate(void *ctx, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	P11KitUri *u = p11_kit_uri_new();
	uint8_t id[8];
	char label[32], uri[URI_MAX];
	CK_OBJECT_HANDLE pub = 0, priv = 0;
	struct p11_token *t;
	EVP_PKEY *key = NULL;

	if (!u || p11_kit_uri_parse(store_uri, P11_KIT_URI_FOR_TOKEN, u) != P11_KIT_URI_OK || RAND_bytes(id, sizeof id) != 1) {
		seterr(err, errlen, "'%s' is not a PKCS#11 token URI", store_uri);
		p11_kit_uri_free(u);
		return NULL;
	}
	snprintf(label, sizeof label, "opencapf-%02x%02x%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3], id[4],
		 id[5], id[6], id[7]);
	if (!(t = token_open(store_uri, u, err, errlen)))
		goto out;
	if (new_key_uri(label, id, sizeof id, uri, sizeof uri) < 0)
		seterr(err, errlen, "the token URI is too long");
	else if (generate_pair(t, kind, bits, label, id, sizeof id, &pub, &priv) < 0)
		seterr(err, errlen, "the token cannot generate a %s %d key", kind == PKI_KEY_EC ? "EC" : "RSA", bits);
	else
		key = key_make(t, priv, pub, uri, err, errlen);
out:
	p11_kit_uri_free(u);
	return key;
}

int signer_p11_install(char *err, size_t errlen)
{
	struct pki_key_store ks = { .load = p11_load, .ref_of = p11_ref_of, .generate = store_uri[0] ? p11_generate : NULL };

	if (signer_provider_load(err, errlen) < 0)
		return -1;
	pki_key_store_set(&ks);
	return 0;
}

int signer_p11_set_store(const char *uri, char *err, size_t errlen)
{
	P11KitUri *u = p11_kit_uri_new();
	int ok = u && strlen(uri) < sizeof store_uri &&
		 p11_kit_uri_parse(uri, P11_KIT_URI_FOR_TOKEN, u) == P11_KIT_URI_OK && !strstr(uri, "object=");

	p11_kit_uri_free(u);
	if (!ok) {
		seterr(err, errlen, "'%s' is not a PKCS#11 token URI (pkcs11:token=LABEL[?pin-source=FILE])", uri);
		return -1;
	}
	snprintf(store_uri, sizeof store_uri, "%s", uri);
	return signer_p11_install(err, errlen);
}
