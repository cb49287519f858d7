/*
 * capf_listener.h: the CAPF service on its TLS port (3804): accepts phones on
 * every worker, runs one server session per connection, enforces the
 * per-state timeouts (a short one until the TLS handshake is done) and the
 * listener's connection pool and per-address limit (conn_limit.h).
 *
 * The CAPF certificate can change under a running daemon (`opencapf capf
 * regenerate|import`): worker 0 looks at the state's current CAPF
 * fingerprint every CAPF_WATCH_SECONDS and, when it changed, loads the new
 * certificate and key into a new identity (TLS certificate, issuing chain,
 * LSC signer). New connections take the new identity; a session in flight
 * keeps the identity it started with to its end (its TLS handshake already
 * showed the old certificate, and its LSC is signed by the matching key and
 * recorded under that certificate's fingerprint), so no session is dropped.
 * Identities are reference counted: the last connection using an old one
 * frees it. The same timer logs a warning at start and once a day while the
 * CAPF certificate is within CAPF_EXPIRY_WARN_DAYS of expiry.
 */
#ifndef OPENCAPF_NET_CAPF_LISTENER_H
#define OPENCAPF_NET_CAPF_LISTENER_H

#include <event2/listener.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "capf/server_session.h"
#include "capf/session_claims.h"
#include "net/capf_commit.h"
#include "net/conn_limit.h"
#include "net/tls_conn.h"
#include "net/workers.h"

#define CAPF_WATCH_SECONDS 2
/* A new CAPF certificate whose key could not be loaded is tried again this often. */
#define CAPF_SWITCH_RETRY_SECONDS 10
#define CAPF_EXPIRY_WARN_DAYS 30

struct capf_identity;

struct capf_service {
	struct worker_pool *pool;
	SSL_CTX *ssl_ctx;
	struct signer *signer;               /* the signer the daemon started with */
	char capf_sha256[80];                /* its certificate's fingerprint (set before start) */
	struct capf_server_cfg cfg;
	struct listener_limits limits;       /* cap, per-address limit, handshake timeout (set before start) */
	char node[32];                       /* this daemon's node name (set before start; "" = host name) */
	struct session_claims *claims;       /* devices in a session now, across the workers */
	struct tls_service conns;            /* the connections (tls_conn.h) */
	struct capf_worker_port *ports;      /* one per worker: committed records come back there */
	int nports;
	/* the identity new connections take; replaced only by worker 0 */
	struct capf_identity *ident;
	pthread_mutex_t ident_lock;
	int lock_ready;
	struct event *watch;                 /* worker 0: CAPF certificate changes, expiry */
	struct event *notify;                /* worker 0: a change announced by the database */
	int64_t next_expiry_check;
	char failed_sha256[80];              /* a new certificate we could not load (its key is */
	int64_t failed_retry;                /* on another node?): tried again from this time on */
	struct capf_committer *committer;    /* group commit of installs (capf_commit.h) */
};

/* Listen on `addr` in every worker. ssl_ctx and signer stay owned by the caller. */
int capf_service_start(struct capf_service *svc, struct worker_pool *pool, const char *addr,
		       SSL_CTX *ssl_ctx, struct signer *signer, const struct capf_server_cfg *cfg,
		       char *err, size_t errlen);
/* Close the listeners (call after the workers stopped). */
void capf_service_close(struct capf_service *svc);

#endif
