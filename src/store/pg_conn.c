/*
 * pg_conn.c: the store's statement interface (store_stmt.h) on a libpq
 * connection.
 *
 *  - A statement is prepared once per connection under a name of its own
 *    (PQprepare) from pg_sql_translate's text, lazily at its first step, and
 *    again after a reconnection (the connection's generation moved on).
 *    Transaction control (BEGIN, COMMIT, SAVEPOINT...) runs unprepared.
 *  - Values are sent as text, blobs in binary; results come back as text
 *    (bytea unescaped on demand, kept until the next step or reset).
 *  - A step runs the whole statement: the rows are kept in the PGresult and
 *    each later step moves to the next one.
 *  - Errors: SQLSTATE 23505 on a primary key is STORE_CONSTRAINT_PK (other
 *    unique keys STORE_CONSTRAINT_UNIQUE), 23503 STORE_CONSTRAINT_FK, any
 *    other class 23 STORE_CONSTRAINT (the permanence triggers raise 23000);
 *    the primary message is kept for store_errstr / store_dberrmsg.
 *  - A lost connection fails the statement in flight (and so its
 *    transaction) with libpq's reason; the next statement reconnects
 *    (PQreset). Nothing half-written survives: PostgreSQL rolled the open
 *    transaction back when the connection went.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "store/pg_internal.h"

#define BYTEA_OID 17

struct pg_conn {
	PGconn *c;
	int listening;               /* LISTEN opencapf, again after a reconnection */
	unsigned gen;                /* moves on with every (re)connection */
	unsigned next_name;
	int64_t changes;
	int down;                    /* lost, and said so; not reconnected yet */
	char err[512];
};

struct pg_stmt {
	struct pg_conn *pc;
	char name[24];
	struct pg_sql q;
	unsigned gen;                /* the connection generation it is prepared on; 0: never */
	char *vals[PG_MAX_PARAMS];
	int lens[PG_MAX_PARAMS];
	int fmts[PG_MAX_PARAMS];
	PGresult *res;
	int row, nrows, executed;
	int nblobs;
	unsigned char **blobs;       /* unescaped bytea per column of the current row */
	size_t *bloblens;
};

static struct pg_conn *conn_of(struct store *st)
{
	return st->conn;
}

static void set_err(struct pg_conn *pc, const char *msg)
{
	size_t n;

	snprintf(pc->err, sizeof pc->err, "%s", msg && msg[0] ? msg : "unknown PostgreSQL error");
	n = strlen(pc->err);
	while (n > 0 && (pc->err[n - 1] == '\n' || pc->err[n - 1] == ' '))
		pc->err[--n] = '\0';
}

/* What every connection sets: SQLite's busy timeout, as the time a writer
 * waits for the others' turn. */
static void session_setup(struct pg_conn *pc)
{
	PQclear(PQexec(pc->c, "SET lock_timeout = '10s'"));
	if (pc->listening)
		PQclear(PQexec(pc->c, "LISTEN opencapf"));
	if (pg_node[0]) {
		const char *v[1] = { pg_node };

		/* This node is alive while it has a connection (pg_schema.c, oc_claim_orphaned). */
		PQclear(PQexecParams(pc->c, "SELECT pg_advisory_lock_shared(" PG_SCHEMA_LOCK ", hashtext($1))", 1,
				     NULL, v, NULL, NULL, 0));
	}
}

/* A usable connection, reconnecting when it was lost; -1 (err set) if not. */
static int ensure_conn(struct pg_conn *pc)
{
	if (PQstatus(pc->c) == CONNECTION_OK)
		return 0;
	if (!pc->down) {
		log_warn("store: the PostgreSQL connection was lost: reconnecting (statements fail until it is back)");
		pc->down = 1;
	}
	PQreset(pc->c);
	pc->gen++;
	if (PQstatus(pc->c) != CONNECTION_OK) {
		char m[400];
		snprintf(m, sizeof m, "lost the database connection: %s", PQerrorMessage(pc->c));
		set_err(pc, m);
		return -1;
	}
	session_setup(pc);
	log_info("store: reconnected to PostgreSQL");
	pc->down = 0;
	return 0;
}

/* The store's code for a failed result; its message into pc->err. */
static int map_error(struct pg_conn *pc, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;

	set_err(pc, msg ? msg : PQerrorMessage(pc->c));
	if (!state)
		return STORE_ERROR;
	if (!strcmp(state, "23505")) {
		size_t n = cons ? strlen(cons) : 0;
		return n > 5 && !strcmp(cons + n - 5, "_pkey") ? STORE_CONSTRAINT_PK : STORE_CONSTRAINT_UNIQUE;
	}
	if (!strcmp(state, "23503"))
		return STORE_CONSTRAINT_FK;
	if (!strncmp(state, "23", 2))
		return STORE_CONSTRAINT;
	return STORE_ERROR;
}

static void drop_blobs(struct pg_stmt *p)
{
	for (int i = 0; i < p->nblobs; i++) {
		PQfreemem(p->blobs[i]);
		p->blobs[i] = NULL;
	}
}

static void pgs_reset(struct store_stmt *s)
{
	struct pg_stmt *p = s->impl;

	drop_blobs(p);
	PQclear(p->res);
	p->res = NULL;
	p->row = p->nrows = p->executed = 0;
}

static void pgs_clear(struct store_stmt *s)
{
	struct pg_stmt *p = s->impl;

	for (int i = 0; i < PG_MAX_PARAMS; i++) {
		free(p->vals[i]);
		p->vals[i] = NULL;
		p->lens[i] = p->fmts[i] = 0;
	}
}

static int ensure_prepared(struct pg_stmt *p);
static void pgs_finalize(struct store_stmt *s);

static int pgs_prepare(struct store *st, const char *sql, struct store_stmt *out)
{
	struct pg_conn *pc = conn_of(st);
	struct pg_stmt *p = calloc(1, sizeof *p);

	if (!p) {
		set_err(pc, "out of memory");
		return -1;
	}
	if (pg_sql_translate(sql, &p->q, pc->err, sizeof pc->err) < 0) {
		free(p);
		return -1;
	}
	p->pc = pc;
	snprintf(p->name, sizeof p->name, "oc%u", ++pc->next_name);
	out->impl = p;
	out->be = &pg_backend;
	/* Prepared now, so a bad statement fails here as it does on SQLite. */
	if (ensure_conn(pc) < 0 || ensure_prepared(p) < 0) {
		pgs_finalize(out);
		out->impl = NULL;
		return -1;
	}
	return 0;
}

static void pgs_finalize(struct store_stmt *s)
{
	struct pg_stmt *p = s->impl;
	char sql[48];

	pgs_reset(s);
	pgs_clear(s);
	if (p->gen == p->pc->gen && !p->q.control && PQstatus(p->pc->c) == CONNECTION_OK &&
	    PQtransactionStatus(p->pc->c) <= PQTRANS_INTRANS) {
		snprintf(sql, sizeof sql, "DEALLOCATE %s", p->name);
		PQclear(PQexec(p->pc->c, sql));
	}
	free(p->blobs);
	free(p->bloblens);
	free(p->q.sql);
	free(p);
}

/* The $ slot of SQLite's ?i, or -1 when the statement does not use it. */
static int slot(struct pg_stmt *p, int i)
{
	if (i < 1 || i > PG_MAX_PARAMS || !p->q.map[i])
		return -1;
	return p->q.map[i] - 1;
}

static int bind_bytes(struct store_stmt *s, int i, const void *v, size_t n, int binary)
{
	struct pg_stmt *p = s->impl;
	int k = slot(p, i);
	char *copy;

	if (k < 0)
		return STORE_ERROR;   /* SQLite's RANGE: ignored by the callers that bind extra */
	copy = malloc(n + 1);
	if (!copy)
		return STORE_ERROR;
	if (n)
		memcpy(copy, v, n);
	copy[n] = '\0';
	free(p->vals[k]);
	p->vals[k] = copy;
	p->lens[k] = (int)n;
	p->fmts[k] = binary;
	return 0;
}

static int pgs_bind_int64(struct store_stmt *s, int i, int64_t v)
{
	char t[24];

	snprintf(t, sizeof t, "%lld", (long long)v);
	return bind_bytes(s, i, t, strlen(t), 0);
}

static int pgs_bind_text(struct store_stmt *s, int i, const char *v)
{
	return bind_bytes(s, i, v, strlen(v), 0);
}

static int pgs_bind_blob(struct store_stmt *s, int i, const void *v, int n)
{
	return bind_bytes(s, i, v, n > 0 ? (size_t)n : 0, 1);
}

static int pgs_bind_null(struct store_stmt *s, int i)
{
	struct pg_stmt *p = s->impl;
	int k = slot(p, i);

	if (k < 0)
		return STORE_ERROR;
	free(p->vals[k]);
	p->vals[k] = NULL;
	return 0;
}

/* The statement, prepared on this connection; -1 (err set) if it cannot be. */
static int ensure_prepared(struct pg_stmt *p)
{
	PGresult *r;

	if (p->q.control || p->gen == p->pc->gen)
		return 0;
	r = PQprepare(p->pc->c, p->name, p->q.sql, p->q.nparams, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		map_error(p->pc, r);
		PQclear(r);
		return -1;
	}
	PQclear(r);
	p->gen = p->pc->gen;
	return 0;
}

/* Rows changed, as sqlite3_changes counts them: INSERT, UPDATE, DELETE only. */
static void count_changes(struct pg_conn *pc, PGresult *r)
{
	const char *cmd = PQcmdStatus(r);

	if (!strncmp(cmd, "INSERT ", 7) || !strncmp(cmd, "UPDATE ", 7) || !strncmp(cmd, "DELETE ", 7))
		pc->changes = strtoll(PQcmdTuples(r), NULL, 10);
}

static int pgs_step(struct store_stmt *s)
{
	struct pg_stmt *p = s->impl;
	struct pg_conn *pc = p->pc;
	PGresult *r;

	if (p->executed) {
		drop_blobs(p);
		if (p->res && ++p->row < p->nrows)
			return STORE_ROW;
		return STORE_DONE;
	}
	if (ensure_conn(pc) < 0 || ensure_prepared(p) < 0)
		return STORE_ERROR;
	if (p->q.control)
		r = PQexec(pc->c, p->q.sql);
	else
		r = PQexecPrepared(pc->c, p->name, p->q.nparams, (const char *const *)p->vals, p->lens, p->fmts, 0);
	p->executed = 1;
	switch (PQresultStatus(r)) {
	case PGRES_COMMAND_OK:
		count_changes(pc, r);
		PQclear(r);
		return STORE_DONE;
	case PGRES_TUPLES_OK:
		count_changes(pc, r);
		p->res = r;
		p->row = 0;
		p->nrows = PQntuples(r);
		return p->nrows > 0 ? STORE_ROW : STORE_DONE;
	default: {
		int rc = map_error(pc, r);
		PQclear(r);
		return rc;
	}
	}
}

static int has_value(struct pg_stmt *p, int col)
{
	return p->res && p->row < p->nrows && col >= 0 && col < PQnfields(p->res) &&
	       !PQgetisnull(p->res, p->row, col);
}

static const unsigned char *pgs_col_text(struct store_stmt *s, int col)
{
	struct pg_stmt *p = s->impl;

	return has_value(p, col) ? (const unsigned char *)PQgetvalue(p->res, p->row, col) : NULL;
}

static int64_t pgs_col_int64(struct store_stmt *s, int col)
{
	const char *v = (const char *)pgs_col_text(s, col);

	if (!v)
		return 0;
	if (v[0] == 't' && !v[1])
		return 1;     /* a boolean: SQLite answers comparisons with 1 and 0 */
	return strtoll(v, NULL, 10);
}

static int pgs_col_null(struct store_stmt *s, int col)
{
	return !has_value(s->impl, col);
}

/* The bytes of a bytea column, unescaped once per row. */
static const void *pgs_col_blob(struct store_stmt *s, int col)
{
	struct pg_stmt *p = s->impl;

	if (!has_value(p, col))
		return NULL;
	if (PQftype(p->res, col) != BYTEA_OID)
		return PQgetvalue(p->res, p->row, col);
	if (p->nblobs < PQnfields(p->res)) {
		int n = PQnfields(p->res);
		unsigned char **b = realloc(p->blobs, (size_t)n * sizeof *b);
		size_t *l = b ? realloc(p->bloblens, (size_t)n * sizeof *l) : NULL;

		if (b)
			p->blobs = b;
		if (!l)
			return NULL;
		p->bloblens = l;
		for (int i = p->nblobs; i < n; i++)
			p->blobs[i] = NULL, p->bloblens[i] = 0;
		p->nblobs = n;
	}
	if (!p->blobs[col])
		p->blobs[col] = PQunescapeBytea((const unsigned char *)PQgetvalue(p->res, p->row, col),
						&p->bloblens[col]);
	return p->blobs[col];
}

static int pgs_col_bytes(struct store_stmt *s, int col)
{
	struct pg_stmt *p = s->impl;

	if (!has_value(p, col))
		return 0;
	if (PQftype(p->res, col) != BYTEA_OID)
		return PQgetlength(p->res, p->row, col);
	return pgs_col_blob(s, col) ? (int)p->bloblens[col] : 0;
}

/* A script of several statements, PostgreSQL's own (the schema) or plain
 * transaction control: sent as it is. */
int pg_exec(struct store *st, const char *sql)
{
	struct pg_conn *pc = conn_of(st);
	PGresult *r;
	int rc = 0;

	if (ensure_conn(pc) < 0)
		return -1;
	r = PQexec(pc->c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		map_error(pc, r);
		rc = -1;
	}
	PQclear(r);
	return rc;
}

static int64_t pg_changes(struct store *st)
{
	return conn_of(st)->changes;
}

static int64_t pg_last_id(struct store *st)
{
	PGresult *r = PQexec(conn_of(st)->c, "SELECT lastval()");
	int64_t id = 0;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static int pg_in_tx(struct store *st)
{
	PGTransactionStatusType t = PQtransactionStatus(conn_of(st)->c);

	return t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

static const char *pg_errmsg(struct store *st)
{
	return conn_of(st)->err;
}

static void pg_close(struct store *st)
{
	struct pg_conn *pc = conn_of(st);

	if (pc) {
		PQfinish(pc->c);
		free(pc);
	}
	st->conn = NULL;
}

/* Changes announced by the schema's triggers (pg_schema.c, oc_announce). */
static int pg_watch_fd(struct store *st)
{
	struct pg_conn *pc = conn_of(st);

	if (!pc->listening) {
		PGresult *r = PQexec(pc->c, "LISTEN opencapf");
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

		PQclear(r);
		if (!ok)
			return -1;
		pc->listening = 1;
	}
	return PQsocket(pc->c);
}

static int pg_watch_drain(struct store *st)
{
	struct pg_conn *pc = conn_of(st);
	PGnotify *n;
	int got = 0;

	if (PQconsumeInput(pc->c) != 1)
		return 0;            /* a broken connection: the next statement reconnects */
	while ((n = PQnotifies(pc->c)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

int pg_connect(struct store *st, const char *uri, char *err, size_t errlen)
{
	struct pg_conn *pc = calloc(1, sizeof *pc);

	if (!pc) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	pc->c = PQconnectdb(uri);
	pc->gen = 1;
	st->conn = pc;
	st->be = &pg_backend;
	if (!pc->c || PQstatus(pc->c) != CONNECTION_OK) {
		seterr(err, errlen, "cannot connect to the PostgreSQL store: %s",
		       pc->c ? PQerrorMessage(pc->c) : "out of memory");
		return -1;
	}
	PQsetNoticeProcessor(pc->c, quiet_notice, NULL);
	session_setup(pc);
	return 0;
}

const struct store_backend pg_backend = {
	.name = "postgresql",
	.prepare = pgs_prepare,
	.finalize = pgs_finalize,
	.bind_int64 = pgs_bind_int64,
	.bind_text = pgs_bind_text,
	.bind_blob = pgs_bind_blob,
	.bind_null = pgs_bind_null,
	.step = pgs_step,
	.reset = pgs_reset,
	.clear = pgs_clear,
	.col_int64 = pgs_col_int64,
	.col_text = pgs_col_text,
	.col_blob = pgs_col_blob,
	.col_bytes = pgs_col_bytes,
	.col_null = pgs_col_null,
	.exec = pg_exec,
	.changes = pg_changes,
	.last_id = pg_last_id,
	.in_tx = pg_in_tx,
	.errmsg = pg_errmsg,
	.close = pg_close,
	.watch_fd = pg_watch_fd,
	.watch_drain = pg_watch_drain,
};
