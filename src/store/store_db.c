/*
 * store_db.c: opening and creating a state directory, the SQLite connection
 * settings, schema migrations, transactions and the settings table.
 *
 * Invariants:
 *  - A failed STORE_OPEN_EXISTING changes nothing: the directory, the key
 *    folder and the database are only looked at until every check passed
 *    (the file header is read with plain read(2) before SQLite touches it, so
 *    a garbage file is never "recovered" into something else).
 *  - A database is ours when PRAGMA application_id is STORE_APPLICATION_ID;
 *    PRAGMA user_version is its schema version. A newer version than
 *    STORE_SCHEMA_VERSION is refused; an older one is migrated in a single
 *    BEGIN IMMEDIATE transaction (so two processes opening an old database at
 *    once migrate it once).
 *  - Every connection runs with journal_mode=WAL, synchronous=FULL,
 *    foreign_keys=ON and a 10 s busy timeout: the daemon and the CLI share
 *    the file and SQLite serialises their writers.
 *  - The database file is created 0600 (it holds authentication strings);
 *    keys/ is 0700, and is tightened back to 0700 on every open.
 *  - store_begin opens a BEGIN IMMEDIATE transaction: a writer takes the
 *    write lock up front, so it waits on the busy timeout instead of failing
 *    later with a stale snapshot. Internal multi-row writes nest inside it
 *    with SAVEPOINTs (store_tx_open).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "common/util.h"
#include "store/pg_internal.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 10000

/* ---- errors and statements ---- */

int store_fail(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof st->err, fmt, ap);
	va_end(ap);
	return -1;
}

int store_sqlfail(struct store *st, const char *what)
{
	return store_fail(st, "%s: %s", what, store_dberrmsg(st));
}

/* The text a cached statement was prepared from. */
static const char *cached_text(const struct store_cached_stmt *c)
{
	return c->stmt.lite ? sqlite3_sql(c->stmt.lite) : c->text;
}

static int cached_used(const struct store_cached_stmt *c)
{
	return c->stmt.lite || c->stmt.impl;
}

/* An idle cached statement for this SQL text: first by the address of the
 * text (the literals of the callers), then by the text itself. */
static struct store_cached_stmt *cache_find(struct store *st, const char *sql)
{
	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		struct store_cached_stmt *c = &st->cache[i];

		if (cached_used(c) && !c->in_use && c->sql == sql && strcmp(cached_text(c), sql) == 0)
			return c;
	}
	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		struct store_cached_stmt *c = &st->cache[i];

		if (cached_used(c) && !c->in_use && strcmp(cached_text(c), sql) == 0) {
			c->sql = sql;
			return c;
		}
	}
	return NULL;
}

static void stmt_finalize(struct store_stmt *s)
{
	if (s->lite)
		sqlite3_finalize(s->lite);
	else if (s->impl)
		s->be->finalize(s);
	s->lite = NULL;
	s->impl = NULL;
}

static void cached_free(struct store_cached_stmt *c)
{
	stmt_finalize(&c->stmt);
	free(c->text);
	*c = (struct store_cached_stmt){ .in_use = 0 };
}

/* A slot for a new statement: an empty one, else the next idle one in turn. */
static struct store_cached_stmt *cache_slot(struct store *st)
{
	for (int i = 0; i < STORE_STMT_CACHE; i++)
		if (!cached_used(&st->cache[i]))
			return &st->cache[i];
	for (int i = 0; i < STORE_STMT_CACHE; i++) {
		struct store_cached_stmt *c = &st->cache[st->cache_next++ % STORE_STMT_CACHE];

		if (!c->in_use) {
			cached_free(c);
			return c;
		}
	}
	return NULL;
}

/* A new statement into *out (lite or impl set), or -1 with the error set. */
static int prepare_new(struct store *st, const char *sql, struct store_stmt *out)
{
	*out = (struct store_stmt){ NULL, NULL, st->be };
	if (!st->db)
		return st->be->prepare(st, sql, out) < 0 ? store_sqlfail(st, "cannot prepare a statement") : 0;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &out->lite, NULL) != SQLITE_OK ||
	    !out->lite) {
		store_sqlfail(st, "cannot prepare a statement");
		sqlite3_finalize(out->lite);
		out->lite = NULL;
		return -1;
	}
	return 0;
}

struct store_stmt *store_prepare(struct store *st, const char *sql)
{
	struct store_cached_stmt *c = cache_find(st, sql);
	struct store_stmt s, *heap;

	if (c) {
		c->in_use = 1;
		return &c->stmt;
	}
	if (prepare_new(st, sql, &s) < 0)
		return NULL;
	if ((c = cache_slot(st)) != NULL) {
		c->stmt = s;
		c->sql = sql;
		c->text = st->db ? NULL : strdup(sql);
		c->in_use = 1;
		if (st->db || c->text)
			return &c->stmt;
		c->stmt = (struct store_stmt){ NULL, NULL, NULL };
		c->in_use = 0;
	}
	/* Every slot busy: a statement of its own, finalized by store_finish. */
	heap = malloc(sizeof *heap);
	if (!heap) {
		stmt_finalize(&s);
		store_fail(st, "out of memory");
		return NULL;
	}
	*heap = s;
	return heap;
}

void store_finish(struct store *st, struct store_stmt *s)
{
	if (!s)
		return;
	if (s >= &st->cache[0].stmt && s <= &st->cache[STORE_STMT_CACHE - 1].stmt) {
		struct store_cached_stmt *c = (struct store_cached_stmt *)((char *)s - offsetof(struct store_cached_stmt, stmt));

		stmt_reset(s);
		stmt_clear_bindings(s);
		c->in_use = 0;
		return;
	}
	stmt_finalize(s);
	free(s);
}

static void cache_free(struct store *st)
{
	for (int i = 0; i < STORE_STMT_CACHE; i++)
		cached_free(&st->cache[i]);
}

int store_run(struct store *st, struct store_stmt *s, const char *what)
{
	int rc;

	if (!s)
		return -1;
	rc = stmt_step(s);
	if (rc != STORE_DONE && rc != STORE_ROW) {
		store_sqlfail(st, what);
		store_finish(st, s);
		return -1;
	}
	store_finish(st, s);
	return 0;
}

/* One statement (BEGIN, SAVEPOINT, COMMIT... run for every install) from
 * the statement cache; text with several statements as a script. */
int store_exec(struct store *st, const char *sql, const char *what)
{
	if (strchr(sql, ';')) {
		if (st->db ? sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK : st->be->exec(st, sql) < 0)
			return store_sqlfail(st, what);
		return 0;
	}
	return store_run(st, store_prepare(st, sql), what);
}

int store_bind_text(struct store_stmt *s, int i, const char *v)
{
	return stmt_bind_text(s, i, v ? v : "");
}

void store_col_text(struct store_stmt *s, int col, char *out, size_t outcap)
{
	const unsigned char *t = stmt_col_text(s, col);

	snprintf(out, outcap, "%s", t ? (const char *)t : "");
}

/* ---- transactions ---- */

int store_tx_open(struct store *st, struct store_tx *tx)
{
	tx->savepoint = store_in_tx(st);
	return store_exec(st, tx->savepoint ? "SAVEPOINT store_op" : "BEGIN IMMEDIATE",
			  "cannot start a transaction");
}

/* Undo without losing the message of the error that caused it. If SQLite
 * already rolled the whole transaction back (some errors do), there is
 * nothing left to undo. */
static void quiet_exec(struct store *st, const char *sql)
{
	if (!store_in_tx(st))
		return;
	if (st->db)
		sqlite3_exec(st->db, sql, NULL, NULL, NULL);
	else
		st->be->exec(st, sql);
}

int store_tx_close(struct store *st, struct store_tx *tx, int rc)
{
	if (rc == 0) {
		if (store_exec(st, tx->savepoint ? "RELEASE store_op" : "COMMIT",
			       "cannot commit") == 0)
			return 0;
	}
	quiet_exec(st, tx->savepoint ? "ROLLBACK TO store_op; RELEASE store_op" : "ROLLBACK");
	return -1;
}

int store_begin(struct store *st)
{
	if (store_in_tx(st))
		return store_fail(st, "a transaction is already open on this connection");
	return store_exec(st, "BEGIN IMMEDIATE", "cannot start a transaction");
}

int store_commit(struct store *st)
{
	if (!store_in_tx(st))
		return store_fail(st, "no transaction to commit");
	return store_exec(st, "COMMIT", "cannot commit");
}

void store_rollback(struct store *st)
{
	if (st)
		quiet_exec(st, "ROLLBACK");
}

const char *store_errmsg(struct store *st)
{
	if (!st)
		return "no store";
	return st->err[0] ? st->err : "no error";
}

const char *store_dir(const struct store *st)
{
	return st->dir;
}

int store_key_path(const struct store *st, const char *name, char *out, size_t outcap)
{
	char keys[4200];

	if (!name || !name[0] || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -1;
	if (path_join(keys, sizeof keys, st->dir, "keys") < 0)
		return -1;
	return path_join(out, outcap, keys, name);
}

/* ---- opening ---- */

static int single_int(sqlite3 *db, const char *sql, int64_t *out, int *sqlrc)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(s, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	*sqlrc = rc;
	return rc == SQLITE_OK ? 0 : -1;
}

static int configure(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int ok;

	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* journal_mode answers with the mode in force: anything but "wal"
	 * means WAL could not be enabled (e.g. a file system without shared
	 * memory), and two processes would then block each other badly. */
	ok = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) == SQLITE_OK &&
	     sqlite3_step(s) == SQLITE_ROW && s &&
	     sqlite3_column_text(s, 0) && !strcmp((const char *)sqlite3_column_text(s, 0), "wal");
	if (!ok) {
		seterr(err, errlen, "%s/%s: cannot enable WAL mode: %s", st->dir, STORE_DB_NAME,
		       sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	if (sqlite3_exec(st->db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK) {
		seterr(err, errlen, "%s/%s: cannot configure the connection: %s", st->dir, STORE_DB_NAME,
		       sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int migrate(struct store *st, char *err, size_t errlen)
{
	int64_t version = 0;
	int sqlrc;
	char sql[64];

	if (store_exec(st, "BEGIN IMMEDIATE", "cannot start the schema migration") < 0)
		goto fail;
	/* Read again under the write lock: another process may have migrated. */
	if (single_int(st->db, "PRAGMA user_version", &version, &sqlrc) < 0) {
		store_sqlfail(st, "cannot read the schema version");
		goto fail;
	}
	if (version > store_migration_count) {
		store_fail(st, "schema version %lld is newer than this program supports (%d)",
			   (long long)version, store_migration_count);
		goto fail;
	}
	for (int64_t v = version; v < store_migration_count; v++) {
		if (sqlite3_exec(st->db, store_migrations[v], NULL, NULL, NULL) != SQLITE_OK) {
			store_fail(st, "migration to schema version %lld failed: %s", (long long)v + 1,
				   sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	/* PRAGMA takes no bound parameters; the number is ours, not user text. */
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", store_migration_count);
	if (store_exec(st, sql, "cannot set the schema version") < 0 ||
	    store_exec(st, "COMMIT", "cannot commit the schema migration") < 0)
		goto fail;
	return 0;
fail:
	quiet_exec(st, "ROLLBACK");
	seterr(err, errlen, "%s/%s: %s", st->dir, STORE_DB_NAME, st->err);
	return -1;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return errno == ENOENT;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Is `path` an SQLite database? Asked through a read-only SQLite connection,
 * never with open(2)/close(2) of our own: closing any descriptor of the file
 * drops every POSIX lock this process holds on it, including those of the
 * other connections (another worker's), and a CLI would then delete the WAL
 * under the daemon. A read-only connection writes nothing, even to garbage. */
static int has_sqlite_header(const char *path, int *errnum)
{
	struct stat sb;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc;

	*errnum = 0;
	if (stat(path, &sb) < 0) {
		*errnum = errno;
		return 0;
	}
	if (sb.st_size < 16)
		return 0;
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(q);
	sqlite3_close(db);
	if (rc == SQLITE_CANTOPEN)
		*errnum = EACCES;
	return rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

static void subdirs_on_open(const struct store *st)
{
	char path[4200];
	struct stat sb;

	/* keys/ holds private keys: keep it 0700 even if someone loosened it. */
	if (path_join(path, sizeof path, st->dir, "keys") == 0) {
		if (stat(path, &sb) < 0)
			(void)mkdir(path, 0700);
		else if (S_ISDIR(sb.st_mode) && (sb.st_mode & 077))
			(void)chmod(path, 0700);
	}
	if (path_join(path, sizeof path, st->dir, "certs") == 0 && stat(path, &sb) < 0)
		(void)mkdir(path, 0755);
}

static int open_existing(struct store *st, const char *dbpath, char *err, size_t errlen)
{
	struct stat sb;
	int64_t app_id = 0, version = 0;
	int sqlrc, errnum = 0;

	if (stat(st->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		seterr(err, errlen, "no opencapf state at %s: run 'opencapf init --state %s' first", st->dir, st->dir);
		return -1;
	}
	if (stat(dbpath, &sb) < 0) {
		if (errno == ENOENT)
			seterr(err, errlen, "%s has no opencapf database (%s): run 'opencapf init --state %s' first",
			       st->dir, dbpath, st->dir);
		else
			seterr(err, errlen, "cannot read %s: %s", dbpath, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || !has_sqlite_header(dbpath, &errnum)) {
		if (errnum)
			seterr(err, errlen, "cannot read %s: %s", dbpath, strerror(errnum));
		else
			seterr(err, errlen, "%s is not an opencapf database (corrupt?)", dbpath);
		return -1;
	}
	if (sqlite3_open_v2(dbpath, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		seterr(err, errlen, "cannot open %s: %s", dbpath, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if (single_int(st->db, "PRAGMA application_id", &app_id, &sqlrc) < 0 ||
	    single_int(st->db, "PRAGMA user_version", &version, &sqlrc) < 0) {
		if ((sqlrc & 0xff) == SQLITE_NOTADB || (sqlrc & 0xff) == SQLITE_CORRUPT)
			seterr(err, errlen, "%s is not an opencapf database (corrupt?)", dbpath);
		else
			seterr(err, errlen, "cannot read %s: %s", dbpath, sqlite3_errmsg(st->db));
		return -1;
	}
	if (app_id != STORE_APPLICATION_ID) {
		seterr(err, errlen, "%s is not an opencapf database (corrupt?)", dbpath);
		return -1;
	}
	if (version > STORE_SCHEMA_VERSION || version > store_migration_count) {
		seterr(err, errlen, "%s has schema version %lld, newer than this opencapf supports (%d): "
		       "upgrade opencapf", dbpath, (long long)version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if (configure(st, err, errlen) < 0)
		return -1;
	if (version < store_migration_count && migrate(st, err, errlen) < 0)
		return -1;
	subdirs_on_open(st);
	return 0;
}

/* Undo a failed create: the database and its side files are ours alone. */
static void remove_db_files(const char *dbpath)
{
	static const char *const suffixes[] = { "-wal", "-shm", "-journal" };
	char path[4300];

	unlink(dbpath);
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if ((size_t)snprintf(path, sizeof path, "%s%s", dbpath, suffixes[i]) < sizeof path)
			unlink(path);
}

static int create_dirs(const struct store *st, char *err, size_t errlen)
{
	char path[4200];

	if (mkdir_p(st->dir, 0755) < 0) {
		seterr(err, errlen, "cannot create %s: %s", st->dir, strerror(errno));
		return -1;
	}
	if (path_join(path, sizeof path, st->dir, "keys") < 0 ||
	    (mkdir(path, 0700) < 0 && errno != EEXIST) || chmod(path, 0700) < 0) {
		seterr(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	if (path_join(path, sizeof path, st->dir, "certs") < 0 || (mkdir(path, 0755) < 0 && errno != EEXIST)) {
		seterr(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int open_create(struct store *st, const char *dbpath, char *err, size_t errlen)
{
	struct stat sb;
	char path[4200];
	int fd;

	if (stat(st->dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			seterr(err, errlen, "%s exists and is not a directory", st->dir);
			return -1;
		}
		if (lstat(dbpath, &sb) == 0) {
			seterr(err, errlen, "%s already holds an opencapf state (%s)", st->dir, dbpath);
			return -1;
		}
		/* Never write a new CAPF key next to an old one. */
		if (path_join(path, sizeof path, st->dir, "keys") == 0 && !dir_is_empty(path)) {
			seterr(err, errlen, "%s is not empty (left from an earlier state?): move it away first", path);
			return -1;
		}
	}
	if (create_dirs(st, err, errlen) < 0)
		return -1;
	/* Created here, 0600 and exclusively, so SQLite (whose default is 0644)
	 * never widens it and two concurrent inits cannot both win. */
	fd = open(dbpath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			seterr(err, errlen, "%s already holds an opencapf state (%s)", st->dir, dbpath);
		else
			seterr(err, errlen, "cannot create %s: %s", dbpath, strerror(errno));
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(dbpath, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		seterr(err, errlen, "cannot open %s: %s", dbpath, st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(st->db, 1);
	if (configure(st, err, errlen) < 0 || migrate(st, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_close(st->db);
	st->db = NULL;
	remove_db_files(dbpath);
	return -1;
}

/* ---- a database elsewhere (PostgreSQL) ---- */

static char *explicit_uri;

int store_set_uri(const char *uri)
{
	char *copy = NULL;

	if (uri && uri[0]) {
		if (!pg_is_uri(uri))
			return -1;
		if (!(copy = strdup(uri)))
			return -1;
	}
	free(explicit_uri);
	explicit_uri = copy;
	return 0;
}

char pg_node[64];

void store_set_node(const char *node)
{
	snprintf(pg_node, sizeof pg_node, "%s", node ? node : "");
}

const char *store_backend_name(const struct store *st)
{
	return st->db ? "sqlite" : st->be->name;
}

/* The URI in force for DIR (see store.h), into out; 0 none, 1 found, -1 bad. */
static int resolve_uri(const char *dir, char *out, size_t cap, char *err, size_t errlen)
{
	const char *env = getenv("OPENCAPF_STORE");
	char path[4200];
	FILE *f;

	out[0] = '\0';
	if (explicit_uri)
		snprintf(out, cap, "%s", explicit_uri);
	else if (env && env[0])
		snprintf(out, cap, "%s", env);
	else if (path_join(path, sizeof path, dir, STORE_URI_FILE) == 0 && (f = fopen(path, "re"))) {
		if (!fgets(out, (int)cap, f))
			out[0] = '\0';
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
	}
	if (!out[0])
		return 0;
	if (!pg_is_uri(out)) {
		seterr(err, errlen, "store %s: not a postgresql:// URI", out);
		return -1;
	}
	return 1;
}

int store_watch_fd(struct store *st)
{
	return st->db ? -1 : st->be->watch_fd(st);
}

int store_watch_drain(struct store *st)
{
	return st->db ? 0 : st->be->watch_drain(st);
}

int store_uri_in_force(const char *dir, char *uri, size_t cap, char *err, size_t errlen)
{
	return resolve_uri(dir, uri, cap, err, errlen);
}

/* DIR/store.uri, 0600 (the URI may carry a password). */
static int write_uri_file(const struct store *st, const char *uri, char *err, size_t errlen)
{
	char path[4200], text[2100];
	int n = snprintf(text, sizeof text, "%s\n", uri);

	if (path_join(path, sizeof path, st->dir, STORE_URI_FILE) < 0 || n < 0 || (size_t)n >= sizeof text) {
		seterr(err, errlen, "store URI too long");
		return -1;
	}
	return write_file_atomic(path, text, (size_t)n, 0600, err, errlen);
}

static int open_pg_state(struct store *st, const char *uri, int create, char *err, size_t errlen)
{
	struct stat sb;
	char path[4200];

	if (create) {
		if (stat(st->dir, &sb) == 0 && !S_ISDIR(sb.st_mode)) {
			seterr(err, errlen, "%s exists and is not a directory", st->dir);
			return -1;
		}
		if (path_join(path, sizeof path, st->dir, "keys") == 0 && !dir_is_empty(path)) {
			seterr(err, errlen, "%s is not empty (left from an earlier state?): move it away first", path);
			return -1;
		}
		if (create_dirs(st, err, errlen) < 0)
			return -1;
	} else if (stat(st->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		seterr(err, errlen, "no opencapf state at %s: run 'opencapf init --state %s' first", st->dir, st->dir);
		return -1;
	}
	if (pg_open(st, uri, create, err, errlen) < 0)
		return -1;
	if (create)
		return write_uri_file(st, uri, err, errlen);
	subdirs_on_open(st);
	return 0;
}

/* The handle for `dir`, its dir and database path set; NULL (err set) if not. */
static struct store *store_new(const char *dir, char *dbpath, size_t dbcap, char *err, size_t errlen)
{
	struct store *st;
	size_t n;

	if (!dir || !dir[0]) {
		seterr(err, errlen, "no state directory given");
		return NULL;
	}
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	st = calloc(1, sizeof *st);
	if (!st) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	if (n < sizeof st->dir - 32) {
		memcpy(st->dir, dir, n);
		st->dir[n] = '\0';
		if (path_join(dbpath, dbcap, st->dir, STORE_DB_NAME) == 0)
			return st;
	}
	seterr(err, errlen, "state directory path too long");
	free(st);
	return NULL;
}

int store_open_with(const char *dir, const char *uri, enum store_open_mode mode, int db_only, struct store **out,
		    char *err, size_t errlen)
{
	char dbpath[4200];
	struct store *st = store_new(dir, dbpath, sizeof dbpath, err, errlen);
	int rc;

	*out = NULL;
	if (!st)
		return -1;
	if (uri && uri[0] && db_only)
		rc = pg_open(st, uri, mode == STORE_OPEN_CREATE, err, errlen);
	else if (uri && uri[0])
		rc = open_pg_state(st, uri, mode == STORE_OPEN_CREATE, err, errlen);
	else
		rc = mode == STORE_OPEN_CREATE ? open_create(st, dbpath, err, errlen)
					       : open_existing(st, dbpath, err, errlen);
	if (rc < 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

int store_open(const char *dir, enum store_open_mode mode, struct store **out, char *err, size_t errlen)
{
	char uri[2048];

	*out = NULL;
	if (!dir || !dir[0]) {
		seterr(err, errlen, "no state directory given");
		return -1;
	}
	if (resolve_uri(dir, uri, sizeof uri, err, errlen) < 0)
		return -1;
	return store_open_with(dir, uri, mode, 0, out, err, errlen);
}

int store_use_uri(const struct store *st, const char *uri, char *err, size_t errlen)
{
	return write_uri_file(st, uri, err, errlen);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->db || st->conn) {
		quiet_exec(st, "ROLLBACK");
		cache_free(st);
		if (st->db)
			sqlite3_close(st->db);
		else
			st->be->close(st);
	}
	free(st);
}

int store_check(struct store *st, char *err, size_t errlen)
{
	struct store_stmt *s;
	const unsigned char *t;
	int rc;

	if (!st->db)   /* another backend's server checks its own storage */
		return 0;
	s = store_prepare(st, "PRAGMA quick_check");
	if (!s) {
		seterr(err, errlen, "%s", st->err);
		return -1;
	}
	rc = stmt_step(s);
	t = rc == STORE_ROW ? stmt_col_text(s, 0) : NULL;
	if (!t || strcmp((const char *)t, "ok")) {
		seterr(err, errlen, "%s/%s fails its integrity check: %s", st->dir, STORE_DB_NAME,
		       t ? (const char *)t : store_dberrmsg(st));
		store_finish(st, s);
		return -1;
	}
	store_finish(st, s);
	s = store_prepare(st, "PRAGMA foreign_key_check");
	if (!s) {
		seterr(err, errlen, "%s", st->err);
		return -1;
	}
	rc = stmt_step(s);
	store_finish(st, s);
	if (rc != STORE_DONE) {
		seterr(err, errlen, "%s/%s: %s", st->dir, STORE_DB_NAME,
		       rc == STORE_ROW ? "rows point at missing rows (foreign keys)" : store_dberrmsg(st));
		return -1;
	}
	return 0;
}

/* ---- settings ---- */

int store_setting_get(struct store *st, const char *key, char *out, size_t outcap)
{
	struct store_stmt *s = store_prepare(st, "SELECT value FROM settings WHERE key = ?1");
	const unsigned char *v;
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, key);
	rc = stmt_step(s);
	if (rc == STORE_DONE) {
		store_finish(st, s);
		return 1;
	}
	if (rc != STORE_ROW) {
		store_sqlfail(st, "cannot read a setting");
		store_finish(st, s);
		return -1;
	}
	v = stmt_col_text(s, 0);
	if ((size_t)snprintf(out, outcap, "%s", v ? (const char *)v : "") >= outcap) {
		store_finish(st, s);
		return store_fail(st, "setting %s is too long", key);
	}
	store_finish(st, s);
	return 0;
}

int store_setting_set(struct store *st, const char *key, const char *value)
{
	struct store_stmt *s;

	if (!key || !key[0])
		return store_fail(st, "empty setting name");
	s = store_prepare(st, "INSERT INTO settings (key, value) VALUES (?1, ?2) "
			      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
	if (!s)
		return -1;
	store_bind_text(s, 1, key);
	store_bind_text(s, 2, value);
	return store_run(st, s, "cannot write a setting");
}
