/*
 * api_conn.h: the bufferevent under every connection of the HTTP API
 * (api_conn.c): TLS when configured, and the request size limits, answered
 * with the API's JSON 413 rather than libevent's HTML page.
 */
#ifndef OPENCAPF_API_CONN_H
#define OPENCAPF_API_CONN_H

#include <event2/event.h>

#include "api/api_internal.h"

/* A request's head may be this long (evhttp_set_max_headers_size) ... */
#define API_HEADERS_MAX (16 * 1024)
/* ... and a whole request (head, body, chunk framing) this long on the wire;
 * a Content-Length above API_BODY_MAX is refused before the body comes. */
#define API_REQUEST_MAX (API_BODY_MAX + API_HEADERS_MAX + 64 * 1024)

/* evhttp's bufferevent callback (evhttp_set_bevcb; arg: the api_server). */
struct bufferevent *api_conn_bev(struct event_base *base, void *arg);

#endif
