/*
 * signer_policy.c: the signer process's answer to one request
 * (signer_policy.h): decode, find the key, check the request against the
 * key's role and the LSC policy, rate-limit, sign, log once.
 */
#include "signer/signer_policy.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/log.h"
#include "pki/pki.h"
#include "signer/signer_msg.h"

#define DAY 86400

/* What a request was and how it ended, for the one log line. */
struct outcome {
	uint8_t status;
	char what[160];   /* "LSC serial .. for CN=.." */
	char why[200];    /* a refusal's reason */
	int quiet;        /* TLS handshake work: debug level when it succeeds */
};

static void refuse(struct outcome *o, uint8_t status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(struct outcome *o, uint8_t status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(o->why, sizeof o->why, fmt, ap);
	va_end(ap);
	o->status = status;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A token bucket holding up to two seconds' worth. Called under k->lock. */
static int bucket_take(struct signer_bucket *b, double rate)
{
	double now = now_seconds();

	if (rate <= 0)
		return 1;
	if (b->last == 0)
		b->tokens = 2 * rate;
	else
		b->tokens += (now - b->last) * rate;
	if (b->tokens > 2 * rate)
		b->tokens = 2 * rate;
	b->last = now;
	if (b->tokens < 1)
		return 0;
	b->tokens -= 1;
	return 1;
}

static const char *role_name(int role)
{
	switch (role) {
	case SIGNER_ROLE_CAPF: return "CAPF";
	case SIGNER_ROLE_SAST: return "SAST";
	case SIGNER_ROLE_TVS: return "TVS";
	case SIGNER_ROLE_NEW: return "new";
	default: return "TLS";
	}
}

/* ---- keys ---- */

int signer_keys_init(struct signer_keys *k, const char *keys_dir, const char *const *extra, int nextra,
		     const struct signer_limits *limits, char *err, size_t errlen)
{
	char resolved[PATH_MAX];

	memset(k, 0, sizeof *k);
	pthread_mutex_init(&k->lock, NULL);
	k->limits = *limits;
	if (keys_dir && realpath(keys_dir, resolved))
		snprintf(k->keys_dir, sizeof k->keys_dir, "%s", resolved);
	for (int i = 0; i < nextra && i < SIGNER_EXTRA_KEYS; i++) {
		if (!realpath(extra[i], resolved)) {
			seterr(err, errlen, "signer: cannot find the key file %s: %s", extra[i], strerror(errno));
			return -1;
		}
		snprintf(k->extra[k->nextra++], SIGNER_PATH_MAX, "%s", resolved);
	}
	return 0;
}

void signer_keys_free(struct signer_keys *k)
{
	for (int i = 0; i < k->nslots; i++) {
		EVP_PKEY_free(k->slot[i].key);
		X509_free(k->slot[i].cert);
	}
	k->nslots = 0;
	pthread_mutex_destroy(&k->lock);
}

/* Called with k->lock held. */
static int slot_add_locked(struct signer_keys *k, const char *path, int role, EVP_PKEY *key, X509 *cert)
{
	struct signer_slot *s;
	const char *slash;

	if (k->nslots >= SIGNER_SLOTS || EVP_PKEY_up_ref(key) != 1)
		return -1;
	if (cert && X509_up_ref(cert) != 1) {
		EVP_PKEY_free(key);
		return -1;
	}
	s = &k->slot[k->nslots];
	s->key = key;
	s->cert = cert;
	s->role = role;
	snprintf(s->path, sizeof s->path, "%s", path);
	slash = strrchr(s->path, '/');
	s->name = slash ? slash + 1 : s->path;
	if (cert)
		X509_check_purpose(cert, -1, 0); /* fill the extension cache while only we see it */
	ERR_clear_error();
	return k->nslots++;
}

int signer_keys_add(struct signer_keys *k, const char *path, int role, EVP_PKEY *key, X509 *cert)
{
	int slot;

	pthread_mutex_lock(&k->lock);
	slot = slot_add_locked(k, path, role, key, cert);
	pthread_mutex_unlock(&k->lock);
	return slot;
}

static const struct signer_slot *slot_get(struct signer_keys *k, unsigned slot)
{
	const struct signer_slot *s = NULL;

	pthread_mutex_lock(&k->lock);
	if ((int)slot < k->nslots)
		s = &k->slot[slot];
	pthread_mutex_unlock(&k->lock);
	return s;
}

/* Which file a path is now: 0 when it cannot be looked at. */
static unsigned long long file_id_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	return ((unsigned long long)st.st_dev * 1000003ULL + (unsigned long long)st.st_ino) * 1000003ULL +
	       (unsigned long long)st.st_size * 31ULL + (unsigned long long)st.st_mtim.tv_sec * 1000000007ULL +
	       (unsigned long long)st.st_mtim.tv_nsec;
}

/* The role a key file's name gives it in the keys folder. */
static int name_role(const char *name)
{
	if (strncmp(name, "capf-", 5) == 0)
		return SIGNER_ROLE_CAPF;
	if (strncmp(name, "sast-", 5) == 0)
		return SIGNER_ROLE_SAST;
	if (strncmp(name, "tvs-", 4) == 0)
		return SIGNER_ROLE_TVS;
	return 0;
}

/* The role of a key file the daemon may name, or 0. */
static int path_role(const struct signer_keys *k, const char *resolved)
{
	size_t dl = strlen(k->keys_dir);
	const char *name = resolved + dl + 1;

	for (int i = 0; i < k->nextra; i++)
		if (strcmp(resolved, k->extra[i]) == 0)
			return SIGNER_ROLE_TLS;
	if (!k->keys_dir[0] || strncmp(resolved, k->keys_dir, dl) != 0 || resolved[dl] != '/' || strchr(name, '/'))
		return 0;
	return name_role(name);
}

/* ---- LOAD_KEY ---- */

static int find_loaded(struct signer_keys *k, const char *resolved, X509 *cert, unsigned long long id)
{
	for (int i = 0; i < k->nslots; i++)
		if (strcmp(k->slot[i].path, resolved) == 0 && k->slot[i].file_id == id &&
		    ((!cert && !k->slot[i].cert) || (cert && k->slot[i].cert && X509_cmp(cert, k->slot[i].cert) == 0)))
			return i;
	return -1;
}

/* The key's slot (loaded now or before), or -1 with the outcome set. */
static int load_slot(struct signer_keys *k, const char *path, X509 *cert, struct outcome *o)
{
	char resolved[PATH_MAX], err[ERRLEN];
	EVP_PKEY *key;
	unsigned long long id;
	int role, slot;

	if (!realpath(path, resolved)) {
		refuse(o, SIGNER_REFUSED, "no key file %s: %s", path, strerror(errno));
		return -1;
	}
	if (!(role = path_role(k, resolved))) {
		refuse(o, SIGNER_REFUSED, "%s is neither in the keys folder nor a configured key file", resolved);
		return -1;
	}
	id = file_id_of(resolved);
	pthread_mutex_lock(&k->lock);
	if ((slot = find_loaded(k, resolved, cert, id)) < 0) {
		if (!(key = pki_key_load(resolved, err, sizeof err)))
			refuse(o, SIGNER_FAILED, "%s", err);
		else if (cert && !pki_cert_key_match(cert, key))
			refuse(o, SIGNER_REFUSED, "the certificate given does not belong to %s", resolved);
		else if ((slot = slot_add_locked(k, resolved, role, key, cert)) < 0)
			refuse(o, SIGNER_FAILED, "no free key slot (%d in use)", k->nslots);
		else
			k->slot[slot].file_id = id;
		EVP_PKEY_free(key);
	}
	pthread_mutex_unlock(&k->lock);
	if (slot >= 0)
		snprintf(o->what, sizeof o->what, "%s key %s", role_name(role), strrchr(resolved, '/') + 1);
	return slot;
}

static void do_load(struct signer_keys *k, const uint8_t *p, size_t n, struct outcome *o, struct buf *out)
{
	char path[SIGNER_PATH_MAX], err[ERRLEN];
	const uint8_t *der;
	size_t derlen;
	X509 *cert = NULL;
	uint8_t *spki = NULL;
	int slot, len;

	if (signer_load_decode(p, n, path, sizeof path, &der, &derlen, err, sizeof err) < 0) {
		refuse(o, SIGNER_BAD_REQUEST, "%s", err);
		return;
	}
	if (derlen && !(cert = pki_cert_from_der(der, derlen, err, sizeof err))) {
		refuse(o, SIGNER_BAD_REQUEST, "certificate for %s: %s", path, err);
		return;
	}
	slot = load_slot(k, path, cert, o);
	X509_free(cert);
	if (slot < 0)
		return;
	len = i2d_PUBKEY(k->slot[slot].key, &spki);
	if (len <= 0) {
		refuse(o, SIGNER_FAILED, "cannot encode the public key of %s", path);
		return;
	}
	buf_put_u8(out, (uint8_t)slot);
	buf_put(out, spki, (size_t)len);
	OPENSSL_free(spki);
}

static int sign_message(EVP_PKEY *key, const struct signer_sig_params *sp, const uint8_t *d, size_t n,
			struct buf *out);

/* ---- SIGN_CERT: LSCs only ----
 *
 * The template is walked as DER, not parsed into an X509: OpenSSL 3.0
 * decodes the subject's public key of every certificate it parses, which
 * cost more than the signature. What the policy reads is decoded on its own
 * (names, times, extensions); the phone's key is only skipped over. The
 * signature covers the template's TBSCertificate bytes exactly. */

struct lsc_tbs {
	const uint8_t *tbs, *serial, *alg, *issuer, *validity, *subject, *exts;
	long tbs_len, serial_len, alg_len, issuer_len, validity_len, subject_len, exts_len;
	int version;
};

/* The next DER element: its tag must be `tag` of class `cls`; *p moves past
 * its header, *start and *len give the whole element. */
static int der_elem(const uint8_t **p, const uint8_t *end, int tag, int cls, const uint8_t **start, long *len)
{
	const uint8_t *s = *p;
	int constructed = tag == V_ASN1_SEQUENCE || cls == V_ASN1_CONTEXT_SPECIFIC, t, c, r;
	long l;

	if (*p >= end)
		return -1;
	r = ASN1_get_object(p, &l, &t, &c, end - *p); /* DER only: no indefinite length */
	if (r != (constructed ? V_ASN1_CONSTRUCTED : 0) || t != tag || c != cls || l > end - *p)
		return -1;
	*start = s;
	*len = (long)(*p - s) + l;
	return 0;
}

static int der_skip(const uint8_t **p, const uint8_t *end, int tag, int cls, const uint8_t **start, long *len)
{
	if (der_elem(p, end, tag, cls, start, len) < 0)
		return -1;
	*p = *start + *len;
	return 0;
}

/* Certificate ::= SEQUENCE { TBSCertificate, AlgorithmIdentifier, BIT STRING } */
static int lsc_walk(const uint8_t *der, size_t n, struct lsc_tbs *t)
{
	const uint8_t *p = der, *end = der + n, *s, *tend, *v;
	long l;

	memset(t, 0, sizeof *t);
	if (der_elem(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &s, &l) < 0 || s + l != end ||
	    der_elem(&p, end, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->tbs, &t->tbs_len) < 0)
		return -1;
	tend = t->tbs + t->tbs_len;
	if (der_elem(&p, tend, 0, V_ASN1_CONTEXT_SPECIFIC, &s, &l) < 0 ||
	    der_elem(&p, s + l, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &v, &l) < 0 || l != 3 || v[1] != 1)
		return -1;
	t->version = v[2];
	p = v + l;
	if (der_skip(&p, tend, V_ASN1_INTEGER, V_ASN1_UNIVERSAL, &t->serial, &t->serial_len) < 0 ||
	    der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->alg, &t->alg_len) < 0 ||
	    der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->issuer, &t->issuer_len) < 0 ||
	    der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->validity, &t->validity_len) < 0 ||
	    der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->subject, &t->subject_len) < 0 ||
	    der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &s, &l) < 0) /* the phone's key */
		return -1;
	if (p < tend && (der_elem(&p, tend, 3, V_ASN1_CONTEXT_SPECIFIC, &s, &l) < 0 || s + l != tend ||
			 der_skip(&p, tend, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, &t->exts, &t->exts_len) < 0))
		return -1; /* issuerUniqueID and subjectUniqueID are no part of an LSC */
	return p == tend ? 0 : -1;
}

/* basicConstraints CA:FALSE present, no certificate or CRL signing. */
static int lsc_extensions_ok(const struct lsc_tbs *t, struct outcome *o)
{
	const unsigned char *q = t->exts;
	STACK_OF(X509_EXTENSION) *exts = t->exts ? d2i_X509_EXTENSIONS(NULL, &q, t->exts_len) : NULL;
	BASIC_CONSTRAINTS *bc = exts ? X509V3_get_d2i(exts, NID_basic_constraints, NULL, NULL) : NULL;
	ASN1_BIT_STRING *ku = exts ? X509V3_get_d2i(exts, NID_key_usage, NULL, NULL) : NULL;
	int ok = 0;

	if (!bc || bc->ca)
		refuse(o, SIGNER_REFUSED, "%s", bc ? "the template claims CA:TRUE" : "the template has no basicConstraints");
	else if (ku && (ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6)))
		refuse(o, SIGNER_REFUSED, "the template's keyUsage includes keyCertSign or cRLSign");
	else
		ok = 1;
	BASIC_CONSTRAINTS_free(bc);
	ASN1_BIT_STRING_free(ku);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	ERR_clear_error();
	return ok;
}

/* Validity ::= SEQUENCE { notBefore Time, notAfter Time } */
static int lsc_validity_ok(const struct signer_keys *k, const struct lsc_tbs *t, X509 *capf, struct outcome *o)
{
	const unsigned char *q = t->validity, *end = t->validity + t->validity_len;
	ASN1_TIME *nb = NULL, *na = NULL;
	time_t now = time(NULL);
	int days = 0, secs = 0, max = k->limits.lsc_max_days > 0 ? k->limits.lsc_max_days : 1825, ok = 0;
	long l;
	int tag, cls;

	if (ASN1_get_object(&q, &l, &tag, &cls, t->validity_len) & 0x80 || !(nb = d2i_ASN1_TIME(NULL, &q, end - q)) ||
	    !(na = d2i_ASN1_TIME(NULL, &q, end - q)) || q != end)
		refuse(o, SIGNER_BAD_REQUEST, "the template's validity does not decode");
	else if (X509_cmp_time(nb, &(time_t){ now - DAY }) < 0 || X509_cmp_time(nb, &(time_t){ now + DAY }) > 0)
		refuse(o, SIGNER_REFUSED, "the template does not start within a day of now");
	else if (ASN1_TIME_compare(na, X509_get0_notAfter(capf)) > 0)
		refuse(o, SIGNER_REFUSED, "the template ends after the CAPF certificate");
	else if (ASN1_TIME_diff(&days, &secs, nb, na) != 1 || days < 0 || days > max + 1)
		refuse(o, SIGNER_REFUSED, "the template is valid for %d days, over the policy's %d", days, max);
	else
		ok = 1;
	ASN1_TIME_free(nb);
	ASN1_TIME_free(na);
	return ok;
}

/* The issuer must be the CAPF subject (the same bytes, or an equal name). */
static int lsc_issuer_ok(const struct lsc_tbs *t, X509 *capf, struct outcome *o)
{
	const unsigned char *q = t->issuer;
	unsigned char *mine = NULL;
	int len = i2d_X509_NAME(X509_get_subject_name(capf), &mine), same;
	X509_NAME *name = NULL;
	char text[256] = "";

	same = len == t->issuer_len && memcmp(mine, t->issuer, (size_t)len) == 0;
	OPENSSL_free(mine);
	if (same)
		return 1;
	if ((name = d2i_X509_NAME(NULL, &q, t->issuer_len)) && X509_NAME_cmp(name, X509_get_subject_name(capf)) == 0)
		same = 1;
	else if (name)
		pki_name_text(name, PKI_NAME_RFC4514, text, sizeof text);
	X509_NAME_free(name);
	ERR_clear_error();
	if (!same)
		refuse(o, SIGNER_REFUSED, "the template's issuer '%s' is not the CAPF subject", text);
	return same;
}

/* The AlgorithmIdentifier this key signs certificates with (SHA-256). */
static int cert_alg_der(EVP_PKEY *key, unsigned char **der)
{
	int ec = !EVP_PKEY_is_a(key, "RSA");
	X509_ALGOR *alg = X509_ALGOR_new();
	int len = -1;

	if (alg && X509_ALGOR_set0(alg, OBJ_nid2obj(ec ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption),
				   ec ? V_ASN1_UNDEF : V_ASN1_NULL, NULL) == 1)
		len = i2d_X509_ALGOR(alg, der);
	X509_ALGOR_free(alg);
	return len;
}

/* A DER tag and length (minimal form); the bytes it takes. */
static size_t der_header(struct buf *out, uint8_t tag, size_t len)
{
	size_t n = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;

	if (out) {
		buf_put_u8(out, tag);
		buf_put_u8(out, n ? (uint8_t)(0x80 | n) : (uint8_t)len);
		for (size_t i = n; i > 0; i--)
			buf_put_u8(out, (uint8_t)(len >> (8 * (i - 1))));
	}
	return 2 + n;
}

/* SEQUENCE { the template's TBSCertificate, alg, BIT STRING signature } */
static int lsc_sign(EVP_PKEY *key, const struct lsc_tbs *t, const unsigned char *alg, int alglen, struct buf *out)
{
	struct signer_sig_params sp = { SIGNER_MD_SHA256, EVP_PKEY_is_a(key, "RSA") ? SIGNER_PAD_PKCS1 : SIGNER_PAD_NONE, 0 };
	struct buf sig;
	size_t body;

	buf_init(&sig);
	if (sign_message(key, &sp, t->tbs, (size_t)t->tbs_len, &sig) < 0) {
		buf_free(&sig);
		return -1;
	}
	body = (size_t)t->tbs_len + (size_t)alglen + der_header(NULL, 0x03, sig.len + 1) + sig.len + 1;
	der_header(out, 0x30, body);
	buf_put(out, t->tbs, (size_t)t->tbs_len);
	buf_put(out, alg, (size_t)alglen);
	der_header(out, 0x03, sig.len + 1);
	buf_put_u8(out, 0);
	buf_put(out, sig.data, sig.len);
	buf_free(&sig);
	return out->failed ? -1 : 0;
}

/* "LSC CN serial HEX" for the log line. */
static void lsc_describe(const struct lsc_tbs *t, const char *keyname, struct outcome *o)
{
	const unsigned char *q = t->subject;
	X509_NAME *name = d2i_X509_NAME(NULL, &q, t->subject_len);
	char cn[128] = "?", serial[80] = "";
	long l;
	int tag, cls;

	if (name)
		pki_name_entry_text(name, NID_commonName, cn, sizeof cn);
	X509_NAME_free(name);
	q = t->serial;
	if (!(ASN1_get_object(&q, &l, &tag, &cls, t->serial_len) & 0x80) && l > 0 && l < 32)
		hex_encode(q, (size_t)l, serial);
	snprintf(o->what, sizeof o->what, "LSC %s serial %s with %s", cn, serial, keyname);
	ERR_clear_error();
}

static void do_sign_cert(struct signer_keys *k, const struct signer_slot *s, const uint8_t *p, size_t n,
			 struct outcome *o, struct buf *out)
{
	struct lsc_tbs t;
	unsigned char *alg = NULL;
	int alglen;

	if (lsc_walk(p, n, &t) < 0) {
		refuse(o, SIGNER_BAD_REQUEST, "the template is not one DER certificate (%zu bytes)", n);
		return;
	}
	lsc_describe(&t, s->name, o);
	if (s->role != SIGNER_ROLE_CAPF || !s->cert) {
		refuse(o, SIGNER_REFUSED, "%s key %s does not sign certificates", role_name(s->role), s->name);
		return;
	}
	if (t.version != 2) {
		refuse(o, SIGNER_REFUSED, "the template is not an X.509 v3 certificate");
		return;
	}
	if ((alglen = cert_alg_der(s->key, &alg)) <= 0 || alglen != t.alg_len || memcmp(alg, t.alg, (size_t)alglen) != 0)
		refuse(o, SIGNER_REFUSED, "the template names another signature algorithm than SHA-256 with this key");
	else if (lsc_issuer_ok(&t, s->cert, o) && lsc_extensions_ok(&t, o) && lsc_validity_ok(k, &t, s->cert, o) &&
		 lsc_sign(s->key, &t, alg, alglen, out) < 0)
		refuse(o, SIGNER_FAILED, "signing the LSC failed");
	OPENSSL_free(alg);
	ERR_clear_error();
}

/* ---- SIGN: what the message is ---- */

enum msg_class { MSG_TLS, MSG_CERT, MSG_CRL, MSG_OCSP, MSG_CSR, MSG_DATA };

static int is_tls13_server_verify(const uint8_t *d, size_t n)
{
	static const char ctx[] = "TLS 1.3, server CertificateVerify"; /* with its NUL separator */
	size_t fixed = 64 + sizeof ctx;

	if (n != fixed + 32 && n != fixed + 48 && n != fixed + 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (d[i] != 0x20)
			return 0;
	return memcmp(d + 64, ctx, sizeof ctx) == 0;
}

/* client_random, server_random, then ECDHE (named curve, point) or DHE (p, g, Ys) parameters. */
static int is_tls12_key_exchange(const uint8_t *d, size_t n)
{
	const uint8_t *p = d + 64;
	size_t rest = n - 64, off = 0;

	if (n < 64 + 4)
		return 0;
	if (p[0] == 3 && p[3] > 0 && rest == 4u + p[3])
		return 1;
	for (int i = 0; i < 3; i++) {
		size_t l;

		if (off + 2 > rest)
			return 0;
		l = get_u16(p + off);
		if (l == 0 || off + 2 + l > rest)
			return 0;
		off += 2 + l;
	}
	return off == rest;
}

/* d wrapped as SEQUENCE { d, AlgorithmIdentifier, BIT STRING }: the shape of
 * a certificate, a CRL and a basic OCSP response around what they sign. */
static uint8_t *wrap_signed(const uint8_t *d, size_t n, size_t *outlen)
{
	static const uint8_t tail[] = { 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
					0x0b, 0x05, 0x00, 0x03, 0x01, 0x00 };
	size_t body = n + sizeof tail;
	uint8_t *w;

	if (n > SIGNER_MSG_MAX || !(w = malloc(body + 6)))
		return NULL;
	w[0] = 0x30;
	w[1] = 0x83;
	w[2] = (uint8_t)(body >> 16);
	w[3] = (uint8_t)(body >> 8);
	w[4] = (uint8_t)body;
	memcpy(w + 5, d, n);
	memcpy(w + 5 + n, tail, sizeof tail);
	*outlen = body + 5;
	return w;
}

/* Does the wrapped message parse, whole, as a certificate, CRL or OCSP response? */
static int parses_as(const uint8_t *w, size_t wl, enum msg_class kind)
{
	const unsigned char *q = w;
	int ok = 0;

	if (kind == MSG_CERT) {
		X509 *x = d2i_X509(NULL, &q, (long)wl);

		ok = x && q == w + wl;
		X509_free(x);
	} else if (kind == MSG_CRL) {
		X509_CRL *c = d2i_X509_CRL(NULL, &q, (long)wl);

		ok = c && q == w + wl;
		X509_CRL_free(c);
	} else if (kind == MSG_CSR) {
		X509_REQ *r = d2i_X509_REQ(NULL, &q, (long)wl);

		ok = r && q == w + wl;
		X509_REQ_free(r);
	} else if (kind == MSG_OCSP) {
		OCSP_BASICRESP *r = d2i_OCSP_BASICRESP(NULL, &q, (long)wl);

		ok = r && q == w + wl;
		OCSP_BASICRESP_free(r);
	}
	return ok;
}

static enum msg_class classify(const uint8_t *d, size_t n)
{
	static const enum msg_class der_kinds[] = { MSG_CERT, MSG_CRL, MSG_OCSP, MSG_CSR };
	enum msg_class c = MSG_DATA;
	size_t wl = 0;
	uint8_t *w;

	if (is_tls13_server_verify(d, n))
		return MSG_TLS;
	w = n && d[0] == 0x30 ? wrap_signed(d, n, &wl) : NULL;
	for (size_t i = 0; w && c == MSG_DATA && i < sizeof der_kinds / sizeof der_kinds[0]; i++)
		if (parses_as(w, wl, der_kinds[i]))
			c = der_kinds[i];
	free(w);
	ERR_clear_error();
	if (c == MSG_DATA && is_tls12_key_exchange(d, n))
		c = MSG_TLS;
	return c;
}

static const char *class_name(enum msg_class c)
{
	static const char *const names[] = { "TLS handshake", "certificate", "CRL", "OCSP response", "certificate request", "data" };

	return names[c];
}

static int class_allowed(int role, enum msg_class c)
{
	switch (c) {
	case MSG_TLS: return role == SIGNER_ROLE_CAPF || role == SIGNER_ROLE_TVS || role == SIGNER_ROLE_TLS;
	case MSG_CRL:
	case MSG_OCSP:
	case MSG_CSR: return role == SIGNER_ROLE_CAPF;
	case MSG_DATA: return role == SIGNER_ROLE_SAST;
	default: return 0;
	}
}

static int purpose_agrees(unsigned purpose, enum msg_class c)
{
	return purpose == SIGNER_PURPOSE_NONE || (purpose == SIGNER_PURPOSE_TLS && c == MSG_TLS) ||
	       (purpose == SIGNER_PURPOSE_FILE && c == MSG_DATA) || (purpose == SIGNER_PURPOSE_CRL && c == MSG_CRL) ||
	       (purpose == SIGNER_PURPOSE_OCSP && c == MSG_OCSP);
}

/* Padding and salt on the signing context; EC keys take none. */
static int set_padding(EVP_PKEY *key, EVP_PKEY_CTX *pctx, const struct signer_sig_params *sp)
{
	int is_rsa = EVP_PKEY_is_a(key, "RSA");

	if (!is_rsa)
		return sp->pad == SIGNER_PAD_NONE ? 0 : -1;
	if (sp->pad == SIGNER_PAD_PSS)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
			       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sp->saltlen < 0 ? RSA_PSS_SALTLEN_DIGEST : sp->saltlen) > 0
		       ? 0 : -1;
	return sp->pad == SIGNER_PAD_PKCS1 && EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 ? 0 : -1;
}

static int sign_message(EVP_PKEY *key, const struct signer_sig_params *sp, const uint8_t *d, size_t n,
			struct buf *out)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t siglen = (size_t)EVP_PKEY_get_size(key);
	uint8_t *sig = malloc(siglen);
	int rc = -1;

	if (mctx && sig && EVP_DigestSignInit_ex(mctx, &pctx, signer_md_name(sp->md), NULL, NULL, key, NULL) == 1 &&
	    set_padding(key, pctx, sp) == 0 && EVP_DigestSign(mctx, sig, &siglen, d, n) == 1) {
		buf_put(out, sig, siglen);
		rc = 0;
	}
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* A certificate (as SIGN's message: its TBSCertificate) that the slot's key
 * issues to itself: issuer = subject, its public key the slot's. */
static int self_issued(const struct signer_slot *s, const uint8_t *d, size_t n)
{
	size_t wl = 0;
	uint8_t *w = wrap_signed(d, n, &wl);
	const unsigned char *q = w;
	X509 *x = w ? d2i_X509(NULL, &q, (long)wl) : NULL;
	int ok = x && q == w + wl && X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0 &&
		 EVP_PKEY_eq(X509_get0_pubkey(x), s->key) == 1;

	X509_free(x);
	free(w);
	ERR_clear_error();
	return ok;
}

/* What the administrators' door may sign beyond a role's own: a key's own
 * certificate, and a request for a new key's certificate. */
static int admin_allowed(const struct signer_slot *s, enum msg_class c, const uint8_t *d, size_t n)
{
	return (c == MSG_CERT && self_issued(s, d, n)) || (c == MSG_CSR && s->role == SIGNER_ROLE_NEW);
}

static void do_sign(const struct signer_slot *s, unsigned purpose, const uint8_t *p, size_t n, int admin,
		    struct outcome *o, struct buf *out)
{
	struct signer_sig_params sp;
	const uint8_t *d;
	size_t dn;
	char err[ERRLEN];
	enum msg_class c;

	if (signer_sig_params_decode(p, n, &sp, &d, &dn, err, sizeof err) < 0) {
		refuse(o, SIGNER_BAD_REQUEST, "%s", err);
		return;
	}
	c = classify(d, dn);
	snprintf(o->what, sizeof o->what, "%s (%zu bytes, %s) with %s", class_name(c), dn, signer_md_name(sp.md),
		 s->name);
	if (!(class_allowed(s->role, c) || (admin && admin_allowed(s, c, d, dn))) || !purpose_agrees(purpose, c)) {
		refuse(o, SIGNER_REFUSED, "%s key %s does not sign a %s for purpose %s", role_name(s->role), s->name,
		       class_name(c), signer_purpose_name(purpose));
		return;
	}
	o->quiet = c == MSG_TLS;
	if (sign_message(s->key, &sp, d, dn, out) < 0)
		refuse(o, SIGNER_FAILED, "the signature failed (digest %s, padding %u)", signer_md_name(sp.md), sp.pad);
}

static int rsa_tls_decrypt(EVP_PKEY *key, unsigned client, unsigned negotiated, const uint8_t *ct, size_t ctlen,
			   struct buf *out)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	size_t outlen = (size_t)EVP_PKEY_get_size(key);
	uint8_t *pms = malloc(outlen);
	OSSL_PARAM params[3];
	int rc = -1;

	params[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &client);
	params[1] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, &negotiated);
	params[2] = OSSL_PARAM_construct_end();
	if (ctx && pms && EVP_PKEY_decrypt_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) > 0 && EVP_PKEY_CTX_set_params(ctx, params) == 1 &&
	    EVP_PKEY_decrypt(ctx, pms, &outlen, ct, ctlen) == 1 && outlen == 48) {
		buf_put(out, pms, outlen);
		rc = 0;
	}
	ERR_clear_error();
	if (pms)
		OPENSSL_cleanse(pms, (size_t)EVP_PKEY_get_size(key));
	free(pms);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

static void do_decrypt(const struct signer_slot *s, unsigned purpose, const uint8_t *p, size_t n, struct outcome *o,
		       struct buf *out)
{
	unsigned client, negotiated;
	const uint8_t *ct;
	size_t ctlen;
	char err[ERRLEN];

	if (signer_decrypt_decode(p, n, &client, &negotiated, &ct, &ctlen, err, sizeof err) < 0) {
		refuse(o, SIGNER_BAD_REQUEST, "%s", err);
		return;
	}
	snprintf(o->what, sizeof o->what, "TLS RSA key exchange with %s", s->name);
	if (!class_allowed(s->role, MSG_TLS) || !EVP_PKEY_is_a(s->key, "RSA") ||
	    (purpose != SIGNER_PURPOSE_NONE && purpose != SIGNER_PURPOSE_TLS)) {
		refuse(o, SIGNER_REFUSED, "%s key %s does not take part in TLS RSA key exchange", role_name(s->role),
		       s->name);
		return;
	}
	o->quiet = 1;
	if (rsa_tls_decrypt(s->key, client, negotiated, ct, ctlen, out) < 0)
		refuse(o, SIGNER_FAILED, "RSA decryption failed (%zu bytes, client version 0x%04x)", ctlen, client);
}

/* ---- the administrators' door: new keys ---- */

static void do_generate(struct signer_keys *k, const uint8_t *p, size_t n, struct outcome *o, struct buf *out)
{
	unsigned kind, bits;
	char err[ERRLEN];
	EVP_PKEY *key;
	uint8_t *spki = NULL;
	int slot = -1, len;

	if (signer_generate_decode(p, n, &kind, &bits, err, sizeof err) < 0) {
		refuse(o, SIGNER_BAD_REQUEST, "%s", err);
		return;
	}
	snprintf(o->what, sizeof o->what, "%s %u key", kind == SIGNER_KIND_RSA ? "RSA" : "EC", bits);
	if (!(key = pki_key_generate(kind == SIGNER_KIND_RSA ? PKI_KEY_RSA : PKI_KEY_EC, (int)bits, err, sizeof err))) {
		refuse(o, SIGNER_FAILED, "%s", err);
		return;
	}
	if ((slot = signer_keys_add(k, "(new key)", SIGNER_ROLE_NEW, key, NULL)) < 0 ||
	    (len = i2d_PUBKEY(key, &spki)) <= 0)
		refuse(o, SIGNER_FAILED, slot < 0 ? "no free key slot" : "cannot encode the new public key");
	else {
		buf_put_u8(out, (uint8_t)slot);
		buf_put(out, spki, (size_t)len);
		snprintf(o->what + strlen(o->what), sizeof o->what - strlen(o->what), " in slot %d", slot);
	}
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
}

/* A new file directly in the keys folder: its resolved path, or -1 with the outcome. */
static int new_key_path(const struct signer_keys *k, const char *path, char *resolved, struct outcome *o)
{
	char dir[SIGNER_PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct stat st;

	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (!name[0] || name[0] == '.' || !realpath(dir, real) || strcmp(real, k->keys_dir) != 0) {
		refuse(o, SIGNER_REFUSED, "%s is not a file of the keys folder %s", path, k->keys_dir);
		return -1;
	}
	if (lstat(path, &st) == 0 || errno != ENOENT) {
		refuse(o, SIGNER_REFUSED, "%s exists already: a new key never replaces a key file", path);
		return -1;
	}
	snprintf(resolved, SIGNER_PATH_MAX, "%s/%s", real, name);
	return 0;
}

static void do_save(struct signer_keys *k, unsigned slot, const uint8_t *p, size_t n, struct outcome *o)
{
	char path[SIGNER_PATH_MAX], resolved[SIGNER_PATH_MAX], err[ERRLEN];
	const uint8_t *der;
	size_t derlen;
	struct signer_slot *s;
	int role;

	if (signer_load_decode(p, n, path, sizeof path, &der, &derlen, err, sizeof err) < 0 || derlen) {
		refuse(o, SIGNER_BAD_REQUEST, "%s", derlen ? "a key file name only, nothing after it" : err);
		return;
	}
	snprintf(o->what, sizeof o->what, "slot %u to %s", slot, path);
	if (new_key_path(k, path, resolved, o) < 0)
		return;
	role = name_role(strrchr(resolved, '/') + 1);
	pthread_mutex_lock(&k->lock);
	s = (int)slot < k->nslots ? &k->slot[slot] : NULL;
	if (!s || s->role != SIGNER_ROLE_NEW)
		refuse(o, SIGNER_REFUSED, "slot %u holds no new key", slot);
	else if (pki_key_save(resolved, s->key, err, sizeof err) < 0)
		refuse(o, SIGNER_FAILED, "%s", err);
	else {
		snprintf(s->path, sizeof s->path, "%s", resolved);
		s->name = strrchr(s->path, '/') + 1;
		s->role = role ? role : SIGNER_ROLE_TLS;
		s->file_id = file_id_of(resolved);
	}
	pthread_mutex_unlock(&k->lock);
}

/* ---- one request ---- */

static int rate_ok(struct signer_keys *k, unsigned type)
{
	int ok;

	pthread_mutex_lock(&k->lock);
	ok = type == SIGNER_SIGN_CERT ? bucket_take(&k->lsc_bucket, k->limits.lsc_per_second)
				       : bucket_take(&k->ops_bucket, k->limits.ops_per_second);
	pthread_mutex_unlock(&k->lock);
	return ok;
}

static void dispatch(struct signer_keys *k, const struct signer_req *r, int admin, struct outcome *o,
		     struct buf *out)
{
	const struct signer_slot *s;

	if (r->type == SIGNER_LOAD_KEY) {
		do_load(k, r->payload, r->len, o, out);
		return;
	}
	if ((r->type == SIGNER_GENERATE_KEY || r->type == SIGNER_SAVE_KEY) && !admin) {
		refuse(o, SIGNER_REFUSED, "%s only through the administrators' door", signer_type_name(r->type));
		return;
	}
	if (r->type == SIGNER_GENERATE_KEY) {
		do_generate(k, r->payload, r->len, o, out);
		return;
	}
	if (r->type == SIGNER_SAVE_KEY) {
		do_save(k, r->slot, r->payload, r->len, o);
		return;
	}
	if (!(s = slot_get(k, r->slot))) {
		refuse(o, SIGNER_REFUSED, "no key in slot %u", r->slot);
		return;
	}
	if (!rate_ok(k, r->type)) {
		refuse(o, SIGNER_RATE_LIMITED, "over the rate limit for %s", signer_type_name(r->type));
		return;
	}
	if (r->type == SIGNER_SIGN_CERT && r->purpose == SIGNER_PURPOSE_LSC)
		do_sign_cert(k, s, r->payload, r->len, o, out);
	else if (r->type == SIGNER_SIGN_CERT)
		refuse(o, SIGNER_REFUSED, "certificates are signed for purpose lsc only, not %s",
		       signer_purpose_name(r->purpose));
	else if (r->type == SIGNER_SIGN)
		do_sign(s, r->purpose, r->payload, r->len, admin, o, out);
	else
		do_decrypt(s, r->purpose, r->payload, r->len, o, out);
}

static void log_outcome(struct signer_keys *k, const struct signer_req *r, int admin, const struct outcome *o)
{
	const char *type = r ? signer_type_name(r->type) : "?", *door = admin ? "admin " : "";

	if (o->status == SIGNER_OK && o->quiet)
		log_debug("signer: %s%s: %s", door, type, o->what);
	else if (o->status == SIGNER_OK)
		log_info("signer: %s%s: %s", door, type, o->what);
	else {
		pthread_mutex_lock(&k->lock);
		k->refused++;
		pthread_mutex_unlock(&k->lock);
		log_warn("signer: refused %s%s%s%s: %s", door, type, o->what[0] ? " of " : "", o->what, o->why);
	}
}

static void handle(struct signer_keys *k, const uint8_t *req, size_t n, int admin, struct buf *resp)
{
	struct outcome o = { .status = SIGNER_OK };
	struct signer_req r;
	struct buf out;
	char err[ERRLEN];
	uint8_t hdr[SIGNER_MSG_HEADER];
	int decoded;

	buf_init(&out);
	decoded = signer_req_decode(req, n, &r, err, sizeof err) == 0;
	if (!decoded)
		refuse(&o, SIGNER_BAD_REQUEST, "malformed request of %zu bytes: %s", n, err);
	else
		dispatch(k, &r, admin, &o, &out);
	if (o.status == SIGNER_OK && out.failed)
		refuse(&o, SIGNER_FAILED, "out of memory");
	if (o.status != SIGNER_OK) {
		buf_reset(&out);
		buf_printf(&out, "%s", o.why);
	}
	log_outcome(k, decoded ? &r : NULL, admin, &o);
	signer_resp_header_encode(hdr, o.status, out.len);
	buf_reset(resp);
	buf_put(resp, hdr, sizeof hdr);
	buf_put(resp, out.data, out.len);
	buf_free(&out);
}

void signer_handle(struct signer_keys *k, const uint8_t *req, size_t n, struct buf *resp)
{
	handle(k, req, n, 0, resp);
}

void signer_handle_admin(struct signer_keys *k, const uint8_t *req, size_t n, struct buf *resp)
{
	handle(k, req, n, 1, resp);
}
