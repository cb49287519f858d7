/*
 * tvs_listener.h: the Trust Verification Service on its TLS port (2445):
 * accepts phones on every worker (SO_REUSEPORT, like capf_listener.h),
 * presents the TVS certificate, answers each VERIFY_REQUEST from the
 * worker's store (src/tvs/tvs_server.h), keeps the connection for further
 * requests until the phone closes it or stays idle for idle_timeout. The
 * TLS handshake must be done within the listener's handshake_timeout, and
 * connections take a slot of the listener's pool (conn_limit.h).
 *
 * With a follow callback, worker 0 checks the state's TVS certificate
 * (service_certs) every TVS_WATCH_SECONDS and, when it is another than the
 * one presented (renewed through another node of a cluster, or by the CLI),
 * asks the callback for a new SSL_CTX and swaps it in for new connections
 * (tls_service_set_ctx); open connections keep theirs. A certificate whose
 * key this node cannot load yet (keys/ not copied) is logged once and tried
 * again at each check.
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

#define TVS_WATCH_SECONDS 5

/* An SSL_CTX presenting the state's TVS certificate as it is now (*cn its
 * CN), built on worker 0's thread from worker 0's store st; NULL with err. */
typedef SSL_CTX *(*tvs_ctx_follow_fn)(void *arg, struct store *st, char *cn, size_t cncap, char *err,
				      size_t errlen);

struct tvs_service {
	struct tvs_service_cfg cfg;
	struct listener_limits limits;       /* cap, per-address limit, handshake timeout (set before start) */
	struct tls_service conns;            /* the connections (tls_conn.h) */
	tvs_ctx_follow_fn follow;            /* set before start to follow the state's certificate; NULL: not */
	void *follow_arg;
	/* worker 0's, from start on: */
	struct store *st;
	struct event *watch;
	char sha256[80];                     /* the certificate presented (as service_certs has it) */
	char failed_sha256[80];              /* one whose SSL_CTX could not be built (logged once) */
};

/* Listen on `addr` in every worker. ssl_ctx stays owned by the caller; it
 * presents the state's TVS certificate of now (the one followed from). */
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
