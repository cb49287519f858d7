/*
 * api_misc.c: health (open to all), the dashboard's numbers, the CAPF
 * report, the audit log, and the Prometheus metrics (with the operations
 * pending and failing by kind, and the build).
 *
 * The numbers come from the administration core's report (admin/report.h),
 * the one computation behind the dashboard, this report and `opencapf
 * report`: the report's summary counts the phones its filter selects, the
 * dashboard's every phone.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "admin/audit_json.h"
#include "admin/phone_json.h"
#include "admin/report.h"
#include "api/api_input.h"
#include "api/api_internal.h"
#include "capf/ca.h"
#include "common/json_util.h"
#include "common/util.h"
#include "net/metrics.h"
#include "store/store_search.h"

#define RECENT_FAILURES 10
#define AUDIT_DEFAULT_LIMIT 100

/* Below this much free space in the state's file system no LSC can be
 * recorded for long (each is a few KiB with its WAL frames). */
#define HEALTH_DISK_MIN_FREE (1024 * 1024)

void api_health(struct api_req *r)
{
	struct statvfs fs;
	char v[64];
	int db = store_setting_get(r->st, "lsc_days", v, sizeof v) >= 0;
	int64_t free_bytes = statvfs(store_dir(r->st), &fs) == 0 ? (int64_t)fs.f_bavail * (int64_t)fs.f_frsize : -1;
	int disk = free_bytes < 0 || free_bytes >= HEALTH_DISK_MIN_FREE;

	api_reply_json(r, db && disk ? 200 : 503,
		       json_pack("{s:s, s:s, s:s, s:I}", "status", db && disk ? "ok" : "degraded", "database",
				 db ? "ok" : "unavailable", "disk", disk ? "ok" : "full", "disk_free_bytes",
				 (json_int_t)free_bytes));
}

/* ---- counts ---- */

static json_t *lsc_counts(const struct admin_report_summary *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "total", (json_int_t)s->total, "none",
			 (json_int_t)s->none, "installed", (json_int_t)s->installed, "expired",
			 (json_int_t)s->expired, "expiring", (json_int_t)s->expiring, "unconfirmed",
			 (json_int_t)s->unconfirmed);
}

static json_t *op_counts(const struct admin_report_summary *s)
{
	return json_pack("{s:I, s:I, s:I}", "install", (json_int_t)s->install, "delete", (json_int_t)s->delete_,
			 "troubleshoot", (json_int_t)s->troubleshoot);
}

static int add_failure(const struct phone_row *row, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:o}", "name", row->phone.name, "status",
					     row->phone.status, "operation", capf_op_name(row->phone.op),
					     "last_contact", json_time_utc(row->phone.last_contact)));
	return json_array_size(arg) >= RECENT_FAILURES;
}

static json_t *capf_summary(struct store *st)
{
	struct pki_cert_info info;
	char err[ERRLEN];
	X509 *cert;

	if (capf_ca_load(st, &cert, NULL, err, sizeof err) < 0)
		return json_null();
	pki_cert_info(cert, &info);
	X509_free(cert);
	return json_pack("{s:s, s:o, s:I, s:I, s:s}", "cn", info.cn, "not_after", json_time_utc(info.not_after),
			 "not_after_unix", (json_int_t)info.not_after, "days_left",
			 (json_int_t)((info.not_after - now_utc()) / 86400), "sha256", info.sha256);
}

void api_dashboard(struct api_req *r)
{
	struct admin_report_summary sum;
	struct phone_filter f;
	json_t *failures = json_array();

	phone_filter_init(&f);
	if (admin_report_summary(r->st, &f, &sum) != 0) {
		json_decref(failures);
		api_reply_store_error(r, "cannot read the phones");
		return;
	}
	f.status = "Failed";
	if (store_phone_select(r->st, &f, add_failure, failures) < 0) {
		json_decref(failures);
		api_reply_store_error(r, "cannot read the phones");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o, s:o, s:I, s:o, s:o}", "lsc", lsc_counts(&sum), "operations",
					 op_counts(&sum), "failed", (json_int_t)sum.failed, "recent_failures", failures,
					 "capf", capf_summary(r->st)));
}

/* ---- the CAPF report ---- */

static int report_row(const struct admin_report_row *ar, void *arg)
{
	json_array_append_new(arg, phone_row_json(ar->row));
	return 0;
}

void api_report(struct api_req *r)
{
	struct admin_report_summary sum;
	struct api_filter f;
	json_t *q = json_object(), *rows;
	struct evkeyval *kv;
	char err[ERRLEN];
	int rc;

	TAILQ_FOREACH(kv, &r->query, next)
		json_object_set_new(q, kv->key, json_string(kv->value));
	rc = api_input_filter(q, &f, err, sizeof err); /* f points into q */
	if (rc < 0) {
		json_decref(q);
		api_reply_error(r, 400, "%s", err);
		return;
	}
	rows = json_array();
	if (admin_report_each(r->st, &f.f, report_row, rows, &sum) != 0) {
		json_decref(rows);
		api_reply_store_error(r, "cannot make the report");
	} else
		api_reply_json(r, 200, json_pack("{s:o, s:o, s:o, s:o}", "summary", lsc_counts(&sum), "operations",
						 op_counts(&sum), "capf", capf_summary(r->st), "phones", rows));
	api_filter_free(&f);
	json_decref(q);
}

/* ---- audit ---- */

static int add_audit(const struct audit_entry *e, void *arg)
{
	return json_array_append_new(arg, admin_audit_json(e)) == 0 ? 0 : -1;
}

static int query_time(struct api_req *r, const char *name, int64_t *out)
{
	const char *v = api_query(r, name);

	*out = 0;
	if (v && parse_time_or_age(v, out) < 0) {
		api_reply_error(r, 400, "query parameter %s: expected \"YYYY-MM-DD[ HH:MM]\" (UTC) or an age such as 7d",
				name);
		return -1;
	}
	return 0;
}

void api_audit_list(struct api_req *r)
{
	struct audit_filter f = { 0 };
	int64_t limit;
	json_t *arr;

	if (api_query_int(r, "limit", 1, 100000, AUDIT_DEFAULT_LIMIT, &limit) < 0 ||
	    api_query_bool(r, "oldest_first", &f.oldest_first) < 0 || query_time(r, "since", &f.since) < 0 ||
	    query_time(r, "until", &f.until) < 0)
		return;
	f.actor = api_query(r, "actor");
	f.action_prefix = api_query(r, "action");
	f.object = api_query(r, "object");
	f.limit = (int)limit;
	arr = json_array();
	if (store_audit_select(r->st, &f, add_audit, arr) != 0) {
		json_decref(arr);
		api_reply_store_error(r, "cannot read the audit log");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o}", "entries", arr));
}

/* ---- metrics ---- */

static void put_str(struct buf *out, const char *s)
{
	buf_put(out, s, strlen(s));
}

static int trust_size(const char *name, const char *desc, void *arg)
{
	void **a = arg;
	char line[256];
	int n;

	(void)desc;
	if (strpbrk(name, "\"\\\n")) /* not a valid label value as is: leave it out */
		return 0;
	n = store_trust_count(a[0], name);
	snprintf(line, sizeof line, "opencapf_trust_store_certificates{store=\"%s\"} %d\n", name, n);
	put_str(a[1], line);
	return 0;
}

static void state_metrics(struct store *st, struct buf *out)
{
	static const char *const names[] = { "none", "installed", "expired", "expiring" };
	struct admin_report_summary sum;
	struct phone_filter f;
	void *arg[2] = { st, out };
	json_t *capf = capf_summary(st);
	char line[256];

	put_str(out, "# HELP opencapf_trust_store_certificates Certificates in each trust store.\n"
		     "# TYPE opencapf_trust_store_certificates gauge\n");
	store_trust_names(st, trust_size, arg);
	put_str(out, "# HELP opencapf_phones Phones by LSC state.\n# TYPE opencapf_phones gauge\n");
	phone_filter_init(&f);
	if (admin_report_summary(st, &f, &sum) != 0)
		memset(&sum, 0xff, sizeof sum); /* -1 everywhere: unknown */
	for (int i = 0; i < 4; i++) {
		const int64_t n[] = { sum.none, sum.installed, sum.expired, sum.expiring };
		snprintf(line, sizeof line, "opencapf_phones{lsc=\"%s\"} %lld\n", names[i], (long long)n[i]);
		put_str(out, line);
	}
	if (json_is_object(capf)) {
		snprintf(line, sizeof line, "# HELP opencapf_capf_not_after_seconds When the current CAPF "
			 "certificate expires (Unix time).\n# TYPE opencapf_capf_not_after_seconds gauge\n"
			 "opencapf_capf_not_after_seconds %lld\n",
			 (long long)json_integer_value(json_object_get(capf, "not_after_unix")));
		put_str(out, line);
	}
	json_decref(capf);
}

/* Pending operations by kind, the failing part of them, and the build. */
static void ops_metrics(struct store *st, struct buf *out)
{
	static const char *const ops[3] = { "install", "delete", "troubleshoot" };
	int64_t pending[3], failed[3];
	char line[160];

	if (api_ops_counts(st, pending, failed) == 0) {
		put_str(out, "# HELP opencapf_operations_pending Phones with a pending CAPF operation, by kind.\n"
			     "# TYPE opencapf_operations_pending gauge\n");
		for (int i = 0; i < 3; i++) {
			snprintf(line, sizeof line, "opencapf_operations_pending{operation=\"%s\"} %lld\n", ops[i],
				 (long long)pending[i]);
			put_str(out, line);
		}
		put_str(out, "# HELP opencapf_operations_failed Phones with a pending CAPF operation whose last "
			     "attempt failed, by kind.\n# TYPE opencapf_operations_failed gauge\n");
		for (int i = 0; i < 3; i++) {
			snprintf(line, sizeof line, "opencapf_operations_failed{operation=\"%s\"} %lld\n", ops[i],
				 (long long)failed[i]);
			put_str(out, line);
		}
	}
	put_str(out, "# HELP opencapf_build_info The running opencapfd's version.\n# TYPE opencapf_build_info gauge\n"
		     "opencapf_build_info{version=\"" OPENCAPF_VERSION "\"} 1\n");
}

void api_metrics(struct api_req *r)
{
	struct buf out;

	buf_init(&out);
	metrics_render(&out);
	state_metrics(r->st, &out);
	ops_metrics(r->st, &out);
	if (out.failed)
		api_reply_error(r, 500, "out of memory");
	else
		api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
	buf_free(&out);
}
