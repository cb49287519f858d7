/*
 * capf_listener.c: CAPF connections: the callbacks of the shared TLS
 * connection module (tls_conn.h, which owns accepting, the pool slot, the
 * handshake deadline, sending whole messages and closing), the CAPF
 * identity each connection presents, and the group commit's round trips.
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
 * (capf_commit.h) with others in one transaction: meanwhile the session
 * handles no input (it waits in the buffer) and an end of the connection is
 * only noted; the LSC goes out only after its delivery record committed,
 * END_SESSION only after the confirmation committed.
 */
#include "net/capf_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capf/ca.h"
#include "capf/trust_load.h"
#include "common/log.h"
#include "net/metrics.h"
#include "wire/capf_msg.h"

/* Where each worker receives its committed records. */
struct capf_worker_port {
	struct capf_commit_port port;
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

/* A CAPF connection's own state (tls_conn's user). */
struct capf_conn {
	struct tls_conn *conn;
	struct capf_service *svc;
	struct capf_server_session sess;
	struct capf_identity *ident;
	struct metrics_session metrics;
	int committing;              /* job queued at the committer */
	char lost[160];              /* why the connection ended while a job was queued */
	struct capf_commit_job job;
};

static struct capf_server_env conn_env(const struct capf_conn *c)
{
	return (struct capf_server_env){
		.rec = &capf_store_records, .rec_ctx = c->conn->worker->st, .signer = c->ident->signer,
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
	capf_ca_signer_urls(st, id->signer);
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
	else if (days < svc->cfg.lsc_days)
		log_warn("capf: the CAPF certificate %s has %lld days left, less than the LSC validity (%d days): "
			 "new LSCs end when it does; roll over to a new CAPF certificate in time", id->cn,
			 (long long)days, svc->cfg.lsc_days);
}

static void switch_identity(struct capf_service *svc, struct store *st, const char *sha256)
{
	struct capf_identity *id, *old;
	char err[ERRLEN];

	if (!(id = identity_load(st, err, sizeof err))) {
		snprintf(svc->failed_sha256, sizeof svc->failed_sha256, "%s", sha256);
		svc->failed_retry = now_utc() + CAPF_SWITCH_RETRY_SECONDS;
		log_err("capf: cannot switch to the new CAPF certificate %.16s...: %s; still serving %s (trying again "
			"every %d s: a cluster's other nodes need the key in keys/)", sha256, err, svc->ident->cn,
			CAPF_SWITCH_RETRY_SECONDS);
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

static void watch_cb(evutil_socket_t fd, short what, void *arg);

/* PostgreSQL: a change committed through another node is announced (LISTEN):
 * check at once; the timer stays, for SQLite and in case one is missed. */
static void notify_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_service *svc = arg;

	(void)fd;
	(void)what;
	if (store_watch_drain(svc->pool->workers[0].st) > 0)
		watch_cb(-1, 0, svc);
}

/* The announcements, on the connection's descriptor of now (a reconnection changes it). */
static void notify_watch(struct capf_service *svc)
{
	int nfd = store_watch_fd(svc->pool->workers[0].st);

	if (svc->notify && event_get_fd(svc->notify) == nfd)
		return;
	if (svc->notify)
		event_free(svc->notify);
	svc->notify = NULL;
	if (nfd >= 0)
		svc->notify = event_new(svc->pool->workers[0].base, nfd, EV_READ | EV_PERSIST, notify_cb, svc);
	if (svc->notify)
		event_add(svc->notify, NULL);
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_service *svc = arg;
	struct store *st = svc->pool->workers[0].st;
	struct capf_row row;

	(void)fd;
	(void)what;
	if (store_capf_current(st, &row) == 0) {
		if (strcmp(row.sha256, svc->ident->sha256) != 0 &&
		    (strcmp(row.sha256, svc->failed_sha256) != 0 || now_utc() >= svc->failed_retry))
			switch_identity(svc, st, row.sha256);
		capf_row_free(&row);
	}
	expiry_check(svc);
	if (svc->notify)
		notify_watch(svc);
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
	notify_watch(svc);
	expiry_check(svc);
	return 0;
}

/* ---- connections (tls_conn.h) ---- */

static void conn_abort(struct capf_conn *c, const char *why)
{
	struct capf_server_env env = conn_env(c);

	capf_server_session_abort(&c->sess, &env, why);
	tls_conn_free(c->conn);
}

static void arm_timer(struct capf_conn *c)
{
	tls_conn_arm(c->conn, capf_server_session_timeout(&c->sess, &c->svc->cfg));
}

/* Queue `out` as one chunk, so bufferevent_openssl writes it with one SSL_write. */
static int send_whole(struct capf_conn *c, const struct buf *out)
{
	if (out->failed)
		return -1;
	return tls_conn_send(c->conn, out->data, out->len);
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

static void on_read(struct tls_conn *conn);

/* The LSC was issued (WAIT_RECORD) or stored by the phone (WAIT_COMMIT):
 * queue its record. Until it committed, input stays in the buffer (on_read
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
					   .port = &c->svc->ports[c->conn->worker->index].port, .arg = c };
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
		tls_conn_finish(c->conn);
		return;
	}
	on_read(c->conn);         /* the phone may have written meanwhile */
}

static void on_read(struct tls_conn *conn)
{
	struct capf_conn *c = conn->user;
	struct evbuffer *in = bufferevent_get_input(conn->bev);
	size_t consumed;
	int rc;

	if (c->committing)
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
		tls_conn_finish(conn);
	}
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

/* A new connection presents the identity of the moment and starts a session. */
static int on_new(struct tls_conn *conn, SSL *ssl)
{
	struct capf_conn *c = conn->user;

	c->conn = conn;
	c->svc = conn->svc->owner;
	c->ident = identity_take(c->svc);
	if (identity_apply(c->ident, ssl) < 0) {
		log_err("capf: cannot present the CAPF certificate %s, refusing a connection", c->ident->cn);
		identity_unref(c->ident);
		return -1;
	}
	capf_server_session_init(&c->sess, new_session_id(), conn->peer);
	metrics_capf_accepted(&c->metrics);
	return 0;
}

/* The server speaks first, once the handshake is done. */
static void on_connected(struct tls_conn *conn)
{
	struct capf_conn *c = conn->user;
	struct buf out;

	metrics_capf_handshake(&c->metrics);
	buf_init(&out);
	if (capf_server_session_start(&c->sess, &out) < 0 || send_whole(c, &out) < 0) {
		buf_free(&out);
		conn_abort(c, "cannot send AUTH_REQUEST");
		return;
	}
	buf_free(&out);
	arm_timer(c);
}

static void on_timeout(struct tls_conn *conn)
{
	struct capf_conn *c = conn->user;
	char why[96];

	if (c->committing) {        /* the record comes back in any case: wait for it */
		arm_timer(c);
		return;
	}
	snprintf(why, sizeof why, "timed out after %d s (%s)", capf_server_session_timeout(&c->sess, &c->svc->cfg),
		 c->sess.state == SRV_WAIT_KEY ? "key generation" : "waiting for the phone");
	conn_abort(c, why);
}

static void on_end(struct tls_conn *conn, const char *why)
{
	struct capf_conn *c = conn->user;

	if (c->committing && c->svc->committer) { /* the committer holds the job: finish in commit_done */
		snprintf(c->lost, sizeof c->lost, "%s", why);
		bufferevent_disable(conn->bev, EV_READ | EV_WRITE);
		evtimer_del(conn->timer);
		return;
	}
	if (!conn->handshake_done)
		snprintf(c->sess.reason, sizeof c->sess.reason, "%s", why);
	conn_abort(c, strcmp(why, "connection closed by the peer") == 0 ? "connection closed by the phone" : why);
}

static void on_free(struct tls_conn *conn)
{
	struct capf_conn *c = conn->user;

	/* Port probes and aborted handshakes are no CAPF sessions: debug only. */
	if (c->metrics.handshake_done)
		capf_server_session_log(&c->sess);
	else
		log_debug("capf: connection from %s closed before the TLS handshake completed (%s)", c->sess.peer,
			  c->sess.reason[0] ? c->sess.reason : "no reason");
	metrics_capf_closed(&c->metrics, &c->sess);
	capf_server_session_free(&c->sess);
	identity_unref(c->ident);
}

static const struct tls_conn_ops capf_conn_ops = {
	.on_new = on_new,
	.on_connected = on_connected,
	.on_read = on_read,
	.on_timeout = on_timeout,
	.on_end = on_end,
	.on_free = on_free,
};

/* This node's sessions died with its previous process: free their claims. */
static int claims_start(struct capf_service *svc, struct store *st, char *err, size_t errlen)
{
	int freed;

	if (!svc->node[0] && (gethostname(svc->node, sizeof svc->node - 1) != 0 || !svc->node[0]))
		snprintf(svc->node, sizeof svc->node, "local");
	if (!(svc->claims = session_claims_new())) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if ((freed = store_capf_release_node_claims(st, svc->node)) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	if (freed > 0)
		log_info("capf: freed %d operation claim%s left by this node's previous run", freed,
			 freed == 1 ? "" : "s");
	return 0;
}

/* The committer and a port per worker where its results come back. */
static int committer_start(struct capf_service *svc, struct worker_pool *pool, char *err, size_t errlen)
{
	if (!(svc->ports = calloc((size_t)pool->count, sizeof *svc->ports))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	svc->nports = pool->count;
	if (capf_committer_start(&svc->committer, store_dir(pool->workers[0].st), err, errlen) < 0)
		return -1;
	for (int i = 0; i < pool->count; i++)
		if (capf_commit_port_init(&svc->ports[i].port, pool->workers[i].base, commit_done) < 0) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

int capf_service_start(struct capf_service *svc, struct worker_pool *pool, const char *addr,
		       SSL_CTX *ssl_ctx, struct signer *signer, const struct capf_server_cfg *cfg,
		       char *err, size_t errlen)
{
	svc->pool = pool;
	svc->ssl_ctx = ssl_ctx;
	svc->signer = signer;
	svc->cfg = *cfg;
	if (identity_start(svc, err, errlen) < 0 || claims_start(svc, pool->workers[0].st, err, errlen) < 0 ||
	    committer_start(svc, pool, err, errlen) < 0)
		return -1;
	svc->conns = (struct tls_service){ .name = "capf", .ssl_ctx = ssl_ctx, .ops = &capf_conn_ops, .owner = svc,
					   .user_size = sizeof(struct capf_conn), .max_msg = CAPF_MAX_MSG,
					   .nodelay = 1, .release_buffers = 1, .limits = svc->limits };
	return tls_service_start(&svc->conns, pool, addr, err, errlen);
}

void capf_service_close(struct capf_service *svc)
{
	/* First: the committer records what is queued and lets go of the jobs
	 * (which live in the connections freed below). */
	capf_committer_stop(svc->committer);
	svc->committer = NULL;
	if (svc->conns.ops)
		tls_service_close(&svc->conns, "daemon shutting down");
	for (int i = 0; i < svc->nports; i++)
		capf_commit_port_free(&svc->ports[i].port);
	free(svc->ports);
	svc->ports = NULL;
	svc->nports = 0;
	if (svc->watch)
		event_free(svc->watch);
	svc->watch = NULL;
	if (svc->notify)
		event_free(svc->notify);
	svc->notify = NULL;
	identity_unref(svc->ident);
	svc->ident = NULL;
	session_claims_free(svc->claims);
	svc->claims = NULL;
	if (svc->lock_ready)
		pthread_mutex_destroy(&svc->ident_lock);
	svc->lock_ready = 0;
}
