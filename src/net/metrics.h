/*
 * metrics.h: counters of the CAPF service for the Prometheus endpoint
 * (/metrics, served by the API thread): sessions by outcome, LSCs issued,
 * open sessions, TLS handshake and LSC issuance latency histograms, TVS
 * requests by result, and per-10-second request rates of the last hour.
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

/* A TVS request answered: METRICS_TVS_VALID (the certificate is known),
 * _INVALID (unknown), _ERROR (not answered: a bad request). */
enum { METRICS_TVS_VALID, METRICS_TVS_INVALID, METRICS_TVS_ERROR };
void metrics_tvs_request(int result);

/* Recent request rates, for the web UI's pictures: CAPF sessions (TLS
 * handshake done) and TVS requests counted per METRICS_RATE_SLOT seconds
 * over the last hour. counts[0..n-1] get the n slots ending with the one
 * holding `now` (unix time), oldest first; returns n (at most an hour). */
#define METRICS_RATE_SLOT 10
enum metrics_rate { METRICS_RATE_CAPF, METRICS_RATE_TVS, METRICS_RATE_KINDS };
int metrics_rate_series(enum metrics_rate kind, int64_t now, unsigned *counts, int n);

/* Append every counter in the Prometheus text exposition format (0.0.4). */
void metrics_render(struct buf *out);

#endif
