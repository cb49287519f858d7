/*
 * store_register.c: the registration check's log (store_register.h).
 *
 * Append-only from the daemon's side; every REGISTER_PRUNE_EVERY-th insert
 * also drops rows beyond the newest REGISTER_LOG_KEEP, so a cluster that
 * registers all day keeps a bounded table without a separate job.
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

static int prune(struct store *st, int64_t last_id)
{
	sqlite3_stmt *s;

	if (last_id % REGISTER_PRUNE_EVERY != 0)
		return 0;
	s = store_prepare(st, "DELETE FROM register_log WHERE id <= ?1");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, last_id - REGISTER_LOG_KEEP);
	return store_run(st, s, "cannot prune the registration log");
}

int store_register_add(struct store *st, const struct register_row *r)
{
	sqlite3_stmt *s;

	if (!one_of(r->cert_kind, kinds) || !one_of(r->result, results))
		return store_fail(st, "registration record with kind '%s' and result '%s'", r->cert_kind, r->result);
	s = store_prepare(st, "INSERT INTO register_log (time, peer, phone, cert_kind, rule, subject, issuer, "
			      "serial, sha256, result, alert, reason, tls_version, cipher) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->time ? r->time : now_utc());
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
	return prune(st, sqlite3_last_insert_rowid(st->db));
}

static void read_row(sqlite3_stmt *s, struct register_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(s, 0);
	r->time = sqlite3_column_int64(s, 1);
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
}

#define REGISTER_COLUMNS "id, time, peer, phone, cert_kind, rule, subject, issuer, serial, sha256, result, " \
			 "alert, reason, tls_version, cipher"

int store_register_each(struct store *st, const char *phone, int limit,
			int (*fn)(const struct register_row *r, void *arg), void *arg)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT " REGISTER_COLUMNS " FROM register_log "
					    "WHERE ?1 = '' OR phone = ?1 ORDER BY id DESC LIMIT ?2");
	struct register_row r;
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	sqlite3_bind_int64(s, 2, limit > 0 ? limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		read_row(s, &r);
		if (fn && (rc = fn(&r, arg)) != 0) {
			store_finish(st, s);
			return rc;
		}
	}
	if (rc != SQLITE_DONE) {
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
