/*
 * store_api.h: who may use the admin HTTP API: API tokens, browser
 * sessions and the record of failed logins (schema version 4).
 *
 * Secrets are never stored. A token is shown once, when it is created, as
 *     ocapf_<id>_<43 characters of base64url randomness>
 * and the database keeps only the SHA-256 of the whole text. Checking a
 * presented token finds the row by the id in its text and compares the two
 * hashes in constant time, so neither the lookup nor the comparison depends
 * on the secret. Browser sessions work the same way with a cookie value
 * "<id>_<secret>"; a session has the role of the token that opened it and
 * ends when that token is revoked.
 *
 * Conventions are store.h's: 0 / -1 with store_errmsg(); 1 for "not found"
 * or "not valid".
 */
#ifndef OPENCAPF_STORE_API_H
#define OPENCAPF_STORE_API_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum api_role { API_ROLE_READ, API_ROLE_ADMIN };
const char *api_role_name(enum api_role r);          /* "read", "admin" */
int api_role_parse(const char *s, enum api_role *r);  /* -1 if unknown */

/* Room for a token or a session cookie value, with its NUL. */
#define API_SECRET_TEXT_MAX 96
#define API_LABEL_MAX 128

struct api_token {
	int64_t id;
	enum api_role role;
	char label[API_LABEL_MAX];
	int64_t created;
	int64_t last_used;      /* 0: never */
	int revoked;            /* revoked tokens stay listed, never valid again */
};

/* A new token; `text` receives the token itself (the only time it exists). */
int store_api_token_create(struct store *st, enum api_role role, const char *label,
			   struct api_token *out, char *text, size_t textcap);
/* Oldest first, revoked ones included. */
int store_api_token_each(struct store *st, int (*fn)(const struct api_token *t, void *arg), void *arg);
int store_api_token_get(struct store *st, int64_t id, struct api_token *out);   /* 1 = none */
/* Revoke a token and end its sessions. 1 = no such token or already revoked. */
int store_api_token_revoke(struct store *st, int64_t id);
/* 0 and *out when `text` is a valid, unrevoked token (last_used is bumped,
 * at most once a minute); 1 when it is not; -1 on a database error. */
int store_api_token_check(struct store *st, const char *text, struct api_token *out);

/* A browser session for a valid token, `lifetime` seconds long. `cookie`
 * receives the cookie value (shown once). */
int store_api_session_create(struct store *st, int64_t token_id, int lifetime, const char *peer,
			     char *cookie, size_t cookiecap, int64_t *expires);
/* 0 and the token behind it when the cookie is a live session; 1 otherwise. */
int store_api_session_check(struct store *st, const char *cookie, struct api_token *out, int64_t *expires);
/* End the session named by the cookie (1 = there was none). */
int store_api_session_delete(struct store *st, const char *cookie);

/* Failed logins by source address, for rate limiting (api_auth.c). The
 * table stays bounded whatever the number of sources: recording one keeps
 * the newest `keep` failures of that source and the newest
 * STORE_LOGIN_FAILURES_MAX in all, and forgets those older than
 * STORE_LOGIN_FAILURE_MEMORY seconds. */
#define STORE_LOGIN_FAILURES_MAX 10000
#define STORE_LOGIN_FAILURE_MEMORY 86400
int store_api_login_failed(struct store *st, const char *source, int keep);
/* Failures from `source` at or after `since`; -1 on error. */
int store_api_login_failures(struct store *st, const char *source, int64_t since);
/* The time of the nth of them (1: the oldest); 0 when there is none. */
int64_t store_api_login_failure_time(struct store *st, const char *source, int64_t since, int nth);

#endif
