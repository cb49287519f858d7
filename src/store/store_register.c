/*
 * store_register.c: the registration check's log (store_register.h).
 *
 * Append-only from the daemon's side; every REGISTER_PRUNE_EVERY-th insert
 * also drops accepted rows beyond the newest REGISTER_LOG_KEEP and refusals
 * beyond the newest REGISTER_FAILED_KEEP, so a cluster that registers all day
 * keeps a bounded table without a separate job, and a flood of refused
 * connections (which anyone can cause) never pushes real registrations out.
 * A refusal identical to the newest row from the same peer is counted in
 * that row (count, first_time) instead of adding one.
 */
#include "store/store_register.h"

#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

#define REGISTER_PRUNE_EVERY 1000

static const char *const kinds[] = { "lsc", "mic", "unknown", "none", NULL };
static const char *const results[] = { "accepted", "refused", "failed", NULL };

static int one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return 1;
	return 0;
}

/* Rows of one class ("accepted" or the failures) beyond the newest `keep`. */
static int prune_class(struct store *st, int accepted, int keep)
{
	struct store_stmt *s = store_prepare(st, accepted
		? "DELETE FROM register_log WHERE result = 'accepted' AND id < (SELECT id FROM register_log "
		  "WHERE result = 'accepted' ORDER BY id DESC LIMIT 1 OFFSET ?1)"
		: "DELETE FROM register_log WHERE result IN ('refused', 'failed') AND id < (SELECT id FROM "
		  "register_log WHERE result IN ('refused', 'failed') ORDER BY id DESC LIMIT 1 OFFSET ?1)");

	if (!s)
		return -1;
	stmt_bind_int(s, 1, keep - 1);
	return store_run(st, s, "cannot prune the registration log");
}

static int prune(struct store *st, int64_t last_id)
{
	if (last_id % REGISTER_PRUNE_EVERY != 0)
		return 0;
	if (prune_class(st, 1, REGISTER_LOG_KEEP) < 0)
		return -1;
	return prune_class(st, 0, REGISTER_FAILED_KEEP);
}

/* A refusal identical to the newest row from the same peer is counted in
 * that row: 1 coalesced, 0 not, -1 error. */
static int coalesce(struct store *st, const struct register_row *r, int64_t when)
{
	struct store_stmt *s;

	if (strcmp(r->result, "accepted") == 0)
		return 0;
	s = store_prepare(st, "UPDATE register_log SET count = count + 1, time = ?1 WHERE id = "
			      "(SELECT id FROM register_log WHERE peer = ?2 ORDER BY id DESC LIMIT 1) "
			      "AND phone = ?3 AND cert_kind = ?4 AND rule = ?5 AND sha256 = ?6 AND result = ?7 "
			      "AND alert = ?8 AND reason = ?9");
	if (!s)
		return -1;
	stmt_bind_int64(s, 1, when);
	store_bind_text(s, 2, r->peer);
	store_bind_text(s, 3, r->phone);
	store_bind_text(s, 4, r->cert_kind);
	store_bind_text(s, 5, r->rule);
	store_bind_text(s, 6, r->sha256);
	store_bind_text(s, 7, r->result);
	store_bind_text(s, 8, r->alert);
	store_bind_text(s, 9, r->reason);
	if (store_run(st, s, "cannot record the registration") < 0)
		return -1;
	return store_changes(st) > 0;
}

static int register_add(struct store *st, const struct register_row *r)
{
	int64_t when = r->time ? r->time : now_utc();
	struct store_stmt *s;
	int rc;

	if (!one_of(r->cert_kind, kinds) || !one_of(r->result, results))
		return store_fail(st, "registration record with kind '%s' and result '%s'", r->cert_kind, r->result);
	if ((rc = coalesce(st, r, when)) != 0)
		return rc < 0 ? -1 : 0;
	s = store_prepare(st, "INSERT INTO register_log (time, peer, phone, cert_kind, rule, subject, issuer, "
			      "serial, sha256, result, alert, reason, tls_version, cipher, first_time) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?1)");
	if (!s)
		return -1;
	stmt_bind_int64(s, 1, when);
	store_bind_text(s, 2, r->peer);
	store_bind_text(s, 3, r->phone);
	store_bind_text(s, 4, r->cert_kind);
	store_bind_text(s, 5, r->rule);
	store_bind_text(s, 6, r->subject);
	store_bind_text(s, 7, r->issuer);
	store_bind_text(s, 8, r->serial);
	store_bind_text(s, 9, r->sha256);
	store_bind_text(s, 10, r->result);
	store_bind_text(s, 11, r->alert);
	store_bind_text(s, 12, r->reason);
	store_bind_text(s, 13, r->tls_version);
	store_bind_text(s, 14, r->cipher);
	if (store_run(st, s, "cannot record the registration") < 0)
		return -1;
	return prune(st, store_last_id(st));
}

int store_register_add(struct store *st, const struct register_row *r)
{
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, register_add(st, r));
}

static void read_row(struct store_stmt *s, struct register_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = stmt_col_int64(s, 0);
	r->time = stmt_col_int64(s, 1);
	store_col_text(s, 2, r->peer, sizeof r->peer);
	store_col_text(s, 3, r->phone, sizeof r->phone);
	store_col_text(s, 4, r->cert_kind, sizeof r->cert_kind);
	store_col_text(s, 5, r->rule, sizeof r->rule);
	store_col_text(s, 6, r->subject, sizeof r->subject);
	store_col_text(s, 7, r->issuer, sizeof r->issuer);
	store_col_text(s, 8, r->serial, sizeof r->serial);
	store_col_text(s, 9, r->sha256, sizeof r->sha256);
	store_col_text(s, 10, r->result, sizeof r->result);
	store_col_text(s, 11, r->alert, sizeof r->alert);
	store_col_text(s, 12, r->reason, sizeof r->reason);
	store_col_text(s, 13, r->tls_version, sizeof r->tls_version);
	store_col_text(s, 14, r->cipher, sizeof r->cipher);
	r->count = stmt_col_int(s, 15);
	r->first_time = stmt_col_int64(s, 16);
	if (!r->first_time)
		r->first_time = r->time;
}

#define REGISTER_COLUMNS "id, time, peer, phone, cert_kind, rule, subject, issuer, serial, sha256, result, " \
			 "alert, reason, tls_version, cipher, count, first_time"

int store_register_each(struct store *st, const char *phone, int limit,
			int (*fn)(const struct register_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT " REGISTER_COLUMNS " FROM register_log "
					    "WHERE ?1 = '' OR phone = ?1 ORDER BY id DESC LIMIT ?2");
	struct register_row r;
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	stmt_bind_int64(s, 2, limit > 0 ? limit : -1);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		read_row(s, &r);
		if (fn && (rc = fn(&r, arg)) != 0) {
			store_finish(st, s);
			return rc;
		}
	}
	if (rc != STORE_DONE) {
		store_sqlfail(st, "cannot read the registration log");
		store_finish(st, s);
		return -1;
	}
	store_finish(st, s);
	return 0;
}

static int take_first(const struct register_row *r, void *arg)
{
	*(struct register_row *)arg = *r;
	return 1;
}

int store_register_last(struct store *st, const char *phone, struct register_row *out)
{
	int rc = store_register_each(st, phone, 1, take_first, out);

	return rc == 1 ? 0 : rc == 0 ? 1 : -1;
}
