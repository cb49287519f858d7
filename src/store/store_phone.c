/*
 * store_phone.c: phones (their CAPF settings and operation state) and the
 * history of CAPF sessions about each of them.
 *
 * Invariants:
 *  - The phone name is the key; there is no rename (delete and add).
 *  - `created` is written once, on insert; every later write of the row
 *    sets `updated` to the time of the write.
 *  - Deleting a phone deletes its history and its current-certificate
 *    pointers (ON DELETE CASCADE) but never the issued_certs rows.
 *  - Rows handed to callbacks live on the stack of the iterator: they are
 *    valid only during the call.
 *  - Whole rows are read and written by the codec of store_phone_row.c.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

void phone_defaults(struct phone *p, const char *name)
{
	memset(p, 0, sizeof *p);
	if (name)
		snprintf(p->name, sizeof p->name, "%s", name);
	p->auth = AUTH_NULL;
	p->key_order = KEY_ORDER_RSA;
	p->rsa_bits = 2048;
	p->ec_bits = 256;
	p->op = OP_NONE;
}

int store_phone_insert(struct store *st, const struct phone *p)
{
	struct store_stmt *s;
	int64_t now = now_utc(), created = p->created ? p->created : now;
	int rc;

	if (!p->name[0])
		return store_fail(st, "a phone needs a name");
	s = store_prepare(st, STORE_PHONE_SQL_INSERT);
	if (!s)
		return -1;
	store_phone_bind(s, p, created, p->updated ? p->updated : created);
	rc = stmt_step(s);
	if (rc == STORE_CONSTRAINT_PK) {
		store_finish(st, s);
		return store_fail(st, "phone %s already exists", p->name);
	}
	if (rc != STORE_DONE) {
		store_sqlfail(st, "cannot add the phone");
		store_finish(st, s);
		return -1;
	}
	store_finish(st, s);
	return 0;
}

int store_phone_write(struct store *st, const struct phone *p)
{
	struct store_stmt *s = store_prepare(st, STORE_PHONE_SQL_UPDATE);

	if (!s)
		return -1;
	store_phone_bind(s, p, 0, now_utc());
	if (store_run(st, s, "cannot update the phone") < 0)
		return -1;
	if (store_changes(st) == 0)
		return store_fail(st, "no phone named %s", p->name);
	return 0;
}

int store_phone_update(struct store *st, const struct phone *p)
{
	return store_phone_write(st, p);
}

int store_phone_get(struct store *st, const char *name, struct phone *out)
{
	struct store_stmt *s = store_prepare(st, STORE_PHONE_SQL_GET);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		rc = store_phone_read(st, s, out);
	else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot read the phone");
	store_finish(st, s);
	return rc;
}

int store_phone_delete(struct store *st, const char *name)
{
	struct store_stmt *s = store_prepare(st, "DELETE FROM phones WHERE name = ?1");

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	if (store_run(st, s, "cannot delete the phone") < 0)
		return -1;
	return store_changes(st) ? 0 : 1;
}

int store_phone_each(struct store *st, int (*fn)(const struct phone *p, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, STORE_PHONE_SQL_EACH);
	struct phone p;
	int rc, stop = 0;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		if (store_phone_read(st, s, &p) < 0) {
			store_finish(st, s);
			return -1;
		}
		if (fn && (stop = fn(&p, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list phones");
	store_finish(st, s);
	return stop;
}

/* ---- history ---- */

static int is_success(const char *outcome)
{
	return !strcmp(outcome, STATUS_UPGRADE_SUCCESS) || !strcmp(outcome, STATUS_DELETE_SUCCESS) ||
	       !strcmp(outcome, STATUS_TROUBLESHOOT_SUCCESS);
}

/* The newest entry of this phone from this peer, if it is the same failure:
 * count it again. 1 coalesced, 0 not, -1 error. */
static int history_coalesce(struct store *st, const char *phone, const struct history_entry *h, int64_t when)
{
	struct store_stmt *s = store_prepare(st, "UPDATE phone_history SET count = count + 1, time = ?7 "
					    "WHERE id = (SELECT id FROM phone_history WHERE phone = ?1 AND peer = ?2 "
					    "ORDER BY id DESC LIMIT 1) "
					    "AND operation = ?3 AND auth_mode = ?4 AND outcome = ?5 AND reason = ?6");

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, h->peer);
	store_bind_text(s, 3, h->operation);
	store_bind_text(s, 4, h->auth_mode);
	store_bind_text(s, 5, h->outcome);
	store_bind_text(s, 6, h->reason);
	stmt_bind_int64(s, 7, when);
	if (store_run(st, s, "cannot record the attempt") < 0)
		return -1;
	return store_changes(st) > 0;
}

/* Keep the newest HISTORY_KEEP entries of the phone. */
static int history_prune(struct store *st, const char *phone)
{
	struct store_stmt *s = store_prepare(st, "DELETE FROM phone_history WHERE phone = ?1 AND id < "
					    "(SELECT id FROM phone_history WHERE phone = ?1 ORDER BY id DESC "
					    "LIMIT 1 OFFSET ?2)");

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	stmt_bind_int(s, 2, HISTORY_KEEP - 1);
	return store_run(st, s, "cannot prune the history");
}

static int history_insert(struct store *st, const char *phone, const struct history_entry *h, int64_t when)
{
	struct store_stmt *s = store_prepare(st, "INSERT INTO phone_history "
					    "(phone, time, peer, operation, auth_mode, outcome, reason, first_time) "
					    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?2)");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	stmt_bind_int64(s, 2, when);
	store_bind_text(s, 3, h->peer);
	store_bind_text(s, 4, h->operation);
	store_bind_text(s, 5, h->auth_mode);
	store_bind_text(s, 6, h->outcome);
	store_bind_text(s, 7, h->reason);
	rc = stmt_step(s);
	if (rc == STORE_CONSTRAINT_FK)
		store_fail(st, "no phone named %s", phone);
	else if (rc != STORE_DONE)
		store_sqlfail(st, "cannot record the attempt");
	store_finish(st, s);
	return rc == STORE_DONE ? 0 : -1;
}

static int history_add_locked(struct store *st, const char *phone, const struct history_entry *h)
{
	int64_t when = h->time ? h->time : now_utc();
	int rc;

	if (is_success(h->outcome))
		return history_insert(st, phone, h, when);
	rc = history_coalesce(st, phone, h, when);
	if (rc != 0)
		return rc;
	if (history_insert(st, phone, h, when) < 0 || history_prune(st, phone) < 0)
		return -1;
	return 0;
}

int store_history_add(struct store *st, const char *phone, const struct history_entry *h)
{
	struct store_tx tx;
	int rc;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = history_add_locked(st, phone, h);
	if (store_tx_close(st, &tx, rc < 0 ? -1 : 0) < 0)
		return -1;
	return rc;
}

int store_history_each(struct store *st, const char *phone, int limit,
		       int (*fn)(const struct history_entry *h, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT time, peer, operation, auth_mode, outcome, reason, count, "
					    "first_time FROM phone_history WHERE phone = ?1 "
					    "ORDER BY time DESC, id DESC LIMIT ?2");
	struct history_entry h;
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	stmt_bind_int(s, 2, limit > 0 ? limit : -1);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		memset(&h, 0, sizeof h);
		h.time = stmt_col_int64(s, 0);
		store_col_text(s, 1, h.peer, sizeof h.peer);
		store_col_text(s, 2, h.operation, sizeof h.operation);
		store_col_text(s, 3, h.auth_mode, sizeof h.auth_mode);
		store_col_text(s, 4, h.outcome, sizeof h.outcome);
		store_col_text(s, 5, h.reason, sizeof h.reason);
		h.count = stmt_col_int(s, 6);
		h.first_time = stmt_col_int64(s, 7);
		if (!h.first_time)
			h.first_time = h.time;
		if (fn && (stop = fn(&h, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot read the history");
	store_finish(st, s);
	return stop;
}
