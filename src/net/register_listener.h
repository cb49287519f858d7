/*
 * register_listener.h: the registration TLS check (opencapfd
 * --register-listen): a TLS server that, like call control, requires a
 * client certificate and validates it against CallManager-trust
 * (phone-certificates.md §2.2), and records for every connection which
 * certificate the phone used (LSC, MIC, unknown, none: src/diag/classify.h),
 * its issuer and serial, the result and the TLS alert sent
 * (store_register.h).
 *
 * CallManager-trust and the CAPF certificates are read from the worker's
 * store for every connection, so `opencapf trust add|remove` takes effect
 * on the next phone without a restart. The chain check is OpenSSL's own
 * (X509_verify_cert, with the purpose "TLS client" and partial chains
 * allowed as in pki_verify_chain), so the alert the phone receives is the
 * one OpenSSL maps from the failure (unknown CA, certificate expired, ...).
 * Sessions are never resumed: every connection is checked afresh.
 * A certificate the check accepts (the phone proved it holds its key) is
 * recorded for a configured phone as its LSC or last MIC seen
 * (store_seen_cert), so diagnose knows what the phone really presents.
 *
 * After a successful handshake the server sends one line,
 * "registered LSC|MIC|unknown NAME\n", and closes: under TLS 1.3 the client
 * finishes its handshake before the server has checked its certificate, so
 * the line (or the alert instead of it) is how the phone learns the outcome.
 *
 * Connections take a slot of the listener's pool (cap and per-address
 * limit, conn_limit.h); the exchange is cut at handshake_timeout when that
 * is shorter than timeout.
 */
#ifndef OPENCAPF_NET_REGISTER_LISTENER_H
#define OPENCAPF_NET_REGISTER_LISTENER_H

#include <event2/listener.h>
#include <openssl/ssl.h>

#include "net/conn_limit.h"
#include "net/tls_conn.h"
#include "net/workers.h"

#define REGISTER_TIMEOUT_DEFAULT 10

struct register_service_cfg {
	int timeout;                 /* seconds for the whole exchange */
};

struct register_service {
	struct register_service_cfg cfg;
	struct listener_limits limits;       /* cap, per-address limit, handshake timeout (set before start) */
	struct tls_service conns;            /* the connections (tls_conn.h) */
};

/* Listen on `addr` in every worker. ssl_ctx stays owned by the caller; this
 * sets its client-certificate verification, info callback and session
 * caching (off). */
int register_service_start(struct register_service *svc, struct worker_pool *pool, const char *addr,
			   SSL_CTX *ssl_ctx, const struct register_service_cfg *cfg, char *err, size_t errlen);
/* Close the listeners and connections (call after the workers stopped). */
void register_service_close(struct register_service *svc);

#endif
