/*
 * store_test_util.c: fixtures and certificate helpers for the store tests.
 *
 * With OPENCAPF_TEST_PG set (tests/pg/with-postgres.sh), every fixture's
 * state lives in PostgreSQL, in a schema of its own on that server, and the
 * raw_* helpers go behind the store's back with libpq instead of SQLite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ctype.h>
#include <libpq-fe.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/util.h"
#include "store_test_util.h"

static char pg_uri[1024];

int store_test_pg(void)
{
	const char *base = getenv("OPENCAPF_TEST_PG");

	return base && base[0];
}

/* A schema of its own for this fixture on the test server. */
static void pg_fixture_uri(const char *tmp)
{
	const char *base = getenv("OPENCAPF_TEST_PG");
	char schema[64];
	size_t n;

	n = (size_t)snprintf(schema, sizeof schema, "t%ld_%s", (long)getpid(), strrchr(tmp, '-') + 1);
	for (size_t i = 0; i < n && i < sizeof schema; i++)
		schema[i] = (char)tolower((unsigned char)schema[i]);
	snprintf(pg_uri, sizeof pg_uri, "%s&options=-csearch_path%%3D%s", base, schema);
	assert_int_equal(store_set_uri(pg_uri), 0);
}

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	snprintf(f->tmp, sizeof f->tmp, "/tmp/opencapf-store-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->dir, sizeof f->dir, "%s/state", f->tmp);
	if (store_test_pg())
		pg_fixture_uri(f->tmp);
	return f;
}

int fixture_setup_empty(void **state)
{
	*state = fixture_new();
	return 0;
}

int fixture_setup(void **state)
{
	struct fixture *f = fixture_new();
	char err[ERRLEN] = "";

	if (store_open(f->dir, STORE_OPEN_CREATE, &f->st, err, sizeof err) < 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static PGconn *alive[8];

void node_alive(const char *name)
{
	const char *v[1] = { name };
	size_t i = 0;
	PGresult *r;

	if (!store_test_pg())
		return;
	while (i < 8 && alive[i])
		i++;
	assert_true(i < 8);
	alive[i] = PQconnectdb(pg_uri);
	assert_int_equal(PQstatus(alive[i]), CONNECTION_OK);
	r = PQexecParams(alive[i], "SELECT pg_advisory_lock_shared(1329807696, hashtext($1))", 1, NULL, v, NULL,
			 NULL, 0);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);
}

int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < 8 && alive[i]; i++) {
		PQfinish(alive[i]);
		alive[i] = NULL;
	}

	store_close(f->st);
	remove_tree(f->tmp);
	free(f);
	return 0;
}

void make_cert(const char *cn, long serial, uint8_t **der, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	unsigned char *out = NULL;
	int n;

	assert_non_null(key);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365));
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Test", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	n = i2d_X509(x, &out);
	assert_true(n > 0);
	*der = malloc((size_t)n);
	assert_non_null(*der);
	memcpy(*der, out, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(out);
	X509_free(x);
	EVP_PKEY_free(key);
}

void sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	hex_encode(md, sizeof md, out);
}

sqlite3 *raw_open(const char *dir)
{
	char path[256];
	sqlite3 *db = NULL;

	snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_NAME);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static PGresult *pg_run(const char *sql, PGconn **conn)
{
	*conn = PQconnectdb(pg_uri);
	assert_int_equal(PQstatus(*conn), CONNECTION_OK);
	return PQexec(*conn, sql);
}

int raw_exec_msg(const char *dir, const char *sql, char *msg, size_t cap)
{
	if (msg && cap)
		msg[0] = '\0';
	if (store_test_pg()) {
		PGconn *c;
		PGresult *r = pg_run(sql, &c);
		ExecStatusType s = PQresultStatus(r);
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		int rc = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK ? SQLITE_OK
			 : state && !strncmp(state, "23", 2) ? SQLITE_CONSTRAINT : SQLITE_ERROR;

		if (rc && msg && cap)
			snprintf(msg, cap, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
		PQclear(r);
		PQfinish(c);
		return rc;
	} else {
		sqlite3 *db = raw_open(dir);
		char *m = NULL;
		int rc = sqlite3_exec(db, sql, NULL, NULL, &m);

		if (m && msg && cap)
			snprintf(msg, cap, "%s", m);
		sqlite3_free(m);
		sqlite3_close(db);
		return rc;
	}
}

int raw_exec(const char *dir, const char *sql)
{
	return raw_exec_msg(dir, sql, NULL, 0);
}

long raw_count(const char *dir, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s = NULL;
	long n;

	if (store_test_pg()) {
		PGconn *c;
		PGresult *r = pg_run(sql, &c);

		assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
		assert_int_equal(PQntuples(r), 1);
		n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		PQfinish(c);
		return n;
	}
	db = raw_open(dir);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = (long)sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

void add_phone(struct store *st, const char *name)
{
	struct phone p;

	phone_defaults(&p, name);
	p.auth = AUTH_STRING;
	snprintf(p.auth_string, sizeof p.auth_string, "9081726354");
	p.op = OP_INSTALL;
	p.deadline = now_utc() + 3600;
	snprintf(p.status, sizeof p.status, "%s", STATUS_PENDING);
	if (store_phone_insert(st, &p) < 0)
		fail_msg("store_phone_insert %s: %s", name, store_errmsg(st));
}

int read_whole(const char *path, uint8_t **data, size_t *len)
{
	char err[ERRLEN];

	return read_file(path, 1 << 24, data, len, err, sizeof err);
}
