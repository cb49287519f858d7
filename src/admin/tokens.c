/*
 * tokens.c: creating and revoking API tokens, audited without the secret.
 */
#include "admin/tokens.h"

#include <stdio.h>
#include <string.h>

#include "common/util.h"

static int audit_token(struct store *st, const char *actor, const char *action, const struct api_token *t)
{
	char object[32], label[300], detail[400];

	snprintf(object, sizeof object, "token-%lld", (long long)t->id);
	store_json_str(label, sizeof label, t->label);
	snprintf(detail, sizeof detail, "{\"role\":\"%s\",\"label\":%s}", api_role_name(t->role), label);
	return store_audit(st, actor, action, object, detail);
}

int admin_token_create(struct store *st, const char *actor, enum api_role role, const char *label,
		       struct api_token *out, char *text, size_t textcap, char *err, size_t errlen)
{
	if (!text_valid(label) || strlen(label) >= API_LABEL_MAX) {
		seterr(err, errlen, "label: expected printable text of at most %d bytes", API_LABEL_MAX - 1);
		return ADMIN_TOKEN_INVALID;
	}
	if (store_begin(st) == 0 && store_api_token_create(st, role, label, out, text, textcap) == 0 &&
	    audit_token(st, actor, "token.create", out) == 0 && store_commit(st) == 0)
		return ADMIN_TOKEN_OK;
	seterr(err, errlen, "%s", store_errmsg(st));
	store_rollback(st);
	memset(text, 0, textcap);
	return ADMIN_TOKEN_STORE;
}

int admin_token_revoke(struct store *st, const char *actor, int64_t id, char *err, size_t errlen)
{
	struct api_token t;
	int rc;

	if (store_begin(st) < 0 || (rc = store_api_token_revoke(st, id)) < 0 ||
	    (rc == 0 && (store_api_token_get(st, id, &t) != 0 || audit_token(st, actor, "token.revoke", &t) < 0)) ||
	    store_commit(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		store_rollback(st);
		return ADMIN_TOKEN_STORE;
	}
	if (rc > 0) {
		seterr(err, errlen, "no active token %lld", (long long)id);
		return ADMIN_TOKEN_NOT_FOUND;
	}
	return ADMIN_TOKEN_OK;
}
