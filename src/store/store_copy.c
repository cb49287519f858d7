/*
 * store_copy.c: an SQLite state's rows into a new PostgreSQL state
 * (store_copy.h).
 *
 *  - Tables go in an order that satisfies the foreign keys; a table this
 *    program does not know is refused (a newer schema's rows would be lost).
 *  - Columns are copied by name (SELECT * on SQLite, INSERT with the same
 *    names): a value keeps its SQLite storage class (an integer, text, a
 *    blob, NULL). Ids are kept; the identity sequences then move past them.
 *    The tables SQLite reads in rowid order copy their rowid too.
 *  - One PostgreSQL transaction for everything: a failure leaves the
 *    PostgreSQL state as the empty schema created first and DIR untouched.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_copy.h"
#include "store/store_internal.h"

struct copy_table {
	const char *name;
	const char *seq;             /* identity column moved past the copied ids, or NULL */
};

static const struct copy_table tables[] = {
	{ "settings", NULL },        { "phones", NULL },           { "phone_history", "id" },
	{ "issued_certs", "id" },    { "phone_certs", "rowid" },   { "seen_certs", "id" },
	{ "capf_certs", "id" },      { "trust_stores", NULL },     { "trust_certs", "rowid" },
	{ "audit_log", "id" },       { "tvs_certs", "rowid" },     { "service_certs", NULL },
	{ "register_log", "id" },    { "api_tokens", "id" },       { "api_sessions", "id" },
	{ "login_failures", "id" },  { "auth_lockouts", NULL },    { "revocations", "id" },
	{ "crl_state", NULL },
};
#define NTABLES (sizeof tables / sizeof tables[0])

/* Every table of the SQLite database is one we copy. */
static int check_tables(struct store *src)
{
	struct store_stmt *s = store_prepare(src, "SELECT name FROM sqlite_master WHERE type = 'table' "
						  "AND name NOT LIKE 'sqlite_%' ORDER BY name");
	char name[128];
	int rc, known;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		store_col_text(s, 0, name, sizeof name);
		known = 0;
		for (size_t i = 0; i < NTABLES; i++)
			known |= !strcmp(tables[i].name, name);
		if (!known) {
			store_finish(src, s);
			return store_fail(src, "table %s is not one this opencapf copies (a newer schema?)", name);
		}
	}
	store_finish(src, s);
	return rc == STORE_DONE ? 0 : store_sqlfail(src, "cannot list the tables");
}

/* The INSERT for the source's columns: "INSERT INTO t (a, b) VALUES (?1, ?2)". */
static void insert_sql(const struct copy_table *t, sqlite3_stmt *q, struct buf *sql)
{
	int n = sqlite3_column_count(q);

	buf_printf(sql, "INSERT INTO %s (", t->name);
	for (int i = 0; i < n; i++)
		buf_printf(sql, "%s%s", i ? ", " : "", sqlite3_column_name(q, i));
	buf_printf(sql, ") VALUES (");
	for (int i = 0; i < n; i++)
		buf_printf(sql, "%s?%d", i ? ", " : "", i + 1);
	buf_printf(sql, ")");
	buf_put_u8(sql, 0);
}

static void bind_row(sqlite3_stmt *q, struct store_stmt *ins)
{
	for (int i = 0; i < sqlite3_column_count(q); i++)
		switch (sqlite3_column_type(q, i)) {
		case SQLITE_INTEGER: stmt_bind_int64(ins, i + 1, sqlite3_column_int64(q, i)); break;
		case SQLITE_NULL: stmt_bind_null(ins, i + 1); break;
		case SQLITE_BLOB:
			stmt_bind_blob(ins, i + 1, sqlite3_column_blob(q, i), sqlite3_column_bytes(q, i));
			break;
		default: stmt_bind_text(ins, i + 1, (const char *)sqlite3_column_text(q, i)); break;
		}
}

/* One table's rows; their number into *rows. */
static int copy_rows(struct store *src, struct store *dst, const struct copy_table *t, int64_t *rows)
{
	char sel[128];
	struct buf sql;
	struct store_stmt *q, *ins = NULL;
	int rc;

	snprintf(sel, sizeof sel, "SELECT %s* FROM %s", t->seq && !strcmp(t->seq, "rowid") ? "rowid AS rowid, " : "",
		 t->name);
	if (!(q = store_prepare(src, sel)))
		return store_fail(dst, "%s", store_errmsg(src));
	buf_init(&sql);
	*rows = 0;
	while ((rc = stmt_step(q)) == STORE_ROW) {
		if (!ins) {
			insert_sql(t, q->lite, &sql);
			if (sql.failed || !(ins = store_prepare(dst, (const char *)sql.data)))
				break;
		}
		bind_row(q->lite, ins);
		if (stmt_step(ins) != STORE_DONE) {
			store_sqlfail(dst, t->name);
			break;
		}
		stmt_reset(ins);
		stmt_clear_bindings(ins);
		++*rows;
	}
	if (rc != STORE_ROW && rc != STORE_DONE)
		store_fail(dst, "cannot read %s: %s", t->name, store_dberrmsg(src));
	store_finish(src, q);
	store_finish(dst, ins);
	buf_free(&sql);
	return rc == STORE_DONE ? 0 : -1;
}

static int64_t count_rows(struct store *st, const char *table)
{
	char sql[128];
	struct store_stmt *s;
	int64_t n = -1;

	snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
	if ((s = store_prepare(st, sql)) && stmt_step(s) == STORE_ROW)
		n = stmt_col_int64(s, 0);
	store_finish(st, s);
	return n;
}

/* The identity sequence past the largest copied id. */
static int move_sequence(struct store *dst, const struct copy_table *t)
{
	char sql[300];

	snprintf(sql, sizeof sql, "SELECT setval(pg_get_serial_sequence('%s', '%s'), "
		 "(SELECT coalesce(max(%s), 0) + 1 FROM %s), false)", t->name, t->seq, t->seq, t->name);
	return store_exec(dst, sql, "cannot move an id sequence");
}

static int copy_all(struct store *src, struct store *dst,
		    void (*progress)(const char *table, int64_t rows, void *arg), void *arg)
{
	int64_t rows = 0;

	for (size_t i = 0; i < NTABLES; i++) {
		if (copy_rows(src, dst, &tables[i], &rows) < 0)
			return -1;
		if (count_rows(src, tables[i].name) != rows || count_rows(dst, tables[i].name) != rows)
			return store_fail(dst, "%s: the row counts differ after the copy", tables[i].name);
		if (tables[i].seq && move_sequence(dst, &tables[i]) < 0)
			return -1;
		if (progress)
			progress(tables[i].name, rows, arg);
	}
	return 0;
}

int store_migrate_to(const char *dir, const char *uri,
		     void (*progress)(const char *table, int64_t rows, void *arg), void *arg,
		     char *err, size_t errlen)
{
	struct store *src = NULL, *dst = NULL;
	int rc = -1;

	if (store_open_with(dir, NULL, STORE_OPEN_EXISTING, 0, &src, err, errlen) < 0)
		return -1;
	if (check_tables(src) < 0) {
		seterr(err, errlen, "%s", store_errmsg(src));
		store_close(src);
		return -1;
	}
	if (store_open_with(dir, uri, STORE_OPEN_CREATE, 1, &dst, err, errlen) < 0) {
		store_close(src);
		return -1;
	}
	/* A read transaction on SQLite: one snapshot of every table. */
	if (store_exec(src, "BEGIN", "cannot start reading") == 0 && store_begin(dst) == 0 &&
	    copy_all(src, dst, progress, arg) == 0 && store_commit(dst) == 0)
		rc = store_use_uri(dst, uri, err, errlen);
	else
		seterr(err, errlen, "%s", store_errmsg(dst)[0] && strcmp(store_errmsg(dst), "no error")
					  ? store_errmsg(dst) : store_errmsg(src));
	store_rollback(dst);
	store_rollback(src);
	store_close(dst);
	store_close(src);
	return rc;
}
