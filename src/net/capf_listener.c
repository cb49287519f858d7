/*
 * capf_listener.c: CAPF connections on libevent with non-blocking OpenSSL.
 *
 * Each connection belongs to one worker for its whole life. The server
 * speaks first once the TLS handshake completes. Every reply is handed to
 * the TLS layer as one buffer chunk, so it leaves as one SSL_write (one TLS
 * record): phone firmware stalls on messages split over two writes.
 * Timeouts follow the session's state: short while waiting for the handshake
 * and short answers, long while the phone generates its key.
 */
#include "net/capf_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "net/addr.h"
#include "wire/capf_msg.h"

struct capf_conn;

struct capf_listener_arg {
	struct capf_service *svc;
	struct worker *worker;
	struct capf_conn *conns;     /* open connections of this worker */
};

struct capf_conn {
	struct capf_service *svc;
	struct worker *worker;
	struct capf_listener_arg *owner;
	struct capf_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	struct capf_server_session sess;
	int closing;
};

static struct capf_server_env conn_env(const struct capf_conn *c)
{
	return (struct capf_server_env){
		.st = c->worker->st, .signer = c->svc->signer,
		.capf_sha256 = c->svc->capf_sha256, .cfg = &c->svc->cfg,
	};
}

static void conn_free(struct capf_conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	capf_server_session_log(&c->sess);
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
	worker_pool_release_slot(c->svc->pool);
	free(c);
}

static void conn_abort(struct capf_conn *c, const char *why)
{
	struct capf_server_env env = conn_env(c);

	capf_server_session_abort(&c->sess, &env, why);
	conn_free(c);
}

static void arm_timer(struct capf_conn *c)
{
	struct timeval tv = { capf_server_session_timeout(&c->sess, &c->svc->cfg), 0 };
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

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct capf_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t consumed;
	int rc;

	if (c->closing)
		return;
	while ((rc = handle_frame(c, in, &consumed)) > 0) {
		evbuffer_drain(in, consumed);
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

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct capf_conn *c = arg;
	char why[300];
	unsigned long e;

	if (what & BEV_EVENT_CONNECTED) {
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
	if (c->closing)
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
	snprintf(why, sizeof why, "timed out after %d s (%s)", capf_server_session_timeout(&c->sess, &c->svc->cfg),
		 c->sess.state == SRV_WAIT_KEY ? "key generation" : "waiting for the phone");
	conn_abort(c, why);
}

static uint32_t next_session_id(struct capf_service *svc)
{
	uint32_t id = atomic_fetch_add(&svc->next_session_id, 1);
	return id ? id : atomic_fetch_add(&svc->next_session_id, 1);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct capf_listener_arg *la = arg;
	struct capf_service *svc = la->svc;
	struct capf_conn *c;
	char peer[64];
	SSL *ssl;

	(void)l;
	(void)salen;
	if (worker_pool_take_slot(svc->pool) < 0) {
		log_warn("capf: connection cap (%d) reached, refusing a connection", svc->pool->max_connections);
		close(fd);
		return;
	}
	addr_host(sa, peer, sizeof peer);
	c = calloc(1, sizeof *c);
	ssl = SSL_new(svc->ssl_ctx);
	if (!c || !ssl) {
		free(c);
		SSL_free(ssl);
		close(fd);
		worker_pool_release_slot(svc->pool);
		return;
	}
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
	capf_server_session_init(&c->sess, next_session_id(svc), peer);
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
	uint32_t first;

	if (addr_parse(addr, &ss, &sslen, err, errlen) < 0)
		return -1;
	svc->pool = pool;
	svc->ssl_ctx = ssl_ctx;
	svc->signer = signer;
	svc->cfg = *cfg;
	RAND_bytes((unsigned char *)&first, sizeof first);
	atomic_init(&svc->next_session_id, first);
	svc->listeners = calloc((size_t)pool->count, sizeof *svc->listeners);
	svc->args = calloc((size_t)pool->count, sizeof *svc->args);
	if (!svc->listeners || !svc->args) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < pool->count; i++) {
		svc->args[i] = (struct capf_listener_arg){ svc, &pool->workers[i], NULL };
		svc->listeners[i] = evconnlistener_new_bind(pool->workers[i].base, accept_cb, &svc->args[i],
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
			1024, (struct sockaddr *)&ss, (int)sslen);
		if (!svc->listeners[i]) {
			seterr(err, errlen, "cannot listen on %s: %s", addr,
			       evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			return -1;
		}
	}
	return 0;
}

void capf_service_close(struct capf_service *svc)
{
	for (int i = 0; svc->listeners && i < svc->pool->count; i++) {
		if (svc->listeners[i])
			evconnlistener_free(svc->listeners[i]);
		while (svc->args[i].conns)
			conn_abort(svc->args[i].conns, "daemon shutting down");
	}
	free(svc->listeners);
	free(svc->args);
	svc->listeners = NULL;
	svc->args = NULL;
}
