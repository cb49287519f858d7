/*
 * test_store_open.c: creating and opening a state directory, and every way
 * opening must refuse (without touching anything).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "store_test_util.h"
#include "store/store_internal.h"

static mode_t mode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static int exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* A test of SQLite's own files: skipped when the store is PostgreSQL. */
#define SQLITE_ONLY()                  \
	do {                           \
		if (store_test_pg())   \
			skip();        \
	} while (0)

static void raw_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *s = NULL;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	snprintf(out, cap, "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* The statement cache: the same SQL comes back reset and unbound; a
 * statement still in use is never handed out twice; more distinct SQL than
 * the cache holds evicts idle ones; the text decides, not its address. */
static void test_statement_cache(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", sql[64], copy[64];
	struct store_stmt *a, *b, *c;

	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	a = store_prepare(f->st, "SELECT ?1 + 1");
	assert_non_null(a);
	b = store_prepare(f->st, "SELECT ?1 + 1");          /* a is in use: a second one */
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(stmt_bind_int(a, 1, 41), 0);
	assert_int_equal(stmt_step(a), STORE_ROW);
	assert_int_equal(stmt_col_int(a, 0), 42);
	store_finish(f->st, a);                              /* mid-row: reset on the way back */
	store_finish(f->st, b);
	snprintf(copy, sizeof copy, "%s", "SELECT ?1 + 1");  /* same text, another address */
	c = store_prepare(f->st, copy);
	assert_ptr_equal(c, a);
	assert_int_equal(stmt_step(c), STORE_ROW);
	assert_true(stmt_col_null(c, 0)); /* the binding was cleared */
	store_finish(f->st, c);
	for (int i = 0; i < 2 * STORE_STMT_CACHE; i++) {
		snprintf(sql, sizeof sql, "SELECT %d", i);
		assert_non_null(c = store_prepare(f->st, sql));
		assert_int_equal(stmt_step(c), STORE_ROW);
		assert_int_equal(stmt_col_int(c, 0), i);
		store_finish(f->st, c);
	}
	assert_null(store_prepare(f->st, "SELEKT 1"));
	assert_non_null(strstr(store_errmsg(f->st), "cannot prepare"));
	store_close(f->st);
	f->st = NULL;
}

static void test_create_and_reopen(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", v[64], path[256];
	sqlite3 *db;

	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	assert_string_equal(store_dir(f->st), f->dir);
	assert_int_equal(mode_of(f->dir, "keys"), 0700);
	assert_true(exists(f->dir, "certs"));
	if (!store_test_pg())
		assert_int_equal(mode_of(f->dir, STORE_DB_NAME), 0600);
	assert_int_equal(store_setting_set(f->st, "lsc_days", "730"), 0);
	assert_int_equal(store_setting_set(f->st, "lsc_days", "365"), 0);
	store_close(f->st);
	f->st = NULL;

	if (store_test_pg()) {
		assert_int_equal(mode_of(f->dir, STORE_URI_FILE), 0600);
		assert_int_equal(raw_count(f->dir, "SELECT version FROM opencapf_meta"), STORE_SCHEMA_VERSION);
	} else {
		db = raw_open(f->dir);
		raw_text(db, "PRAGMA journal_mode", v, sizeof v);
		assert_string_equal(v, "wal");
		raw_text(db, "PRAGMA user_version", v, sizeof v);
		assert_int_equal(atoi(v), STORE_SCHEMA_VERSION);
		sqlite3_close(db);
	}

	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), 0);
	assert_int_equal(store_setting_get(f->st, "lsc_days", v, sizeof v), 0);
	assert_string_equal(v, "365");
	assert_int_equal(store_setting_get(f->st, "nope", v, sizeof v), 1);
	assert_int_equal(store_setting_get(f->st, "lsc_days", v, 2), -1);   /* does not fit */
	assert_int_equal(store_check(f->st, err, sizeof err), 0);

	assert_int_equal(store_key_path(f->st, "capf-1.key", path, sizeof path), 0);
	snprintf(v, sizeof v, "%s/keys/capf-1.key", f->dir);
	assert_string_equal(path, v);
	assert_int_equal(store_key_path(f->st, "../x", path, sizeof path), -1);
	assert_int_equal(store_key_path(f->st, "..", path, sizeof path), -1);
	assert_int_equal(store_key_path(f->st, "", path, sizeof path), -1);
}

/* PostgreSQL: a trust store change committed through one connection is
 * announced at once to another that listens (store_watch_fd); SQLite has
 * no such signal. */
static void test_changes_announced(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";
	struct store *other = NULL;
	struct pollfd p = { .events = POLLIN };
	char hex[65];
	uint8_t *der;
	size_t len;

	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	if (!store_test_pg()) {
		assert_int_equal(store_watch_fd(f->st), -1);
		return;
	}
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &other, err, sizeof err), 0);
	p.fd = store_watch_fd(f->st);
	assert_true(p.fd >= 0);
	assert_int_equal(store_watch_drain(f->st), 0);
	assert_int_equal(store_trust_create(other, "manufacturing", "test"), 0);   /* not announced */
	assert_int_equal(poll(&p, 1, 300), 0);
	make_cert("announced", 7, &der, &len);
	sha256_hex(der, len, hex);
	assert_int_equal(store_trust_add(other, "manufacturing", der, len, hex, "CN=announced", "test"), 0);
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(store_watch_drain(f->st), 1);
	assert_int_equal(store_watch_drain(f->st), 0);
	free(der);
	store_close(other);
}

static void test_create_in_existing_empty_dir(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";

	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	store_close(f->st);
	f->st = NULL;
	/* A second init must refuse and leave the first alone. */
	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err, "already holds an opencapf state"));
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), 0);
}

static void test_create_refuses_old_keys(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", path[256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/keys", f->dir);
	assert_int_equal(mkdir_p(path, 0700), 0);
	snprintf(path, sizeof path, "%s/keys/capf-1.key", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), -1);
	assert_non_null(strstr(err, "keys is not empty"));
	assert_false(exists(f->dir, STORE_DB_NAME));
}

static void test_open_missing_dir(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", want[ERRLEN];

	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_null(f->st);
	snprintf(want, sizeof want, "no opencapf state at %s: run 'opencapf init --state %s' first", f->dir, f->dir);
	assert_string_equal(err, want);
	assert_false(exists(f->tmp, "state"));
}

static void test_open_dir_without_db(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";

	assert_int_equal(mkdir(f->dir, 0755), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_non_null(strstr(err, store_test_pg() ? "holds no opencapf state" : "has no opencapf database"));
	assert_non_null(strstr(err, "opencapf init --state"));
	/* Nothing was created. */
	assert_false(exists(f->dir, STORE_DB_NAME));
	assert_false(exists(f->dir, "keys"));
}

/* Write `data` as the database, fail to open it, check it is untouched. */
static void refuse_db_bytes(struct fixture *f, const uint8_t *data, size_t len, const char *want)
{
	char err[ERRLEN] = "", path[256];
	uint8_t *after = NULL;
	size_t afterlen = 0;

	assert_int_equal(mkdir(f->dir, 0755), 0);
	snprintf(path, sizeof path, "%s/%s", f->dir, STORE_DB_NAME);
	assert_int_equal(write_file_atomic(path, data, len, 0644, err, sizeof err), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err, want));
	assert_int_equal(read_whole(path, &after, &afterlen), 0);
	assert_int_equal(afterlen, len);
	assert_memory_equal(after, data, len);
	free(after);
	assert_false(exists(f->dir, STORE_DB_NAME "-wal"));
	assert_false(exists(f->dir, STORE_DB_NAME "-journal"));
	assert_false(exists(f->dir, "keys"));
}

static void test_open_garbage_db(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[4096];
	char want[ERRLEN];

	SQLITE_ONLY();
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	snprintf(want, sizeof want, "%s/%s is not an opencapf database (corrupt?)", f->dir, STORE_DB_NAME);
	refuse_db_bytes(f, junk, sizeof junk, want);
}

static void test_open_garbage_with_sqlite_header(void **state)
{
	struct fixture *f = *state;
	uint8_t junk[8192];

	SQLITE_ONLY();
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 37 + 1);
	memcpy(junk, "SQLite format 3", 16);
	refuse_db_bytes(f, junk, sizeof junk, "is not an opencapf database (corrupt?)");
}

static void test_open_empty_file(void **state)
{
	struct fixture *f = *state;
	uint8_t none = 0;

	SQLITE_ONLY();
	refuse_db_bytes(f, &none, 0, "is not an opencapf database (corrupt?)");
}

static void test_open_foreign_sqlite_db(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", path[256];
	sqlite3 *db;

	SQLITE_ONLY();
	assert_int_equal(mkdir(f->dir, 0755), 0);
	snprintf(path, sizeof path, "%s/%s", f->dir, STORE_DB_NAME);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not an opencapf database"));
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM sqlite_master"), 1);
}

static void test_open_newer_schema(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";
	sqlite3 *db;

	SQLITE_ONLY();
	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	store_close(f->st);
	f->st = NULL;
	db = raw_open(f->dir);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_null(f->st);
	assert_non_null(strstr(err, "newer"));
	assert_non_null(strstr(err, "99"));
	assert_int_equal(raw_count(f->dir, "PRAGMA user_version"), 99);
}

/* An opencapf database at version 0 (marked, no tables): the open migrates
 * it to the current schema. */
static void test_open_migrates_older(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", path[256];
	struct phone p;
	sqlite3 *db;

	SQLITE_ONLY();
	assert_int_equal(mkdir(f->dir, 0755), 0);
	snprintf(path, sizeof path, "%s/%s", f->dir, STORE_DB_NAME);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 1329807696; PRAGMA journal_mode = WAL",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), 0);
	assert_int_equal(raw_count(f->dir, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	phone_defaults(&p, "SEP001122334455");
	assert_int_equal(store_phone_insert(f->st, &p), 0);
	assert_int_equal(mode_of(f->dir, "keys"), 0700);
}

/* A migration that fails leaves the database as it was. */
static void test_failed_migration_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "";
	sqlite3 *db;

	SQLITE_ONLY();
	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	assert_int_equal(store_setting_set(f->st, "org", "Example"), 0);
	store_close(f->st);
	f->st = NULL;
	db = raw_open(f->dir);
	/* Claim version 0: re-running the v1 script collides with its tables. */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), -1);
	assert_non_null(strstr(err, "migration to schema version 1 failed"));
	assert_int_equal(raw_count(f->dir, "PRAGMA user_version"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM settings WHERE value = 'Example'"), 1);
}

static void test_keys_mode_tightened(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", path[256];

	assert_int_equal(store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof path, "%s/keys", f->dir);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), 0);
	assert_int_equal(mode_of(f->dir, "keys"), 0700);
}

static void test_trailing_slash(void **state)
{
	struct fixture *f = *state;
	char err[ERRLEN] = "", dir[160];

	snprintf(dir, sizeof dir, "%s//", f->dir);
	assert_int_equal(store_open(dir, STORE_OPEN_CREATE, &f->st, err, sizeof err), 0);
	assert_string_equal(store_dir(f->st), f->dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_reopen, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_statement_cache, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_create_in_existing_empty_dir, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_changes_announced, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_old_keys, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_dir, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_dir_without_db, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_garbage_db, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_garbage_with_sqlite_header, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_empty_file, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_foreign_sqlite_db, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_newer_schema, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_open_migrates_older, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_failed_migration_changes_nothing, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_keys_mode_tightened, fixture_setup_empty, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_trailing_slash, fixture_setup_empty, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
