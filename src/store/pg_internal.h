/*
 * pg_internal.h: the PostgreSQL backend of the store (libpq), shared by
 * pg_*.c only. store_db.c calls pg_open; everything else reaches the
 * backend through struct store_backend (store_stmt.h).
 *
 *   pg_sql.c     SQLite-flavoured statement text -> PostgreSQL text
 *   pg_conn.c    the connection, statements, results, errors
 *   pg_open.c    opening/creating a state: schema version, migrations
 *   pg_schema.c  the schema script and its migrations
 */
#ifndef OPENCAPF_STORE_PG_INTERNAL_H
#define OPENCAPF_STORE_PG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_internal.h"

/* The schema version a PostgreSQL state starts at (pg_schema_base). */
#define PG_SCHEMA_BASE 6

extern const char pg_schema_base[];
extern const char *const pg_migrations[];
extern const int pg_migration_count;

/* The advisory lock every writing transaction takes (BEGIN IMMEDIATE), and
 * the one creating and migrating the schema takes. */
#define PG_WRITE_LOCK "1329807697"
#define PG_SCHEMA_LOCK "1329807696"

/* The node name every new connection shows alive (store_set_node). */
extern char pg_node[64];

/* Most parameters one statement binds (?1..?PG_MAX_PARAMS). */
#define PG_MAX_PARAMS 64

/* A statement text translated for PostgreSQL: `sql` (malloc'd) uses $1..$n;
 * map[i] is the $ number SQLite's ?i became (0: ?i does not occur, binding
 * it is ignored, as SQLite ignores it... almost: SQLite answers RANGE).
 * `control` is set for transaction control (BEGIN, COMMIT, SAVEPOINT...),
 * which runs unprepared. */
struct pg_sql {
	char *sql;
	int nparams;
	unsigned char map[PG_MAX_PARAMS + 1];
	int control;
};

/* 0, or -1 with a sentence in err. */
int pg_sql_translate(const char *in, struct pg_sql *out, char *err, size_t errlen);

/* Is `s` a PostgreSQL connection URI (postgresql:// or postgres://)? */
int pg_is_uri(const char *s);

/* The backend's table of functions (pg_conn.c). */
extern const struct store_backend pg_backend;

/* Connect st (st->conn, st->be); -1 with err set. */
int pg_connect(struct store *st, const char *uri, char *err, size_t errlen);

/* Open or create the state's database at `uri` (pg_open.c). */
int pg_open(struct store *st, const char *uri, int create, char *err, size_t errlen);

/* Run a text of statements without parameters, untranslated; -1 (the
 * caller words the error with store_sqlfail) on failure. */
int pg_exec(struct store *st, const char *sql);

#endif
