/*
 * store_stmt.h: the one statement interface every file of store/ goes
 * through, whatever database holds the state.
 *
 * A statement (struct store_stmt) comes from store_prepare (cached per
 * handle) and goes back with store_finish. Parameters are numbered from 1
 * (?1, ?2... in the SQL text), columns from 0. stmt_step answers STORE_ROW,
 * STORE_DONE or an error code (STORE_CONSTRAINT_* for the constraint
 * failures callers tell apart; anything else is an error whose text
 * store_errstr gives).
 *
 * SQLite, the embedded default, is called inline here: the enrollment path
 * pays one predictable branch per call and nothing else. Another backend
 * (st->be, e.g. PostgreSQL) answers the same calls through its table of
 * functions; its statements carry stmt->lite == NULL.
 */
#ifndef OPENCAPF_STORE_STMT_H
#define OPENCAPF_STORE_STMT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* Result codes: SQLite's (extended codes are on for every connection). */
#define STORE_ROW SQLITE_ROW
#define STORE_DONE SQLITE_DONE
#define STORE_ERROR SQLITE_ERROR
#define STORE_CONSTRAINT_PK SQLITE_CONSTRAINT_PRIMARYKEY
#define STORE_CONSTRAINT_FK SQLITE_CONSTRAINT_FOREIGNKEY
#define STORE_CONSTRAINT_UNIQUE SQLITE_CONSTRAINT_UNIQUE
#define STORE_CONSTRAINT SQLITE_CONSTRAINT  /* any other constraint, a trigger's refusal */

struct store;
struct store_stmt;

/* What a backend other than SQLite provides. Text and blobs are copied when
 * bound; column values stay valid until the next step, reset or finish. */
struct store_backend {
	const char *name;
	int (*prepare)(struct store *st, const char *sql, struct store_stmt *out);
	void (*finalize)(struct store_stmt *s);
	int (*bind_int64)(struct store_stmt *s, int i, int64_t v);
	int (*bind_text)(struct store_stmt *s, int i, const char *v);
	int (*bind_blob)(struct store_stmt *s, int i, const void *p, int n);
	int (*bind_null)(struct store_stmt *s, int i);
	int (*step)(struct store_stmt *s);
	void (*reset)(struct store_stmt *s);
	void (*clear)(struct store_stmt *s);
	int64_t (*col_int64)(struct store_stmt *s, int col);
	const unsigned char *(*col_text)(struct store_stmt *s, int col);
	const void *(*col_blob)(struct store_stmt *s, int col);
	int (*col_bytes)(struct store_stmt *s, int col);
	int (*col_null)(struct store_stmt *s, int col);
	/* Several statements in one text (no parameters, no rows). */
	int (*exec)(struct store *st, const char *sql);
	int64_t (*changes)(struct store *st);
	int64_t (*last_id)(struct store *st);
	int (*in_tx)(struct store *st);
	const char *(*errmsg)(struct store *st);
	void (*close)(struct store *st);
	int (*watch_fd)(struct store *st);
	int (*watch_drain)(struct store *st);
};

struct store_stmt {
	sqlite3_stmt *lite;          /* SQLite's statement; NULL on another backend */
	void *impl;                  /* another backend's statement */
	const struct store_backend *be;
};

static inline int stmt_bind_int64(struct store_stmt *s, int i, int64_t v)
{
	return s->lite ? sqlite3_bind_int64(s->lite, i, v) : s->be->bind_int64(s, i, v);
}

static inline int stmt_bind_int(struct store_stmt *s, int i, int v)
{
	return stmt_bind_int64(s, i, v);
}

/* Text is copied; NULL binds as NULL (store_bind_text binds it as ''). */
static inline int stmt_bind_text(struct store_stmt *s, int i, const char *v)
{
	if (s->lite)
		return v ? sqlite3_bind_text(s->lite, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s->lite, i);
	return v ? s->be->bind_text(s, i, v) : s->be->bind_null(s, i);
}

static inline int stmt_bind_blob(struct store_stmt *s, int i, const void *p, int n)
{
	return s->lite ? sqlite3_bind_blob(s->lite, i, p, n, SQLITE_TRANSIENT) : s->be->bind_blob(s, i, p, n);
}

static inline int stmt_bind_null(struct store_stmt *s, int i)
{
	return s->lite ? sqlite3_bind_null(s->lite, i) : s->be->bind_null(s, i);
}

static inline int stmt_step(struct store_stmt *s)
{
	return s->lite ? sqlite3_step(s->lite) : s->be->step(s);
}

/* Back to before the first step, bindings kept. */
static inline void stmt_reset(struct store_stmt *s)
{
	if (s->lite)
		sqlite3_reset(s->lite);
	else
		s->be->reset(s);
}

static inline void stmt_clear_bindings(struct store_stmt *s)
{
	if (s->lite)
		sqlite3_clear_bindings(s->lite);
	else
		s->be->clear(s);
}

static inline int64_t stmt_col_int64(struct store_stmt *s, int col)
{
	return s->lite ? sqlite3_column_int64(s->lite, col) : s->be->col_int64(s, col);
}

static inline int stmt_col_int(struct store_stmt *s, int col)
{
	return (int)stmt_col_int64(s, col);
}

/* NULL for an SQL NULL. */
static inline const unsigned char *stmt_col_text(struct store_stmt *s, int col)
{
	return s->lite ? sqlite3_column_text(s->lite, col) : s->be->col_text(s, col);
}

static inline const void *stmt_col_blob(struct store_stmt *s, int col)
{
	return s->lite ? sqlite3_column_blob(s->lite, col) : s->be->col_blob(s, col);
}

/* After stmt_col_blob of the same column. */
static inline int stmt_col_bytes(struct store_stmt *s, int col)
{
	return s->lite ? sqlite3_column_bytes(s->lite, col) : s->be->col_bytes(s, col);
}

static inline int stmt_col_null(struct store_stmt *s, int col)
{
	return s->lite ? sqlite3_column_type(s->lite, col) == SQLITE_NULL : s->be->col_null(s, col);
}

#endif
