/*
 * tls_conn.c: one TLS connection's life for every listener (tls_conn.h).
 *
 * The handshake deadline is the module's: a connection that has not
 * finished its TLS handshake within the listener's handshake_timeout ends
 * with on_end. After the handshake the timer is the listener's (tls_conn_arm,
 * on_timeout). The listener's state lives in c->user, allocated here
 * (user_size bytes, zeroed) and released after on_free.
 */
#include "net/tls_conn.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "net/addr.h"

struct tls_service_worker {
	struct tls_service *svc;
	struct worker *worker;
	struct tls_conn *conns;      /* open connections of this worker */
};

void tls_conn_free(struct tls_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	if (c->svc->ops->on_free)
		c->svc->ops->on_free(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->list->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (ssl)
		SSL_shutdown(ssl);
	bufferevent_free(c->bev);
	event_free(c->timer);
	conn_limit_release(c->svc->limit, &c->ticket);
	free(c->user);
	free(c);
}

void tls_conn_arm(struct tls_conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(c->timer, &tv);
}

static void free_chunk(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

int tls_conn_send(struct tls_conn *c, const void *data, size_t len)
{
	void *copy;

	if (len == 0)
		return 0;
	if (!(copy = malloc(len)))
		return -1;
	memcpy(copy, data, len);
	return evbuffer_add_reference(bufferevent_get_output(c->bev), copy, len, free_chunk, NULL);
}

void tls_conn_finish(struct tls_conn *c)
{
	c->closing = 1;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		tls_conn_free(c);
}

/* The connection ended without tls_conn_finish: the listener decides. */
static void end(struct tls_conn *c, const char *why)
{
	if (c->svc->ops->on_end)
		c->svc->ops->on_end(c, why);
	else
		tls_conn_free(c);
}

/* ---- libevent callbacks ---- */

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct tls_conn *c = arg;

	if (c->closing)
		return;
	if (c->svc->ops->on_read)
		c->svc->ops->on_read(c);
	else
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct tls_conn *c = arg;

	(void)bev;
	if (c->closing)
		tls_conn_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tls_conn *c = arg;
	char why[300];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
		c->handshake_done = 1;
		evtimer_del(c->timer);
		if (c->svc->ops->on_connected)
			c->svc->ops->on_connected(c);
		return;
	}
	e = bufferevent_get_openssl_error(bev);
	if (e) {
		char tls[200];

		ERR_error_string_n(e, tls, sizeof tls);
		snprintf(why, sizeof why, "TLS error: %s", tls);
	} else
		snprintf(why, sizeof why, "%s", (what & BEV_EVENT_EOF) ? "connection closed by the peer"
								       : "connection error");
	ERR_clear_error();
	if (c->closing)
		tls_conn_free(c);
	else
		end(c, why);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tls_conn *c = arg;
	char why[96];

	(void)fd;
	(void)what;
	if (c->closing) {
		tls_conn_free(c);
	} else if (!c->handshake_done) {
		snprintf(why, sizeof why, "no TLS handshake within %d s", c->svc->limits.handshake_timeout);
		end(c, why);
	} else if (c->svc->ops->on_timeout) {
		c->svc->ops->on_timeout(c);
	} else {
		end(c, "timed out");
	}
}

/* ---- accepting ---- */

static struct tls_conn *conn_new(struct tls_service_worker *w, SSL *ssl, const struct sockaddr *sa,
				 const struct conn_ticket *ticket)
{
	struct tls_service *svc = w->svc;
	struct tls_conn *c = calloc(1, sizeof *c);

	if (!c || (svc->user_size && !(c->user = calloc(1, svc->user_size)))) {
		free(c);
		return NULL;
	}
	c->svc = svc;
	c->worker = w->worker;
	c->list = w;
	c->ticket = *ticket;
	addr_host(sa, c->peer, sizeof c->peer);
	if (svc->ops->on_new && svc->ops->on_new(c, ssl) < 0) {
		free(c->user);
		free(c);
		return NULL;
	}
	return c;
}

static void conn_start(struct tls_conn *c, evutil_socket_t fd, SSL *ssl)
{
	struct tls_service *svc = c->svc;

	c->next = c->list->conns;
	if (c->list->conns)
		c->list->conns->prev = c;
	c->list->conns = c;
	c->bev = bufferevent_openssl_socket_new(c->worker->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(c->worker->base, timer_cb, c);
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	if (svc->max_msg)
		bufferevent_setwatermark(c->bev, EV_READ, 0, svc->max_msg);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	tls_conn_arm(c, svc->limits.handshake_timeout);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct tls_service_worker *w = arg;
	struct tls_service *svc = w->svc;
	struct conn_ticket ticket;
	struct tls_conn *c = NULL;
	SSL *ssl;

	(void)l;
	(void)salen;
	if (conn_limit_take(svc->limit, sa, &ticket) != CONN_LIMIT_OK) { /* counted and logged there */
		close(fd);
		return;
	}
	if (svc->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if ((ssl = SSL_new(__atomic_load_n(&svc->ssl_ctx, __ATOMIC_ACQUIRE))) != NULL) {
		if (svc->release_buffers)
			SSL_set_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
		c = conn_new(w, ssl, sa, &ticket);
	}
	if (!c) {
		SSL_free(ssl);
		close(fd);
		conn_limit_release(svc->limit, &ticket);
		return;
	}
	conn_start(c, fd, ssl);
}

int tls_service_start(struct tls_service *svc, struct worker_pool *pool, const char *addr, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (addr_parse(addr, &ss, &sslen, err, errlen) < 0 ||
	    addr_check_free((struct sockaddr *)&ss, sslen, addr, err, errlen) < 0)
		return -1;
	svc->pool = pool;
	if (svc->limits.handshake_timeout <= 0)
		svc->limits.handshake_timeout = CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT;
	svc->limit = conn_limit_new(svc->name, &svc->limits);
	svc->listeners = calloc((size_t)pool->count, sizeof *svc->listeners);
	svc->workers = calloc((size_t)pool->count, sizeof *svc->workers);
	if (!svc->limit || !svc->listeners || !svc->workers) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < pool->count; i++)
		svc->workers[i] = (struct tls_service_worker){ svc, &pool->workers[i], NULL };
	return conn_limit_listen(svc->limit, pool, svc->listeners, accept_cb, svc->workers, sizeof *svc->workers,
				 (struct sockaddr *)&ss, sslen, addr, err, errlen);
}

/* A connection still open at shutdown: the listener's on_end (with `why`)
 * when there is one, and freed in any case. */
static void close_one(struct tls_service_worker *w, const char *why)
{
	struct tls_conn *c = w->conns;

	if (why && w->svc->ops->on_end) {
		w->svc->ops->on_end(c, why);
		if (w->conns != c)
			return;
	}
	tls_conn_free(c);
}

void tls_service_close(struct tls_service *svc, const char *why)
{
	for (int i = 0; svc->listeners && i < svc->pool->count; i++) {
		if (svc->listeners[i])
			evconnlistener_free(svc->listeners[i]);
		while (svc->workers && svc->workers[i].conns)
			close_one(&svc->workers[i], why);
	}
	free(svc->listeners);
	free(svc->workers);
	svc->listeners = NULL;
	svc->workers = NULL;
	conn_limit_free(svc->limit); /* after its listeners and connections */
	svc->limit = NULL;
	for (int i = 0; i < svc->nreplaced; i++)
		SSL_CTX_free(svc->replaced[i]);
	free(svc->replaced);
	svc->replaced = NULL;
	svc->nreplaced = 0;
}

int tls_service_set_ctx(struct tls_service *svc, SSL_CTX *ctx)
{
	SSL_CTX **grown = realloc(svc->replaced, (size_t)(svc->nreplaced + 1) * sizeof *grown);

	if (!grown || SSL_CTX_up_ref(ctx) != 1) {
		if (grown)
			svc->replaced = grown;
		return -1;
	}
	svc->replaced = grown;
	svc->replaced[svc->nreplaced++] = ctx;
	__atomic_store_n(&svc->ssl_ctx, ctx, __ATOMIC_RELEASE);
	return 0;
}

void tls_service_drain(struct tls_service *svc)
{
	if (svc->limit)
		conn_limit_drain(svc->limit);
}

int tls_service_open_count(const struct tls_service *svc)
{
	return svc->limit ? conn_limit_open_count(svc->limit) : 0;
}
