/*
 * report.h: the CAPF report, computed once for `opencapf report` and the
 * API's GET /api/v1/report and dashboard: the phones a filter selects, each
 * with its LSC state, and one summary of the same selection. Nothing here
 * prints; the CLI formats the rows as a table, CSV or JSON, the API as JSON.
 *
 * The counts mean what docs/api.md and opencapf(1) say: "installed" is every
 * phone whose LSC has not expired (those "expiring" within the window
 * included), "expired" and "none" the rest; "unconfirmed" counts the LSCs
 * sent to the selected phones that they never confirmed storing.
 */
#ifndef OPENCAPF_ADMIN_REPORT_H
#define OPENCAPF_ADMIN_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_search.h"

struct admin_report_summary {
	int64_t now;              /* the reference time of the LSC states */
	int expiring_days;        /* the window of "expiring" */
	int64_t total;            /* phones selected */
	int64_t none, installed, expired, expiring; /* by LSC; installed includes expiring */
	int64_t unconfirmed;      /* LSCs delivered to them and never confirmed */
	int64_t pending;          /* phones with an operation scheduled */
	int64_t install, delete_, troubleshoot; /* ... by operation */
	int64_t failed;           /* phones whose status says "Failed" */
};

/* One row of the report: the phone and its LSC state (LSC_NONE,
 * LSC_INSTALLED, LSC_EXPIRING or LSC_EXPIRED). */
struct admin_report_row {
	const struct phone_row *row;
	enum lsc_state lsc_state;
};
typedef int (*admin_report_fn)(const struct admin_report_row *r, void *arg);

/* Every phone f selects, in name order, to fn (may be NULL), and the
 * summary of them in *sum. f->now (0: now) and f->expiring_days (<= 0: the
 * default) set the LSC states. Returns 0, fn's non-zero return as it
 * stopped the walk, or -1 on a store error (store_errmsg). */
int admin_report_each(struct store *st, const struct phone_filter *f, admin_report_fn fn, void *arg,
		      struct admin_report_summary *sum);
/* The summary alone (the dashboard's numbers: an empty filter). */
int admin_report_summary(struct store *st, const struct phone_filter *f, struct admin_report_summary *sum);

/* "none", "installed", "expiring" or "expired". */
const char *admin_report_lsc_text(enum lsc_state s);

#endif
