/*
 * api_trust.c: /api/v1/trust: the trust stores, their certificates with the
 * phones that depend on each, adding certificates, the guarded removal and
 * the PEM export.
 *
 * Adding and the guarded removal are `opencapf trust add|remove`'s own
 * sequence (admin/trust.c, phone-certificates.md §6): the removal is
 * refused (409, with the count and the first phone names) while phones'
 * LSCs or MICs chain through the certificate, and for the current CAPF
 * certificate in CAPF-trust or CallManager-trust, unless ?force=true.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_input.h"
#include "api/api_internal.h"
#include "common/json_util.h"
#include "admin/trust.h"
#include "common/util.h"
#include "pki/pki.h"

/* ---- list ---- */

struct list_ctx {
	struct store *st;
	json_t *arr;
};

static int list_store(const char *name, const char *desc, void *arg)
{
	struct list_ctx *c = arg;
	int n = store_trust_count(c->st, name);

	if (n < 0)
		return -1;
	json_array_append_new(c->arr, json_pack("{s:s, s:s, s:i}", "name", name, "description", desc, "count", n));
	return 0;
}

void api_trust_list(struct api_req *r)
{
	struct list_ctx c = { r->st, json_array() };

	if (store_trust_names(r->st, list_store, &c) != 0) {
		json_decref(c.arr);
		api_reply_store_error(r, "cannot list the trust stores");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o}", "stores", c.arr));
}

/* ---- show ---- */

static json_t *usage_json(const struct trust_usage *u)
{
	json_t *names = json_array();

	for (int i = 0; i < u->nnames; i++)
		json_array_append_new(names, json_string(u->names[i]));
	return json_pack("{s:i, s:i, s:i, s:o}", "phones", u->phones, "lsc_phones", u->lsc_phones, "mic_phones",
			 u->mic_phones, "names", names);
}

struct show_ctx {
	struct store *st;
	const char *store_name;
	const struct trust_usage *u;
	int nu, i;
	json_t *arr;
};

static int show_cert(const struct cert_row *row, void *arg)
{
	struct show_ctx *c = arg;
	char sha1[80];
	json_t *o;

	pki_fingerprint_der(row->der, row->derlen, "sha1", 0, sha1, sizeof sha1);
	o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s, s:s, s:b}", "subject", row->subject, "issuer",
		      row->issuer, "serial", row->serial, "not_before", json_time_utc(row->not_before), "not_after",
		      json_time_utc(row->not_after), "expired", row->not_after < now_utc(), "sha1", sha1, "sha256",
		      row->sha256, "note", row->note, "current_capf",
		      trust_is_current_capf(c->st, c->store_name, row->sha256));
	if (c->i < c->nu && !strcmp(c->u[c->i].sha256, row->sha256))
		json_object_set_new(o, "usage", usage_json(&c->u[c->i]));
	c->i++;
	json_array_append_new(c->arr, o);
	return 0;
}

void api_trust_show(struct api_req *r)
{
	struct trust_usage *u = NULL;
	struct show_ctx c = { .st = r->st, .store_name = r->param[0] };
	char err[ERRLEN] = "";
	int rc = trust_usage_compute(r->st, r->param[0], &u, &c.nu, err, sizeof err);

	c.u = u;
	c.arr = json_array();
	if (rc == 0)
		rc = store_trust_each(r->st, r->param[0], show_cert, &c);
	free(u);
	if (rc > 0)
		api_reply_error(r, 404, "no trust store named '%s'", r->param[0]);
	else if (rc < 0)
		api_reply_error(r, 500, "cannot show %s: %s", r->param[0], err[0] ? err : store_errmsg(r->st));
	else {
		api_reply_json(r, 200, json_pack("{s:s, s:i, s:O}", "name", r->param[0], "count",
						 (int)json_array_size(c.arr), "certificates", c.arr));
	}
	json_decref(c.arr);
}

/* ---- add ---- */

/* 404 for an unknown store, else 500 with the store's reason. */
static void reply_trust_error(struct api_req *r, int rc, const char *what, const char *err)
{
	if (rc == ADMIN_TRUST_NO_STORE)
		api_reply_error(r, 404, "%s", err);
	else
		api_reply_error(r, 500, "%s: %s", what, err);
}

void api_trust_add(struct api_req *r)
{
	struct admin_trust_result res;
	STACK_OF(X509) *certs = NULL;
	json_t *added, *present;
	const char *note;
	char err[ERRLEN];
	int rc;

	if (api_input_trust_add(r->body, &certs, &note, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	rc = admin_trust_add(r->st, api_actor(r), r->param[0], certs, note, &res, err, sizeof err);
	sk_X509_pop_free(certs, X509_free);
	if (rc != 0) {
		reply_trust_error(r, rc, "cannot add the certificates", err);
		return;
	}
	added = json_array();
	present = json_array();
	for (int i = 0; i < res.n; i++)
		json_array_append_new(res.items[i].changed ? added : present,
				      json_pack("{s:s, s:s}", "subject", res.items[i].subject, "sha256",
						res.items[i].sha256));
	admin_trust_result_free(&res);
	api_reply_json(r, 200, json_pack("{s:s, s:o, s:o}", "store", r->param[0], "added", added,
					 "already_present", present));
}

/* ---- guarded remove ---- */

/* 409 with the phones that depend on a refused certificate. */
static void reply_refused(struct api_req *r, const struct admin_trust_result *res, const char *msg)
{
	const struct trust_usage *u = &res->refused;

	if (res->decision == TRUST_REMOVE_CURRENT_CAPF)
		api_reply_error(r, 409, "%s", msg);
	else
		api_reply_json(r, 409, json_pack("{s:s, s:s, s:s, s:o}", "error", msg, "subject", u->subject, "sha256",
						 u->sha256, "usage", usage_json(u)));
}

void api_trust_remove(struct api_req *r)
{
	struct admin_trust_result res;
	char fp[1][80], err[1400];
	int force, rc;

	if (api_query_bool(r, "force", &force) < 0)
		return;
	if (trust_fp_normalize(r->param[1], fp[0], sizeof fp[0]) < 0) {
		api_reply_error(r, 400, "'%.80s' is not a SHA-256 fingerprint (8 hex digits or more)", r->param[1]);
		return;
	}
	rc = admin_trust_remove(r->st, api_actor(r), r->param[0], (const char (*)[80])fp, 1, force,
				"add ?force=true", &res, err, sizeof err);
	if (rc == ADMIN_TRUST_REFUSED)
		reply_refused(r, &res, err);
	else if (rc == ADMIN_TRUST_NO_CERT || rc == ADMIN_TRUST_AMBIGUOUS)
		api_reply_error(r, rc == ADMIN_TRUST_AMBIGUOUS ? 409 : 404, "%s", err);
	else if (rc != 0)
		reply_trust_error(r, rc, "cannot remove the certificate", err);
	else
		api_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:b}", "store", r->param[0], "removed",
						 res.items[0].sha256, "subject", res.items[0].subject, "forced",
						 res.items[0].forced));
	admin_trust_result_free(&res);
}

/* ---- export: the CLI's plain PEM bundle (admin/trust_usage.c) ---- */

void api_trust_export(struct api_req *r)
{
	struct buf out;
	char disp[160];
	int rc;

	buf_init(&out);
	rc = trust_export_pem(r->st, r->param[0], &out, NULL, NULL);
	if (rc > 0)
		api_reply_error(r, 404, "no trust store named '%s'", r->param[0]);
	else if (rc < 0)
		api_reply_store_error(r, "cannot export the trust store");
	else {
		snprintf(disp, sizeof disp, "attachment; filename=\"%s.pem\"", r->param[0]);
		api_header(r, "Content-Disposition", disp);
		api_reply_text(r, 200, "application/x-pem-file", out.data, out.len);
	}
	buf_free(&out);
}
