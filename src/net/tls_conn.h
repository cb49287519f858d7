/*
 * tls_conn.h: the life of a TLS connection on the daemon's workers, shared by
 * every listener (CAPF, TVS, the registration check, phonesim's stateless
 * load-ceiling server, and whatever comes next): accept on every worker
 * (SO_REUSEPORT) through the listener's connection pool (conn_limit.h), a
 * non-blocking OpenSSL bufferevent, the handshake deadline, a timer, whole
 * messages out as one chunk (one SSL_write), close after the output drained,
 * and freeing everything once.
 * A listener supplies only its callbacks and per-connection state.
 *
 * Invariants: every accepted socket either becomes a connection on its
 * worker's list or is closed with its pool slot given back; a connection is
 * freed exactly once (tls_conn_free, by the module or its owner), and
 * on_free runs just before; callbacks run on the connection's worker.
 */
#ifndef OPENCAPF_NET_TLS_CONN_H
#define OPENCAPF_NET_TLS_CONN_H

#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stddef.h>

#include "net/conn_limit.h"
#include "net/workers.h"

struct tls_conn;

struct tls_conn_ops {
	/* The connection's SSL object before the handshake (SSL_set_app_data,
	 * a certificate of its own...); -1 refuses the connection. May be NULL. */
	int (*on_new)(struct tls_conn *c, SSL *ssl);
	/* The TLS handshake completed. */
	void (*on_connected)(struct tls_conn *c);
	/* Bytes arrived (bufferevent_get_input(c->bev)). May be NULL: input is dropped. */
	void (*on_read)(struct tls_conn *c);
	/* The timer ran out after the handshake. NULL: on_end(c, "timed out"), then free. */
	void (*on_timeout)(struct tls_conn *c);
	/* The connection ended before tls_conn_finish: the peer closed it, a TLS
	 * or socket error, or no handshake within the deadline (handshake_done
	 * tells). `why` says which. Free it with tls_conn_free, or keep it (e.g.
	 * while a job holds it) and free it later. */
	void (*on_end)(struct tls_conn *c, const char *why);
	/* Release the listener's state (c->user) just before the connection goes. */
	void (*on_free)(struct tls_conn *c);
};

struct tls_service {
	/* set by the owner before tls_service_start */
	const char *name;                    /* "capf", "tvs", "register": logs and the pool */
	SSL_CTX *ssl_ctx;
	const struct tls_conn_ops *ops;
	void *owner;                         /* the listener's service, for the callbacks */
	size_t user_size;                    /* bytes of c->user, zeroed, for each connection */
	size_t max_msg;                      /* read watermark (0: none) */
	int nodelay;                         /* TCP_NODELAY: replies written back to back */
	int release_buffers;                 /* SSL_MODE_RELEASE_BUFFERS: idle connections hold no TLS buffers */
	struct listener_limits limits;       /* cap, per-address limit, handshake timeout */
	/* kept by the module */
	struct worker_pool *pool;
	struct conn_limit *limit;
	struct evconnlistener **listeners;   /* one per worker */
	struct tls_service_worker *workers;  /* the open connections of each worker */
	SSL_CTX **replaced;                  /* contexts tls_service_set_ctx put in, held to the end */
	int nreplaced;
};

struct tls_conn {
	struct tls_service *svc;
	struct worker *worker;
	struct tls_service_worker *list;
	struct tls_conn *prev, *next;
	struct bufferevent *bev;
	struct event *timer;
	struct conn_ticket ticket;
	char peer[64];                       /* the client's address, without the port */
	int handshake_done;
	int closing;                         /* finishing: freed once the output drained */
	void *user;                          /* the listener's state */
};

/* Listen on `addr` in every worker of the pool. */
int tls_service_start(struct tls_service *svc, struct worker_pool *pool, const char *addr, char *err,
		      size_t errlen);
/* Close the listeners and every connection, after the workers stopped: with
 * `why`, each open connection gets on_end(c, why) first (it may record
 * that), then it is freed in any case (on_free). */
void tls_service_close(struct tls_service *svc, const char *why);
/* New connections use ctx from now on (a renewed certificate); the ones
 * open keep theirs. The service holds a reference to ctx until it closes
 * (a worker may be about to use the previous one). 0, or -1 out of memory. */
int tls_service_set_ctx(struct tls_service *svc, SSL_CTX *ctx);

/* Stop taking connections (each new one is closed at once) and say how
 * many are still open; the open ones go on until they end by themselves.
 * A service never started counts 0. */
void tls_service_drain(struct tls_service *svc);
int tls_service_open_count(const struct tls_service *svc);

/* Wait `seconds` (from now) before on_timeout. */
void tls_conn_arm(struct tls_conn *c, int seconds);
/* One whole message, queued as one chunk: 0 or -1. */
int tls_conn_send(struct tls_conn *c, const void *data, size_t len);
/* No more reading; free the connection once what is queued has gone out. */
void tls_conn_finish(struct tls_conn *c);
void tls_conn_free(struct tls_conn *c);

#endif
