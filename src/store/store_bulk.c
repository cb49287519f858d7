/*
 * store_bulk.c: the bulk writer (store_search.h) for imports and generated
 * authentication strings: thousands of phones read and written in one
 * transaction, with statements prepared once.
 *
 * Invariants:
 *  - store_bulk_begin opens the transaction itself (BEGIN IMMEDIATE) and
 *    refuses to start inside one; store_bulk_end commits only when no call
 *    failed, and rolls back otherwise.
 *  - Phone rows go through the one phone row codec (store_phone_row.c) and
 *    its statements, as store_phone.c's do.
 *  - The bindings of the insert and update statements are cleared after
 *    each row, so no copy of an authentication string stays in them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

struct store_bulk {
	struct store *st;
	struct store_stmt *get, *ins, *upd, *aud;
	int failed;
};

/* The writer's statements, each prepared once; 0 or -1 (error set). */
static int bulk_prepare(struct store_bulk *b)
{
	struct store *st = b->st;

	b->get = store_prepare(st, STORE_PHONE_SQL_GET);
	b->ins = b->get ? store_prepare(st, STORE_PHONE_SQL_INSERT) : NULL;
	b->upd = b->ins ? store_prepare(st, STORE_PHONE_SQL_UPDATE) : NULL;
	b->aud = b->upd ? store_prepare(st, STORE_AUDIT_SQL_INSERT) : NULL;
	return b->aud ? 0 : -1;
}

int store_bulk_begin(struct store *st, struct store_bulk **out)
{
	struct store_bulk *b;

	*out = NULL;
	if (store_in_tx(st))
		return store_fail(st, "a transaction is already open on this connection");
	b = calloc(1, sizeof *b);
	if (!b)
		return store_fail(st, "out of memory");
	b->st = st;
	if (store_exec(st, "BEGIN IMMEDIATE", "cannot start a transaction") < 0) {
		free(b);
		return -1;
	}
	if (bulk_prepare(b) < 0) {
		char keep[sizeof st->err];
		memcpy(keep, st->err, sizeof keep);
		b->failed = 1;
		store_bulk_end(b, 0);
		memcpy(st->err, keep, sizeof keep);
		return -1;
	}
	*out = b;
	return 0;
}

int store_bulk_get(struct store_bulk *b, const char *name, struct phone *out)
{
	int rc;

	stmt_reset(b->get);
	store_bind_text(b->get, 1, name);
	rc = stmt_step(b->get);
	if (rc == STORE_ROW)
		rc = store_phone_read(b->st, b->get, out);
	else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(b->st, "cannot read the phone");
	stmt_reset(b->get);
	if (rc < 0)
		b->failed = 1;
	return rc;
}

int store_bulk_insert(struct store_bulk *b, const struct phone *p)
{
	int64_t now = now_utc();
	int rc;

	if (!p->name[0]) {
		b->failed = 1;
		return store_fail(b->st, "a phone needs a name");
	}
	stmt_reset(b->ins);
	store_phone_bind(b->ins, p, p->created ? p->created : now, now);
	rc = stmt_step(b->ins);
	if (rc != STORE_DONE) {
		if (rc == STORE_CONSTRAINT_PK)
			store_fail(b->st, "phone %s already exists", p->name);
		else
			store_sqlfail(b->st, "cannot add the phone");
		b->failed = 1;
	}
	stmt_reset(b->ins);
	/* Bound copies of the auth string stay in the statement until rebound:
	 * clear them. */
	stmt_clear_bindings(b->ins);
	return rc == STORE_DONE ? 0 : -1;
}

int store_bulk_update(struct store_bulk *b, const struct phone *p)
{
	int rc;

	stmt_reset(b->upd);
	store_phone_bind(b->upd, p, 0, now_utc());
	rc = stmt_step(b->upd);
	if (rc != STORE_DONE)
		store_sqlfail(b->st, "cannot update the phone");
	else if (store_changes(b->st) == 0) {
		store_fail(b->st, "no phone named %s", p->name);
		rc = STORE_ERROR;
	}
	stmt_reset(b->upd);
	stmt_clear_bindings(b->upd);
	if (rc != STORE_DONE) {
		b->failed = 1;
		return -1;
	}
	return 0;
}

int store_bulk_audit(struct store_bulk *b, const char *actor, const char *action, const char *object,
		     const char *detail)
{
	int rc;

	if (!actor || !actor[0] || !action || !action[0]) {
		b->failed = 1;
		return store_fail(b->st, "an audit entry needs an actor and an action");
	}
	stmt_reset(b->aud);
	stmt_bind_int64(b->aud, 1, now_utc());
	store_bind_text(b->aud, 2, actor);
	store_bind_text(b->aud, 3, action);
	store_bind_text(b->aud, 4, object);
	store_bind_text(b->aud, 5, detail);
	rc = stmt_step(b->aud);
	if (rc != STORE_DONE) {
		store_sqlfail(b->st, "cannot write the audit log");
		b->failed = 1;
	}
	stmt_reset(b->aud);
	return rc == STORE_DONE ? 0 : -1;
}

int store_bulk_end(struct store_bulk *b, int commit)
{
	struct store *st;
	int rc = -1;

	if (!b)
		return -1;
	st = b->st;
	store_finish(st, b->get);
	store_finish(st, b->ins);
	store_finish(st, b->upd);
	store_finish(st, b->aud);
	if (commit && !b->failed && store_exec(st, "COMMIT", "cannot commit") == 0)
		rc = 0;
	else
		store_rollback(st);
	free(b);
	return rc;
}
