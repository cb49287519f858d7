/*
 * tvs_listener.c: TVS connections on libevent with non-blocking OpenSSL
 * (tvs_listener.h).
 *
 * The phone speaks first: each complete message (10-byte header + body, at
 * most TVS_MAX_MSG bytes, enforced by the read watermark and the framing)
 * gets one response, handed to the TLS layer as one chunk (one SSL_write,
 * one TLS record). A message that is not a VERIFY_REQUEST we can answer
 * ends the connection without a reply, as a phone cannot use half an
 * answer. Connections take a slot of the listener's pool (conn_limit.h),
 * close when the TLS handshake is not done within handshake_timeout, and
 * after idle_timeout seconds without a request.
 */
#include "net/tvs_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "net/addr.h"
#include "store/store_tvs.h"
#include "wire/tvs_msg.h"

struct tvs_conn;

struct tvs_listener_arg {
	struct tvs_service *svc;
	struct worker *worker;
	struct tvs_conn *conns;      /* open connections of this worker */
};

struct tvs_conn {
	struct tvs_service *svc;
	struct worker *worker;
	struct tvs_listener_arg *owner;
	struct tvs_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	char peer[64];
	unsigned requests;
	int closing;
	int handshake_done;
	struct conn_ticket ticket;   /* the slot of the listener's pool it holds */
};

int tvs_store_lookup(void *arg, const char *sha256, struct tvs_answer *ans)
{
	const struct tvs_store_lookup *l = arg;
	struct tvs_cert_row row;
	int rc = store_tvs_get(l->st, sha256, &row);

	if (rc != 0)
		return rc;
	memset(ans, 0, sizeof *ans);
	for (size_t i = 0; i < row.nroles && i < TVS_ANSWER_ROLES_MAX; i++)
		ans->roles[ans->nroles++] = (uint8_t)row.roles[i];
	ans->ttl = row.ttl < 0 ? l->default_ttl : (uint32_t)row.ttl;
	return 0;
}

static void conn_free(struct tvs_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	log_debug("tvs: peer=%s closed after %u request%s", c->peer, c->requests, c->requests == 1 ? "" : "s");
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
	conn_limit_release(c->svc->limit, &c->ticket);
	free(c);
}

static void arm_timer(struct tvs_conn *c)
{
	struct timeval tv = { c->handshake_done ? c->svc->cfg.idle_timeout : c->svc->limits.handshake_timeout, 0 };
	evtimer_add(c->timer, &tv);
}

static void free_chunk(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

static int send_whole(struct tvs_conn *c, const struct buf *out)
{
	void *copy;

	if (out->failed || out->len == 0 || !(copy = malloc(out->len)))
		return -1;
	memcpy(copy, out->data, out->len);
	return evbuffer_add_reference(bufferevent_get_output(c->bev), copy, out->len, free_chunk, NULL);
}

static void finish(struct tvs_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void log_request(const struct tvs_conn *c, const struct tvs_request_info *info)
{
	uint16_t roles[TVS_ANSWER_ROLES_MAX];
	char text[256] = "";

	for (size_t i = 0; i < info->ans.nroles; i++)
		roles[i] = info->ans.roles[i];
	if (info->known == 1) {
		tvs_roles_text(roles, info->ans.nroles, text, sizeof text);
		log_info("tvs: peer=%s device=%s session=%u sha256=%s result=valid roles=%s ttl=%u", c->peer,
			 info->device[0] ? info->device : "-", info->session_id, info->sha256, text, info->ans.ttl);
	} else {
		log_info("tvs: peer=%s device=%s session=%u sha256=%s result=invalid", c->peer,
			 info->device[0] ? info->device : "-", info->session_id, info->sha256);
	}
}

/* 1 handled one message, 0 need more bytes, -1 close the connection. */
static int handle_frame(struct tvs_conn *c, struct evbuffer *in)
{
	struct tvs_store_lookup lookup = { c->worker->st, c->svc->cfg.default_ttl };
	struct tvs_request_info info;
	size_t avail = evbuffer_get_length(in), total = 0;
	const uint8_t *data;
	struct buf out;
	char err[ERRLEN];
	int rc;

	if (avail < TVS_HEADER_LEN)
		return 0;
	data = evbuffer_pullup(in, TVS_HEADER_LEN);
	rc = tvs_frame_length(data, avail, &total, err, sizeof err);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_warn("tvs: peer=%s closed: %s", c->peer, err);
		return -1;
	}
	data = evbuffer_pullup(in, (ssize_t)total);
	buf_init(&out);
	rc = tvs_server_handle(data, total, tvs_store_lookup, &lookup, &out, &info, err, sizeof err);
	evbuffer_drain(in, total);
	c->requests++;
	if (rc < 0) {
		log_warn("tvs: peer=%s device=%s closed: %s", c->peer, info.device[0] ? info.device : "-", err);
	} else {
		log_request(c, &info);
		if (send_whole(c, &out) < 0)
			rc = -1;
	}
	buf_free(&out);
	return rc < 0 ? -1 : 1;
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct tvs_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	int rc;

	if (c->closing)
		return;
	while ((rc = handle_frame(c, in)) > 0)
		arm_timer(c);
	if (rc < 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		finish(c);
	}
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct tvs_conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tvs_conn *c = arg;
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		c->handshake_done = 1;
		arm_timer(c);
		return;
	}
	e = bufferevent_get_openssl_error(bev);
	if (e && !c->closing) {
		char tls[200];

		ERR_error_string_n(e, tls, sizeof tls);
		log_warn("tvs: peer=%s TLS error: %s", c->peer, tls);
	}
	ERR_clear_error();
	conn_free(c);
}

static void timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tvs_conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->handshake_done)
		log_debug("tvs: peer=%s no TLS handshake within %d s", c->peer, c->svc->limits.handshake_timeout);
	else if (!c->closing)
		log_debug("tvs: peer=%s idle for %d s", c->peer, c->svc->cfg.idle_timeout);
	conn_free(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct tvs_listener_arg *la = arg;
	struct tvs_service *svc = la->svc;
	struct conn_ticket ticket;
	struct tvs_conn *c;
	SSL *ssl;

	(void)l;
	(void)salen;
	if (conn_limit_take(svc->limit, sa, &ticket) != CONN_LIMIT_OK) { /* counted and logged there */
		close(fd);
		return;
	}
	c = calloc(1, sizeof *c);
	ssl = SSL_new(svc->ssl_ctx);
	if (!c || !ssl) {
		free(c);
		SSL_free(ssl);
		close(fd);
		conn_limit_release(svc->limit, &ticket);
		return;
	}
	addr_host(sa, c->peer, sizeof c->peer);
	c->ticket = ticket;
	c->svc = svc;
	c->worker = la->worker;
	c->owner = la;
	c->next = la->conns;
	if (la->conns)
		la->conns->prev = c;
	la->conns = c;
	c->bev = bufferevent_openssl_socket_new(la->worker->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(la->worker->base, timeout_cb, c);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, TVS_MAX_MSG);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	arm_timer(c);
}

int tvs_service_start(struct tvs_service *svc, struct worker_pool *pool, const char *addr, SSL_CTX *ssl_ctx,
		      const struct tvs_service_cfg *cfg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (addr_parse(addr, &ss, &sslen, err, errlen) < 0)
		return -1;
	svc->pool = pool;
	svc->ssl_ctx = ssl_ctx;
	svc->cfg = *cfg;
	if (svc->cfg.idle_timeout <= 0)
		svc->cfg.idle_timeout = TVS_IDLE_TIMEOUT_DEFAULT;
	if (svc->limits.handshake_timeout <= 0)
		svc->limits.handshake_timeout = CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT;
	if (!(svc->limit = conn_limit_new("tvs", &svc->limits))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	svc->listeners = calloc((size_t)pool->count, sizeof *svc->listeners);
	svc->args = calloc((size_t)pool->count, sizeof *svc->args);
	if (!svc->listeners || !svc->args) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (addr_check_free((struct sockaddr *)&ss, sslen, addr, err, errlen) < 0)
		return -1;
	for (int i = 0; i < pool->count; i++)
		svc->args[i] = (struct tvs_listener_arg){ svc, &pool->workers[i], NULL };
	return conn_limit_listen(svc->limit, pool, svc->listeners, accept_cb, svc->args, sizeof *svc->args,
				 (struct sockaddr *)&ss, sslen, addr, err, errlen);
}

void tvs_service_close(struct tvs_service *svc)
{
	for (int i = 0; svc->listeners && i < svc->pool->count; i++) {
		if (svc->listeners[i])
			evconnlistener_free(svc->listeners[i]);
		while (svc->args[i].conns)
			conn_free(svc->args[i].conns);
	}
	free(svc->listeners);
	free(svc->args);
	svc->listeners = NULL;
	svc->args = NULL;
	conn_limit_free(svc->limit); /* after its listeners and connections */
	svc->limit = NULL;
}
