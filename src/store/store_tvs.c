/*
 * store_tvs.c: the TVS certificates (roles, TTL) and the service
 * certificates (SAST/TFTP signer, TVS) of a state: store_tvs.h.
 *
 * Invariants:
 *  - a certificate is known to TVS at most once (PRIMARY KEY sha256, the
 *    SHA-256 of the DER as stored); adding it again replaces its roles and
 *    TTL, so `opencapf tvs add` is also how roles are changed;
 *  - roles are stored canonical (ascending, no repeats) so that the answer
 *    TVS gives is the same whatever order the administrator typed;
 *  - listing fields are parsed once, on add (store_cert_parse), so only DER
 *    that parses as X.509 gets in.
 */
#include "store/store_tvs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

#define ROLES_TEXT_MAX 256

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return x < y ? -1 : x > y;
}

/* Canonical "1,4" from any list; -1 when empty, too many or out of range. */
static int roles_encode(const uint16_t *roles, size_t n, char *out, size_t outcap)
{
	uint16_t sorted[TVS_ROLES_MAX];
	size_t len = 0, m = 0;

	if (n == 0 || n > TVS_ROLES_MAX)
		return -1;
	memcpy(sorted, roles, n * sizeof *roles);
	qsort(sorted, n, sizeof *sorted, cmp_u16);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (sorted[i] > 255)
			return -1;
		if (m > 0 && sorted[i] == sorted[i - 1])
			continue;
		len += (size_t)snprintf(out + len, outcap - len, "%s%u", m ? "," : "", sorted[i]);
		if (len >= outcap)
			return -1;
		m++;
	}
	return 0;
}

static int roles_decode(const char *text, uint16_t *roles, size_t *n)
{
	const char *p = text;

	*n = 0;
	while (*p) {
		char *end;
		unsigned long v;

		if (!isdigit((unsigned char)*p))
			return -1;
		v = strtoul(p, &end, 10);
		if (v > 255 || *n == TVS_ROLES_MAX)
			return -1;
		roles[(*n)++] = (uint16_t)v;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return *n ? 0 : -1;
}

static void lower_hex(const char *in, char *out, size_t outcap)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outcap; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static int exists(struct store *st, const char *sha256)
{
	struct store_stmt *s = store_prepare(st, "SELECT 1 FROM tvs_certs WHERE sha256 = ?1");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	rc = stmt_step(s);
	if (rc != STORE_ROW && rc != STORE_DONE)
		store_sqlfail(st, "cannot look up the TVS certificate");
	store_finish(st, s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

int store_tvs_put(struct store *st, const uint8_t *der, size_t len, const uint16_t *roles, size_t nroles,
		  int64_t ttl, const char *source, const char *note)
{
	struct store_certinfo ci;
	char text[ROLES_TEXT_MAX];
	struct store_stmt *s;
	int had;

	if (!der || store_cert_parse(der, len, &ci) < 0)
		return store_fail(st, "not an X.509 certificate");
	if (!roles || roles_encode(roles, nroles, text, sizeof text) < 0)
		return store_fail(st, "a TVS certificate needs 1 to %d roles, each 0..255", TVS_ROLES_MAX);
	if (ttl < -1 || ttl > (int64_t)UINT32_MAX)
		return store_fail(st, "TTL %lld is out of range (0..4294967295 seconds)", (long long)ttl);
	if (!source || (strcmp(source, TVS_SOURCE_ADMIN) && strcmp(source, TVS_SOURCE_SERVICE)))
		return store_fail(st, "unknown TVS certificate source");
	had = exists(st, ci.sha256);
	if (had < 0)
		return -1;
	s = store_prepare(st, "INSERT INTO tvs_certs (sha256, subject, issuer, serial, not_before, not_after, "
			      "roles, ttl, source, note, added, der) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
			      "ON CONFLICT (sha256) DO UPDATE SET roles = excluded.roles, ttl = excluded.ttl, "
			      "source = excluded.source, note = excluded.note");
	if (!s)
		return -1;
	store_bind_text(s, 1, ci.sha256);
	store_bind_text(s, 2, ci.subject);
	store_bind_text(s, 3, ci.issuer);
	store_bind_text(s, 4, ci.serial);
	stmt_bind_int64(s, 5, ci.not_before);
	stmt_bind_int64(s, 6, ci.not_after);
	store_bind_text(s, 7, text);
	if (ttl < 0)
		stmt_bind_null(s, 8);
	else
		stmt_bind_int64(s, 8, ttl);
	store_bind_text(s, 9, source);
	store_bind_text(s, 10, note);
	stmt_bind_int64(s, 11, now_utc());
	stmt_bind_blob(s, 12, der, (int)len);
	if (store_run(st, s, "cannot add the TVS certificate") < 0)
		return -1;
	return had;
}

#define ROW_COLUMNS "sha256, subject, issuer, serial, not_before, not_after, roles, ttl, source, note, " \
		    "added, der"

static int read_row(struct store *st, struct store_stmt *s, struct tvs_cert_row *r, int with_der)
{
	char roles[ROLES_TEXT_MAX];

	memset(r, 0, sizeof *r);
	store_col_text(s, 0, r->sha256, sizeof r->sha256);
	store_col_text(s, 1, r->subject, sizeof r->subject);
	store_col_text(s, 2, r->issuer, sizeof r->issuer);
	store_col_text(s, 3, r->serial, sizeof r->serial);
	r->not_before = stmt_col_int64(s, 4);
	r->not_after = stmt_col_int64(s, 5);
	store_col_text(s, 6, roles, sizeof roles);
	r->ttl = stmt_col_null(s, 7) ? -1 : stmt_col_int64(s, 7);
	store_col_text(s, 8, r->source, sizeof r->source);
	store_col_text(s, 9, r->note, sizeof r->note);
	r->added = stmt_col_int64(s, 10);
	if (with_der) {
		r->der = stmt_col_blob(s, 11);
		r->derlen = (size_t)stmt_col_bytes(s, 11);
	}
	if (roles_decode(roles, r->roles, &r->nroles) < 0)
		return store_fail(st, "TVS certificate %s has unreadable roles '%s'", r->sha256, roles);
	return 0;
}

int store_tvs_get(struct store *st, const char *sha256, struct tvs_cert_row *out)
{
	char key[80];
	struct store_stmt *s;
	int rc;

	lower_hex(sha256 ? sha256 : "", key, sizeof key);
	s = store_prepare(st, "SELECT " ROW_COLUMNS " FROM tvs_certs WHERE sha256 = ?1");
	if (!s)
		return -1;
	store_bind_text(s, 1, key);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		rc = read_row(st, s, out, 0);
	else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot look up the TVS certificate");
	store_finish(st, s);
	return rc;
}

int store_tvs_remove(struct store *st, const char *sha256)
{
	char key[80];
	struct store_stmt *s = store_prepare(st, "DELETE FROM tvs_certs WHERE sha256 = ?1");

	if (!s)
		return -1;
	lower_hex(sha256 ? sha256 : "", key, sizeof key);
	store_bind_text(s, 1, key);
	if (store_run(st, s, "cannot remove the TVS certificate") < 0)
		return -1;
	return store_changes(st) ? 0 : 1;
}

int store_tvs_each(struct store *st, int (*fn)(const struct tvs_cert_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT " ROW_COLUMNS " FROM tvs_certs ORDER BY rowid");
	struct tvs_cert_row r;
	int rc, stop = 0;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		if (read_row(st, s, &r, 1) < 0) {
			stop = -1;
			break;
		}
		if (fn && (stop = fn(&r, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list the TVS certificates");
	store_finish(st, s);
	return stop;
}

/* ---- service certificates ---- */

void service_cert_row_free(struct service_cert_row *r)
{
	free(r->der);
	r->der = NULL;
	r->derlen = 0;
}

int store_service_cert_get(struct store *st, const char *name, struct service_cert_row *out)
{
	struct store_stmt *s = store_prepare(st, "SELECT name, key_file, sha256, created, der FROM service_certs "
					    "WHERE name = ?1");
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		const void *der = stmt_col_blob(s, 4);
		size_t len = (size_t)stmt_col_bytes(s, 4);

		store_col_text(s, 0, out->name, sizeof out->name);
		store_col_text(s, 1, out->key_file, sizeof out->key_file);
		store_col_text(s, 2, out->sha256, sizeof out->sha256);
		out->created = stmt_col_int64(s, 3);
		out->der = malloc(len ? len : 1);
		if (!out->der) {
			rc = store_fail(st, "out of memory");
		} else {
			memcpy(out->der, der, len);
			out->derlen = len;
			rc = 0;
		}
	} else if (rc == STORE_DONE) {
		rc = 1;
	} else {
		rc = store_sqlfail(st, "cannot read the service certificate");
	}
	store_finish(st, s);
	return rc;
}

int store_service_cert_set(struct store *st, const char *name, const uint8_t *der, size_t len,
			   const char *key_file)
{
	struct store_certinfo ci;
	struct store_stmt *s;

	if (!der || store_cert_parse(der, len, &ci) < 0)
		return store_fail(st, "not an X.509 certificate");
	s = store_prepare(st, "INSERT INTO service_certs (name, key_file, sha256, created, der) "
			      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
			      "key_file = excluded.key_file, sha256 = excluded.sha256, "
			      "created = excluded.created, der = excluded.der");
	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, key_file);
	store_bind_text(s, 3, ci.sha256);
	stmt_bind_int64(s, 4, now_utc());
	stmt_bind_blob(s, 5, der, (int)len);
	return store_run(st, s, "cannot record the service certificate");
}
