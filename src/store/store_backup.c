/*
 * store_backup.c: the database side of `opencapf backup` and `restore`
 * (store_backup.h): an online-backup snapshot, and the integrity check of a
 * restored file before it is put in place.
 */
#include "store/store_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "store/store.h"

#define SNAPSHOT_BUSY_MS 30000

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL);

	if (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		*out = sqlite3_column_int(q, 0);
	else
		rc = SQLITE_ERROR;
	sqlite3_finalize(q);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The whole database in one backup step: one read transaction, one snapshot. */
static int copy_db(sqlite3 *src, sqlite3 *dst, char *err, size_t errlen)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
	int rc;

	if (!b) {
		seterr(err, errlen, "cannot start the database backup: %s", sqlite3_errmsg(dst));
		return -1;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		seterr(err, errlen, "database backup failed: %s", sqlite3_errstr(rc));
		return -1;
	}
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		seterr(err, errlen, "cannot finish the database copy: %s", sqlite3_errmsg(dst));
		return -1;
	}
	return 0;
}

int store_snapshot(const char *state_dir, const char *dest, int *schema, char *err, size_t errlen)
{
	sqlite3 *src = NULL, *dst = NULL;
	char path[4200];
	int fd, rc = -1;

	err[0] = '\0';
	if (store_uri_in_force(state_dir, path, sizeof path, err, errlen) != 0) {
		if (!err[0])
			seterr(err, errlen, "the state's database is in PostgreSQL (%s/%s): back it up with pg_dump, "
			       "and keys/ of each node", state_dir, STORE_URI_FILE);
		return -1;
	}
	if (path_join(path, sizeof path, state_dir, STORE_DB_NAME) < 0 || access(path, R_OK) < 0) {
		seterr(err, errlen, "no readable opencapf state at %s", state_dir);
		return -1;
	}
	fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		seterr(err, errlen, "cannot create %s", dest);
		return -1;
	}
	close(fd);
	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		seterr(err, errlen, "cannot open %s: %s", path, src ? sqlite3_errmsg(src) : "out of memory");
	else if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		seterr(err, errlen, "cannot open %s: %s", dest, dst ? sqlite3_errmsg(dst) : "out of memory");
	else {
		sqlite3_busy_timeout(src, SNAPSHOT_BUSY_MS);
		if (copy_db(src, dst, err, errlen) == 0 && user_version(dst, schema) == 0)
			rc = 0;
		else if (!err[0])
			seterr(err, errlen, "cannot read the schema version of the copy");
	}
	sqlite3_close(src);
	sqlite3_close(dst);
	if (rc < 0)
		unlink(dest);
	return rc;
}

int store_file_check(const char *path, int *schema, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) != SQLITE_OK)
		seterr(err, errlen, "%s is not a readable SQLite database: %s", path,
		       db ? sqlite3_errmsg(db) : "out of memory");
	else if (sqlite3_step(q) != SQLITE_ROW)
		seterr(err, errlen, "integrity check of %s failed: %s", path, sqlite3_errmsg(db));
	else if (!sqlite3_column_text(q, 0) || sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "ok") != 0)
		seterr(err, errlen, "integrity check of %s: %s", path,
		       sqlite3_column_text(q, 0) ? (const char *)sqlite3_column_text(q, 0) : "no answer");
	else if (user_version(db, schema) < 0)
		seterr(err, errlen, "cannot read the schema version of %s", path);
	else
		rc = 0;
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}
