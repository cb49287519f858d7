/*
 * api_stats.c: numbers for the web UI's pictures, computed from what the
 * daemon already has:
 *
 *   GET /api/v1/stats/lsc-expiry   current LSCs by the month they expire
 *                                  (the phones' current certificates)
 *   GET /api/v1/stats/campaign     a bulk operation or rollover as it runs:
 *                                  operations done and failed over time (the
 *                                  audit rows capf.install|delete|troubleshoot
 *                                  and capf.failed), pending now, the rate
 *                                  and the estimated end
 *   GET /api/v1/stats/rates        CAPF sessions and TVS requests per 10 s
 *                                  over the last minutes (net/metrics.h)
 *
 * and the operation counts /metrics shares (api_ops_counts).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "common/json_util.h"
#include "common/util.h"
#include "net/metrics.h"
#include "store/store_search.h"

#define EXPIRY_MONTHS_DEFAULT 24
#define CAMPAIGN_BUCKETS 60
#define CAMPAIGN_RATE_WINDOW 300
#define CAMPAIGN_RATE_MIN 20

int api_ops_counts(struct store *st, int64_t pending[3], int64_t failed[3])
{
	static const enum capf_op ops[3] = { OP_INSTALL, OP_DELETE, OP_TROUBLESHOOT };
	struct phone_filter f;

	for (int i = 0; i < 3; i++) {
		phone_filter_init(&f);
		f.has_op = 1;
		f.op = ops[i];
		if ((pending[i] = store_phone_count(st, &f)) < 0)
			return -1;
		f.status = "Failed";
		if ((failed[i] = store_phone_count(st, &f)) < 0)
			return -1;
	}
	return 0;
}

/* ---- LSC expiry by month ---- */

struct expiry {
	int64_t now;
	int y0, m0, months;
	int64_t *count;
	int64_t none, expired, later;
};

static int expiry_row(const struct phone_row *row, void *arg)
{
	struct expiry *e = arg;
	struct tm tm;
	time_t t;
	int k;

	if (!row->lsc.present) {
		e->none++;
		return 0;
	}
	if (row->lsc.not_after < e->now) {
		e->expired++;
		return 0;
	}
	t = (time_t)row->lsc.not_after;
	gmtime_r(&t, &tm);
	k = (tm.tm_year + 1900 - e->y0) * 12 + tm.tm_mon - e->m0;
	if (k >= 0 && k < e->months)
		e->count[k]++;
	else
		e->later++;
	return 0;
}

static json_t *expiry_json(const struct expiry *e)
{
	json_t *arr = json_array();
	char month[16];

	for (int k = 0; k < e->months; k++) {
		int m = e->m0 + k;
		snprintf(month, sizeof month, "%04d-%02d", e->y0 + m / 12, m % 12 + 1);
		json_array_append_new(arr, json_pack("{s:s, s:I}", "month", month, "count", (json_int_t)e->count[k]));
	}
	return json_pack("{s:o, s:I, s:I, s:I}", "months", arr, "none", (json_int_t)e->none, "expired",
			 (json_int_t)e->expired, "later", (json_int_t)e->later);
}

void api_stats_lsc_expiry(struct api_req *r)
{
	struct expiry e = { .now = now_utc() };
	struct phone_filter f;
	struct tm tm;
	time_t t = (time_t)e.now;
	int64_t months;

	if (api_query_int(r, "months", 1, 120, EXPIRY_MONTHS_DEFAULT, &months) < 0)
		return;
	gmtime_r(&t, &tm);
	e.y0 = tm.tm_year + 1900;
	e.m0 = tm.tm_mon;
	e.months = (int)months;
	if (!(e.count = calloc((size_t)months, sizeof *e.count))) {
		api_reply_error(r, 500, "out of memory");
		return;
	}
	phone_filter_init(&f);
	if (store_phone_select(r->st, &f, expiry_row, &e) < 0)
		api_reply_store_error(r, "cannot read the phones");
	else
		api_reply_json(r, 200, expiry_json(&e));
	free(e.count);
}

/* ---- campaign ---- */

struct campaign {
	int64_t since, now, bucket;
	int64_t done[CAMPAIGN_BUCKETS], failed[CAMPAIGN_BUCKETS];
	int64_t done_total, failed_total, recent_done, first_recent;
};

static int campaign_row(const struct audit_entry *a, void *arg)
{
	struct campaign *c = arg;
	int64_t k = (a->time - c->since) / c->bucket;
	int is_done = strcmp(a->action, "capf.install") == 0 || strcmp(a->action, "capf.delete") == 0 ||
		      strcmp(a->action, "capf.troubleshoot") == 0;
	int is_failed = strcmp(a->action, "capf.failed") == 0;

	if ((!is_done && !is_failed) || k < 0)
		return 0;
	if (k >= CAMPAIGN_BUCKETS)
		k = CAMPAIGN_BUCKETS - 1;
	if (is_done) {
		c->done[k]++;
		c->done_total++;
		if (a->time >= c->now - CAMPAIGN_RATE_WINDOW && c->recent_done++ == 0)
			c->first_recent = a->time;
	} else {
		c->failed[k]++;
		c->failed_total++;
	}
	return 0;
}

/* Done, failed and still pending per bucket: pending at the end of a bucket
 * is what is pending now plus what was done after it. */
static json_t *campaign_series(const struct campaign *c, int64_t pending_now)
{
	json_t *arr = json_array();
	int64_t after = c->done_total;

	for (int k = 0; k < CAMPAIGN_BUCKETS; k++) {
		after -= c->done[k];
		json_array_append_new(arr, json_pack("{s:o, s:I, s:I, s:I}", "time",
						     json_time_utc(c->since + (k + 1) * c->bucket), "done",
						     (json_int_t)c->done[k], "failed", (json_int_t)c->failed[k],
						     "pending", (json_int_t)(pending_now + after)));
	}
	return arr;
}

static json_t *campaign_json(const struct campaign *c, const int64_t pending[3], const int64_t failing[3])
{
	int64_t total = pending[0] + pending[1] + pending[2];
	/* Completions per minute over the last 5 minutes, or since the first of
	 * them when the campaign is younger (at least CAMPAIGN_RATE_MIN s). */
	int64_t window = c->recent_done ? c->now - c->first_recent : CAMPAIGN_RATE_WINDOW;
	double rate = (double)c->recent_done * 60.0 / (double)(window < CAMPAIGN_RATE_MIN ? CAMPAIGN_RATE_MIN : window);
	json_t *eta = total && rate > 0 ? json_time_utc(c->now + (int64_t)((double)total * 60.0 / rate)) : json_null();

	return json_pack("{s:o, s:o, s:I, s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:I, s:f, s:o, s:o}", "since",
			 json_time_utc(c->since), "now", json_time_utc(c->now), "bucket_seconds", (json_int_t)c->bucket,
			 "pending", "install", (json_int_t)pending[0], "delete", (json_int_t)pending[1], "troubleshoot",
			 (json_int_t)pending[2], "total", (json_int_t)total, "pending_failing",
			 (json_int_t)(failing[0] + failing[1] + failing[2]), "done", (json_int_t)c->done_total, "failed",
			 (json_int_t)c->failed_total, "rate_per_minute", rate, "eta", eta, "series",
			 campaign_series(c, total));
}

static int keep_time(const struct audit_entry *a, void *arg)
{
	*(int64_t *)arg = a->time;
	return 1;
}

/* since=last-schedule: from the newest scheduling (audit "phone.op": a bulk
 * schedule, a rollover, one phone) of the last week, at least a minute
 * back; an hour when there was none. Else a time or an age. -1: bad text. */
static int campaign_since(struct store *st, const char *text, int64_t now, int64_t *since)
{
	struct audit_filter af = { .action_prefix = "phone.op", .since = now - 7 * 86400, .limit = 1 };
	int64_t t = 0;

	if (strcmp(text, "last-schedule") != 0)
		return parse_time_or_age(text, since) < 0 || *since >= now ? -1 : 0;
	if (store_audit_select(st, &af, keep_time, &t) < 0)
		t = 0;
	*since = !t ? now - 3600 : t - 5 < now - 60 ? t - 5 : now - 60;
	return 0;
}

void api_stats_campaign(struct api_req *r)
{
	struct campaign *c = calloc(1, sizeof *c);
	struct audit_filter af = { .action_prefix = "capf.", .oldest_first = 1 };
	const char *since = api_query(r, "since");
	int64_t pending[3], failing[3];

	if (!c) {
		api_reply_error(r, 500, "out of memory");
		return;
	}
	c->now = now_utc();
	if (campaign_since(r->st, since ? since : "1h", c->now, &c->since) < 0) {
		api_reply_error(r, 400, "query parameter since: expected \"YYYY-MM-DD[ HH:MM]\" (UTC, in the past), "
			"an age such as 30m, or last-schedule");
		free(c);
		return;
	}
	c->bucket = (c->now - c->since + CAMPAIGN_BUCKETS - 1) / CAMPAIGN_BUCKETS;
	af.since = c->since;
	if (api_ops_counts(r->st, pending, failing) < 0 || store_audit_select(r->st, &af, campaign_row, c) != 0)
		api_reply_store_error(r, "cannot read the operations");
	else
		api_reply_json(r, 200, campaign_json(c, pending, failing));
	free(c);
}

/* ---- request rates ---- */

static json_t *rate_array(enum metrics_rate kind, int64_t now, int n)
{
	unsigned counts[3600 / METRICS_RATE_SLOT];
	json_t *arr = json_array();

	n = metrics_rate_series(kind, now, counts, n);
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_integer(counts[i]));
	return arr;
}

void api_stats_rates(struct api_req *r)
{
	int64_t minutes, now = now_utc();
	int n;

	if (api_query_int(r, "minutes", 1, 60, 15, &minutes) < 0)
		return;
	n = (int)(minutes * 60 / METRICS_RATE_SLOT);
	api_reply_json(r, 200, json_pack("{s:i, s:o, s:o, s:o}", "slot_seconds", METRICS_RATE_SLOT, "end",
					 json_time_utc(now - now % METRICS_RATE_SLOT + METRICS_RATE_SLOT), "capf",
					 rate_array(METRICS_RATE_CAPF, now, n), "tvs", rate_array(METRICS_RATE_TVS, now, n)));
}
