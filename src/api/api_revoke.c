/*
 * api_revoke.c: POST /api/v1/phones/NAME/revoke and POST
 * /api/v1/certs/SERIAL/revoke (admin): the core's revocations
 * (admin/revoke.h), the same result and audit rows as `opencapf phone
 * revoke` and `opencapf cert revoke`. Body: {"reason": "keyCompromise"}
 * (optional member; default keyCompromise, as the CLI). The CRLs that are
 * due are published before the answer.
 */
#include <string.h>

#include "admin/crl.h"
#include "admin/revoke.h"
#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"

/* The body's reason; -1 (400 sent) when it is not one the CLI takes. */
static int body_reason(struct api_req *r, int *reason)
{
	json_t *v = r->body ? json_object_get(r->body, "reason") : NULL;
	const char *k;
	json_t *m;

	*reason = REVOKE_KEY_COMPROMISE;
	json_object_foreach(r->body, k, m) {
		if (strcmp(k, "reason") != 0) {
			api_reply_error(r, 400, "unknown member \"%s\" (a revocation takes only \"reason\")", k);
			return -1;
		}
	}
	if (!v)
		return 0;
	if (!json_is_string(v) || revoke_reason_parse(json_string_value(v), reason) < 0 ||
	    *reason == REVOKE_UNSPECIFIED) {
		api_reply_error(r, 400, "reason %s: use one of keyCompromise, affiliationChanged, superseded, "
				"cessationOfOperation", json_is_string(v) ? json_string_value(v) : "(not a string)");
		return -1;
	}
	return 0;
}

json_t *api_revocation_json(const struct revocation *rv)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I}", "serial", rv->serial, "capf_sha256", rv->issuer_sha256,
			 "phone", rv->phone, "reason", revoke_reason_name(rv->reason), "time", (json_int_t)rv->time);
}

static void reply_revoked(struct api_req *r, int rc, const struct admin_revoked *out, const char *err)
{
	static const int codes[] = { 200, 500, 404, 409, 409, 400, 409 };
	char crl_err[512] = "";
	json_t *list;

	if (rc != ADMIN_REVOKE_OK) {
		api_reply_error(r, codes[-rc], "%s", err);
		return;
	}
	/* the CRLs at once (the timer would within seconds) */
	if (admin_crl_publish(r->st, 0, NULL, NULL, crl_err, sizeof crl_err) < 0)
		log_warn("CRL publication after a revocation: %s", crl_err);
	list = json_array();
	for (int i = 0; i < out->n && i < ADMIN_REVOKED_MAX; i++)
		json_array_append_new(list, api_revocation_json(&out->r[i]));
	api_reply_json(r, 200, json_pack("{s:o}", "revoked", list));
}

void api_phone_revoke(struct api_req *r)
{
	struct admin_revoked out;
	char err[512] = "";
	int reason;

	if (body_reason(r, &reason) < 0)
		return;
	reply_revoked(r, admin_revoke_phone(r->st, r->actor, r->param[0], reason, &out, err, sizeof err), &out, err);
}

void api_cert_revoke(struct api_req *r)
{
	struct admin_revoked out;
	char err[512] = "";
	int reason;

	if (body_reason(r, &reason) < 0)
		return;
	reply_revoked(r, admin_revoke_serial(r->st, r->actor, r->param[0], reason, &out, err, sizeof err), &out, err);
}
