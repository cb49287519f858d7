/*
 * store_internal.h: what the files of store/ share and nobody else sees.
 *
 * The store is split by role:
 *   store_stmt.h      the statement interface (SQLite inline, other backends
 *                     through struct store_backend)
 *   store_db.c        open/create, pragmas, migrations, transactions, settings,
 *                     the statement cache
 *   store_schema.c    the migration scripts (index = schema version - 1)
 *   store_enums.c     names, vendor labels and parsing of the phone enums
 *   store_phone.c     phones and their attempt history
 *   store_phone_row.c the one codec of a whole phone row (columns, reader, binder)
 *   store_cert.c      issued / seen certificates, completing CAPF operations
 *   store_claim.c     operation claims and string-authentication lockouts
 *   store_capf.c      the CAPF certificates (current, previous, retired)
 *   store_trust.c     trust stores and their certificates
 *   store_audit.c     the append-only audit log (writing and filtered reading)
 *   store_filter.c    phone filters: parsing, describing (no SQL)
 *   store_select.c    phones selected by a filter, in one SQL query
 *   store_schedule.c  scheduling an operation on every phone a filter selects
 *   store_bulk.c      the bulk writer for imports (one transaction)
 *   store_certparse.c the one place the store looks inside a certificate
 *
 * Conventions kept by every file:
 *  - SQL text is constant; every value goes through stmt_bind_* (the
 *    statement interface of store_stmt.h, the same for every backend).
 *  - A failing function leaves one sentence in st->err (store_errmsg) and
 *    returns -1; the database's own message is copied at the moment of
 *    failure, because a later ROLLBACK would replace it.
 *  - Anything that writes more than one row runs inside store_tx_open /
 *    store_tx_close, which is a BEGIN IMMEDIATE transaction when the caller
 *    has none and a SAVEPOINT inside the caller's transaction otherwise.
 */
#ifndef OPENCAPF_STORE_INTERNAL_H
#define OPENCAPF_STORE_INTERNAL_H

#include "store/store.h"
#include "store/store_stmt.h"

/* PRAGMA application_id of an opencapf database: "OCAP". */
#define STORE_APPLICATION_ID 0x4f434150

/* Prepared statements kept for reuse: parsing SQL was a tenth of the
 * daemon's CPU when every install prepared its statements afresh. */
#define STORE_STMT_CACHE 48

struct store_cached_stmt {
	struct store_stmt stmt;      /* stmt.lite or stmt.impl set: the slot holds one */
	const char *sql;             /* the text it was asked for with (usually a literal) */
	char *text;                  /* another backend's copy of the text */
	int in_use;
};

struct store {
	sqlite3 *db;                 /* SQLite's connection; NULL on another backend */
	const struct store_backend *be; /* that backend (NULL for SQLite) */
	void *conn;                  /* its connection */
	char dir[4096];
	char err[512];
	struct store_cached_stmt cache[STORE_STMT_CACHE];
	unsigned cache_next;         /* next slot to evict */
};

/* The migration scripts: store_migrations[v - 1] brings version v-1 to v. */
extern const char *const store_migrations[];
extern const int store_migration_count;

/* Errors. store_fail sets st->err and returns -1; store_sqlfail appends
 * the database's current message to `what`. */
int store_fail(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int store_sqlfail(struct store *st, const char *what);

/* The connection's state, whatever the backend. */
static inline int64_t store_changes(struct store *st)
{
	return st->db ? sqlite3_changes(st->db) : st->be->changes(st);
}

/* The id the last INSERT gave its row (tables with an integer id). */
static inline int64_t store_last_id(struct store *st)
{
	return st->db ? sqlite3_last_insert_rowid(st->db) : st->be->last_id(st);
}

static inline int store_in_tx(struct store *st)
{
	return st->db ? !sqlite3_get_autocommit(st->db) : st->be->in_tx(st);
}

/* The database's message for the last failure on this connection. */
static inline const char *store_dberrmsg(struct store *st)
{
	return st->db ? sqlite3_errmsg(st->db) : st->be->errmsg(st);
}

/* The text of a failed stmt_step's code `rc` (SQLite's words for it). */
static inline const char *store_errstr(struct store *st, int rc)
{
	return st->db ? sqlite3_errstr(rc) : st->be->errmsg(st);
}

/* Statements. store_prepare returns NULL (error set) on failure, else a
 * statement with no bindings, from the handle's cache when the same SQL text
 * ran before. Every statement from store_prepare goes back with store_finish
 * (it may be cached). store_run steps a statement
 * that returns no row, finishes it, and returns 0 or -1; `what` names the
 * operation in the error sentence. */
struct store_stmt *store_prepare(struct store *st, const char *sql);
void store_finish(struct store *st, struct store_stmt *s);
int store_run(struct store *st, struct store_stmt *s, const char *what);
int store_exec(struct store *st, const char *sql, const char *what);

/* Binding helpers: NULL text binds as ''. */
int store_bind_text(struct store_stmt *s, int i, const char *v);
void store_col_text(struct store_stmt *s, int col, char *out, size_t outcap);

/* Open dir's state with the database at uri (NULL or "": SQLite in dir),
 * whatever store_set_uri, $OPENCAPF_STORE or dir/store.uri say; db_only
 * opens (or creates) only the PostgreSQL database, leaving dir alone. */
int store_open_with(const char *dir, const char *uri, enum store_open_mode mode, int db_only, struct store **out,
		    char *err, size_t errlen);
/* Write dir/store.uri: the state's database is at uri from now on. */
int store_use_uri(const struct store *st, const char *uri, char *err, size_t errlen);

/* Multi-row writes, nesting-safe (see the top of this file). */
struct store_tx {
	int savepoint;
};
int store_tx_open(struct store *st, struct store_tx *tx);
/* Commits (or releases) when rc == 0, rolls back otherwise; returns 0 or -1. */
int store_tx_close(struct store *st, struct store_tx *tx, int rc);

/* store_phone.c, for the CAPF completions in store_cert.c. */
int store_phone_write(struct store *st, const struct phone *p);

/* store_phone_row.c: a whole phone row, one column list for every query.
 * STORE_PHONE_COLUMNS(a) names the STORE_PHONE_NCOLUMNS columns of phones,
 * each prefixed with the table alias a ("" or "p."); the writable ones
 * (all but the key name and created, updated) are STORE_PHONE_DATA_COLUMNS. */
#define STORE_PHONE_DATA_COLUMNS(a)                                                                    \
	a "model, " a "description, " a "auth_mode, " a "auth_string, " a "key_order, " a "rsa_bits, "  \
	a "ec_bits, " a "operation, " a "deadline, " a "status, " a "auth_failures, " a "locked_until, " \
	a "last_contact"
#define STORE_PHONE_COLUMNS(a) a "name, " STORE_PHONE_DATA_COLUMNS(a) ", " a "created, " a "updated"
#define STORE_PHONE_NCOLUMNS 16
/* The statements on whole rows; their parameters are store_phone_bind's. */
#define STORE_PHONE_SQL_GET "SELECT " STORE_PHONE_COLUMNS("") " FROM phones WHERE name = ?1"
#define STORE_PHONE_SQL_EACH "SELECT " STORE_PHONE_COLUMNS("") " FROM phones ORDER BY name"
#define STORE_PHONE_SQL_INSERT                                                                         \
	"INSERT INTO phones (" STORE_PHONE_COLUMNS("") ") VALUES "                                      \
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
#define STORE_PHONE_SQL_UPDATE                                                                         \
	"UPDATE phones SET (" STORE_PHONE_DATA_COLUMNS("") ", updated) = "                              \
	"(?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?16) WHERE name = ?1"
/* Binds ?1..?16 in STORE_PHONE_COLUMNS order (created and updated as given). */
void store_phone_bind(struct store_stmt *s, const struct phone *p, int64_t created, int64_t updated);
/* Reads the STORE_PHONE_COLUMNS from column 0 into p; -1 (error set) for a
 * setting this program does not know. */
int store_phone_read(struct store *st, struct store_stmt *s, struct phone *p);

/* store_filter.c: the LSC_EXPIRING window of a filter, in days. */
struct phone_filter;
int store_filter_expiring_days(const struct phone_filter *f);

/* store_claim.c, within the caller's transaction (see the top of that file). */
int store_claim_take_locked(struct store *st, const char *phone, enum capf_op op, const char *claim,
			    int64_t until);
int store_claim_release_locked(struct store *st, const char *phone, const char *claim);
int store_auth_failure_locked(struct store *st, const char *phone, const char *peer, int max_failures,
			      int lockout_seconds, int64_t now, int *failures, int64_t *locked_until);
int store_auth_success_locked(struct store *st, const char *phone, const char *peer);

/* store_cert.c: record a presented certificate (no transaction of its own). */
struct store_certinfo;
int store_seen_cert_locked(struct store *st, const char *phone, const char *kind, const uint8_t *der,
			   size_t len, int64_t when, struct store_certinfo *info);

/* store_certparse.c */
struct store_certinfo {
	char serial[130];        /* lower-case hex */
	char subject[512];       /* same text form as pki_cert_info() */
	char issuer[512];
	int64_t not_before, not_after;
	char sha256[80];         /* lower-case hex of the DER as given */
};
int store_cert_parse(const uint8_t *der, size_t len, struct store_certinfo *out);
/* The same fields without decoding the public key: for certificates we built
 * (falls back to store_cert_parse when the fields do not walk). */
int store_cert_parse_fields(const uint8_t *der, size_t len, struct store_certinfo *out);
void store_sha256_hex(const uint8_t *data, size_t len, char out[65]);

/* store_audit.c: a JSON string value, escaped, into a bounded buffer. */
void store_json_str(char *out, size_t outcap, const char *s);
/* The one statement that appends an audit row: ?1 time, ?2 actor,
 * ?3 action, ?4 object, ?5 detail. */
#define STORE_AUDIT_SQL_INSERT                                                                         \
	"INSERT INTO audit_log (time, actor, action, object, detail) VALUES (?1, ?2, ?3, ?4, ?5)"

#endif
