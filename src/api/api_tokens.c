/*
 * api_tokens.c: /api/v1/tokens: list the API tokens (never their secrets:
 * the state keeps only hashes), create one (its text is in the answer, the
 * only time it exists) and revoke one. Changes go through the
 * administration core (admin/tokens.h), as `opencapf token create|revoke`
 * does: one transaction with its audit row ("token.create",
 * "token.revoke").
 */
#include <stdlib.h>
#include <string.h>

#include "admin/tokens.h"
#include "api/api_internal.h"
#include "common/json_util.h"
#include "common/util.h"

static json_t *token_json(const struct api_token *t)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:b}", "id", (json_int_t)t->id, "role", api_role_name(t->role),
			 "label", t->label, "created", json_time_utc(t->created), "last_used",
			 json_time_utc(t->last_used), "revoked", t->revoked);
}

static int add_token(const struct api_token *t, void *arg)
{
	return json_array_append_new(arg, token_json(t)) == 0 ? 0 : -1;
}

void api_tokens_list(struct api_req *r)
{
	json_t *arr = json_array();

	if (store_api_token_each(r->st, add_token, arr) != 0) {
		json_decref(arr);
		api_reply_store_error(r, "cannot list the tokens");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o, s:I}", "tokens", arr, "you", (json_int_t)r->who.id));
}

/* {"role": "admin"|"read", "label": "..."}: 0, or -1 with err. */
static int token_input(const json_t *o, enum api_role *role, const char **label, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	*label = "";
	json_object_foreach((json_t *)o, key, v) {
		if (strcmp(key, "role") == 0 && json_is_string(v) && api_role_parse(json_string_value(v), role) == 0)
			continue;
		if (strcmp(key, "label") == 0 && json_is_string(v)) {
			*label = json_string_value(v);
			continue;
		}
		if (strcmp(key, "role") == 0 || strcmp(key, "label") == 0)
			seterr(err, errlen, "%s: expected %s", key,
			       key[0] == 'r' ? "\"admin\" or \"read\"" : "a string");
		else
			seterr(err, errlen, "unknown member \"%.40s\" (expected role, label)", text_valid(key) ? key : "?");
		return -1;
	}
	if (!json_object_get(o, "role")) {
		seterr(err, errlen, "role is required: \"admin\" or \"read\"");
		return -1;
	}
	return 0;
}

void api_tokens_create(struct api_req *r)
{
	struct api_token t;
	enum api_role role = API_ROLE_READ;
	const char *label;
	char err[ERRLEN], text[API_SECRET_TEXT_MAX];
	json_t *o;
	int rc;

	if (token_input(r->body, &role, &label, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	rc = admin_token_create(r->st, r->actor, role, label, &t, text, sizeof text, err, sizeof err);
	if (rc == ADMIN_TOKEN_INVALID) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (rc != ADMIN_TOKEN_OK) {
		api_reply_error(r, 500, "cannot create the token: %s", err);
		return;
	}
	o = token_json(&t);
	json_object_set_new(o, "token", json_string(text));
	memset(text, 0, sizeof text);
	api_reply_json(r, 201, o);
}

void api_tokens_revoke(struct api_req *r)
{
	char err[ERRLEN], *end = NULL;
	long long id = strtoll(r->param[0], &end, 10);
	int rc;

	if (!end || *end || id <= 0) {
		api_reply_error(r, 404, "no token '%.32s' (tokens are named by their id, a number)",
				text_valid(r->param[0]) ? r->param[0] : "?");
		return;
	}
	rc = admin_token_revoke(r->st, r->actor, id, err, sizeof err);
	if (rc == ADMIN_TOKEN_NOT_FOUND)
		api_reply_error(r, 404, "%s", err);
	else if (rc != ADMIN_TOKEN_OK)
		api_reply_error(r, 500, "cannot revoke the token: %s", err);
	else
		api_reply_json(r, 200, json_pack("{s:I, s:b}", "id", (json_int_t)id, "revoked", 1));
}
