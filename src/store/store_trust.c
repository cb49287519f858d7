/*
 * store_trust.c: named trust stores (CallManager-trust, CAPF-trust,
 * manufacturing, ...) and the certificates in each.
 *
 * Invariants:
 *  - A certificate is in a store at most once (PRIMARY KEY store, sha256);
 *    adding it again is not an error (returns 1).
 *  - Removing a store removes its certificates (ON DELETE CASCADE); nothing
 *    else refers to trust certificates.
 *  - Listing fields (issuer, serial, validity) are parsed once, on add, so
 *    only DER that parses as X.509 gets in.
 *  - The note is the one field that changes after adding: it says what a
 *    certificate is there for ("CAPF certificate", "CAPF certificate
 *    (previous)", "CAPF issuing CA").
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

int store_trust_create(struct store *st, const char *name, const char *description)
{
	struct store_stmt *s;

	if (!name || !name[0])
		return store_fail(st, "a trust store needs a name");
	s = store_prepare(st, "INSERT INTO trust_stores (name, description) VALUES (?1, ?2) "
			      "ON CONFLICT (name) DO NOTHING");
	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, description);
	if (store_run(st, s, "cannot create the trust store") < 0)
		return -1;
	return store_changes(st) ? 0 : 1;
}

static int trust_exists(struct store *st, const char *name)
{
	struct store_stmt *s = store_prepare(st, "SELECT 1 FROM trust_stores WHERE name = ?1");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	rc = stmt_step(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		store_sqlfail(st, "cannot look up the trust store");
	store_finish(st, s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int store_trust_add(struct store *st, const char *store_name, const uint8_t *der, size_t len,
		    const char *sha256, const char *subject, const char *note)
{
	struct store_certinfo ci;
	struct store_stmt *s;
	int rc;

	if (store_cert_parse(der, len, &ci) < 0)
		return store_fail(st, "not an X.509 certificate");
	rc = trust_exists(st, store_name);
	if (rc <= 0)
		return rc < 0 ? -1 : store_fail(st, "no trust store named %s", store_name);
	s = store_prepare(st, "INSERT INTO trust_certs (store, sha256, subject, issuer, serial, not_before, "
			      "not_after, der, note, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
			      "ON CONFLICT (store, sha256) DO NOTHING");
	if (!s)
		return -1;
	store_bind_text(s, 1, store_name);
	store_bind_text(s, 2, sha256 && sha256[0] ? sha256 : ci.sha256);
	store_bind_text(s, 3, subject && subject[0] ? subject : ci.subject);
	store_bind_text(s, 4, ci.issuer);
	store_bind_text(s, 5, ci.serial);
	stmt_bind_int64(s, 6, ci.not_before);
	stmt_bind_int64(s, 7, ci.not_after);
	stmt_bind_blob(s, 8, der, (int)len);
	store_bind_text(s, 9, note);
	stmt_bind_int64(s, 10, now_utc());
	if (store_run(st, s, "cannot add the certificate") < 0)
		return -1;
	return store_changes(st) ? 0 : 1;
}

int store_trust_remove(struct store *st, const char *store_name, const char *sha256)
{
	struct store_stmt *s = store_prepare(st, "DELETE FROM trust_certs WHERE store = ?1 AND sha256 = ?2");

	if (!s)
		return -1;
	store_bind_text(s, 1, store_name);
	store_bind_text(s, 2, sha256);
	if (store_run(st, s, "cannot remove the certificate") < 0)
		return -1;
	return store_changes(st) ? 0 : 1;
}

int store_trust_each(struct store *st, const char *store_name,
		     int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	struct store_stmt *s;
	struct cert_row r;
	int rc, stop = 0;

	rc = trust_exists(st, store_name);
	if (rc <= 0)
		return rc < 0 ? -1 : (store_fail(st, "no trust store named %s", store_name), 1);
	s = store_prepare(st, "SELECT rowid, sha256, subject, issuer, serial, not_before, not_after, der, "
			      "note, added FROM trust_certs WHERE store = ?1 ORDER BY rowid");
	if (!s)
		return -1;
	store_bind_text(s, 1, store_name);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		memset(&r, 0, sizeof r);
		r.id = stmt_col_int64(s, 0);
		store_col_text(s, 1, r.sha256, sizeof r.sha256);
		store_col_text(s, 2, r.subject, sizeof r.subject);
		store_col_text(s, 3, r.issuer, sizeof r.issuer);
		store_col_text(s, 4, r.serial, sizeof r.serial);
		r.not_before = stmt_col_int64(s, 5);
		r.not_after = stmt_col_int64(s, 6);
		r.der = (uint8_t *)stmt_col_blob(s, 7);   /* valid during the call */
		r.derlen = (size_t)stmt_col_bytes(s, 7);
		store_col_text(s, 8, r.note, sizeof r.note);
		r.time = stmt_col_int64(s, 9);
		if (fn && (stop = fn(&r, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list the trust store");
	store_finish(st, s);
	return stop;
}

int store_trust_names(struct store *st, int (*fn)(const char *name, const char *desc, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT name, description FROM trust_stores ORDER BY name");
	int rc, stop = 0;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		const unsigned char *name = stmt_col_text(s, 0), *desc = stmt_col_text(s, 1);

		if (fn && (stop = fn(name ? (const char *)name : "", desc ? (const char *)desc : "", arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list trust stores");
	store_finish(st, s);
	return stop;
}

int store_trust_count(struct store *st, const char *store_name)
{
	struct store_stmt *s = store_prepare(st, "SELECT count(*) FROM trust_certs WHERE store = ?1");
	int n = -1;

	if (!s)
		return -1;
	store_bind_text(s, 1, store_name);
	if (stmt_step(s) == STORE_ROW)
		n = stmt_col_int(s, 0);
	else
		store_sqlfail(st, "cannot count the trust store's certificates");
	store_finish(st, s);
	return n;
}

int store_trust_stores_of(struct store *st, const char *sha256,
			  int (*fn)(const char *store_name, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT store FROM trust_certs WHERE sha256 = ?1 ORDER BY store");
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		const unsigned char *name = stmt_col_text(s, 0);

		if (fn && (stop = fn(name ? (const char *)name : "", arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot find the certificate's trust stores");
	store_finish(st, s);
	return stop;
}

int store_trust_set_note(struct store *st, const char *sha256, const char *note)
{
	struct store_stmt *s = store_prepare(st, "UPDATE trust_certs SET note = ?2 WHERE sha256 = ?1");

	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	store_bind_text(s, 2, note);
	return store_run(st, s, "cannot change the certificate's note");
}

int store_trust_remove_everywhere(struct store *st, const char *sha256, int *removed)
{
	struct store_stmt *s = store_prepare(st, "DELETE FROM trust_certs WHERE sha256 = ?1");

	if (removed)
		*removed = 0;
	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	if (store_run(st, s, "cannot remove the certificate from the trust stores") < 0)
		return -1;
	if (removed)
		*removed = store_changes(st);
	return 0;
}
