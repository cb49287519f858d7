/*
 * pg_open.c: opening and creating a state whose database is PostgreSQL.
 *
 *  - The database (or the schema the URI's search_path names first, which
 *    is created when missing) holds one state. opencapf_meta says it is
 *    ours (application_id, as PRAGMA application_id does for SQLite) and at
 *    which schema version.
 *  - Creating and migrating run in one transaction under an advisory lock,
 *    so two nodes starting at once create or migrate it once; creating a
 *    state where one exists is refused.
 *  - A newer schema than this program knows is refused, as with SQLite.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/pg_internal.h"

/* One value of a one-row query, as text into out; 1 row, 0 none, -1 error. */
static int query_text(struct store *st, const char *sql, char *out, size_t cap)
{
	struct store_stmt *s = store_prepare(st, sql);
	int rc;

	if (!s)
		return -1;
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		store_col_text(s, 0, out, cap);
	else if (rc != STORE_DONE)
		store_sqlfail(st, "cannot read the database");
	store_finish(st, s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* The URI's schema, created when the search_path names one that is missing. */
static int ensure_schema(struct store *st)
{
	char have[128] = "", sql[300];

	if (query_text(st, "SELECT coalesce(current_schema(), '')", have, sizeof have) < 0)
		return -1;
	if (have[0])
		return 0;
	if (query_text(st, "SELECT format('CREATE SCHEMA IF NOT EXISTS %I', "
			   "trim(both ' \"' from split_part(current_setting('search_path'), ',', 1)))",
		       sql, sizeof sql) <= 0)
		return -1;
	return store_exec(st, sql, "cannot create the state's schema");
}

static int run_script(struct store *st, const char *sql, int version)
{
	char what[64];

	snprintf(what, sizeof what, "migration to schema version %d failed", version);
	return store_exec(st, sql, what);
}

static int create_schema(struct store *st)
{
	struct store_stmt *s;

	if (run_script(st, pg_schema_base, PG_SCHEMA_BASE) < 0)
		return -1;
	s = store_prepare(st, "INSERT INTO opencapf_meta (one, application_id, version) VALUES (1, ?1, ?2)");
	if (!s)
		return -1;
	stmt_bind_int64(s, 1, STORE_APPLICATION_ID);
	stmt_bind_int64(s, 2, PG_SCHEMA_BASE);
	return store_run(st, s, "cannot record the schema version");
}

/* Brings the schema to STORE_SCHEMA_VERSION, or refuses what it cannot. */
static int migrate(struct store *st)
{
	char v[32] = "", app[32] = "";
	struct store_stmt *s;
	long version;

	if (query_text(st, "SELECT version FROM opencapf_meta WHERE one = 1", v, sizeof v) <= 0 ||
	    query_text(st, "SELECT application_id FROM opencapf_meta WHERE one = 1", app, sizeof app) <= 0 ||
	    strtoll(app, NULL, 10) != STORE_APPLICATION_ID)
		return store_fail(st, "the database holds no opencapf state (or a damaged one)");
	version = strtol(v, NULL, 10);
	if (version < PG_SCHEMA_BASE)
		return store_fail(st, "the database's schema version %ld is not one opencapf writes", version);
	if (version > STORE_SCHEMA_VERSION)
		return store_fail(st, "schema version %ld is newer than this opencapf supports (%d): upgrade opencapf",
				  version, STORE_SCHEMA_VERSION);
	if (STORE_SCHEMA_VERSION > PG_SCHEMA_BASE + pg_migration_count)
		return store_fail(st, "this opencapf has no PostgreSQL form of schema version %d",
				  PG_SCHEMA_BASE + pg_migration_count + 1);
	if (version == STORE_SCHEMA_VERSION)
		return 0;
	for (long i = version; i < STORE_SCHEMA_VERSION; i++)
		if (run_script(st, pg_migrations[i - PG_SCHEMA_BASE], (int)i + 1) < 0)
			return -1;
	s = store_prepare(st, "UPDATE opencapf_meta SET version = ?1 WHERE one = 1");
	if (!s)
		return -1;
	stmt_bind_int64(s, 1, STORE_SCHEMA_VERSION);
	return store_run(st, s, "cannot record the schema version");
}

static int open_locked(struct store *st, int create)
{
	char exists[8] = "";

	if (ensure_schema(st) < 0 ||
	    query_text(st, "SELECT to_regclass('opencapf_meta') IS NOT NULL", exists, sizeof exists) < 0)
		return -1;
	if (create && exists[0] == 't')
		return store_fail(st, "the database already holds an opencapf state");
	if (!create && exists[0] != 't')
		return store_fail(st, "the database holds no opencapf state: run 'opencapf init --state %s --store URI' first",
				  st->dir);
	if (create && create_schema(st) < 0)
		return -1;
	return migrate(st);
}

int pg_open(struct store *st, const char *uri, int create, char *err, size_t errlen)
{
	int rc;

	if (pg_connect(st, uri, err, errlen) < 0)
		return -1;
	if (store_exec(st, "BEGIN", "cannot start the schema check") < 0 ||
	    store_exec(st, "SELECT pg_advisory_xact_lock(" PG_SCHEMA_LOCK ")", "cannot lock the schema") < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	rc = open_locked(st, create);
	if (rc == 0)
		rc = store_exec(st, "COMMIT", "cannot commit the schema");
	if (rc < 0) {
		seterr(err, errlen, "PostgreSQL store: %s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	return 0;
}
