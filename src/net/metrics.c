/*
 * metrics.c: the CAPF counters (metrics.h) and their Prometheus text.
 *
 * Outcomes are a small fixed set of labels, derived from the session's
 * status word, so the number of time series stays bounded whatever phones
 * send. Histograms use fixed buckets (seconds) and keep the sum in
 * microseconds to stay integral and atomic.
 */
#include "net/metrics.h"
#include "net/file_service.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "capf/server_session.h"

enum outcome {
	OUT_UPGRADE_SUCCESS, OUT_DELETE_SUCCESS, OUT_TROUBLESHOOT_SUCCESS, OUT_FAILED, OUT_NO_OPERATION,
	OUT_UNKNOWN_DEVICE, OUT_REJECTED, OUT_INTERRUPTED, OUT_TLS_FAILED, OUT_COUNT
};

static const char *const outcome_names[OUT_COUNT] = {
	"upgrade_success", "delete_success", "troubleshoot_success", "failed", "no_operation",
	"unknown_device", "rejected", "interrupted", "tls_failed",
};

#define NBUCKETS 12

struct histogram {
	const double *bounds;            /* NBUCKETS - 1 finite bounds, then +Inf */
	atomic_ullong bucket[NBUCKETS];  /* not cumulative; summed when rendered */
	atomic_ullong count;
	atomic_ullong sum_us;
};

static const double handshake_bounds[NBUCKETS - 1] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
static const double install_bounds[NBUCKETS - 1] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
};

static atomic_ullong sessions[OUT_COUNT];
static atomic_ullong lscs_issued;
static atomic_llong open_sessions;
static struct histogram handshake_hist = { .bounds = handshake_bounds };
static struct histogram install_hist = { .bounds = install_bounds };

/* TVS requests by result, and the recent request rates: per
 * METRICS_RATE_SLOT seconds over the last hour, in rings indexed by
 * time / slot (a slot whose stamp is old counts as 0). */
static const char *const tvs_result_names[] = { "valid", "invalid", "error" };
static atomic_ullong tvs_requests[3];

#define RATE_SLOTS (3600 / METRICS_RATE_SLOT)

struct rate_ring {
	atomic_llong stamp[RATE_SLOTS];
	atomic_uint count[RATE_SLOTS];
};

static struct rate_ring rates[METRICS_RATE_KINDS];

static void rate_add(enum metrics_rate kind)
{
	struct rate_ring *r = &rates[kind];
	long long t = (long long)time(NULL) / METRICS_RATE_SLOT, old;
	size_t i = (size_t)(t % RATE_SLOTS);

	old = atomic_load(&r->stamp[i]);
	if (old != t && atomic_compare_exchange_strong(&r->stamp[i], &old, t))
		atomic_store(&r->count[i], 0);
	atomic_fetch_add(&r->count[i], 1);
}

int metrics_rate_series(enum metrics_rate kind, int64_t now, unsigned *counts, int n)
{
	const struct rate_ring *r = &rates[kind];
	long long last = (long long)now / METRICS_RATE_SLOT;

	if (n > RATE_SLOTS)
		n = RATE_SLOTS;
	for (int k = 0; k < n; k++) {
		long long t = last - (n - 1 - k);
		size_t i = (size_t)(t % RATE_SLOTS);
		counts[k] = atomic_load(&r->stamp[i]) == t ? atomic_load(&r->count[i]) : 0;
	}
	return n;
}

void metrics_tvs_request(int result)
{
	if (result >= 0 && result < 3)
		atomic_fetch_add(&tvs_requests[result], 1);
	rate_add(METRICS_RATE_TVS);
}

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void observe(struct histogram *h, double seconds)
{
	int i = 0;

	if (seconds < 0)
		seconds = 0;
	while (i < NBUCKETS - 1 && seconds > h->bounds[i])
		i++;
	atomic_fetch_add(&h->bucket[i], 1);
	atomic_fetch_add(&h->count, 1);
	atomic_fetch_add(&h->sum_us, (unsigned long long)(seconds * 1e6));
}

void metrics_capf_accepted(struct metrics_session *m)
{
	clock_gettime(CLOCK_MONOTONIC, &m->accepted);
	m->handshake_done = 0;
	atomic_fetch_add(&open_sessions, 1);
}

void metrics_capf_handshake(struct metrics_session *m)
{
	m->handshake_done = 1;
	observe(&handshake_hist, since(&m->accepted));
}

const char *metrics_outcome(const struct capf_server_session *s, int handshake_done)
{
	static const struct { const char *prefix; enum outcome o; } words[] = {
		{ STATUS_UPGRADE_SUCCESS, OUT_UPGRADE_SUCCESS }, { STATUS_DELETE_SUCCESS, OUT_DELETE_SUCCESS },
		{ STATUS_TROUBLESHOOT_SUCCESS, OUT_TROUBLESHOOT_SUCCESS }, { "No Pending Operation", OUT_NO_OPERATION },
		{ "Unknown Device", OUT_UNKNOWN_DEVICE }, { "Rejected", OUT_REJECTED },
		{ "Interrupted", OUT_INTERRUPTED },
	};

	/* No handshake, no session: whatever ended the connection (a TLS error,
	 * the handshake timeout, a port probe) and whatever the session was told
	 * on the way out ("Interrupted"), it is a failed TLS handshake. */
	if (!handshake_done)
		return outcome_names[OUT_TLS_FAILED];
	if (!s->outcome[0])
		return outcome_names[OUT_INTERRUPTED];
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(s->outcome, words[i].prefix) == 0)
			return outcome_names[words[i].o];
	return outcome_names[OUT_FAILED];
}

void metrics_capf_closed(struct metrics_session *m, const struct capf_server_session *s)
{
	const char *label = metrics_outcome(s, m->handshake_done);

	for (int i = 0; i < OUT_COUNT; i++)
		if (outcome_names[i] == label)
			atomic_fetch_add(&sessions[i], 1);
	if (strcmp(s->outcome, STATUS_UPGRADE_SUCCESS) == 0) {
		atomic_fetch_add(&lscs_issued, 1);
		observe(&install_hist, since(&m->accepted));
	}
	atomic_fetch_sub(&open_sessions, 1);
	if (m->handshake_done)
		rate_add(METRICS_RATE_CAPF);
}

/* ---- Prometheus text ---- */

static void put(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *out, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0)
		buf_put(out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void render_histogram(struct buf *out, const char *name, const char *help, struct histogram *h)
{
	unsigned long long cum = 0;

	put(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&h->bucket[i]);
		if (i < NBUCKETS - 1)
			put(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], cum);
		else
			put(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, cum);
	}
	put(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)atomic_load(&h->sum_us) / 1e6, name,
	    atomic_load(&h->count));
}

void metrics_render(struct buf *out)
{
	put(out, "# HELP opencapf_capf_sessions_total CAPF sessions by outcome.\n"
		 "# TYPE opencapf_capf_sessions_total counter\n");
	for (int i = 0; i < OUT_COUNT; i++)
		put(out, "opencapf_capf_sessions_total{outcome=\"%s\"} %llu\n", outcome_names[i],
		    atomic_load(&sessions[i]));
	put(out, "# HELP opencapf_lscs_issued_total LSCs issued and stored by phones.\n"
		 "# TYPE opencapf_lscs_issued_total counter\nopencapf_lscs_issued_total %llu\n",
	    atomic_load(&lscs_issued));
	put(out, "# HELP opencapf_capf_open_sessions CAPF connections open now.\n"
		 "# TYPE opencapf_capf_open_sessions gauge\nopencapf_capf_open_sessions %lld\n",
	    atomic_load(&open_sessions));
	render_histogram(out, "opencapf_capf_handshake_seconds",
			 "Time from accepting a CAPF connection to the end of its TLS handshake.", &handshake_hist);
	render_histogram(out, "opencapf_lsc_issuance_seconds",
			 "Time from accepting a CAPF connection to the phone storing its new LSC.", &install_hist);
	put(out, "# HELP opencapf_tvs_requests_total TVS requests by result (valid: the certificate is known; "
		 "error: the request could not be answered).\n# TYPE opencapf_tvs_requests_total counter\n");
	for (int i = 0; i < 3; i++)
		put(out, "opencapf_tvs_requests_total{result=\"%s\"} %llu\n", tvs_result_names[i],
		    atomic_load(&tvs_requests[i]));
	file_service_metrics_render(out);
}
