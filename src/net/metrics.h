/*
 * metrics.h: counters of the CAPF service for the Prometheus endpoint
 * (/metrics, served by the API thread): sessions by outcome, LSCs issued,
 * open sessions, TLS handshake and LSC issuance latency histograms.
 *
 * Process-wide and lock-free (C11 atomics): workers count, the API thread
 * reads. A connection keeps a struct metrics_session and reports three
 * moments of its life: accepted, handshake done, closed (with the session
 * whose outcome it counts). Nothing here ever holds a secret or a name.
 */
#ifndef OPENCAPF_NET_METRICS_H
#define OPENCAPF_NET_METRICS_H

#include <stdint.h>
#include <time.h>

#include "common/util.h"

struct capf_server_session;

struct metrics_session {
	struct timespec accepted;
	int handshake_done;
};

void metrics_capf_accepted(struct metrics_session *m);
void metrics_capf_handshake(struct metrics_session *m);
void metrics_capf_closed(struct metrics_session *m, const struct capf_server_session *s);

/* The outcome label of a session: "upgrade_success", "failed", ... */
const char *metrics_outcome(const struct capf_server_session *s, int handshake_done);

/* Append every counter in the Prometheus text exposition format (0.0.4). */
void metrics_render(struct buf *out);

#endif
