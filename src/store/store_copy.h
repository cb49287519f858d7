/*
 * store_copy.h: moving a state's database from SQLite into PostgreSQL
 * (`opencapf store migrate URI`), for a single node becoming the first node
 * of a cluster.
 */
#ifndef OPENCAPF_STORE_COPY_H
#define OPENCAPF_STORE_COPY_H

#include <stddef.h>
#include <stdint.h>

/* Copies every row of DIR's SQLite database (DIR/opencapf.db, whatever
 * store URI is configured) into a new state in the PostgreSQL database at
 * `uri` (which must hold none), in one transaction, keeping ids, then
 * checks the row counts match and writes DIR/store.uri so that every
 * program opening DIR uses PostgreSQL from then on. The SQLite file is left
 * as it was. No daemon may run on DIR meanwhile (the caller holds its lock).
 * `progress` (may be NULL) hears each table's name and rows copied.
 * 0, or -1 with err. */
int store_migrate_to(const char *dir, const char *uri,
		     void (*progress)(const char *table, int64_t rows, void *arg), void *arg,
		     char *err, size_t errlen);

#endif
