/*
 * store_backup.h: consistent copies of a state's database for backups. The
 * copy is taken with SQLite's online backup API in one read transaction, so
 * it is safe while opencapfd and the CLI write (WAL: writers are not
 * blocked) and holds exactly the transactions committed before it began.
 */
#ifndef OPENCAPF_STORE_BACKUP_H
#define OPENCAPF_STORE_BACKUP_H

#include <stddef.h>

/* Copy STATE_DIR/opencapf.db to dest (a new file, mode 0600, journal mode
 * DELETE so it stands alone) and read its schema version into *schema.
 * 0, or -1 with err. */
int store_snapshot(const char *state_dir, const char *dest, int *schema, char *err, size_t errlen);

/* PRAGMA integrity_check of a database file, opened read-only: 0 when it
 * answers "ok" (and *schema = its user_version), -1 with the first problem
 * in err. */
int store_file_check(const char *path, int *schema, char *err, size_t errlen);

#endif
