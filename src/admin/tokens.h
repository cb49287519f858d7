/*
 * tokens.h: the API tokens an administrator hands out (`opencapf token
 * create|revoke`): each change one transaction with its audit row
 * ("token.create", "token.revoke"; object "token-ID"; detail the role and
 * label, never the token). The store keeps only a token's SHA-256.
 */
#ifndef OPENCAPF_ADMIN_TOKENS_H
#define OPENCAPF_ADMIN_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_api.h"

enum admin_token_rc {
	ADMIN_TOKEN_OK = 0,
	ADMIN_TOKEN_STORE = -1,     /* the store failed; err says why */
	ADMIN_TOKEN_INVALID = -2,   /* a bad label; err says why */
	ADMIN_TOKEN_NOT_FOUND = -3, /* revoke: no active token with that id */
};

/* A new token of role with label ("" for none); text gets the token, the
 * only time it exists (the caller wipes it after showing it). */
int admin_token_create(struct store *st, const char *actor, enum api_role role, const char *label,
		       struct api_token *out, char *text, size_t textcap, char *err, size_t errlen);

/* Revoke token id (and the browser sessions opened with it). */
int admin_token_revoke(struct store *st, const char *actor, int64_t id, char *err, size_t errlen);

#endif
