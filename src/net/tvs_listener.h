/*
 * tvs_listener.h: the Trust Verification Service on its TLS port (2445):
 * accepts phones on every worker (SO_REUSEPORT, like capf_listener.h),
 * presents the TVS certificate, answers each VERIFY_REQUEST from the
 * worker's store (src/tvs/tvs_server.h), keeps the connection for further
 * requests until the phone closes it or stays idle for idle_timeout. The
 * TLS handshake must be done within the listener's handshake_timeout, and
 * connections take a slot of the listener's pool (conn_limit.h).
 */
#ifndef OPENCAPF_NET_TVS_LISTENER_H
#define OPENCAPF_NET_TVS_LISTENER_H

#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdint.h>

#include "net/conn_limit.h"
#include "net/tls_conn.h"
#include "net/workers.h"
#include "store/store.h"
#include "tvs/tvs_server.h"

#define TVS_TTL_DEFAULT 86400
#define TVS_IDLE_TIMEOUT_DEFAULT 30

struct tvs_service_cfg {
	uint32_t default_ttl;        /* for certificates stored without a TTL */
	int idle_timeout;            /* seconds without a complete request before closing */
};

struct tvs_service {
	struct tvs_service_cfg cfg;
	struct listener_limits limits;       /* cap, per-address limit, handshake timeout (set before start) */
	struct tls_service conns;            /* the connections (tls_conn.h) */
};

/* Listen on `addr` in every worker. ssl_ctx stays owned by the caller. */
int tvs_service_start(struct tvs_service *svc, struct worker_pool *pool, const char *addr, SSL_CTX *ssl_ctx,
		      const struct tvs_service_cfg *cfg, char *err, size_t errlen);
/* Close the listeners and connections (call after the workers stopped). */
void tvs_service_close(struct tvs_service *svc);

/* The lookup tvs_server_handle uses, over a store (store_tvs.h). */
struct tvs_store_lookup {
	struct store *st;
	uint32_t default_ttl;
};
int tvs_store_lookup(void *arg, const char *sha256, struct tvs_answer *ans);

#endif
