/*
 * signer_client.c: the daemon's ends of the signer's channels, one exchange
 * at a time per channel (signer_client.h), the remote LSC signer, and the
 * pki key hooks.
 */
#include "signer/signer_client.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "signer/signer_msg.h"
#include "signer/signer_provider.h"

#define SIGNER_TIMEOUT_MS 30000
#define DOOR_WELCOME_MS 5000 /* a door that says nothing for this long is not answering */
#define SIGNER_PATH_MAX_WIRE 1023 /* signer_policy.h: SIGNER_PATH_MAX less the NUL */

struct signer_client {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int n;
	int *fds;     /* -1 once a channel failed */
	char *busy;
	pid_t pid;
	char keys_dir[1024]; /* through the door: keys elsewhere are the caller's own files */
	char door[108];      /* a client of the administrators' door: its socket, dialled again when dropped */
};

struct signer_client *signer_client_new(const int *fds, int n, pid_t pid)
{
	struct signer_client *c = calloc(1, sizeof *c);

	if (!c || !(c->fds = calloc((size_t)n, sizeof *c->fds)) || !(c->busy = calloc((size_t)n, 1))) {
		if (c)
			free(c->fds);
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->freed, NULL);
	memcpy(c->fds, fds, (size_t)n * sizeof *fds);
	c->n = n;
	c->pid = pid;
	return c;
}

void signer_client_free(struct signer_client *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->freed);
	free(c->fds);
	free(c->busy);
	free(c);
}

pid_t signer_client_pid(const struct signer_client *c)
{
	return c ? c->pid : -1;
}

/* A free working channel (waiting for one), or -1 when none works. */
static int channel_take(struct signer_client *c)
{
	int idx = -1, alive;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		alive = 0;
		for (int i = 0; i < c->n && idx < 0; i++) {
			alive |= c->fds[i] >= 0;
			if (c->fds[i] >= 0 && !c->busy[i])
				idx = i;
		}
		if (idx >= 0 || !alive)
			break;
		pthread_cond_wait(&c->freed, &c->lock);
	}
	if (idx >= 0)
		c->busy[idx] = 1;
	pthread_mutex_unlock(&c->lock);
	return idx;
}

static void channel_give(struct signer_client *c, int idx, int failed)
{
	pthread_mutex_lock(&c->lock);
	if (failed) {
		close(c->fds[idx]);
		c->fds[idx] = -1;
	}
	c->busy[idx] = 0;
	pthread_cond_broadcast(&c->freed);
	pthread_mutex_unlock(&c->lock);
}

static int recv_within(int fd, uint8_t *p, size_t n, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (n > 0) {
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -1;
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int recv_exact(int fd, uint8_t *p, size_t n)
{
	return recv_within(fd, p, n, SIGNER_TIMEOUT_MS);
}

static int exchange(int fd, const uint8_t *hdr, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		    uint8_t *status, struct buf *resp, char *err, size_t errlen)
{
	uint8_t rh[SIGNER_MSG_HEADER];
	size_t len;

	if (send_all(fd, hdr, SIGNER_MSG_HEADER) < 0 || (alen && send_all(fd, a, alen) < 0) ||
	    (blen && send_all(fd, b, blen) < 0) || recv_exact(fd, rh, sizeof rh) < 0) {
		seterr(err, errlen, "the signer process does not answer");
		return -1;
	}
	if (signer_resp_header(rh, &len, err, errlen) < 0)
		return -1;
	buf_reset(resp);
	for (size_t got = 0; got < len;) {
		uint8_t chunk[4096];
		size_t want = len - got < sizeof chunk ? len - got : sizeof chunk;

		if (recv_exact(fd, chunk, want) < 0) {
			seterr(err, errlen, "the signer process stopped in the middle of an answer");
			return -1;
		}
		buf_put(resp, chunk, want);
		got += want;
	}
	*status = rh[1];
	return resp->failed ? -1 : 0;
}

/* The signer's first words on a door connection: a welcome (0), or a
 * refusal or nothing sensible within DOOR_WELCOME_MS (-1 with err). */
int signer_door_welcome(int fd, char *err, size_t errlen)
{
	uint8_t hdr[SIGNER_MSG_HEADER];
	char why[512];
	size_t len;

	if (recv_within(fd, hdr, sizeof hdr, DOOR_WELCOME_MS) < 0) {
		seterr(err, errlen, "no answer within %d s", DOOR_WELCOME_MS / 1000);
		return -1;
	}
	if (signer_resp_header(hdr, &len, err, errlen) < 0)
		return -1;
	if (hdr[1] == SIGNER_OK && len == 0)
		return 0;
	if (len >= sizeof why || recv_within(fd, (uint8_t *)why, len, DOOR_WELCOME_MS) < 0)
		len = 0;
	why[len] = 0;
	seterr(err, errlen, "%s: %s", hdr[1] == SIGNER_REFUSED ? "refused" : "an unexpected answer",
	       len ? why : "no reason given");
	return -1;
}

static int door_dial(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char why[ERRLEN];
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		seterr(err, errlen, "%s: path too long for a socket", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		seterr(err, errlen, "the daemon's signer at %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (signer_door_welcome(fd, why, sizeof why) < 0) {
		seterr(err, errlen, "the daemon's signer at %s: %s", path, why);
		close(fd);
		return -1;
	}
	return fd;
}

/* One exchange through the door; a connection the signer dropped (it
 * closes one idle for a minute) is dialled again once. Slots are the
 * signer's, not the connection's, so a request may be repeated. */
static int door_call(struct signer_client *c, const uint8_t *hdr, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, uint8_t *status, struct buf *resp, char *err, size_t errlen)
{
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
		if (c->fds[0] < 0 && (c->fds[0] = door_dial(c->door, err, errlen)) < 0)
			break;
		if ((rc = exchange(c->fds[0], hdr, a, alen, b, blen, status, resp, err, errlen)) < 0) {
			close(c->fds[0]);
			c->fds[0] = -1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int signer_call(struct signer_client *c, uint8_t type, uint8_t purpose, uint8_t slot, const uint8_t *a, size_t alen,
		const uint8_t *b, size_t blen, uint8_t *status, struct buf *resp, char *err, size_t errlen)
{
	uint8_t hdr[SIGNER_MSG_HEADER];
	int idx, rc;

	if (signer_req_header_encode(hdr, type, purpose, slot, alen + blen) < 0) {
		seterr(err, errlen, "a signer request of %zu bytes is over the limit", alen + blen);
		return -1;
	}
	if (c->door[0])
		return door_call(c, hdr, a, alen, b, blen, status, resp, err, errlen);
	if ((idx = channel_take(c)) < 0) {
		seterr(err, errlen, "the signer process is gone");
		return -1;
	}
	rc = exchange(c->fds[idx], hdr, a, alen, b, blen, status, resp, err, errlen);
	channel_give(c, idx, rc < 0);
	return rc;
}

/* ---- keys ---- */

/* The signer's sentence as err, NUL-terminated. */
static void status_err(uint8_t status, const struct buf *resp, char *err, size_t errlen)
{
	seterr(err, errlen, "signer: %.*s", (int)(resp->len < 400 ? resp->len : 400), resp->data ? (char *)resp->data : "");
	(void)status;
}

int signer_client_load(struct signer_client *c, const char *path, X509 *cert, int *slot, EVP_PKEY **key,
		       char *err, size_t errlen)
{
	size_t plen = strlen(path);
	uint8_t head[2 + SIGNER_PATH_MAX_WIRE], status = 0, *der = NULL;
	int derlen = cert ? i2d_X509(cert, &der) : 0, rc = -1;
	struct buf resp;
	EVP_PKEY *pub;

	if (plen == 0 || plen > SIGNER_PATH_MAX_WIRE || derlen < 0) {
		seterr(err, errlen, "key path '%s' is empty or too long for the signer", path);
		OPENSSL_free(der);
		return -1;
	}
	head[0] = (uint8_t)(plen >> 8);
	head[1] = (uint8_t)plen;
	memcpy(head + 2, path, plen);
	buf_init(&resp);
	if (signer_call(c, SIGNER_LOAD_KEY, SIGNER_PURPOSE_NONE, 0, head, 2 + plen, der, (size_t)derlen, &status, &resp,
			err, errlen) < 0)
		goto out;
	if (status != SIGNER_OK || resp.len < 2) {
		status_err(status, &resp, err, errlen);
		goto out;
	}
	if (!(pub = pki_pubkey_from_der(resp.data + 1, resp.len - 1, err, errlen)))
		goto out;
	*slot = resp.data[0];
	*key = signer_provider_key(&signer_client_backend, c, *slot, path, pub, err, errlen);
	EVP_PKEY_free(pub);
	rc = *key ? 0 : -1;
out:
	OPENSSL_free(der);
	buf_free(&resp);
	return rc;
}

/* ---- through the administrators' door: new keys ---- */

int signer_client_generate(struct signer_client *c, enum pki_key_kind kind, int bits, EVP_PKEY **key, char *err,
			   size_t errlen)
{
	uint8_t req[3], status = 0;
	struct buf resp;
	EVP_PKEY *pub = NULL;

	*key = NULL;
	if (bits <= 0 || bits > 65535) {
		seterr(err, errlen, "unsupported key size %d", bits);
		return -1;
	}
	signer_generate_encode(req, kind == PKI_KEY_RSA ? SIGNER_KIND_RSA : SIGNER_KIND_EC, (unsigned)bits);
	buf_init(&resp);
	if (signer_call(c, SIGNER_GENERATE_KEY, SIGNER_PURPOSE_NONE, 0, req, sizeof req, NULL, 0, &status, &resp, err,
			errlen) == 0) {
		if (status != SIGNER_OK || resp.len < 2)
			status_err(status, &resp, err, errlen);
		else if ((pub = pki_pubkey_from_der(resp.data + 1, resp.len - 1, err, errlen)))
			*key = signer_provider_key(&signer_client_backend, c, resp.data[0], "", pub, err, errlen);
	}
	EVP_PKEY_free(pub);
	buf_free(&resp);
	return *key ? 0 : -1;
}

int signer_client_save(struct signer_client *c, EVP_PKEY *key, const char *path, char *err, size_t errlen)
{
	const struct signer_key_backend *be;
	const char *old;
	uint8_t head[2 + SIGNER_PATH_MAX_WIRE], status = 0;
	size_t plen = strlen(path);
	struct buf resp;
	void *ctx;
	int slot, rc = -1;

	if (signer_provider_key_ref(key, &be, &ctx, &slot, &old) < 0 || be != &signer_client_backend || ctx != c)
		return 0;
	if (plen == 0 || plen > SIGNER_PATH_MAX_WIRE) {
		seterr(err, errlen, "key path '%s' is empty or too long for the signer", path);
		return -1;
	}
	head[0] = (uint8_t)(plen >> 8);
	head[1] = (uint8_t)plen;
	memcpy(head + 2, path, plen);
	buf_init(&resp);
	if (signer_call(c, SIGNER_SAVE_KEY, SIGNER_PURPOSE_NONE, (uint8_t)slot, head, 2 + plen, NULL, 0, &status, &resp,
			err, errlen) == 0) {
		if (status == SIGNER_OK)
			rc = 1;
		else
			status_err(status, &resp, err, errlen);
	}
	buf_free(&resp);
	return rc;
}

/* ---- the provider's backend: private operations in the signer process ---- */

static int backend_sign(void *ctx, int slot, const struct signer_sig_params *sp, const uint8_t *data, size_t len,
			struct buf *out, char *err, size_t errlen)
{
	uint8_t params[SIGNER_SIG_PARAMS_LEN], status = 0;

	signer_sig_params_encode(params, sp);
	if (signer_call(ctx, SIGNER_SIGN, SIGNER_PURPOSE_NONE, (uint8_t)slot, params, sizeof params, data, len, &status,
			out, err, errlen) < 0)
		return -1;
	if (status != SIGNER_OK) {
		status_err(status, out, err, errlen);
		return -1;
	}
	return 0;
}

static int backend_decrypt(void *ctx, int slot, unsigned client, unsigned negotiated, const uint8_t *ct, size_t len,
			   struct buf *out, char *err, size_t errlen)
{
	uint8_t versions[4] = { (uint8_t)(client >> 8), (uint8_t)client, (uint8_t)(negotiated >> 8), (uint8_t)negotiated };
	uint8_t status = 0;

	if (signer_call(ctx, SIGNER_DECRYPT_TLS, SIGNER_PURPOSE_TLS, (uint8_t)slot, versions, sizeof versions, ct, len,
			&status, out, err, errlen) < 0)
		return -1;
	if (status != SIGNER_OK) {
		status_err(status, out, err, errlen);
		return -1;
	}
	return 0;
}

const struct signer_key_backend signer_client_backend = { backend_sign, backend_decrypt };

/* ---- the remote LSC signer ---- */

struct remote {
	struct signer_client *client;
	int slot;
};

/* The template names the signature algorithm the signer will use (SHA-256
 * with the issuer's key type), so that its TBSCertificate is already the
 * one signed. */
static int template_der(X509 *cert, X509 *issuer, uint8_t **der, int *len)
{
	const X509_ALGOR *outer = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	int ec = EVP_PKEY_is_a(X509_get0_pubkey(issuer), "EC");
	int nid = ec ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption, ptype = ec ? V_ASN1_UNDEF : V_ASN1_NULL;

	X509_get0_signature(&sig, &outer, cert);
	if (X509_ALGOR_set0((X509_ALGOR *)outer, OBJ_nid2obj(nid), ptype, NULL) != 1 ||
	    X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(cert), OBJ_nid2obj(nid), ptype, NULL) != 1)
		return -1;
	*der = NULL;
	*len = i2d_X509(cert, der);
	return *len > 0 ? 0 : -1;
}

/* The signed certificate's algorithm and signature put into the template
 * without decoding the whole certificate again (OpenSSL 3.0 decodes the
 * public key of every certificate it parses): 0 when the template then
 * encodes to exactly the signed bytes, -1 otherwise. */
static int take_signature(X509 *cert, const uint8_t *der, size_t n)
{
	const unsigned char *p = der, *end = der + n;
	long len;
	int tag, cls, ok = 0;
	X509_ALGOR *alg = NULL;
	ASN1_BIT_STRING *sig = NULL, *dst;
	const X509_ALGOR *outer;
	uint8_t *again = NULL;

	if (ASN1_get_object(&p, &len, &tag, &cls, (long)n) & 0x80 || ASN1_get_object(&p, &len, &tag, &cls, end - p) & 0x80)
		return -1;
	p += len; /* past the TBSCertificate */
	if (p < end && (alg = d2i_X509_ALGOR(NULL, &p, end - p)) && (sig = d2i_ASN1_BIT_STRING(NULL, &p, end - p)) &&
	    p == end) {
		X509_get0_signature((const ASN1_BIT_STRING **)&dst, &outer, cert);
		ok = X509_ALGOR_copy((X509_ALGOR *)outer, alg) == 1 && ASN1_BIT_STRING_set(dst, sig->data, sig->length) == 1;
		dst->flags = (dst->flags & ~0x07L) | ASN1_STRING_FLAG_BITS_LEFT | (sig->flags & 0x07);
	}
	ok = ok && i2d_X509(cert, &again) == (int)n && memcmp(again, der, n) == 0;
	OPENSSL_free(again);
	X509_ALGOR_free(alg);
	ASN1_BIT_STRING_free(sig);
	return ok ? 0 : -1;
}

static int remote_sign_cert(struct signer *s, X509 *cert, char *err, size_t errlen)
{
	struct remote *r = s->impl;
	uint8_t *der = NULL, status = 0;
	const unsigned char *p;
	struct buf resp;
	int len, rc = -1;

	if (template_der(cert, s->issuer, &der, &len) < 0) {
		seterr(err, errlen, "signer: cannot encode the certificate template");
		ERR_clear_error();
		return -1;
	}
	buf_init(&resp);
	if (signer_call(r->client, SIGNER_SIGN_CERT, SIGNER_PURPOSE_LSC, (uint8_t)r->slot, der, (size_t)len, NULL, 0,
			&status, &resp, err, errlen) < 0)
		goto out;
	if (status != SIGNER_OK) {
		status_err(status, &resp, err, errlen);
		goto out;
	}
	p = resp.data;
	if (take_signature(cert, resp.data, resp.len) < 0 &&
	    (log_debug("signer: the signed LSC differs from its template; decoding it whole"), 1) &&
	    (!d2i_X509(&cert, &p, (long)resp.len) || p != resp.data + resp.len)) {
		seterr(err, errlen, "signer: the signed certificate does not decode");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	buf_free(&resp);
	return rc;
}

static void remote_destroy(struct signer *s)
{
	if (!s)
		return;
	free(s->impl);
	X509_free(s->issuer);
	free(s);
}

struct signer *signer_remote_new(struct signer_client *c, int slot, X509 *cert)
{
	struct signer *s = calloc(1, sizeof *s);
	struct remote *r = calloc(1, sizeof *r);

	if (!s || !r || X509_up_ref(cert) != 1) {
		free(s);
		free(r);
		return NULL;
	}
	X509_check_purpose(cert, -1, 0);
	ERR_clear_error();
	r->client = c;
	r->slot = slot;
	s->sign_cert = remote_sign_cert;
	s->destroy = remote_destroy;
	s->issuer = cert;
	s->impl = r;
	return s;
}

/* ---- pki hooks ---- */

/* Through the door, a key file outside the keys folder is the caller's own
 * (an imported key, a key named on the command line). */
static int outside_keys(const struct signer_client *c, const char *path)
{
	char real[4096], dir[4096];
	size_t n;

	if (!c->keys_dir[0])
		return 0;
	if (!realpath(c->keys_dir, dir) || !realpath(path, real))
		return 0;            /* let the signer say what is wrong */
	n = strlen(dir);
	return strncmp(real, dir, n) != 0 || real[n] != '/';
}

static EVP_PKEY *hook_load(void *ctx, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	int slot;

	if (outside_keys(ctx, path))
		return pki_key_load_file(path, err, errlen);
	if (signer_client_load(ctx, path, NULL, &slot, &key, err, errlen) < 0)
		return NULL;
	return key;
}

/* A signer for LSCs: the same key file loaded again with its certificate. */
static struct signer *hook_signer(void *ctx, X509 *cert, EVP_PKEY *key)
{
	const struct signer_key_backend *be;
	struct signer_client *c;
	const char *path;
	char err[ERRLEN];
	EVP_PKEY *again = NULL;
	struct signer *s;
	void *ref_ctx;
	int slot;

	if (signer_provider_key_ref(key, &be, &ref_ctx, &slot, &path) < 0 || be != &signer_client_backend)
		return NULL;
	c = ref_ctx;
	if (signer_client_load(c, path, cert, &slot, &again, err, sizeof err) < 0) {
		log_err("%s", err);
		return NULL;
	}
	EVP_PKEY_free(again);
	s = signer_remote_new(c, slot, cert);
	return s;
}

void signer_client_install(struct signer_client *c)
{
	struct pki_key_hooks h = { .load = hook_load, .signer = hook_signer, .ctx = c };

	pki_key_hooks_set(&h);
}

static EVP_PKEY *hook_generate(void *ctx, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;

	signer_client_generate(ctx, kind, bits, &key, err, errlen);
	return key;
}

static int hook_save(void *ctx, const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	return signer_client_save(ctx, key, path, err, errlen);
}

void signer_client_install_admin(struct signer_client *c, const char *keys_dir)
{
	struct pki_key_hooks h = { .load = hook_load, .signer = hook_signer, .generate = hook_generate,
				   .save = hook_save, .ctx = c };

	snprintf(c->keys_dir, sizeof c->keys_dir, "%s", keys_dir);
	pki_key_hooks_set(&h);
}

struct signer_client *signer_door_connect(const char *path, char *err, size_t errlen)
{
	struct signer_client *c;
	int fd = door_dial(path, err, errlen);

	if (fd < 0)
		return NULL;
	if (!(c = signer_client_new(&fd, 1, 0))) {
		seterr(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	snprintf(c->door, sizeof c->door, "%s", path);
	return c;
}
