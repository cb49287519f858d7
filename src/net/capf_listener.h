/*
 * capf_listener.h: the CAPF service on its TLS port (3804): accepts phones on
 * every worker, runs one server session per connection, enforces the
 * per-state timeouts and the connection cap.
 */
#ifndef OPENCAPF_NET_CAPF_LISTENER_H
#define OPENCAPF_NET_CAPF_LISTENER_H

#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdatomic.h>

#include "capf/server_session.h"
#include "net/workers.h"

struct capf_service {
	struct worker_pool *pool;
	SSL_CTX *ssl_ctx;
	struct signer *signer;
	char capf_sha256[80];
	struct capf_server_cfg cfg;
	atomic_uint next_session_id;
	struct evconnlistener **listeners;   /* one per worker */
	struct capf_listener_arg *args;
};

/* Listen on `addr` in every worker. ssl_ctx and signer stay owned by the caller. */
int capf_service_start(struct capf_service *svc, struct worker_pool *pool, const char *addr,
		       SSL_CTX *ssl_ctx, struct signer *signer, const struct capf_server_cfg *cfg,
		       char *err, size_t errlen);
/* Close the listeners (call after the workers stopped). */
void capf_service_close(struct capf_service *svc);

#endif
