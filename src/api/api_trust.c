/*
 * api_trust.c: /api/v1/trust: the trust stores, their certificates with the
 * phones that depend on each, adding certificates, the guarded removal and
 * the PEM export.
 *
 * Removal follows `opencapf trust remove` (phone-certificates.md §6), on
 * the same core: capf/trust_usage.c says which phones' LSCs and MICs chain
 * through the certificate; the removal is refused (409, with the count and
 * the first phone names) while any do, and for the current CAPF
 * certificate in CAPF-trust or CallManager-trust, unless ?force=true. The
 * audit actions and details are the CLI's ("trust.add", "trust.remove",
 * "trust.remove.forced").
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_input.h"
#include "api/api_internal.h"
#include "common/json_util.h"
#include "capf/trust_usage.h"
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

	pki_fingerprint_der(row->der, row->derlen, "sha1", 1, sha1, sizeof sha1);
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

static int audit_cert(struct api_req *r, const char *action, const char *store_name, const char *sha256,
		      const char *subject, const char *extra)
{
	return trust_audit_cert(r->st, r->actor[0] ? r->actor : "api", action, store_name, sha256, subject, extra);
}

static int add_one(struct api_req *r, X509 *x, const char *note, json_t *added, json_t *present)
{
	struct pki_cert_info info;
	uint8_t *der = NULL;
	size_t len;
	int rc;

	if (pki_cert_info(x, &info) < 0 || pki_cert_to_der(x, &der, &len) < 0)
		return -1;
	rc = store_trust_add(r->st, r->param[0], der, len, info.sha256, info.subject, note ? note : "");
	OPENSSL_free(der);
	if (rc < 0 || (rc == 0 && audit_cert(r, "trust.add", r->param[0], info.sha256, info.subject, NULL) < 0))
		return -1;
	json_array_append_new(rc == 0 ? added : present,
			      json_pack("{s:s, s:s}", "subject", info.subject, "sha256", info.sha256));
	return 0;
}

void api_trust_add(struct api_req *r)
{
	STACK_OF(X509) *certs = NULL;
	json_t *added = json_array(), *present = json_array();
	const char *note;
	char err[ERRLEN];
	int i = 0;

	if (api_input_trust_add(r->body, &certs, &note, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		goto out;
	}
	if (store_trust_each(r->st, r->param[0], NULL, NULL) > 0) {
		api_reply_error(r, 404, "no trust store named '%s'", r->param[0]);
		goto out;
	}
	if (store_begin(r->st) == 0)
		for (; i < sk_X509_num(certs); i++)
			if (add_one(r, sk_X509_value(certs, i), note, added, present) < 0)
				break;
	if (i < sk_X509_num(certs) || store_commit(r->st) < 0) {
		store_rollback(r->st);
		api_reply_store_error(r, "cannot add the certificates");
		goto out;
	}
	api_reply_json(r, 200, json_pack("{s:s, s:O, s:O}", "store", r->param[0], "added", added,
					 "already_present", present));
out:
	json_decref(added);
	json_decref(present);
	sk_X509_pop_free(certs, X509_free);
}

/* ---- guarded remove ---- */

/* The one certificate of the store whose fingerprint starts with fp, or a reply. */
static const struct trust_usage *find_cert(struct api_req *r, const struct trust_usage *u, int nu, const char *fp)
{
	char err[ERRLEN];
	int i = trust_usage_find(u, nu, fp, r->param[0], err, sizeof err);

	if (i >= 0)
		return &u[i];
	api_reply_error(r, i == -2 ? 409 : 404, "%s", err);
	return NULL;
}

/* The decision (capf/trust_usage.c); a 409 reply when refused, with the
 * phones that depend on it. */
static enum trust_removal removal_decision(struct api_req *r, const struct trust_usage *u, int force)
{
	char msg[1400];
	enum trust_removal d = trust_removal_check(r->st, r->param[0], u, force, "add ?force=true", msg, sizeof msg);

	if (d == TRUST_REMOVE_CURRENT_CAPF)
		api_reply_error(r, 409, "%s", msg);
	else if (d == TRUST_REMOVE_IN_USE)
		api_reply_json(r, 409, json_pack("{s:s, s:s, s:s, s:o}", "error", msg, "subject", u->subject, "sha256",
						 u->sha256, "usage", usage_json(u)));
	return d;
}

void api_trust_remove(struct api_req *r)
{
	struct trust_usage *u = NULL;
	const struct trust_usage *t;
	char fp[80], err[ERRLEN] = "";
	enum trust_removal d = TRUST_REMOVE_IN_USE;
	int nu = 0, force, forced, rc;

	if (api_query_bool(r, "force", &force) < 0)
		return;
	if (trust_fp_normalize(r->param[1], fp, sizeof fp) < 0) {
		api_reply_error(r, 400, "'%.80s' is not a SHA-256 fingerprint (8 hex digits or more)", r->param[1]);
		return;
	}
	rc = trust_usage_compute(r->st, r->param[0], &u, &nu, err, sizeof err);
	if (rc > 0)
		api_reply_error(r, 404, "no trust store named '%s'", r->param[0]);
	else if (rc < 0)
		api_reply_error(r, 500, "cannot check %s: %s", r->param[0], err);
	if (rc != 0 || !(t = find_cert(r, u, nu, fp)) ||
	    ((d = removal_decision(r, t, force)) != TRUST_REMOVE_OK && d != TRUST_REMOVE_FORCED))
		goto out;
	forced = d == TRUST_REMOVE_FORCED;
	if (store_begin(r->st) < 0 ||
	    trust_remove_audited(r->st, r->actor[0] ? r->actor : "api", r->param[0], t, forced) < 0 ||
	    store_commit(r->st) < 0) {
		store_rollback(r->st);
		api_reply_store_error(r, "cannot remove the certificate");
		goto out;
	}
	api_reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:b}", "store", r->param[0], "removed", t->sha256,
					 "subject", t->subject, "forced", forced));
out:
	free(u);
}

/* ---- export: the CLI's plain PEM bundle (capf/trust_usage.c) ---- */

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
