/*
 * store_revoke.c: revocations of the LSCs we issued and the CRL number of
 * each CAPF certificate (store_revoke.h).
 *
 * A revocation row is inserted once and never changed (schema triggers);
 * revoking an already revoked certificate writes nothing and says so (1).
 * Every revocation appends the audit row "cert.revoke" in the same
 * transaction, whoever caused it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_revoke.h"

static const struct {
	int code;
	const char *name;
} reasons[] = {
	{ REVOKE_UNSPECIFIED, "unspecified" },
	{ REVOKE_KEY_COMPROMISE, "keyCompromise" },
	{ REVOKE_AFFILIATION_CHANGED, "affiliationChanged" },
	{ REVOKE_SUPERSEDED, "superseded" },
	{ REVOKE_CESSATION, "cessationOfOperation" },
};

const char *revoke_reason_name(int reason)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == reason)
			return reasons[i].name;
	return NULL;
}

int revoke_reason_parse(const char *s, int *reason)
{
	for (size_t i = 0; s && i < sizeof reasons / sizeof reasons[0]; i++) {
		if (strcmp(reasons[i].name, s) == 0) {
			*reason = reasons[i].code;
			return 0;
		}
	}
	return -1;
}

static int revoke_audit(struct store *st, const char *actor, const char *serial, const char *issuer_sha256,
			const char *phone, int reason)
{
	char ph[160], detail[512];

	store_json_str(ph, sizeof ph, phone ? phone : "");
	snprintf(detail, sizeof detail, "{\"phone\":%s,\"reason\":\"%s\",\"capf_sha256\":\"%s\"}", ph,
		 revoke_reason_name(reason), issuer_sha256);
	return store_audit(st, actor, "cert.revoke", serial, detail);
}

int store_revoke_locked(struct store *st, const char *actor, const char *serial, const char *issuer_sha256,
			const char *phone, int reason, int64_t when)
{
	struct store_stmt *s;

	if (!revoke_reason_name(reason))
		return store_fail(st, "revocation reason %d is not one opencapf uses", reason);
	if (!serial || !serial[0] || !issuer_sha256 || strlen(issuer_sha256) != 64)
		return store_fail(st, "a revocation needs the serial and the issuing CAPF certificate's SHA-256");
	s = store_prepare(st, "INSERT INTO revocations (serial, issuer_sha256, phone, time, reason) "
			      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (issuer_sha256, serial) DO NOTHING");
	if (!s)
		return -1;
	store_bind_text(s, 1, serial);
	store_bind_text(s, 2, issuer_sha256);
	store_bind_text(s, 3, phone);
	stmt_bind_int64(s, 4, when);
	stmt_bind_int(s, 5, reason);
	if (store_run(st, s, "cannot record the revocation") < 0)
		return -1;
	if (store_changes(st) == 0)
		return 1;
	return revoke_audit(st, actor, serial, issuer_sha256, phone, reason) < 0 ? -1 : 0;
}

int store_revoke(struct store *st, const char *actor, const char *serial, const char *issuer_sha256,
		 const char *phone, int reason, int64_t when)
{
	struct store_tx tx;
	int rc;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = store_revoke_locked(st, actor, serial, issuer_sha256, phone, reason, when);
	return store_tx_close(st, &tx, rc < 0 ? -1 : 0) < 0 ? -1 : rc;
}

/* The columns read_issued reads. */
#define ISSUED_COLUMNS "id, phone, serial, subject, issuer, not_before, not_after, sha256, issuer_sha256, time"

static void read_issued(struct store_stmt *s, struct cert_row *r)
{
	memset(r, 0, sizeof *r);
	r->id = stmt_col_int64(s, 0);
	store_col_text(s, 1, r->phone, sizeof r->phone);
	snprintf(r->kind, sizeof r->kind, "lsc");
	store_col_text(s, 2, r->serial, sizeof r->serial);
	store_col_text(s, 3, r->subject, sizeof r->subject);
	store_col_text(s, 4, r->issuer, sizeof r->issuer);
	r->not_before = stmt_col_int64(s, 5);
	r->not_after = stmt_col_int64(s, 6);
	store_col_text(s, 7, r->sha256, sizeof r->sha256);
	store_col_text(s, 8, r->issuer_sha256, sizeof r->issuer_sha256);
	r->time = stmt_col_int64(s, 9);
}

/* Rows of an issued_certs query into an array (so that revoking them
 * does not interleave with the reading statement). */
static int issued_collect(struct store *st, struct store_stmt *s, struct cert_row **rows, size_t *n)
{
	size_t cap = 0;
	int rc;

	*rows = NULL;
	*n = 0;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		if (*n == cap) {
			struct cert_row *m = realloc(*rows, (cap = cap ? cap * 2 : 8) * sizeof **rows);
			if (!m) {
				store_finish(st, s);
				return store_fail(st, "out of memory");
			}
			*rows = m;
		}
		read_issued(s, &(*rows)[(*n)++]);
	}
	store_finish(st, s);
	return rc == STORE_DONE ? 0 : store_fail(st, "cannot list issued certificates: %s", store_errstr(st, rc));
}

int store_revoke_phone_locked(struct store *st, const char *actor, const char *phone, int reason, int64_t when,
			      int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT " ISSUED_COLUMNS " FROM issued_certs i WHERE phone = ?1 "
					    "AND not_after > ?2 AND issuer_sha256 != '' AND NOT EXISTS "
					    "(SELECT 1 FROM revocations r WHERE r.issuer_sha256 = i.issuer_sha256 "
					    "AND r.serial = i.serial) ORDER BY id");
	struct cert_row *rows;
	size_t n;
	int count = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	stmt_bind_int64(s, 2, when);
	if (issued_collect(st, s, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = store_revoke_locked(st, actor, rows[i].serial, rows[i].issuer_sha256, phone, reason, when);
		if (rc < 0) {
			free(rows);
			return -1;
		}
		if (rc == 0) {
			count++;
			if (fn)
				fn(&rows[i], arg);
		}
	}
	free(rows);
	return count;
}

static void read_revocation(struct store_stmt *s, struct revocation *r)
{
	memset(r, 0, sizeof *r);
	r->id = stmt_col_int64(s, 0);
	store_col_text(s, 1, r->serial, sizeof r->serial);
	store_col_text(s, 2, r->issuer_sha256, sizeof r->issuer_sha256);
	store_col_text(s, 3, r->phone, sizeof r->phone);
	r->time = stmt_col_int64(s, 4);
	r->reason = stmt_col_int(s, 5);
}

#define REVOCATION_COLUMNS "SELECT id, serial, issuer_sha256, phone, time, reason FROM revocations "

int store_revocation_find(struct store *st, const char *issuer_sha256, const char *serial,
			  struct revocation *out)
{
	struct store_stmt *s = store_prepare(st, REVOCATION_COLUMNS "WHERE issuer_sha256 = ?1 AND serial = ?2");
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	store_bind_text(s, 1, issuer_sha256);
	store_bind_text(s, 2, serial);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		read_revocation(s, out);
	store_finish(st, s);
	if (rc == STORE_ROW)
		return 0;
	return rc == STORE_DONE ? 1 : store_fail(st, "cannot look up revocations: %s", store_errstr(st, rc));
}

int store_revocation_effective(struct store *st, const char *issuer_sha256, const char *serial, int64_t now,
			       struct revocation *out)
{
	int rc = store_revocation_find(st, issuer_sha256, serial, out);

	return rc == 0 && out->time > now ? 1 : rc;
}

int store_revocation_pending_due(struct store *st, const char *issuer_sha256, int64_t since, int64_t now)
{
	struct store_stmt *s = store_prepare(st, "SELECT EXISTS (SELECT 1 FROM revocations WHERE issuer_sha256 = ?1 "
					      "AND time > ?2 AND time <= ?3)");
	int rc, due = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, issuer_sha256);
	stmt_bind_int64(s, 2, since);
	stmt_bind_int64(s, 3, now);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		due = stmt_col_int64(s, 0) != 0;
	store_finish(st, s);
	return rc == STORE_ROW ? due : store_fail(st, "cannot look up revocations: %s", store_errstr(st, rc));
}

int store_revocations_each(struct store *st, const char *issuer_sha256,
			   int (*fn)(const struct revocation *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, REVOCATION_COLUMNS "WHERE ?1 = '' OR issuer_sha256 = ?1 ORDER BY id");
	struct revocation r;
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, issuer_sha256);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		read_revocation(s, &r);
		if (fn && (stop = fn(&r, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list revocations");
	store_finish(st, s);
	return stop;
}

/* One integer from a query with one text parameter. */
static int query_int64(struct store *st, const char *sql, const char *param, int64_t *out, const char *what)
{
	struct store_stmt *s = store_prepare(st, sql);
	int rc;

	*out = 0;
	if (!s)
		return -1;
	store_bind_text(s, 1, param);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		*out = stmt_col_int64(s, 0);
	store_finish(st, s);
	return rc == STORE_ROW || rc == STORE_DONE ? 0 : store_fail(st, "%s: %s", what, store_errstr(st, rc));
}

int store_revocation_last_id(struct store *st, const char *issuer_sha256, int64_t *id)
{
	return query_int64(st, "SELECT coalesce(max(id), 0) FROM revocations WHERE issuer_sha256 = ?1",
			   issuer_sha256, id, "cannot read the newest revocation");
}

int store_capf_has_issued(struct store *st, const char *capf_sha256)
{
	int64_t n;

	if (query_int64(st, "SELECT EXISTS (SELECT 1 FROM issued_certs WHERE issuer_sha256 = ?1)", capf_sha256, &n,
			"cannot look up issued certificates") < 0)
		return -1;
	return n != 0;
}

int store_issued_by_serial(struct store *st, const char *issuer_sha256, const char *serial, struct cert_row *out)
{
	struct store_stmt *s = store_prepare(st, "SELECT " ISSUED_COLUMNS " FROM issued_certs "
					    "WHERE serial = ?1 AND issuer_sha256 = ?2 ORDER BY id LIMIT 1");
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	store_bind_text(s, 1, serial);
	store_bind_text(s, 2, issuer_sha256);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		read_issued(s, out);
	store_finish(st, s);
	if (rc == STORE_ROW)
		return 0;
	return rc == STORE_DONE ? 1 : store_fail(st, "cannot look up issued certificates: %s", store_errstr(st, rc));
}

int store_issued_serial_each(struct store *st, const char *serial,
			     int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT " ISSUED_COLUMNS " FROM issued_certs WHERE serial = ?1 ORDER BY id");
	struct cert_row *rows;
	size_t n;
	int stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, serial);
	if (issued_collect(st, s, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !stop; i++)
		stop = fn ? fn(&rows[i], arg) : 0;
	free(rows);
	return stop;
}

int store_crl_state(struct store *st, const char *capf_sha256, struct crl_state *out)
{
	struct store_stmt *s = store_prepare(st, "SELECT number, last_revocation, this_update, next_update "
					    "FROM crl_state WHERE capf_sha256 = ?1");
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	store_bind_text(s, 1, capf_sha256);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		out->number = stmt_col_int64(s, 0);
		out->last_revocation = stmt_col_int64(s, 1);
		out->this_update = stmt_col_int64(s, 2);
		out->next_update = stmt_col_int64(s, 3);
	}
	store_finish(st, s);
	return rc == STORE_ROW || rc == STORE_DONE ? 0 : store_fail(st, "cannot read the CRL state: %s",
								      store_errstr(st, rc));
}

int store_crl_next(struct store *st, const char *capf_sha256, int64_t last_revocation, int64_t this_update,
		   int64_t next_update, int64_t *number)
{
	struct store_stmt *s = store_prepare(st, "INSERT INTO crl_state (capf_sha256, number, last_revocation, "
					    "this_update, next_update) VALUES (?1, 1, ?2, ?3, ?4) "
					    "ON CONFLICT (capf_sha256) DO UPDATE SET number = crl_state.number + 1, "
					    "last_revocation = excluded.last_revocation, "
					    "this_update = excluded.this_update, next_update = excluded.next_update "
					    "RETURNING number");
	int rc;

	*number = 0;
	if (!s)
		return -1;
	store_bind_text(s, 1, capf_sha256);
	stmt_bind_int64(s, 2, last_revocation);
	stmt_bind_int64(s, 3, this_update);
	stmt_bind_int64(s, 4, next_update);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		*number = stmt_col_int64(s, 0);
		rc = stmt_step(s);
	}
	store_finish(st, s);
	return rc == STORE_DONE ? 0 : store_fail(st, "cannot take the next CRL number: %s", store_errstr(st, rc));
}
