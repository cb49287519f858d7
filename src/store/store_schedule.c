/*
 * store_schedule.c: scheduling a CAPF operation on every phone a filter
 * selects (store_phone_schedule, store_search.h): one transaction, one
 * audit row per phone changed.
 *
 * Invariants:
 *  - The selection is read first (store_select.c) and written afterwards,
 *    inside one transaction, so the selection cannot change under it and a
 *    failure or an aborting callback leaves every phone as it was.
 *  - The audit rows written here carry the operation, deadline, status,
 *    filter and the caller's note: nothing that can hold an authentication
 *    string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

/* A selected phone's operation state before the change. */
struct sched_item {
	char name[64];
	enum capf_op op;
	int64_t deadline;
	char status[128];
};

struct sched_ctx {
	struct sched_item *items;
	size_t n, cap;
	phone_row_fn fn;
	void *arg;
	int oom;
};

/* What every selected phone gets, and the audit text shared by its rows. */
struct sched_plan {
	const char *status;
	int64_t now, deadline;
	char after[400], filter[300], note[300];
};

/* ---- collecting the selection ---- */

static int sched_grow(struct sched_ctx *c)
{
	size_t ncap = c->cap ? c->cap * 2 : 256;
	struct sched_item *ni = realloc(c->items, ncap * sizeof *ni);

	if (!ni) {
		c->oom = 1;
		return -1;
	}
	c->items = ni;
	c->cap = ncap;
	return 0;
}

static int sched_collect(const struct phone_row *r, void *arg)
{
	struct sched_ctx *c = arg;
	struct sched_item *it;
	int rc;

	if (c->fn && (rc = c->fn(r, c->arg)) != 0)
		return rc;
	if (c->n == c->cap && sched_grow(c) < 0)
		return -1;
	it = &c->items[c->n++];
	snprintf(it->name, sizeof it->name, "%s", r->phone.name);
	it->op = r->phone.op;
	it->deadline = r->phone.deadline;
	snprintf(it->status, sizeof it->status, "%s", r->phone.status);
	return 0;
}

static int dry_count(const struct phone_row *r, void *arg)
{
	struct sched_ctx *c = arg;
	int rc;

	if (c->fn && (rc = c->fn(r, c->arg)) != 0)
		return rc;
	c->n++;
	return 0;
}

/* ---- writing ---- */

/* {"operation":"install","deadline":"2026-.. UTC","status":"Pending"} */
static void sched_state_json(char *out, size_t cap, enum capf_op op, int64_t deadline, const char *status)
{
	char t[40], dq[64], sq[300];

	if (deadline) {
		fmt_time_utc(deadline, t, sizeof t);
		store_json_str(dq, sizeof dq, t);
	} else
		snprintf(dq, sizeof dq, "null");
	store_json_str(sq, sizeof sq, status);
	snprintf(out, cap, "{\"operation\":\"%s\",\"deadline\":%s,\"status\":%s}", capf_op_name(op), dq, sq);
}

static void sched_plan(struct sched_plan *pl, const struct phone_schedule *ps, const char *filter_text)
{
	pl->status = ps->op == OP_NONE ? "" : STATUS_PENDING;
	pl->now = now_utc();
	pl->deadline = ps->op == OP_NONE ? 0 : ps->deadline;
	sched_state_json(pl->after, sizeof pl->after, ps->op, pl->deadline, pl->status);
	store_json_str(pl->filter, sizeof pl->filter, filter_text);
	store_json_str(pl->note, sizeof pl->note, ps->note ? ps->note : "");
}

/* The values every row shares are bound once. */
static void sched_bind(struct store_stmt *up, struct store_stmt *au, const struct sched_plan *pl,
		       const struct phone_schedule *ps)
{
	store_bind_text(up, 1, capf_op_name(ps->op));
	stmt_bind_int64(up, 2, pl->deadline);
	store_bind_text(up, 3, pl->status);
	stmt_bind_int64(up, 4, pl->now);
	stmt_bind_int64(au, 1, pl->now);
	store_bind_text(au, 2, ps->actor);
	store_bind_text(au, 3, ps->action && ps->action[0] ? ps->action : "phone.op");
}

/* One phone: its row updated, then its audit row. */
static int sched_write_one(struct store *st, struct store_stmt *up, struct store_stmt *au, const struct sched_item *it,
			   const struct sched_plan *pl, const struct phone_schedule *ps)
{
	char before[400], detail[1024];
	int has_note = ps->note && ps->note[0];
	int rc = 0;

	store_bind_text(up, 5, it->name);
	if (stmt_step(up) != STORE_DONE)
		rc = store_sqlfail(st, "cannot schedule the operation");
	stmt_reset(up);
	if (rc)
		return rc;
	sched_state_json(before, sizeof before, it->op, it->deadline, it->status);
	snprintf(detail, sizeof detail, "{\"before\":%s,\"after\":%s,\"filter\":%s%s%s}", before, pl->after,
		 pl->filter, has_note ? ",\"note\":" : "", has_note ? pl->note : "");
	store_bind_text(au, 4, it->name);
	store_bind_text(au, 5, detail);
	if (stmt_step(au) != STORE_DONE)
		rc = store_sqlfail(st, "cannot write the audit log");
	stmt_reset(au);
	return rc;
}

static int sched_write(struct store *st, const struct sched_ctx *c, const struct phone_schedule *ps,
		       const char *filter_text)
{
	struct store_stmt *up, *au;
	struct sched_plan pl;
	int rc = 0;

	up = store_prepare(st, "UPDATE phones SET operation = ?1, deadline = ?2, status = ?3, updated = ?4 "
			       "WHERE name = ?5");
	au = store_prepare(st, STORE_AUDIT_SQL_INSERT);
	if (!up || !au) {
		store_finish(st, up);
		store_finish(st, au);
		return -1;
	}
	sched_plan(&pl, ps, filter_text);
	sched_bind(up, au, &pl, ps);
	for (size_t i = 0; i < c->n && rc == 0; i++)
		rc = sched_write_one(st, up, au, &c->items[i], &pl, ps);
	store_finish(st, up);
	store_finish(st, au);
	return rc;
}

/* ---- the entry point ---- */

static int sched_check(struct store *st, const struct phone_filter *f, const struct phone_schedule *ps)
{
	if (!ps->actor || !ps->actor[0])
		return store_fail(st, "scheduling needs an actor for the audit log");
	if ((unsigned)ps->op > OP_TROUBLESHOOT)
		return store_fail(st, "unknown operation");
	if (ps->op != OP_NONE && ps->deadline <= 0)
		return store_fail(st, "an operation needs a deadline");
	if (phone_filter_is_empty(f) && !ps->all)
		return store_fail(st, "refusing to schedule on every phone without an explicit 'all'");
	return 0;
}

/* Select, then write, in one transaction; rolled back unless both went well. */
static int sched_run(struct store *st, const struct phone_filter *f, const struct phone_schedule *ps,
		     struct sched_ctx *c)
{
	struct store_tx tx;
	char filter_text[256];
	int rc;

	phone_filter_describe(f, filter_text, sizeof filter_text);
	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = store_phone_select(st, f, sched_collect, c);
	if (c->oom)
		rc = store_fail(st, "out of memory");
	if (rc == 0)
		rc = sched_write(st, c, ps, filter_text);
	if (store_tx_close(st, &tx, rc) < 0 && rc == 0)
		rc = -1;
	return rc;
}

int store_phone_schedule(struct store *st, const struct phone_filter *f, const struct phone_schedule *ps,
			 phone_row_fn fn, void *arg, size_t *count)
{
	struct sched_ctx c = { .fn = fn, .arg = arg };
	int rc;

	if (count)
		*count = 0;
	if (sched_check(st, f, ps) < 0)
		return -1;
	if (ps->dry_run) {
		rc = store_phone_select(st, f, dry_count, &c);
		if (count)
			*count = c.n;
		return rc;
	}
	rc = sched_run(st, f, ps, &c);
	if (rc == 0 && count)
		*count = c.n;
	free(c.items);
	return rc;
}
