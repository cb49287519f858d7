/*
 * store_capf.c: the CAPF certificates: the current one (which signs LSCs),
 * the previous one (still trusted while phones move over, see
 * phone-certificates.md §6) and retired ones (kept for the record).
 *
 * Invariants:
 *  - At most one 'current' and one 'previous' row (partial unique indexes).
 *  - store_capf_add is one step: current -> previous, previous -> retired,
 *    new row current; nothing is ever deleted.
 *  - key_file is a plain file name inside keys/ (no '/'), so a database
 *    edited by hand cannot point the daemon at an arbitrary path.
 *  - Only a previous certificate can be retired (store_capf_retire); the
 *    current one is replaced by adding a new one, never retired directly.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

static int read_capf(struct store *st, struct store_stmt *s, struct capf_row *r, int copy_der)
{
	const void *der = stmt_col_blob(s, 5);
	int n = stmt_col_bytes(s, 5);

	memset(r, 0, sizeof *r);
	r->id = stmt_col_int64(s, 0);
	store_col_text(s, 1, r->state, sizeof r->state);
	store_col_text(s, 2, r->key_file, sizeof r->key_file);
	store_col_text(s, 3, r->sha256, sizeof r->sha256);
	r->created = stmt_col_int64(s, 4);
	r->derlen = (size_t)n;
	if (!copy_der) {
		r->der = (uint8_t *)der;    /* valid until the next step */
		return 0;
	}
	r->der = malloc(n > 0 ? (size_t)n : 1);
	if (!r->der)
		return store_fail(st, "out of memory");
	if (n > 0)
		memcpy(r->der, der, (size_t)n);
	return 0;
}

void capf_row_free(struct capf_row *r)
{
	if (!r)
		return;
	free(r->der);
	r->der = NULL;
	r->derlen = 0;
}

/* One row chosen by `where` (with ?1 bound to arg when given), der copied. */
static int capf_one(struct store *st, const char *sql, const char *arg, struct capf_row *out)
{
	struct store_stmt *s = store_prepare(st, sql);
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	if (arg)
		store_bind_text(s, 1, arg);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		rc = read_capf(st, s, out, 1);
	else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot read the CAPF certificate");
	store_finish(st, s);
	return rc;
}

int store_capf_current(struct store *st, struct capf_row *out)
{
	return capf_one(st, "SELECT id, state, key_file, sha256, created, der FROM capf_certs "
			    "WHERE state = 'current'", NULL, out);
}

int store_capf_previous(struct store *st, struct capf_row *out)
{
	return capf_one(st, "SELECT id, state, key_file, sha256, created, der FROM capf_certs "
			    "WHERE state = 'previous'", NULL, out);
}

int store_capf_find(struct store *st, const char *sha256, struct capf_row *out)
{
	return capf_one(st, "SELECT id, state, key_file, sha256, created, der FROM capf_certs "
			    "WHERE sha256 = ?1", sha256 ? sha256 : "", out);
}

int store_capf_retire(struct store *st, const char *sha256)
{
	struct capf_row row;
	struct store_stmt *s;
	int rc = store_capf_find(st, sha256, &row);

	if (rc != 0)
		return rc < 0 ? -1 : store_fail(st, "no CAPF certificate with fingerprint %s", sha256);
	capf_row_free(&row);
	if (!strcmp(row.state, "retired"))
		return 1;
	if (!strcmp(row.state, "current"))
		return store_fail(st, "the current CAPF certificate cannot be retired");
	s = store_prepare(st, "UPDATE capf_certs SET state = 'retired' WHERE sha256 = ?1 AND state = 'previous'");
	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	return store_run(st, s, "cannot retire the CAPF certificate");
}

static int capf_add(struct store *st, const uint8_t *der, size_t len, const char *key_file, const char *sha256)
{
	struct store_stmt *s;

	if (store_exec(st, "UPDATE capf_certs SET state = 'retired' WHERE state = 'previous'",
		       "cannot retire the previous CAPF certificate") < 0 ||
	    store_exec(st, "UPDATE capf_certs SET state = 'previous' WHERE state = 'current'",
		       "cannot keep the current CAPF certificate as previous") < 0)
		return -1;
	s = store_prepare(st, "INSERT INTO capf_certs (state, key_file, sha256, created, der) "
			      "VALUES ('current', ?1, ?2, ?3, ?4)");
	if (!s)
		return -1;
	store_bind_text(s, 1, key_file);
	store_bind_text(s, 2, sha256);
	stmt_bind_int64(s, 3, now_utc());
	stmt_bind_blob(s, 4, der, (int)len);
	return store_run(st, s, "cannot record the CAPF certificate");
}

int store_capf_add(struct store *st, const uint8_t *der, size_t len, const char *key_file, const char *sha256)
{
	char computed[65];
	struct store_tx tx;

	if (!der || len == 0 || len > 1 << 20)
		return store_fail(st, "no CAPF certificate to record");
	if (!key_file || !key_file[0] || strchr(key_file, '/') || !strcmp(key_file, ".") ||
	    !strcmp(key_file, ".."))
		return store_fail(st, "the CAPF key file must be a plain name inside keys/");
	if (!sha256 || !sha256[0]) {
		store_sha256_hex(der, len, computed);
		sha256 = computed;
	}
	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, capf_add(st, der, len, key_file, sha256));
}

int store_capf_each(struct store *st, int (*fn)(const struct capf_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT id, state, key_file, sha256, created, der "
					    "FROM capf_certs ORDER BY id DESC");
	struct capf_row r;
	int rc, stop = 0;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		read_capf(st, s, &r, 0);
		if (fn && (stop = fn(&r, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list CAPF certificates");
	store_finish(st, s);
	return stop;
}
