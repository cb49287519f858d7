/*
 * pki_key.c: key pairs. Parse a key spec ("rsa:2048", "ec:p256"), generate
 * keys, say what a key is, move public keys in and out of DER
 * SubjectPublicKeyInfo (the CAPF PUBLIC_KEY element), and keep private keys
 * in PKCS#8 PEM files of mode 0600.
 *
 * Only the key kinds CAPF knows are "ours": RSA (any of the five sizes, and
 * pki_key_info reports other RSA sizes too so callers can reject them) and EC
 * on the three named NIST curves. Everything else (RSA-PSS, Ed25519, EC with
 * explicit parameters or another curve) makes pki_key_info return -1, so a
 * phone cannot slip an odd key past a "type and size" check.
 *
 * Private key bytes only ever live in OpenSSL's secure-memory BIOs or are
 * cleansed before being freed; no error message ever quotes them.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct {
	const char *name;   /* spec text after "ec:" */
	int bits;
	const char *group;  /* OpenSSL group name */
	int nid;
} ec_curves[] = {
	{ "p256", 256, "P-256", NID_X9_62_prime256v1 },
	{ "p384", 384, "P-384", NID_secp384r1 },
	{ "p521", 521, "P-521", NID_secp521r1 },
};

const char *pki_ec_group_of_nid(int nid)
{
	for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++)
		if (ec_curves[i].nid == nid)
			return ec_curves[i].group;
	return NULL;
}

static int rsa_bits_ok(int bits)
{
	return bits == 512 || bits == 1024 || bits == 2048 || bits == 3072 || bits == 4096;
}

int pki_key_parse_spec(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen)
{
	if (!spec)
		spec = "";
	if (strncasecmp(spec, "rsa:", 4) == 0) {
		const char *p = spec + 4;
		char *end;
		long v;

		v = strtol(p, &end, 10);
		if (end != p && *end == '\0' && v > 0 && v <= INT_MAX && rsa_bits_ok((int)v)) {
			*kind = PKI_KEY_RSA;
			*bits = (int)v;
			return 0;
		}
		seterr(err, errlen, "unsupported RSA key size in \"%s\" (use 512, 1024, 2048, 3072 or 4096)",
		       spec);
		return -1;
	}
	if (strncasecmp(spec, "ec:", 3) == 0) {
		const char *p = spec + 3;

		for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++) {
			/* accept "p256" and "P-256" */
			if (strcasecmp(p, ec_curves[i].name) == 0 || strcasecmp(p, ec_curves[i].group) == 0) {
				*kind = PKI_KEY_EC;
				*bits = ec_curves[i].bits;
				return 0;
			}
		}
		seterr(err, errlen, "unsupported EC curve in \"%s\" (use p256, p384 or p521)", spec);
		return -1;
	}
	seterr(err, errlen, "bad key spec \"%s\" (expected rsa:2048, rsa:512..rsa:4096, ec:p256, ec:p384 or ec:p521)",
	       spec);
	return -1;
}

static struct pki_key_store key_store;
static struct pki_key_hooks key_hooks;

void pki_key_store_set(const struct pki_key_store *store)
{
	if (store)
		key_store = *store;
	else
		memset(&key_store, 0, sizeof key_store);
}

EVP_PKEY *pki_key_generate(enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (key_hooks.generate)
		return key_hooks.generate(key_hooks.ctx, kind, bits, err, errlen);
	if (key_store.generate)
		return key_store.generate(key_store.ctx, kind, bits, err, errlen);
	OSSL_PARAM params[4];
	unsigned int ubits = (unsigned int)bits;

	if (kind == PKI_KEY_RSA) {
		if (!rsa_bits_ok(bits)) {
			seterr(err, errlen, "unsupported RSA key size %d", bits);
			return NULL;
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		params[0] = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS, &ubits);
		params[1] = OSSL_PARAM_construct_end();
	} else if (kind == PKI_KEY_EC) {
		const char *group = NULL;

		for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++)
			if (ec_curves[i].bits == bits)
				group = ec_curves[i].group;
		if (!group) {
			seterr(err, errlen, "unsupported EC curve size %d (use 256, 384 or 521)", bits);
			return NULL;
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
		params[1] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING,
							     (char *)OSSL_PKEY_EC_ENCODING_GROUP, 0);
		params[2] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
							     (char *)OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED, 0);
		params[3] = OSSL_PARAM_construct_end();
	} else {
		seterr(err, errlen, "unknown key kind %d", (int)kind);
		return NULL;
	}
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_params(ctx, params) <= 0 ||
	    EVP_PKEY_generate(ctx, &key) <= 0) {
		pki_ossl_err(err, errlen, "key generation failed");
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return key;
}

int pki_key_info(const EVP_PKEY *key, enum pki_key_kind *kind, int *bits)
{
	char group[64];
	size_t glen = 0;
	int nid;

	if (!key)
		return -1;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (kind)
			*kind = PKI_KEY_RSA;
		if (bits)
			*bits = EVP_PKEY_get_bits(key);
		return 0;
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
						   &glen) != 1) {
			ERR_clear_error(); /* explicit parameters: not a named curve */
			return -1;
		}
		nid = OBJ_txt2nid(group); /* providers say "prime256v1", "secp384r1", ... */
		for (size_t i = 0; i < sizeof ec_curves / sizeof ec_curves[0]; i++) {
			if (ec_curves[i].nid == nid || strcasecmp(group, ec_curves[i].group) == 0) {
				if (kind)
					*kind = PKI_KEY_EC;
				if (bits)
					*bits = ec_curves[i].bits;
				return 0;
			}
		}
		return -1;
	default:
		return -1;
	}
}

void pki_key_describe(const EVP_PKEY *key, char *out, size_t outcap)
{
	enum pki_key_kind kind;
	int bits;

	if (!out || outcap == 0)
		return;
	if (pki_key_info(key, &kind, &bits) == 0) {
		if (kind == PKI_KEY_RSA)
			snprintf(out, outcap, "RSA %d", bits);
		else
			snprintf(out, outcap, "EC P-%d", bits);
		return;
	}
	if (!key) {
		snprintf(out, outcap, "no key");
		return;
	}
	{
		const char *name = EVP_PKEY_get0_type_name(key);
		char group[64];
		size_t glen = 0;

		if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
		    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
						   &glen) == 1)
			snprintf(out, outcap, "EC %s", group);
		else
			snprintf(out, outcap, "%s %d", name ? name : "unknown", EVP_PKEY_get_bits(key));
		ERR_clear_error();
	}
}


int pki_key_save(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	BIO *bio;
	BUF_MEM *mem = NULL;
	int rc = -1;

	const char *ref;

	if (!key || !path) {
		seterr(err, errlen, "no key or path to save");
		return -1;
	}
	if (key_hooks.save && (rc = key_hooks.save(key_hooks.ctx, path, key, err, errlen)) != 0)
		return rc < 0 ? -1 : 0;
	rc = -1;
	if (key_store.ref_of && (ref = key_store.ref_of(key_store.ctx, key))) {
		char line[2048];
		int n = snprintf(line, sizeof line, "%s\n", ref);

		if (n < 0 || (size_t)n >= sizeof line) {
			seterr(err, errlen, "the key's reference is too long");
			return -1;
		}
		return write_file_atomic(path, line, (size_t)n, 0600, err, errlen);
	}
	/* secure-memory BIO: the PEM text is cleansed when the BIO is freed */
	bio = BIO_new(BIO_s_secmem());
	if (!bio) {
		pki_ossl_err(err, errlen, "out of memory");
		return -1;
	}
	if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
	    BIO_get_mem_ptr(bio, &mem) != 1 || !mem) {
		pki_ossl_err(err, errlen, "cannot encode the private key");
		goto out;
	}
	rc = write_file_atomic(path, mem->data, mem->length, 0600, err, errlen);
out:
	BIO_free(bio);
	return rc;
}

/* Never prompt on a terminal for a passphrase: encrypted keys just fail. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

void pki_key_hooks_set(const struct pki_key_hooks *hooks)
{
	if (hooks)
		key_hooks = *hooks;
	else
		memset(&key_hooks, 0, sizeof key_hooks);
}

struct signer *pki_key_hooked_signer(X509 *cert, EVP_PKEY *key)
{
	return key_hooks.signer ? key_hooks.signer(key_hooks.ctx, cert, key) : NULL;
}

/* A key file that names a key in a token ("pkcs11:...")? The BIO is rewound. */
static int is_reference(BIO *bio)
{
	char head[8] = "";
	int n = BIO_read(bio, head, 7);

	(void)BIO_reset(bio);
	return n == 7 && memcmp(head, "pkcs11:", 7) == 0;
}

static EVP_PKEY *load_reference(BIO *bio, const char *path, char *err, size_t errlen)
{
	char line[2048];
	int n = BIO_gets(bio, line, sizeof line);
	EVP_PKEY *key = NULL;

	BIO_free(bio);
	if (n <= 0) {
		seterr(err, errlen, "%s: cannot read the key reference", path);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = 0;
	if (!key_store.load)
		seterr(err, errlen, "%s names a key in a token, and this program has no PKCS#11 support", path);
	else if (!(key = key_store.load(key_store.ctx, line, err, errlen)))
		return NULL;
	return key;
}

EVP_PKEY *pki_key_load(const char *path, char *err, size_t errlen)
{
	if (!path) {
		seterr(err, errlen, "no key path");
		return NULL;
	}
	if (key_hooks.load)
		return key_hooks.load(key_hooks.ctx, path, err, errlen);
	return pki_key_load_file(path, err, errlen);
}

EVP_PKEY *pki_key_load_file(const char *path, char *err, size_t errlen)
{
	struct stat st;
	BIO *bio;
	EVP_PKEY *key;

	if (stat(path, &st) != 0) {
		seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PKI_MAX_INPUT) {
		seterr(err, errlen, "%s: not a regular file of at most %d bytes", path, PKI_MAX_INPUT);
		return NULL;
	}
	bio = BIO_new_file(path, "rb");
	if (!bio) {
		pki_ossl_err(err, errlen, path);
		return NULL;
	}
	if (is_reference(bio))
		return load_reference(bio, path, err, errlen);
	key = PEM_read_bio_PrivateKey_ex(bio, NULL, no_passphrase, NULL, NULL, NULL);
	if (!key) {
		/* not PEM: try DER (PKCS#8 or traditional) */
		ERR_clear_error();
		if (BIO_reset(bio) == 0)
			key = d2i_PrivateKey_ex_bio(bio, NULL, NULL, NULL);
	}
	BIO_free(bio);
	if (!key) {
		ERR_clear_error();
		seterr(err, errlen, "%s: no unencrypted private key in it (PEM or DER)", path);
		return NULL;
	}
	return key;
}

int pki_cert_key_match(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *pub;
	int r;

	if (!cert || !key)
		return 0;
	pub = X509_get0_pubkey(cert);
	r = pub && EVP_PKEY_eq(pub, key) == 1;
	ERR_clear_error();
	return r;
}
