/*
 * store_test_util.h: what every store test needs: a fresh temporary folder
 * per test, a state created in it, a small self-signed certificate, and a
 * raw SQLite handle on the database for checks behind the store's back.
 */
#ifndef OPENCAPF_STORE_TEST_UTIL_H
#define OPENCAPF_STORE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/store.h"

struct fixture {
	char tmp[64];            /* mkdtemp folder, removed at teardown */
	char dir[128];           /* tmp/state */
	struct store *st;
};

/* cmocka group-less setup/teardown: a fresh folder and a created state. */
int fixture_setup(void **state);
int fixture_setup_empty(void **state);   /* the folder only, no state */
int fixture_teardown(void **state);

/* A self-signed EC P-256 certificate, DER (free with free()). */
void make_cert(const char *cn, long serial, uint8_t **der, size_t *len);
/* Lower-case hex SHA-256 of bytes. */
void sha256_hex(const uint8_t *data, size_t len, char out[65]);

/* Is this run on PostgreSQL (OPENCAPF_TEST_PG, see store_test_util.c)? */
int store_test_pg(void);

/* PostgreSQL: node NAME shows alive, as a daemon's connections show it,
 * until the fixture's teardown (nothing on SQLite). */
void node_alive(const char *name);

/* A raw connection to an SQLite database (sqlite3_close it). */
sqlite3 *raw_open(const char *dir);
/* SQL behind the store's back, on either backend: SQLITE_OK, SQLITE_CONSTRAINT
 * (any constraint or trigger refusal) or SQLITE_ERROR; the message in msg. */
int raw_exec_msg(const char *dir, const char *sql, char *msg, size_t cap);
int raw_exec(const char *dir, const char *sql);
/* SELECT count(*) ... through a raw connection. */
long raw_count(const char *dir, const char *sql);

/* Add a phone with defaults (and an auth string) or fail the test. */
void add_phone(struct store *st, const char *name);

int read_whole(const char *path, uint8_t **data, size_t *len);

#endif
