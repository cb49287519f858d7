/*
 * store_api.c: API tokens, browser sessions and failed logins (store_api.h).
 *
 * The tables (schema version 4, store_schema.c):
 *   api_tokens      id, hash (SHA-256 hex of the token text), role, label,
 *                   created, last_used, revoked
 *   api_sessions    id, hash (SHA-256 hex of the cookie value), token_id,
 *                   created, expires, peer
 *   login_failures  source address and time of each failed login: at most
 *                   `keep` rows per source, STORE_LOGIN_FAILURES_MAX in all,
 *                   none older than a day (pruned as failures come)
 *
 * Invariants:
 *  - no token or cookie text is ever written anywhere: only its hash;
 *  - a secret's text carries the row id ("ocapf_<id>_<secret>", "<id>_<secret>"),
 *    the row is found by that id and the hashes are compared with ct_equal,
 *    so the time a check takes does not depend on the secret;
 *  - a revoked token is never valid again and has no sessions.
 */
#include "store/store_api.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

#define TOKEN_PREFIX "ocapf_"
#define SECRET_BYTES 32
/* last_used is written at most this often, so reads do not all become writes. */
#define LAST_USED_GRANULARITY 60

const char *api_role_name(enum api_role r)
{
	return r == API_ROLE_ADMIN ? "admin" : "read";
}

int api_role_parse(const char *s, enum api_role *r)
{
	if (strcmp(s, "admin") == 0)
		*r = API_ROLE_ADMIN;
	else if (strcmp(s, "read") == 0)
		*r = API_ROLE_READ;
	else
		return -1;
	return 0;
}

/* 32 random bytes as unpadded base64url (43 characters). */
static int random_secret(char out[48])
{
	unsigned char raw[SECRET_BYTES], b64[48];
	int n;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	n = EVP_EncodeBlock(b64, raw, sizeof raw);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	for (int i = 0; i < n; i++)
		out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	out[n] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

/* "<prefix><id>_<secret>" -> id; -1 when the text has another shape. */
static int64_t secret_id(const char *text, const char *prefix)
{
	size_t plen = strlen(prefix), n = strlen(text);
	int64_t id = 0;
	const char *p;

	if (n >= API_SECRET_TEXT_MAX || strncmp(text, prefix, plen) != 0)
		return -1;
	for (p = text + plen; *p >= '0' && *p <= '9' && p - text < (ptrdiff_t)plen + 15; p++)
		id = id * 10 + (*p - '0');
	if (p == text + plen || *p != '_' || strlen(p + 1) < 40)
		return -1;
	return id;
}

/* ---- tokens ---- */

static void token_row(struct store_stmt *s, struct api_token *t)
{
	char role[16];

	memset(t, 0, sizeof *t);
	t->id = stmt_col_int64(s, 0);
	store_col_text(s, 1, role, sizeof role);
	t->role = strcmp(role, "admin") == 0 ? API_ROLE_ADMIN : API_ROLE_READ;
	store_col_text(s, 2, t->label, sizeof t->label);
	t->created = stmt_col_int64(s, 3);
	t->last_used = stmt_col_int64(s, 4);
	t->revoked = stmt_col_int(s, 5) != 0;
}

#define TOKEN_COLS "id, role, label, created, last_used, revoked"

/* Insert with a placeholder hash, then set the real one: the id is part of
 * the hashed text. */
int store_api_token_create(struct store *st, enum api_role role, const char *label,
			   struct api_token *out, char *text, size_t textcap)
{
	char secret[48], placeholder[48], hash[65];
	struct store_tx tx;
	struct store_stmt *s;
	int64_t id;
	int rc;

	if (label && strlen(label) >= API_LABEL_MAX)
		return store_fail(st, "a token label has at most %d characters", API_LABEL_MAX - 1);
	if (random_secret(secret) < 0 || random_secret(placeholder) < 0)
		return store_fail(st, "no randomness for a token");
	store_sha256_hex((const uint8_t *)placeholder, strlen(placeholder), hash);
	if (store_tx_open(st, &tx) < 0)
		return -1;
	s = store_prepare(st, "INSERT INTO api_tokens (hash, role, label, created) VALUES (?1, ?2, ?3, ?4)");
	if (s) {
		store_bind_text(s, 1, hash);
		store_bind_text(s, 2, api_role_name(role));
		store_bind_text(s, 3, label);
		stmt_bind_int64(s, 4, now_utc());
	}
	rc = store_run(st, s, "cannot create a token");
	id = store_last_id(st);
	snprintf(text, textcap, TOKEN_PREFIX "%" PRId64 "_%s", id, secret);
	store_sha256_hex((const uint8_t *)text, strlen(text), hash);
	if (rc == 0) {
		s = store_prepare(st, "UPDATE api_tokens SET hash = ?1 WHERE id = ?2");
		if (s) {
			store_bind_text(s, 1, hash);
			stmt_bind_int64(s, 2, id);
		}
		rc = store_run(st, s, "cannot create a token");
	}
	OPENSSL_cleanse(secret, sizeof secret);
	if (store_tx_close(st, &tx, rc) < 0) {
		OPENSSL_cleanse(text, textcap);
		return -1;
	}
	return out ? store_api_token_get(st, id, out) : 0;
}

int store_api_token_each(struct store *st, int (*fn)(const struct api_token *t, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY id");
	struct api_token t;
	int rc, stop = 0;

	if (!s)
		return -1;
	while ((rc = stmt_step(s)) == STORE_ROW) {
		token_row(s, &t);
		if (fn && (stop = fn(&t, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot read the API tokens");
	store_finish(st, s);
	return stop;
}

/* The row of token `id` and its hash; 1 = none. */
static int token_load(struct store *st, int64_t id, struct api_token *out, char hash[65])
{
	struct store_stmt *s = store_prepare(st, "SELECT " TOKEN_COLS ", hash FROM api_tokens WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	stmt_bind_int64(s, 1, id);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		token_row(s, out);
		if (hash)
			store_col_text(s, 6, hash, 65);
		rc = 0;
	} else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot read an API token");
	store_finish(st, s);
	return rc;
}

int store_api_token_get(struct store *st, int64_t id, struct api_token *out)
{
	return token_load(st, id, out, NULL);
}

int store_api_token_revoke(struct store *st, int64_t id)
{
	struct store_tx tx;
	struct store_stmt *s;
	int rc;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	s = store_prepare(st, "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND revoked = 0");
	if (s)
		stmt_bind_int64(s, 1, id);
	rc = store_run(st, s, "cannot revoke the token");
	if (rc == 0 && store_changes(st) == 0)
		rc = 1;
	if (rc == 0) {
		s = store_prepare(st, "DELETE FROM api_sessions WHERE token_id = ?1");
		if (s)
			stmt_bind_int64(s, 1, id);
		rc = store_run(st, s, "cannot end the token's sessions");
	}
	if (store_tx_close(st, &tx, rc < 0 ? -1 : 0) < 0)
		return -1;
	return rc;
}

static void touch_token(struct store *st, const struct api_token *t)
{
	int64_t now = now_utc();
	struct store_stmt *s;

	if (now - t->last_used < LAST_USED_GRANULARITY)
		return;
	s = store_prepare(st, "UPDATE api_tokens SET last_used = ?1 WHERE id = ?2");
	if (!s)
		return;
	stmt_bind_int64(s, 1, now);
	stmt_bind_int64(s, 2, t->id);
	store_run(st, s, "cannot note the token's use"); /* best effort */
}

int store_api_token_check(struct store *st, const char *text, struct api_token *out)
{
	char want[65], got[65];
	int64_t id = secret_id(text, TOKEN_PREFIX);
	int rc;

	store_sha256_hex((const uint8_t *)text, strlen(text), got);
	if (id < 0)
		return 1;
	rc = token_load(st, id, out, want);
	if (rc != 0)
		return rc;
	if (!ct_equal(want, 64, got, 64) || out->revoked)
		return 1;
	touch_token(st, out);
	return 0;
}

/* ---- browser sessions ---- */

int store_api_session_create(struct store *st, int64_t token_id, int lifetime, const char *peer,
			     char *cookie, size_t cookiecap, int64_t *expires)
{
	char secret[48], placeholder[48], hash[65];
	int64_t now = now_utc(), id;
	struct store_tx tx;
	struct store_stmt *s;
	int rc;

	if (random_secret(secret) < 0 || random_secret(placeholder) < 0)
		return store_fail(st, "no randomness for a session");
	store_sha256_hex((const uint8_t *)placeholder, strlen(placeholder), hash);
	if (store_tx_open(st, &tx) < 0)
		return -1;
	/* Forget expired sessions on the way. */
	s = store_prepare(st, "DELETE FROM api_sessions WHERE expires < ?1");
	if (s)
		stmt_bind_int64(s, 1, now);
	rc = store_run(st, s, "cannot prune sessions");
	if (rc == 0 && (s = store_prepare(st, "INSERT INTO api_sessions (hash, token_id, created, expires, peer) "
					      "VALUES (?1, ?2, ?3, ?4, ?5)"))) {
		store_bind_text(s, 1, hash);
		stmt_bind_int64(s, 2, token_id);
		stmt_bind_int64(s, 3, now);
		stmt_bind_int64(s, 4, now + lifetime);
		store_bind_text(s, 5, peer);
		rc = store_run(st, s, "cannot create a session");
	} else if (rc == 0)
		rc = -1;
	id = store_last_id(st);
	snprintf(cookie, cookiecap, "%" PRId64 "_%s", id, secret);
	store_sha256_hex((const uint8_t *)cookie, strlen(cookie), hash);
	if (rc == 0 && (s = store_prepare(st, "UPDATE api_sessions SET hash = ?1 WHERE id = ?2"))) {
		store_bind_text(s, 1, hash);
		stmt_bind_int64(s, 2, id);
		rc = store_run(st, s, "cannot create a session");
	} else if (rc == 0)
		rc = -1;
	OPENSSL_cleanse(secret, sizeof secret);
	if (store_tx_close(st, &tx, rc) < 0) {
		OPENSSL_cleanse(cookie, cookiecap);
		return -1;
	}
	if (expires)
		*expires = now + lifetime;
	return 0;
}

/* The session row `id`: its hash, token and expiry; 1 = none. */
static int session_load(struct store *st, int64_t id, char hash[65], int64_t *token_id, int64_t *expires)
{
	struct store_stmt *s = store_prepare(st, "SELECT hash, token_id, expires FROM api_sessions WHERE id = ?1");
	int rc;

	if (!s)
		return -1;
	stmt_bind_int64(s, 1, id);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		store_col_text(s, 0, hash, 65);
		*token_id = stmt_col_int64(s, 1);
		*expires = stmt_col_int64(s, 2);
		rc = 0;
	} else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot read a session");
	store_finish(st, s);
	return rc;
}

/* Id of a cookie whose hash matches its row; 1 = not a session. */
static int session_find(struct store *st, const char *cookie, int64_t *id, int64_t *token_id, int64_t *expires)
{
	char want[65], got[65];
	int rc;

	*id = secret_id(cookie, "");
	store_sha256_hex((const uint8_t *)cookie, strlen(cookie), got);
	if (*id < 0)
		return 1;
	rc = session_load(st, *id, want, token_id, expires);
	if (rc != 0)
		return rc;
	return ct_equal(want, 64, got, 64) ? 0 : 1;
}

int store_api_session_check(struct store *st, const char *cookie, struct api_token *out, int64_t *expires)
{
	int64_t id = 0, token_id = 0, exp = 0;
	int rc = session_find(st, cookie, &id, &token_id, &exp);

	if (rc != 0)
		return rc;
	if (exp <= now_utc())
		return 1;
	rc = token_load(st, token_id, out, NULL);
	if (rc != 0)
		return rc;
	if (out->revoked)
		return 1;
	if (expires)
		*expires = exp;
	touch_token(st, out);
	return 0;
}

int store_api_session_delete(struct store *st, const char *cookie)
{
	int64_t id, token_id, exp;
	struct store_stmt *s;
	int rc = session_find(st, cookie, &id, &token_id, &exp);

	if (rc != 0)
		return rc;
	s = store_prepare(st, "DELETE FROM api_sessions WHERE id = ?1");
	if (s)
		stmt_bind_int64(s, 1, id);
	return store_run(st, s, "cannot end the session");
}

/* ---- failed logins ---- */

/* Run `sql` with ?1 = text and ?2 = num, or (text NULL) ?1 = num. */
static int run_bound(struct store *st, const char *sql, const char *text, int64_t num, const char *what)
{
	struct store_stmt *s = store_prepare(st, sql);

	if (s && text)
		store_bind_text(s, 1, text);
	if (s)
		stmt_bind_int64(s, text ? 2 : 1, num);
	return store_run(st, s, what);
}

int store_api_login_failed(struct store *st, const char *source, int keep)
{
	int64_t now = now_utc();
	struct store_tx tx;
	int rc;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = run_bound(st, "DELETE FROM login_failures WHERE time < ?1", NULL, now - STORE_LOGIN_FAILURE_MEMORY,
		       "cannot prune failed logins");
	if (rc == 0)
		rc = run_bound(st, "INSERT INTO login_failures (source, time) VALUES (?1, ?2)", source, now,
			       "cannot record a failed login");
	if (rc == 0)
		rc = run_bound(st, "DELETE FROM login_failures WHERE source = ?1 AND id <= (SELECT id FROM "
			       "login_failures WHERE source = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
			       source, keep > 0 ? keep : 1, "cannot prune failed logins");
	if (rc == 0)
		rc = run_bound(st, "DELETE FROM login_failures WHERE id <= (SELECT max(id) FROM login_failures) - ?1",
			       NULL, STORE_LOGIN_FAILURES_MAX, "cannot prune failed logins");
	return store_tx_close(st, &tx, rc);
}

int store_api_login_failures(struct store *st, const char *source, int64_t since)
{
	struct store_stmt *s = store_prepare(st, "SELECT count(*) FROM login_failures WHERE source = ?1 AND time >= ?2");
	int n = -1;

	if (!s)
		return -1;
	store_bind_text(s, 1, source);
	stmt_bind_int64(s, 2, since);
	if (stmt_step(s) == STORE_ROW)
		n = stmt_col_int(s, 0);
	else
		store_sqlfail(st, "cannot count failed logins");
	store_finish(st, s);
	return n;
}

int64_t store_api_login_failure_time(struct store *st, const char *source, int64_t since, int nth)
{
	struct store_stmt *s = store_prepare(st, "SELECT time FROM login_failures WHERE source = ?1 AND time >= ?2 "
					    "ORDER BY id LIMIT 1 OFFSET ?3");
	int64_t t = 0;

	if (!s || nth < 1) {
		store_finish(st, s);
		return 0;
	}
	store_bind_text(s, 1, source);
	stmt_bind_int64(s, 2, since);
	stmt_bind_int(s, 3, nth - 1);
	if (stmt_step(s) == STORE_ROW)
		t = stmt_col_int64(s, 0);
	store_finish(st, s);
	return t;
}
