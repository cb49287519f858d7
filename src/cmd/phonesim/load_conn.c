/*
 * load_conn.c: one emulated phone of `phonesim load` on a worker's event
 * loop: a non-blocking TCP connect (TCP_NODELAY: a phone's two back-to-back
 * messages must not wait for a delayed ACK), a TLS handshake through
 * bufferevent_openssl, the --trust check of the server's certificate, then
 * either a whole CAPF session driven by phone_session (src/capf) or a run of
 * TVS verify requests.
 *
 * Like the one-phone client, every message leaves as one buffer chunk, so
 * bufferevent_openssl writes it with one SSL_write (one TLS record). A slow
 * phone (--keygen-delay) sends REQUEST_IN_PROGRESS at once and holds its
 * KEY_GENERATE_RESPONSE on a timer: it costs the loop nothing meanwhile.
 *
 * A CAPF session counts as completed when the server did what --op expects
 * and ended with the matching reason (install: the LSC was stored, reason 1;
 * troubleshoot: reason 0; delete: reason 1). Latency runs from the start of
 * the TCP connect to END_SESSION (CAPF) or from each request to its
 * response (TVS).
 *
 * With several servers (a cluster), a phone whose connection fails or
 * breaks (refused, reset, closed early, a failed handshake, a timeout)
 * starts its session again on the next server, at most twice round the
 * list, and only the last failure counts; latency then runs from the
 * first try.
 */
#include "cmd/phonesim/load.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capf/phone_session.h"
#include "tvs/tvs_client.h"
#include "wire/capf_msg.h"
#include "wire/tvs_msg.h"

struct load_conn {
	struct load_worker *w;
	struct load_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	struct phone_session *ps;      /* CAPF */
	struct buf held;               /* replies held while "generating the key" */
	int holding;
	int verified;
	long index;
	int srv, tries;                /* the server tried now, and how many were */
	char devname[64];
	double t_start;                /* the session's start, or the TVS request's */
	int tvs_left;                  /* TVS requests not yet answered */
	uint32_t tvs_sid;
};

/* ---- life cycle ---- */

static void conn_link(struct load_conn *c)
{
	struct load_worker *w = c->w;

	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->active++;
}

/* Free the connection; the worker starts the next session unless stopping. */
static void conn_close(struct load_conn *c, int refill)
{
	struct load_worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->active--;
	if (c->bev)
		bufferevent_free(c->bev);
	if (c->timer)
		event_free(c->timer);
	phone_session_free(c->ps);
	buf_free(&c->held);
	free(c);
	if (refill)
		load_worker_refill(w);
}

static int conn_start(struct load_worker *w, long index, int srv, int tries, double t_start);

/* A failure a phone meets when its server is down or goes down. */
static int server_gone(const char *kind)
{
	static const char *const kinds[] = { "connect failed", "connection refused", "connection error",
					     "TLS handshake failed", "closed early", "TLS error",
					     "TLS handshake timeout", "timeout" };

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kind, kinds[i]))
			return 1;
	return 0;
}

/* The session again on the next server, if there is one to try. */
static int fail_over(struct load_conn *c, const char *kind)
{
	struct load_worker *w = c->w;
	int n = w->sh->cfg->nservers;
	long index = c->index;
	int srv = (c->srv + 1) % (n > 0 ? n : 1), tries = c->tries + 1;
	double t_start = c->t_start;

	if (n < 2 || tries >= 2 * n || !server_gone(kind) || atomic_load(&w->sh->stop))
		return 0;
	w->stats.failovers++;
	conn_close(c, 0);
	conn_start(w, index, srv, tries, t_start);
	return 1;
}

/* Count the failure (for TVS: of every request not answered yet) and close. */
static void conn_fail(struct load_conn *c, const char *kind, const char *text)
{
	struct load_stats *s = &c->w->stats;
	double now = load_now(c->w->sh);
	char example[200];
	int n = c->w->sh->cfg->op == LOAD_OP_TVS && c->tvs_left > 0 ? c->tvs_left : 1;

	if (fail_over(c, kind))
		return;
	snprintf(example, sizeof example, "%s: %s", c->devname, text);
	for (int i = 0; i < n; i++)
		load_stats_fail(s, kind, example, now);
	conn_close(c, 1);
}

static void arm(struct load_conn *c, double seconds)
{
	struct timeval tv = { (time_t)seconds, (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };

	evtimer_add(c->timer, &tv);
}

static void free_chunk(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* One message as one buffer chunk: one SSL_write, one TLS record. */
static int send_whole(struct load_conn *c, const uint8_t *msg, size_t len)
{
	void *copy = malloc(len ? len : 1);

	if (!copy)
		return -1;
	memcpy(copy, msg, len);
	if (evbuffer_add_reference(bufferevent_get_output(c->bev), copy, len, free_chunk, NULL) < 0) {
		free(copy);
		return -1;
	}
	return 0;
}

/* ---- the server's certificate ---- */

static int verify_server(struct load_conn *c, char *why, size_t whylen)
{
	STACK_OF(X509) *trusted = c->w->sh->cfg->trusted;
	X509 *peer = SSL_get0_peer_certificate(bufferevent_openssl_get_ssl(c->bev));

	if (!peer) {
		seterr(why, whylen, "the server presented no certificate");
		return -1;
	}
	for (int i = 0; i < sk_X509_num(trusted); i++)
		if (X509_cmp(peer, sk_X509_value(trusted, i)) == 0)
			return 0;
	if (pki_verify_chain(peer, trusted, 0, NULL, why, whylen) == 0)
		return 0;
	return -1;
}

/* ---- CAPF ---- */

static EVP_PKEY *pool_keygen(void *arg, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	struct load_conn *c = arg;

	return key_pool_get(c->w->sh->keys, kind, bits, err, errlen);
}

static struct phone_session *new_phone(struct load_conn *c)
{
	const struct load_config *cfg = c->w->sh->cfg;
	struct phone_identity id = { c->devname, NULL, NULL, cfg->lsc, cfg->lsc_key };
	struct phone_options opts = { .auth_cert = PHONE_AUTH_LSC_FIRST, .auth_string = cfg->auth_string,
				      .keygen = pool_keygen, .keygen_arg = c, .lsc_der_only = 1 };

	return phone_session_new(&id, &opts);
}

/* Did the server do what --op asked for? NULL if so, else what it did. */
static const char *wrong_operation(enum load_op want, const struct phone_outcome *o)
{
	static const char *const did[] = { "no operation", "install", "troubleshoot", "delete" };
	enum phone_operation need = want == LOAD_OP_INSTALL ? PHONE_OP_INSTALL
				  : want == LOAD_OP_TROUBLESHOOT ? PHONE_OP_FETCH : PHONE_OP_DELETE;

	if (want == LOAD_OP_ANY || o->operation == need)
		return NULL;
	return did[o->operation];
}

static void keep_tls_session(struct load_conn *c)
{
	SSL_SESSION *s;

	if (!c->w->sh->cfg->resume)
		return;
	s = SSL_get1_session(bufferevent_openssl_get_ssl(c->bev));
	if (s && SSL_SESSION_is_resumable(s)) {
		SSL_SESSION_free(c->w->resume);
		c->w->resume = s;
	} else {
		SSL_SESSION_free(s);
	}
}

static void capf_succeeded(struct load_conn *c)
{
	double now = load_now(c->w->sh);

	load_stats_ok(&c->w->stats, (now - c->t_start) * 1000.0, now);
	keep_tls_session(c);
	conn_close(c, 1);
}

/* The outcome of an ended CAPF session, counted; then the connection goes. */
static void capf_finished(struct load_conn *c)
{
	const struct phone_outcome *o = phone_session_outcome(c->ps);
	enum load_op want = c->w->sh->cfg->op;
	char text[400], kind[48];
	const char *wrong;

	if (o->status == PHONE_STATUS_ENDED && o->end_reason == CAPF_REASON_UPDATE_CERTIFICATE &&
	    o->operation == PHONE_OP_INSTALL && o->phone_step_ok && want == LOAD_OP_INSTALL) {
		capf_succeeded(c);   /* the common case, without building the result text */
		return;
	}
	phone_session_result_text(c->ps, text, sizeof text);
	if (o->status == PHONE_STATUS_ERROR) {
		conn_fail(c, strstr(o->error, "within") ? "timeout" : strstr(o->error, "closed") ? "closed early"
			  : "protocol error", text);
		return;
	}
	if (o->end_reason != CAPF_REASON_NO_ACTION && o->end_reason != CAPF_REASON_UPDATE_CERTIFICATE) {
		snprintf(kind, sizeof kind, "server reason %d", o->end_reason);
		conn_fail(c, kind, text);
		return;
	}
	if ((wrong = wrong_operation(want, o)) != NULL) {
		snprintf(kind, sizeof kind, "server did %s", wrong);
		conn_fail(c, kind, text);
		return;
	}
	if (o->operation == PHONE_OP_INSTALL && !o->phone_step_ok) {
		conn_fail(c, "phone step failed", text);
		return;
	}
	capf_succeeded(c);
}

/* Send the replies; a slow phone holds what follows REQUEST_IN_PROGRESS. */
static int send_replies(struct load_conn *c, const struct buf *replies)
{
	double delay = c->w->sh->cfg->keygen_delay;
	const uint8_t *msg;
	size_t off = 0, len;

	while (phone_replies_next(replies, &off, &msg, &len)) {
		if (send_whole(c, msg, len) < 0)
			return -1;
		if (delay > 0 && len >= 2 && msg[1] == CAPF_CMD_REQUEST_IN_PROGRESS && off < replies->len) {
			buf_reset(&c->held);
			buf_put(&c->held, replies->data + off, replies->len - off);
			c->holding = 1;
			arm(c, delay);
			return c->held.failed ? -1 : 0;
		}
	}
	return 0;
}

static void send_held(struct load_conn *c)
{
	const uint8_t *msg;
	size_t off = 0, len;

	c->holding = 0;
	while (phone_replies_next(&c->held, &off, &msg, &len))
		if (send_whole(c, msg, len) < 0) {
			conn_fail(c, "local error", "out of memory");
			return;
		}
	buf_reset(&c->held);
	arm(c, c->w->sh->cfg->timeout);
}

/* The next whole message at the front of `in`: 1 (and its bytes), 0 not
 * yet, -1 bytes that are not CAPF (all of them handed over). */
static int next_frame(struct evbuffer *in, size_t hdrlen, int tvs, const uint8_t **data, size_t *len)
{
	size_t avail = evbuffer_get_length(in), total = 0;
	char err[ERRLEN];
	const uint8_t *p;
	int rc;

	if (avail == 0)
		return 0;
	p = evbuffer_pullup(in, (ev_ssize_t)(avail < hdrlen ? avail : hdrlen));
	rc = tvs ? tvs_frame_length(p, avail, &total, err, sizeof err)
		 : capf_frame_length(p, avail, &total, err, sizeof err);
	if (rc == 0)
		return 0;
	if (rc < 0)
		total = avail;
	*data = evbuffer_pullup(in, (ev_ssize_t)total);
	*len = total;
	return rc;
}

static void capf_read(struct load_conn *c, struct evbuffer *in)
{
	struct buf replies;
	const uint8_t *data;
	size_t len;
	int rc;

	buf_init(&replies);
	while ((rc = next_frame(in, CAPF_HEADER_LEN, 0, &data, &len)) != 0) {
		char err[ERRLEN];

		/* --received: on record before the phone answers */
		if (rc > 0 && load_record_received(c->w->sh->cfg->received_fd, c->devname, data, len, err,
						   sizeof err) < 0) {
			buf_free(&replies);
			conn_fail(c, "local error", err);
			return;
		}
		buf_reset(&replies);
		phone_session_on_bytes(c->ps, data, len, &replies);
		evbuffer_drain(in, len);
		if (phone_session_outcome(c->ps)->status != PHONE_STATUS_RUNNING || rc < 0)
			break;
		if (send_replies(c, &replies) < 0) {
			buf_free(&replies);
			conn_fail(c, "local error", "out of memory");
			return;
		}
	}
	buf_free(&replies);
	if (phone_session_outcome(c->ps)->status != PHONE_STATUS_RUNNING) {
		capf_finished(c);
		return;
	}
	if (!c->holding)
		arm(c, c->w->sh->cfg->timeout);
}

/* ---- TVS ---- */

static void tvs_send(struct load_conn *c)
{
	const struct load_config *cfg = c->w->sh->cfg;
	char device[96], err[ERRLEN];
	struct buf out;

	snprintf(device, sizeof device, "CP-%s-%s", cfg->model, c->devname);
	c->tvs_sid = (uint32_t)((unsigned long)c->index * 131u + (unsigned)c->tvs_left);
	buf_init(&out);
	if (tvs_client_request(&out, c->tvs_sid, device, cfg->tvs_der, cfg->tvs_derlen, err, sizeof err) < 0 ||
	    out.failed || send_whole(c, out.data, out.len) < 0) {
		buf_free(&out);
		conn_fail(c, "local error", err);
		return;
	}
	buf_free(&out);
	c->t_start = load_now(c->w->sh);
	arm(c, cfg->timeout);
}

/* 0 when the verdict is the one expected, else -1 with the kind. */
static int tvs_judge(const struct load_config *cfg, const struct tvs_verdict *v, struct load_stats *s,
		     char *kind, size_t kindcap)
{
	if (v->status == TVS_STATUS_VALID)
		s->tvs_valid++;
	else if (v->status == TVS_STATUS_INVALID)
		s->tvs_invalid++;
	if ((cfg->tvs_expect == LOAD_EXPECT_VALID && v->status != TVS_STATUS_VALID) ||
	    (cfg->tvs_expect == LOAD_EXPECT_INVALID && v->status != TVS_STATUS_INVALID) ||
	    v->status > TVS_STATUS_INVALID) {
		snprintf(kind, kindcap, "TVS status %u", v->status);
		return -1;
	}
	return 0;
}

static void tvs_read(struct load_conn *c, struct evbuffer *in)
{
	const struct load_config *cfg = c->w->sh->cfg;
	struct tvs_verdict v;
	const uint8_t *data;
	char err[ERRLEN], kind[48];
	size_t len;
	int rc;

	while ((rc = next_frame(in, TVS_HEADER_LEN, 1, &data, &len)) != 0) {
		if (rc < 0 || tvs_client_response(data, len, c->tvs_sid, &v, err, sizeof err) < 0) {
			if (rc < 0)
				snprintf(err, sizeof err, "bytes that are not a TVS message");
			conn_fail(c, "protocol error", err);
			return;
		}
		evbuffer_drain(in, len);
		if (tvs_judge(cfg, &v, &c->w->stats, kind, sizeof kind) < 0) {
			conn_fail(c, kind, "unexpected verdict");
			return;
		}
		load_stats_ok(&c->w->stats, (load_now(c->w->sh) - c->t_start) * 1000.0, load_now(c->w->sh));
		if (--c->tvs_left == 0) {
			keep_tls_session(c);
			conn_close(c, 1);
			return;
		}
		tvs_send(c);
		return;
	}
}

/* ---- events ---- */

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct load_conn *c = arg;

	if (!c->verified)
		return;
	if (c->w->sh->cfg->op == LOAD_OP_TVS)
		tvs_read(c, bufferevent_get_input(bev));
	else
		capf_read(c, bufferevent_get_input(bev));
}

static void on_connected(struct load_conn *c)
{
	char why[ERRLEN];

	if (verify_server(c, why, sizeof why) < 0) {
		conn_fail(c, "untrusted server", why);
		return;
	}
	c->verified = 1;
	if (SSL_session_reused(bufferevent_openssl_get_ssl(c->bev)))
		c->w->stats.resumed++;
	if (c->w->sh->cfg->op == LOAD_OP_TVS)
		tvs_send(c);
	else
		arm(c, c->w->sh->cfg->timeout);
}

/* An error or end of stream: what it was, in a few words. */
static const char *close_kind(struct load_conn *c, short what, char *text, size_t textcap)
{
	unsigned long e = bufferevent_get_openssl_error(c->bev);
	int soerr = EVUTIL_SOCKET_ERROR();

	if (e) {
		ERR_error_string_n(e, text, textcap);
		ERR_clear_error();
		return c->verified ? "TLS error" : "TLS handshake failed";
	}
	if (what & BEV_EVENT_EOF) {
		snprintf(text, textcap, "the server closed the connection");
		return c->verified ? "closed early" : "TLS handshake failed";
	}
	snprintf(text, textcap, "%s", evutil_socket_error_to_string(soerr));
	return soerr == ECONNREFUSED ? "connection refused" : "connection error";
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct load_conn *c = arg;
	char text[256];
	const char *kind;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		on_connected(c);
		return;
	}
	kind = close_kind(c, what, text, sizeof text);
	if (c->ps && c->verified) {
		phone_session_on_close(c->ps, NULL);
		if (phone_session_outcome(c->ps)->status == PHONE_STATUS_ENDED) {
			capf_finished(c);
			return;
		}
	}
	conn_fail(c, kind, text);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load_conn *c = arg;
	char why[96];

	(void)fd;
	(void)what;
	if (c->holding) {
		send_held(c);
		return;
	}
	snprintf(why, sizeof why, "no answer from the server within %g s", c->w->sh->cfg->timeout);
	conn_fail(c, c->verified ? "timeout" : "TLS handshake timeout", why);
}

/* ---- starting ---- */

static int open_socket(const struct load_config *cfg, int srv, char *err, size_t errlen)
{
	const struct sockaddr_storage *addr = cfg->nservers ? &cfg->servers[srv] : &cfg->addr;
	socklen_t addrlen = cfg->nservers ? cfg->server_lens[srv] : cfg->addrlen;
	int one = 1, fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (const struct sockaddr *)addr, addrlen) < 0 && errno != EINPROGRESS) {
		seterr(err, errlen, "connect: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int conn_open(struct load_conn *c, char *err, size_t errlen)
{
	struct load_worker *w = c->w;
	int fd = open_socket(w->sh->cfg, c->srv, err, errlen);
	SSL *ssl;

	if (fd < 0)
		return -1;
	if (!(ssl = SSL_new(w->sh->ctx))) {
		close(fd);
		seterr(err, errlen, "cannot create a TLS connection");
		return -1;
	}
	if (w->sh->cfg->resume && w->resume)
		SSL_set_session(ssl, w->resume);
	/* On failure libevent has taken the SSL and the socket (CLOSE_ON_FREE). */
	c->bev = bufferevent_openssl_socket_new(w->base, fd, ssl, BUFFEREVENT_SSL_CONNECTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(w->base, timer_cb, c);
	if (!c->bev || !c->timer) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, NULL, event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return 0;
}

static int conn_start(struct load_worker *w, long index, int srv, int tries, double t_start)
{
	const struct load_config *cfg = w->sh->cfg;
	struct load_conn *c = calloc(1, sizeof *c);
	char err[ERRLEN] = "out of memory";

	if (!c) {
		load_stats_fail(&w->stats, "local error", err, load_now(w->sh));
		return -1;
	}
	c->w = w;
	c->index = index;
	c->srv = srv;
	c->tries = tries;
	c->tvs_left = cfg->op == LOAD_OP_TVS ? cfg->tvs_requests : 0;
	c->t_start = t_start;
	buf_init(&c->held);
	load_devname(cfg, index, c->devname, sizeof c->devname);
	conn_link(c);
	if ((cfg->op != LOAD_OP_TVS && !(c->ps = new_phone(c))) || conn_open(c, err, sizeof err) < 0) {
		conn_fail(c, "connect failed", err);
		return -1;
	}
	arm(c, cfg->timeout);
	return 0;
}

int load_conn_start(struct load_worker *w, long index)
{
	int n = w->sh->cfg->nservers;

	return conn_start(w, index, n > 1 ? (int)(index % n) : 0, 0, load_now(w->sh));
}

void load_conn_abort_all(struct load_worker *w, const char *why)
{
	while (w->conns) {
		struct load_conn *c = w->conns;
		int n = w->sh->cfg->op == LOAD_OP_TVS && c->tvs_left > 0 ? c->tvs_left : 1;

		for (int i = 0; i < n; i++)
			load_stats_fail(&w->stats, "not finished in time", why, load_now(w->sh));
		conn_close(c, 0);
	}
}
