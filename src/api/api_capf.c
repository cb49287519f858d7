/*
 * api_capf.c: /api/v1/capf (the CAPF certificate: show with its days left
 * and the rollover status, PEM, regenerate, CSR, import) and /api/v1/itl
 * (the published ITL in the vendor's `show itl` layout, rebuild).
 *
 * The work is capf/capf_lifecycle.c's, as for `opencapf capf
 * regenerate|csr|import`: one transaction each, the ITL rebuilt, a running
 * daemon switching by itself. Phones reset when they load the changed ITL;
 * the UI says so before it asks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_input.h"
#include "api/api_internal.h"
#include "common/json_util.h"
#include "admin/capf_lifecycle.h"
#include "admin/itl_file.h"
#include "capf/itl_show.h"
#include "common/util.h"
#include "pki/pki.h"

#define ITL_MAX_BYTES (1024 * 1024)

static json_t *cert_json(X509 *x)
{
	struct pki_cert_info info;
	int64_t left;

	if (pki_cert_info(x, &info) < 0)
		return json_null();
	left = (info.not_after - now_utc()) / 86400;
	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:I, s:s, s:s, s:s}", "cn", info.cn, "subject",
			 info.subject, "issuer", info.issuer, "self_signed", info.self_signed, "serial", info.serial,
			 "not_before", json_time_utc(info.not_before), "not_after", json_time_utc(info.not_after),
			 "days_left", (json_int_t)left, "key", info.key, "sha1", info.sha1, "sha256", info.sha256);
}

struct capf_ctx {
	struct store *st;
	json_t *arr;
};

/* One CAPF certificate of the state and the phones still holding LSCs from it. */
static int capf_row_json(const struct capf_row *row, void *arg)
{
	struct capf_ctx *c = arg;
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(row->der, row->derlen, err, sizeof err);
	json_t *o = x ? cert_json(x) : json_object();
	int n = store_lsc_by_capf_count(c->st, row->sha256);

	X509_free(x);
	if (!json_is_object(o))
		o = json_object();
	json_object_set_new(o, "state", json_string(row->state));
	json_object_set_new(o, "created", json_time_utc(row->created));
	json_object_set_new(o, "lsc_phones", json_integer(n));
	json_array_append_new(c->arr, o);
	return n < 0 ? -1 : 0;
}

void api_capf_show(struct api_req *r)
{
	json_t *out = json_object(), *certs = json_array(), *cur = NULL, *prev = NULL, *c;
	struct capf_ctx ctx = { r->st, certs };
	size_t i;

	if (store_capf_each(r->st, capf_row_json, &ctx) != 0) {
		json_decref(out);
		json_decref(certs);
		api_reply_store_error(r, "cannot read the CAPF certificates");
		return;
	}
	json_array_foreach(certs, i, c) {
		const char *state = json_string_value(json_object_get(c, "state"));
		if (state && !strcmp(state, "current") && !cur)
			cur = c;
		if (state && !strcmp(state, "previous") && !prev)
			prev = c;
	}
	json_object_set(out, "current", cur ? cur : json_null());
	json_object_set(out, "previous", prev ? prev : json_null());
	json_object_set_new(out, "rollover", json_pack("{s:b, s:I}", "in_progress", prev != NULL,
		"phones_on_previous", (json_int_t)(prev ? json_integer_value(json_object_get(prev, "lsc_phones")) : 0)));
	json_object_set_new(out, "certificates", certs);
	api_reply_json(r, 200, out);
}

void api_capf_cert(struct api_req *r)
{
	char err[ERRLEN], *pem;
	size_t len;
	X509 *cert;

	if (capf_ca_load(r->st, &cert, NULL, err, sizeof err) < 0) {
		api_reply_error(r, 500, "%s", err);
		return;
	}
	if (pki_cert_to_pem(cert, &pem, &len) < 0) {
		X509_free(cert);
		api_reply_error(r, 500, "cannot encode the CAPF certificate");
		return;
	}
	api_header(r, "Content-Disposition", "attachment; filename=\"capf.pem\"");
	api_reply_text(r, 200, "application/x-pem-file", pem, len);
	OPENSSL_free(pem);
	X509_free(cert);
}

static json_t *change_json(const struct capf_change *c)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:b}, s:{s:s, s:s, s:i}, s:s?, s:i, s:b, s:s, s:s, s:s}",
			 "new", "cn", c->new_cn, "sha256", c->new_sha256, "key", c->new_key, "not_after",
			 c->new_not_after, "issuer", c->new_issuer, "self_signed", c->new_self_signed,
			 "previous", "cn", c->old_cn, "sha256", c->old_sha256, "lsc_phones", c->old_lsc_phones,
			 "retired", c->retired_cn[0] ? c->retired_cn : NULL, "chain_added", c->chain_added,
			 "itl_published", c->itl_published, "itl_error", c->itl_err, "files_error", c->files_err,
			 "warning", "phones reset when they load the changed ITL; phones with LSCs from the previous "
				    "CAPF certificate keep working while it stays trusted: re-issue their LSCs");
}

/* Refusals of the lifecycle (phones still on an older certificate, a
 * certificate that does not fit) are the client's to fix: 409. */
static void reply_lifecycle_error(struct api_req *r, const char *what, const char *err)
{
	api_reply_error(r, strstr(err, "database") ? 500 : 409, "%s: %s", what, err);
}

void api_capf_regenerate(struct api_req *r)
{
	struct capf_regen_params p = { .kind = PKI_KEY_RSA };
	struct capf_change change;
	struct api_regen in;
	char err[ERRLEN];

	if (api_input_regenerate(r->body, &in, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (in.has_key) {
		p.kind = in.kind;
		p.bits = in.bits;
	}
	p.days = in.days;
	p.force = in.force;
	if (capf_ca_regenerate(r->st, &p, r->actor, &change, err, sizeof err) < 0)
		reply_lifecycle_error(r, "cannot regenerate the CAPF certificate", err);
	else
		api_reply_json(r, 200, change_json(&change));
}

void api_capf_csr(struct api_req *r)
{
	char err[ERRLEN], subject[512] = "", *pem = NULL;
	enum pki_key_kind kind;
	int new_key = 0, bits;
	size_t len;

	if (api_input_csr(r->body, &new_key, &kind, &bits, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (capf_ca_csr(r->st, new_key, kind, bits, r->actor, &pem, &len, subject, sizeof subject, err,
			sizeof err) < 0) {
		reply_lifecycle_error(r, "cannot make the CSR", err);
		return;
	}
	api_reply_json(r, 200, json_pack("{s:s%, s:s, s:b}", "csr", pem, len, "subject", subject, "new_key", new_key));
	OPENSSL_free(pem);
}

void api_capf_import(struct api_req *r)
{
	STACK_OF(X509) *chain = NULL;
	struct capf_change change;
	X509 *cert = NULL;
	char err[ERRLEN];
	int force = 0;

	if (api_input_import(r->body, &cert, &chain, &force, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (capf_ca_import(r->st, cert, chain, force, r->actor, &change, err, sizeof err) < 0)
		reply_lifecycle_error(r, "cannot import the CAPF certificate", err);
	else
		api_reply_json(r, 200, change_json(&change));
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
}

/* ---- ITL ---- */

/* The vendor's `show itl` text of the published file. */
static json_t *itl_text(const uint8_t *data, size_t len)
{
	char err[ERRLEN] = "", *text = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&text, &tlen);
	json_t *o;
	int ok;

	if (!mem)
		return json_object();
	ok = itl_show(mem, data, len, err, sizeof err) == 0;
	fclose(mem);
	o = json_pack("{s:b, s:s, s:s%}", "verified", ok, "error", ok ? "" : err, "text", text ? text : "",
		      text ? tlen : 0);
	free(text);
	return o ? o : json_object();
}

void api_itl_show(struct api_req *r)
{
	char dir[1024], path[1200], err[ERRLEN];
	uint8_t *data = NULL;
	size_t len = 0;
	json_t *o;

	if (itl_tftp_dir(r->st, dir, sizeof dir) < 0 || path_join(path, sizeof path, dir, ITL_FILE_NAME) < 0) {
		api_reply_error(r, 500, "cannot find the TFTP folder");
		return;
	}
	if (read_file(path, ITL_MAX_BYTES, &data, &len, err, sizeof err) < 0) {
		api_reply_error(r, 404, "no ITL published yet (%s): POST /api/v1/itl/rebuild makes one", err);
		return;
	}
	o = itl_text(data, len);
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "length", json_integer((json_int_t)len));
	free(data);
	api_reply_json(r, 200, o);
}

void api_itl_rebuild(struct api_req *r)
{
	char err[ERRLEN];

	if (admin_itl_publish(r->st, api_actor(r), NULL, 0, err, sizeof err) < 0) {
		api_reply_error(r, 500, "cannot rebuild the ITL: %s", err);
		return;
	}
	api_itl_show(r);
}
