/*
 * capf_listener.c: CAPF connections on libevent with non-blocking OpenSSL.
 *
 * Each connection belongs to one worker for its whole life. The server
 * speaks first once the TLS handshake completes. Every reply is handed to
 * the TLS layer as one buffer chunk, so it leaves as one SSL_write (one TLS
 * record): phone firmware stalls on messages split over two writes.
 * Timeouts follow the session's state: short while waiting for the handshake
 * and short answers, long while the phone generates its key.
 *
 * Each connection holds a reference to the CAPF identity it was accepted
 * with (certificate, chain, signer, fingerprint) until it closes; worker 0
 * swaps in a new identity when the state's CAPF certificate changes (see
 * capf_listener.h for why a session keeps the identity it started with).
 *
 * Sockets are TCP_NODELAY: each message is one write already, and a reply
 * written right after another (a TLS session ticket, then AUTH_REQUEST)
 * must not wait for the phone's delayed ACK (40 ms on Linux). TLS buffers
 * are released while a connection is idle (SSL_MODE_RELEASE_BUFFERS): a
 * phone generating its key for minutes holds only its socket, its session
 * and a timer.
 *
 * An issued LSC and a finished install are recorded by the committer thread
 * (capf_commit.h) with others in one transaction: meanwhile the connection
 * reads nothing and has no timer; the LSC goes out only after its delivery
 * record committed, END_SESSION only after the confirmation committed.
 */
#include "net/capf_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capf/ca.h"
#include "capf/trust_load.h"
#include "common/log.h"
#include "net/addr.h"
#include "net/metrics.h"
#include "wire/capf_msg.h"

struct capf_conn;

struct capf_listener_arg {
	struct capf_service *svc;
	struct worker *worker;
	struct capf_conn *conns;     /* open connections of this worker */
	struct capf_commit_port port; /* committed installs come back here */
};

/* What a connection presents and signs with, from accept to close. */
struct capf_identity {
	atomic_int refs;
	X509 *cert;                 /* NULL: the SSL_CTX's own certificate (the daemon's first) */
	EVP_PKEY *key;
	STACK_OF(X509) *chain;      /* issuing CAs of an outside-CA certificate, sent in the handshake */
	struct signer *signer;
	int owns_signer;
	char sha256[80];
	char cn[128];
	int64_t not_after;
};

struct capf_conn {
	struct capf_service *svc;
	struct worker *worker;
	struct capf_listener_arg *owner;
	struct capf_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	struct capf_server_session sess;
	struct capf_identity *ident;
	struct metrics_session metrics;
	struct conn_ticket ticket;   /* the slot of the listener's pool it holds */
	int closing;
	int committing;              /* job queued at the committer */
	char lost[160];              /* why the connection ended while a job was queued */
	struct capf_commit_job job;
};

static struct capf_server_env conn_env(const struct capf_conn *c)
{
	return (struct capf_server_env){
		.rec = &capf_store_records, .rec_ctx = c->worker->st, .signer = c->ident->signer,
		.capf_sha256 = c->ident->sha256, .cfg = &c->svc->cfg,
		.defer_install = c->svc->committer != NULL, .node = c->svc->node,
		.claims = c->svc->claims,
	};
}

/* ---- identities ---- */

static void identity_unref(struct capf_identity *id)
{
	if (!id || atomic_fetch_sub(&id->refs, 1) != 1)
		return;
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	sk_X509_pop_free(id->chain, X509_free);
	if (id->owns_signer)
		signer_free(id->signer);
	free(id);
}

/* The identity new connections take, with a reference for the caller. */
static struct capf_identity *identity_take(struct capf_service *svc)
{
	struct capf_identity *id;

	pthread_mutex_lock(&svc->ident_lock);
	id = svc->ident;
	atomic_fetch_add(&id->refs, 1);
	pthread_mutex_unlock(&svc->ident_lock);
	return id;
}

static void identity_describe(struct capf_identity *id, X509 *cert)
{
	struct pki_cert_info info;

	if (pki_cert_info(cert, &info) < 0)
		return;
	snprintf(id->cn, sizeof id->cn, "%s", info.cn);
	snprintf(id->sha256, sizeof id->sha256, "%s", info.sha256);
	id->not_after = info.not_after;
}

/* Present this identity's certificate instead of the context's. Sessions of
 * different identities never resume each other (session id context). */
static int identity_apply(const struct capf_identity *id, SSL *ssl)
{
	if (!id->cert)
		return 0;
	SSL_certs_clear(ssl);
	if (SSL_use_certificate(ssl, id->cert) != 1 || SSL_use_PrivateKey(ssl, id->key) != 1 ||
	    (id->chain && SSL_set1_chain(ssl, id->chain) != 1) ||
	    SSL_set_session_id_context(ssl, (const unsigned char *)id->sha256, 32) != 1) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* The issuing CAs of an outside-CA certificate found in CAPF-trust. */
static STACK_OF(X509) *issuer_chain(struct store *st, X509 *cert)
{
	STACK_OF(X509) *pool = trust_load_stack(st, TRUST_CAPF), *chain = sk_X509_new_null();
	X509 *cur = cert;

	for (int depth = 0; pool && chain && depth < 8 && X509_check_issued(cur, cur) != X509_V_OK; depth++) {
		X509 *next = NULL;

		for (int i = 0; i < sk_X509_num(pool) && !next; i++) {
			X509 *cand = sk_X509_value(pool, i);

			if (X509_cmp(cand, cur) != 0 && pki_cert_signed_by(cur, cand))
				next = cand;
		}
		if (!next || X509_up_ref(next) != 1 || !sk_X509_push(chain, next))
			break;
		cur = next;
	}
	ERR_clear_error();
	sk_X509_pop_free(pool, X509_free);
	return chain;
}

/* A new identity from the state's current CAPF certificate and key. */
static struct capf_identity *identity_load(struct store *st, char *err, size_t errlen)
{
	struct capf_identity *id = calloc(1, sizeof *id);

	if (!id) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&id->refs, 1);
	id->owns_signer = 1;
	if (capf_ca_load(st, &id->cert, &id->key, err, errlen) < 0)
		goto fail;
	if (!(id->signer = signer_local_new(id->cert, id->key))) {
		seterr(err, errlen, "the CAPF key does not belong to the CAPF certificate");
		goto fail;
	}
	id->chain = issuer_chain(st, id->cert);
	identity_describe(id, id->cert);
	return id;
fail:
	identity_unref(id);
	return NULL;
}

/* ---- watching the state: certificate changes and expiry ---- */

static void expiry_check(struct capf_service *svc)
{
	const struct capf_identity *id = svc->ident;
	int64_t now = now_utc(), days;

	if (now < svc->next_expiry_check || id->not_after == 0)
		return;
	svc->next_expiry_check = now + 86400;
	days = (id->not_after - now) / 86400;
	if (id->not_after <= now)
		log_err("capf: the CAPF certificate %s has EXPIRED: phones refuse it; regenerate it "
			"('opencapf capf regenerate')", id->cn);
	else if (days < CAPF_EXPIRY_WARN_DAYS)
		log_warn("capf: the CAPF certificate %s expires in %lld day%s: regenerate it "
			 "('opencapf capf regenerate') before issuing LSCs", id->cn, (long long)days,
			 days == 1 ? "" : "s");
}

static void switch_identity(struct capf_service *svc, struct store *st, const char *sha256)
{
	struct capf_identity *id, *old;
	char err[ERRLEN];

	if (!(id = identity_load(st, err, sizeof err))) {
		snprintf(svc->failed_sha256, sizeof svc->failed_sha256, "%s", sha256);
		log_err("capf: cannot switch to the new CAPF certificate %.16s...: %s; still serving %s", sha256, err,
			svc->ident->cn);
		return;
	}
	pthread_mutex_lock(&svc->ident_lock);
	old = svc->ident;
	svc->ident = id;
	pthread_mutex_unlock(&svc->ident_lock);
	log_info("capf: CAPF certificate changed from %s to %s (SHA-256 %.16s...): new sessions use it, "
		 "sessions in flight finish with %s", old->cn, id->cn, id->sha256, old->cn);
	identity_unref(old);
	svc->next_expiry_check = 0;
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_service *svc = arg;
	struct store *st = svc->pool->workers[0].st;
	struct capf_row row;

	(void)fd;
	(void)what;
	if (store_capf_current(st, &row) == 0) {
		if (strcmp(row.sha256, svc->ident->sha256) != 0 && strcmp(row.sha256, svc->failed_sha256) != 0)
			switch_identity(svc, st, row.sha256);
		capf_row_free(&row);
	}
	expiry_check(svc);
}

/* The first identity: loaded from the state like later ones (so an
 * outside-CA certificate is sent with its chain from the start), or, if
 * that fails, what the daemon started with (signer not owned). */
static struct capf_identity *identity_first(struct capf_service *svc)
{
	struct capf_identity *id;
	char err[ERRLEN];

	id = identity_load(svc->pool->workers[0].st, err, sizeof err);
	if (id && strcmp(id->sha256, svc->capf_sha256) == 0)
		return id;
	identity_unref(id);
	if (!(id = calloc(1, sizeof *id)))
		return NULL;
	atomic_init(&id->refs, 1);
	id->signer = svc->signer;
	identity_describe(id, svc->signer->issuer);
	snprintf(id->sha256, sizeof id->sha256, "%s", svc->capf_sha256);
	return id;
}

static int identity_start(struct capf_service *svc, char *err, size_t errlen)
{
	struct timeval tv = { CAPF_WATCH_SECONDS, 0 };

	if (pthread_mutex_init(&svc->ident_lock, NULL) != 0) {
		seterr(err, errlen, "cannot create a lock");
		return -1;
	}
	svc->lock_ready = 1;
	if (!(svc->ident = identity_first(svc))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	svc->watch = event_new(svc->pool->workers[0].base, -1, EV_PERSIST, watch_cb, svc);
	if (!svc->watch || event_add(svc->watch, &tv) < 0) {
		seterr(err, errlen, "cannot start the CAPF certificate watch");
		return -1;
	}
	expiry_check(svc);
	return 0;
}

static void conn_free(struct capf_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	/* Port probes and aborted handshakes are no CAPF sessions: debug only. */
	if (c->metrics.handshake_done)
		capf_server_session_log(&c->sess);
	else
		log_debug("capf: connection from %s closed before the TLS handshake completed (%s)", c->sess.peer,
			  c->sess.reason[0] ? c->sess.reason : "no reason");
	metrics_capf_closed(&c->metrics, &c->sess);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->owner->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (ssl)
		SSL_shutdown(ssl);
	bufferevent_free(c->bev);
	event_free(c->timer);
	capf_server_session_free(&c->sess);
	identity_unref(c->ident);
	conn_limit_release(c->svc->limit, &c->ticket);
	free(c);
}

static void conn_abort(struct capf_conn *c, const char *why)
{
	struct capf_server_env env = conn_env(c);

	capf_server_session_abort(&c->sess, &env, why);
	conn_free(c);
}

/* Until the TLS handshake is done: the listener's handshake timeout; then the session's. */
static void arm_timer(struct capf_conn *c)
{
	struct timeval tv = { c->metrics.handshake_done ? capf_server_session_timeout(&c->sess, &c->svc->cfg)
							: c->svc->limits.handshake_timeout, 0 };
	evtimer_add(c->timer, &tv);
}

static void free_chunk(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* Queue `out` as one chunk, so bufferevent_openssl writes it with one SSL_write. */
static int send_whole(struct capf_conn *c, const struct buf *out)
{
	void *copy;

	if (out->len == 0)
		return 0;
	if (out->failed || !(copy = malloc(out->len)))
		return -1;
	memcpy(copy, out->data, out->len);
	return evbuffer_add_reference(bufferevent_get_output(c->bev), copy, out->len, free_chunk, NULL);
}

/* After the last message: close once the output has drained. */
static void finish(struct capf_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static int handle_frame(struct capf_conn *c, struct evbuffer *in, size_t *consumed)
{
	struct capf_server_env env = conn_env(c);
	size_t avail = evbuffer_get_length(in), total = 0;
	const uint8_t *data;
	struct buf out;
	char err[ERRLEN];
	int rc, done;

	*consumed = 0;
	if (avail < CAPF_HEADER_LEN)
		return 0;
	data = evbuffer_pullup(in, CAPF_HEADER_LEN);
	rc = capf_frame_length(data, avail, &total, err, sizeof err);
	if (rc == 0)
		return 0;
	if (rc < 0)
		total = CAPF_HEADER_LEN; /* hand the bad header to the session: it ends with REASON 7 */
	data = evbuffer_pullup(in, (ssize_t)total);
	buf_init(&out);
	done = capf_server_session_on_message(&c->sess, &env, data, total, &out);
	*consumed = total;
	if (send_whole(c, &out) < 0)
		done = 1;
	buf_free(&out);
	return done ? -1 : 1;
}

static void read_cb(struct bufferevent *bev, void *arg);

/* The LSC was issued (WAIT_RECORD) or stored by the phone (WAIT_COMMIT):
 * queue its record. Until it committed, input stays in the buffer (read_cb
 * leaves it there; the read watermark bounds it) and an end of the
 * connection is only noted (c->lost): the job points into the connection.
 * Reading and the timer stay on, which costs nothing while the phone waits. */
static void commit_submit(struct capf_conn *c)
{
	c->committing = 1;
	c->job = (struct capf_commit_job){ .kind = c->sess.state == SRV_WAIT_RECORD ? CAPF_COMMIT_DELIVER
										 : CAPF_COMMIT_CONFIRM,
					   .device = c->sess.device, .der = c->sess.lsc_der,
					   .len = c->sess.lsc_len, .capf_sha256 = c->ident->sha256,
					   .port = &c->owner->port, .arg = c };
	capf_server_session_install_entry(&c->sess, &c->job.h);
	capf_commit_submit(c->svc->committer, &c->job);
}

/* Back on the worker: the LSC now that its delivery is on disk, or
 * END_SESSION now that the install is (or either failed). */
static void commit_done(struct capf_commit_job *job)
{
	struct capf_conn *c = job->arg;
	struct capf_server_env env = conn_env(c);
	struct buf out;
	int rc, over;

	c->committing = 0;
	buf_init(&out);
	if (job->kind == CAPF_COMMIT_DELIVER)
		over = capf_server_session_recorded(&c->sess, &env, job->rc, job->err, &out);
	else
		over = capf_server_session_install_done(&c->sess, &env, job->rc, job->err, &out);
	if (c->lost[0]) {           /* nobody to send it to: the attempt is recorded as cut off */
		buf_free(&out);
		conn_abort(c, c->lost);
		return;
	}
	rc = send_whole(c, &out);
	buf_free(&out);
	if (rc < 0) {
		conn_abort(c, "cannot queue the reply");
		return;
	}
	arm_timer(c);
	if (over) {
		finish(c);
		return;
	}
	read_cb(c->bev, c);       /* the phone may have written meanwhile */
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct capf_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t consumed;
	int rc;

	if (c->closing || c->committing)
		return;
	while ((rc = handle_frame(c, in, &consumed)) > 0) {
		evbuffer_drain(in, consumed);
		if (c->sess.state == SRV_WAIT_RECORD || c->sess.state == SRV_WAIT_COMMIT) {
			commit_submit(c);
			return;
		}
		arm_timer(c);
	}
	if (rc < 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		finish(c);
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct capf_conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

static void start_session(struct capf_conn *c)
{
	struct buf out;

	buf_init(&out);
	if (capf_server_session_start(&c->sess, &out) < 0 || send_whole(c, &out) < 0) {
		buf_free(&out);
		conn_abort(c, "cannot send AUTH_REQUEST");
		return;
	}
	buf_free(&out);
	arm_timer(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg);

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct capf_conn *c = arg;
	char why[300];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		metrics_capf_handshake(&c->metrics);
		evtimer_del(c->timer); /* the handshake timer becomes the session's */
		evtimer_assign(c->timer, c->worker->base, timeout_cb, c);
		start_session(c);
		return;
	}
	if (c->closing && !(what & BEV_EVENT_ERROR)) {
		conn_free(c);
		return;
	}
	e = bufferevent_get_openssl_error(bev);
	if (e) {
		char tls[200];
		ERR_error_string_n(e, tls, sizeof tls);
		snprintf(why, sizeof why, "TLS error: %s", tls);
	} else
		snprintf(why, sizeof why, "%s", (what & BEV_EVENT_EOF) ? "connection closed by the phone"
								       : "connection error");
	ERR_clear_error();
	if (c->committing) {        /* the committer still holds the job: finish in commit_done */
		snprintf(c->lost, sizeof c->lost, "%s", why);
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		evtimer_del(c->timer);
	} else if (c->closing)
		conn_free(c);
	else
		conn_abort(c, why);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_conn *c = arg;
	char why[96];

	(void)fd;
	(void)what;
	if (c->closing) {
		conn_free(c);
		return;
	}
	if (c->committing) {        /* the record comes back in any case: wait for it */
		arm_timer(c);
		return;
	}
	snprintf(why, sizeof why, "timed out after %d s (%s)", capf_server_session_timeout(&c->sess, &c->svc->cfg),
		 c->sess.state == SRV_WAIT_KEY ? "key generation" : "waiting for the phone");
	conn_abort(c, why);
}

/* Random and non-zero: a session id tells nothing about other sessions. */
static uint32_t new_session_id(void)
{
	uint32_t id = 0;

	while (id == 0)
		if (RAND_bytes((unsigned char *)&id, sizeof id) != 1)
			id = (uint32_t)now_utc() | 1u;
	return id;
}

/* No TLS handshake within handshake_timeout: a port probe or an idle socket, not a session. */
static void handshake_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_conn *c = arg;
	char why[96];

	(void)fd;
	(void)what;
	snprintf(why, sizeof why, "no TLS handshake within %d s", c->svc->limits.handshake_timeout);
	conn_abort(c, why);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct capf_listener_arg *la = arg;
	struct capf_service *svc = la->svc;
	struct conn_ticket ticket;
	struct capf_conn *c;
	char peer[64];
	SSL *ssl;

	(void)l;
	(void)salen;
	if (conn_limit_take(svc->limit, sa, &ticket) != CONN_LIMIT_OK) { /* counted and logged there */
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	addr_host(sa, peer, sizeof peer);
	c = calloc(1, sizeof *c);
	ssl = SSL_new(svc->ssl_ctx);
	if (ssl) /* an idle phone (generating its key) holds no TLS buffers */
		SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
	if (c)
		c->ident = identity_take(svc);
	if (!c || !ssl || identity_apply(c->ident, ssl) < 0) {
		if (c && ssl)
			log_err("capf: cannot present the CAPF certificate %s, refusing a connection", c->ident->cn);
		if (c)
			identity_unref(c->ident);
		free(c);
		SSL_free(ssl);
		close(fd);
		conn_limit_release(svc->limit, &ticket);
		return;
	}
	c->svc = svc;
	c->worker = la->worker;
	c->owner = la;
	c->ticket = ticket;
	c->next = la->conns;
	if (la->conns)
		la->conns->prev = c;
	la->conns = c;
	c->bev = bufferevent_openssl_socket_new(la->worker->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(la->worker->base, handshake_timeout_cb, c);
	capf_server_session_init(&c->sess, new_session_id(), peer);
	metrics_capf_accepted(&c->metrics);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CAPF_MAX_MSG);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm_timer(c);
}

int capf_service_start(struct capf_service *svc, struct worker_pool *pool, const char *addr,
		       SSL_CTX *ssl_ctx, struct signer *signer, const struct capf_server_cfg *cfg,
		       char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int freed;

	if (addr_parse(addr, &ss, &sslen, err, errlen) < 0 ||
	    addr_check_free((struct sockaddr *)&ss, sslen, addr, err, errlen) < 0)
		return -1;
	svc->pool = pool;
	svc->ssl_ctx = ssl_ctx;
	svc->signer = signer;
	svc->cfg = *cfg;
	if (identity_start(svc, err, errlen) < 0)
		return -1;
	if (!svc->node[0] && (gethostname(svc->node, sizeof svc->node - 1) != 0 || !svc->node[0]))
		snprintf(svc->node, sizeof svc->node, "local");
	if (!(svc->claims = session_claims_new())) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	/* This node's sessions died with its previous process: free their claims. */
	if ((freed = store_capf_release_node_claims(pool->workers[0].st, svc->node)) < 0) {
		seterr(err, errlen, "%s", store_errmsg(pool->workers[0].st));
		return -1;
	}
	if (freed > 0)
		log_info("capf: freed %d operation claim%s left by this node's previous run", freed,
			 freed == 1 ? "" : "s");
	svc->listeners = calloc((size_t)pool->count, sizeof *svc->listeners);
	svc->args = calloc((size_t)pool->count, sizeof *svc->args);
	if (!svc->listeners || !svc->args) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (svc->limits.handshake_timeout <= 0)
		svc->limits.handshake_timeout = CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT;
	if (!(svc->limit = conn_limit_new("capf", &svc->limits))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (capf_committer_start(&svc->committer, store_dir(pool->workers[0].st), err, errlen) < 0)
		return -1;
	for (int i = 0; i < pool->count; i++) {
		svc->args[i] = (struct capf_listener_arg){ svc, &pool->workers[i], NULL, { 0 } };
		if (capf_commit_port_init(&svc->args[i].port, pool->workers[i].base, commit_done) < 0) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
	return conn_limit_listen(svc->limit, pool, svc->listeners, accept_cb, svc->args, sizeof *svc->args,
				 (struct sockaddr *)&ss, sslen, addr, err, errlen);
}

void capf_service_close(struct capf_service *svc)
{
	/* First: the committer records what is queued and lets go of the jobs
	 * (which live in the connections freed below). */
	capf_committer_stop(svc->committer);
	svc->committer = NULL;
	for (int i = 0; svc->listeners && i < svc->pool->count; i++) {
		if (svc->listeners[i])
			evconnlistener_free(svc->listeners[i]);
		while (svc->args[i].conns)
			conn_abort(svc->args[i].conns, "daemon shutting down");
		capf_commit_port_free(&svc->args[i].port);
	}
	free(svc->listeners);
	free(svc->args);
	svc->listeners = NULL;
	svc->args = NULL;
	conn_limit_free(svc->limit); /* after its listeners and connections */
	svc->limit = NULL;
	if (svc->watch)
		event_free(svc->watch);
	svc->watch = NULL;
	identity_unref(svc->ident);
	svc->ident = NULL;
	session_claims_free(svc->claims);
	svc->claims = NULL;
	if (svc->lock_ready)
		pthread_mutex_destroy(&svc->ident_lock);
	svc->lock_ready = 0;
}
