/*
 * api_conn.c: the bufferevent under every evhttp connection of the API (the
 * socket, or TLS), watched so that oversized requests get the API's JSON 413.
 *
 * libevent refuses a body over its own limit with an HTML page, and in
 * libevent 2.1 nothing lets a program see a request between its head and
 * its body. So evhttp gets no limit at all, and a callback on the
 * connection's input buffer, which runs as bytes arrive and before evhttp
 * reads them, answers in its place:
 *
 *  - at the start of a request whose head is whole, a Content-Length above
 *    API_BODY_MAX is refused at once (a client waiting for 100-continue
 *    sends nothing more);
 *  - whatever the head says (chunked, or a head that came in pieces), a
 *    request that has sent more than API_REQUEST_MAX bytes since the last
 *    reply began is refused there, so evhttp never holds more than that.
 *
 * A refusal takes the connection from evhttp (its read and write callbacks
 * are removed, the error callback stays so that evhttp still frees it),
 * writes "413" with {"error": ...} and Connection: close, drops every byte
 * that still comes (so that the client reads the answer rather than a
 * reset), and after API_LINGER_SECONDS reports an error to evhttp, which
 * frees the connection. The byte count restarts whenever a reply starts,
 * so keep-alive connections are limited per request, not in total.
 *
 * The state of a connection is allocated when its first bytes arrive (when
 * evhttp's connection exists) and freed by evhttp's close callback, so a
 * connection that never sends anything costs nothing.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/api_conn.h"
#include "api/api_head.h"
#include "common/log.h"
#include "net/addr.h"

#define API_LINGER_SECONDS 2

struct api_conn {
	struct bufferevent *bev;
	struct evhttp_connection *evcon;
	struct event *linger;        /* ends a refused connection */
	size_t in;                   /* bytes of the current request so far */
	int refused;
};

/* ---- the refusal ---- */

static void linger_done(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;

	(void)fd;
	(void)what;
	/* evhttp frees the connection, and with it c (conn_closed) */
	bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
}

static void log_refusal(struct api_conn *c, const char *msg)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char peer[64] = "?";

	if (getpeername(bufferevent_getfd(c->bev), (struct sockaddr *)&ss, &len) == 0)
		addr_host((struct sockaddr *)&ss, peer, sizeof peer);
	log_debug("api: %s: 413 (%s)", peer, msg);
}

/* Answer 413 with the API's JSON error; evhttp sees nothing more. */
static void refuse(struct api_conn *c, struct evbuffer *in, const char *msg)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bufferevent_event_cb on_error;
	json_t *o = json_pack("{s:s}", "error", msg);
	char *body = o ? json_dumps(o, JSON_INDENT(1)) : NULL;
	const char *text = body ? body : "{\"error\": \"the request is too large\"}";
	struct timeval tv = { API_LINGER_SECONDS, 0 };
	void *evcon;

	c->refused = 1;
	log_refusal(c, msg);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_getcb(c->bev, NULL, NULL, &on_error, &evcon);
	bufferevent_setcb(c->bev, NULL, NULL, on_error, evcon);
	evbuffer_add_printf(out,
			    "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n"
			    "X-Content-Type-Options: nosniff\r\n\r\n%s\n",
			    strlen(text) + 1, text);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	free(body);
	json_decref(o);
	evtimer_add(c->linger, &tv);
}

/* ---- watching the bytes ---- */

/* The Content-Length of the request whose head starts buf, when the head is
 * there whole and says one; -1 otherwise (never negative for a length). */
static long long head_length(struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf), n;
	struct evbuffer_ptr end, found;
	const char *head;

	if (evbuffer_ptr_set(buf, &end, len < API_HEADERS_MAX ? len : API_HEADERS_MAX, EVBUFFER_PTR_SET) < 0)
		return -1;
	found = evbuffer_search_range(buf, "\r\n\r\n", 4, NULL, &end);
	if (found.pos < 0)
		return -1;
	n = (size_t)found.pos + 2;
	if (!(head = (const char *)evbuffer_pullup(buf, (ev_ssize_t)n)))
		return -1;
	return api_head_content_length(head, n);
}

static void conn_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct api_conn *c = arg;
	long long declared;
	char msg[128];

	if (info->n_added == 0)
		return;
	if (c->refused) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (c->in == 0 && (declared = head_length(in)) > API_BODY_MAX) {
		snprintf(msg, sizeof msg, "the body is %lld bytes; the limit is %d", declared, API_BODY_MAX);
		refuse(c, in, msg);
		return;
	}
	c->in += info->n_added;
	if (c->in > API_REQUEST_MAX) {
		snprintf(msg, sizeof msg, "the request is larger than %d bytes; the limit for a body is %d",
			 API_REQUEST_MAX, API_BODY_MAX);
		refuse(c, in, msg);
	}
}

/* Bytes going out mean a reply (or 100 Continue): the next bytes in start
 * a new count. */
static void conn_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct api_conn *c = arg;

	(void)out;
	if (info->n_added && !c->refused)
		c->in = 0;
}

/* evhttp's close callback: the connection is going away. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_conn *c = arg;

	evhttp_connection_set_closecb(evcon, NULL, NULL);
	evbuffer_remove_cb(bufferevent_get_input(c->bev), conn_input, c);
	evbuffer_remove_cb(bufferevent_get_output(c->bev), conn_output, c);
	event_free(c->linger);
	free(c);
}

/* The first bytes of a connection: its state, then the usual watch. */
static void conn_first_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	struct bufferevent *bev = arg;
	struct api_conn *c;
	void *evcon = NULL;

	if (info->n_added == 0)
		return;
	bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
	if (!evcon || !(c = calloc(1, sizeof *c)))
		return; /* not evhttp's (yet), or no memory: watched from the next bytes */
	if (!(c->linger = evtimer_new(bufferevent_get_base(bev), linger_done, c))) {
		free(c);
		return;
	}
	c->bev = bev;
	c->evcon = evcon;
	evhttp_connection_set_closecb(c->evcon, conn_closed, c);
	evbuffer_remove_cb(in, conn_first_input, bev);
	evbuffer_add_cb(in, conn_input, c);
	evbuffer_add_cb(bufferevent_get_output(bev), conn_output, c);
	conn_input(in, info, c);
}

/* ---- evhttp's bufferevent callback ---- */

static struct bufferevent *transport(struct event_base *base, const struct api_server *srv)
{
	SSL *ssl;
	struct bufferevent *b;

	if (!srv->ssl_ctx)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!(ssl = SSL_new(srv->ssl_ctx)))
		return NULL;
	b = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					   BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!b)
		SSL_free(ssl);
	return b;
}

struct bufferevent *api_conn_bev(struct event_base *base, void *arg)
{
	struct bufferevent *bev = transport(base, arg);

	if (bev && !evbuffer_add_cb(bufferevent_get_input(bev), conn_first_input, bev)) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}
