/*
 * report.c: the CAPF report in one place (report.h): one walk over the
 * selected phones gives the rows and the summary together, so the CLI's
 * table, CSV and JSON and the API's report and dashboard count the same.
 *
 * The unconfirmed LSCs are read first (few: a session cut off after its LSC
 * left) and counted against the phones as they pass.
 */
#include "admin/report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct names {
	char (*name)[64];
	size_t n, cap;
};

struct walk {
	struct admin_report_summary *sum;
	struct names unconfirmed;
	admin_report_fn fn;
	void *arg;
};

const char *admin_report_lsc_text(enum lsc_state s)
{
	switch (s) {
	case LSC_INSTALLED: return "installed";
	case LSC_EXPIRING: return "expiring";
	case LSC_EXPIRED: return "expired";
	default: return "none";
	}
}

static int add_unconfirmed(const struct cert_row *r, void *arg)
{
	struct names *u = arg;

	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 16;
		void *p = realloc(u->name, cap * sizeof u->name[0]);
		if (!p)
			return -1;
		u->name = p;
		u->cap = cap;
	}
	snprintf(u->name[u->n++], sizeof u->name[0], "%s", r->phone);
	return 0;
}

static int64_t unconfirmed_of(const struct names *u, const char *phone)
{
	int64_t n = 0;

	for (size_t i = 0; i < u->n; i++)
		n += !strcmp(u->name[i], phone);
	return n;
}

/* "failed" anywhere in the status, any case: the status filter's rule. */
static int status_failed(const char *s)
{
	static const char w[] = "failed";

	for (; *s; s++) {
		size_t i = 0;
		while (w[i] && tolower((unsigned char)s[i]) == w[i])
			i++;
		if (!w[i])
			return 1;
	}
	return 0;
}

static enum lsc_state lsc_of(const struct admin_report_summary *sum, const struct phone_cert_brief *c)
{
	if (!c->present)
		return LSC_NONE;
	if (c->not_after < sum->now)
		return LSC_EXPIRED;
	if (c->not_after < sum->now + (int64_t)sum->expiring_days * 86400)
		return LSC_EXPIRING;
	return LSC_INSTALLED;
}

static void tally(struct admin_report_summary *sum, const struct phone_row *row, enum lsc_state s)
{
	sum->total++;
	if (s == LSC_NONE)
		sum->none++;
	else if (s == LSC_EXPIRED)
		sum->expired++;
	else
		sum->installed++;
	sum->expiring += s == LSC_EXPIRING;
	sum->pending += row->phone.op != OP_NONE;
	sum->install += row->phone.op == OP_INSTALL;
	sum->delete_ += row->phone.op == OP_DELETE;
	sum->troubleshoot += row->phone.op == OP_TROUBLESHOOT;
	sum->failed += status_failed(row->phone.status);
}

static int walk_row(const struct phone_row *row, void *arg)
{
	struct walk *w = arg;
	struct admin_report_row r = { row, lsc_of(w->sum, &row->lsc) };

	tally(w->sum, row, r.lsc_state);
	w->sum->unconfirmed += unconfirmed_of(&w->unconfirmed, row->phone.name);
	return w->fn ? w->fn(&r, w->arg) : 0;
}

int admin_report_each(struct store *st, const struct phone_filter *f, admin_report_fn fn, void *arg,
		      struct admin_report_summary *sum)
{
	struct walk w = { sum, { NULL, 0, 0 }, fn, arg };
	struct phone_filter g = *f;
	int rc;

	memset(sum, 0, sizeof *sum);
	sum->now = f->now ? f->now : now_utc();
	sum->expiring_days = f->expiring_days > 0 ? f->expiring_days : PHONE_FILTER_DEFAULT_EXPIRING_DAYS;
	g.now = sum->now;
	rc = store_unconfirmed_each(st, NULL, add_unconfirmed, &w.unconfirmed);
	if (rc == 0)
		rc = store_phone_select(st, &g, walk_row, &w);
	free(w.unconfirmed.name);
	return rc;
}

int admin_report_summary(struct store *st, const struct phone_filter *f, struct admin_report_summary *sum)
{
	return admin_report_each(st, f, NULL, NULL, sum);
}
