/*
 * api_records.c: what phones are told to trust, for the web UI's records
 * page: GET /api/v1/tvs (the TVS entries: certificate, roles, TTL, where
 * each came from, as `opencapf tvs list`), POST /api/v1/tvs and DELETE
 * /api/v1/tvs/SHA256 (as `tvs add|remove`, admin/tvs_entries.h), and GET /api/v1/ctl (a CTL built
 * from the state in memory, shown in the vendor's `show ctl` layout and
 * verified; nothing is written). The ITL is GET /api/v1/itl (api_capf.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/itl_file.h"
#include "admin/tvs_entries.h"
#include "api/api_input.h"
#include "api/api_internal.h"
#include "capf/itl_show.h"
#include "common/json_util.h"
#include "common/util.h"
#include "store/store_tvs.h"
#include "wire/roles.h"

static json_t *roles_json(const struct tvs_cert_row *t)
{
	json_t *arr = json_array();
	char num[16];

	for (size_t i = 0; i < t->nroles; i++) {
		const char *name = role_name(t->roles[i]);
		snprintf(num, sizeof num, "%u", (unsigned)t->roles[i]);
		json_array_append_new(arr, json_string(name ? name : num));
	}
	return arr;
}

static int add_tvs(const struct tvs_cert_row *t, void *arg)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:o, s:I, s:s, s:s, s:o}", "sha256", t->sha256,
			      "subject", t->subject, "issuer", t->issuer, "serial", t->serial, "not_before",
			      json_time_utc(t->not_before), "not_after", json_time_utc(t->not_after), "expired",
			      t->not_after < now_utc(), "roles", roles_json(t), "ttl", (json_int_t)t->ttl, "source",
			      t->source, "note", t->note, "added", json_time_utc(t->added));

	return o && json_array_append_new(arg, o) == 0 ? 0 : -1;
}

void api_tvs_list(struct api_req *r)
{
	json_t *arr = json_array();

	if (store_tvs_each(r->st, add_tvs, arr) != 0) {
		json_decref(arr);
		api_reply_store_error(r, "cannot read the TVS entries");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(arr), "entries", arr));
}

void api_tvs_add(struct api_req *r)
{
	struct admin_tvs_entry e;
	struct admin_tvs_item *items = NULL;
	STACK_OF(X509) *certs = NULL;
	json_t *arr;
	char err[ERRLEN];
	int n = 0, rc;

	if (api_input_tvs_add(r->body, &certs, &e, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	rc = admin_tvs_add(r->st, api_actor(r), certs, &e, &items, &n, err, sizeof err);
	sk_X509_pop_free(certs, X509_free);
	if (rc < 0) {
		api_reply_error(r, 500, "cannot add the TVS entries: %s", err);
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "sha256", items[i].sha256, "subject",
						     items[i].subject, "result", items[i].updated ? "updated" : "added"));
	free(items);
	api_reply_json(r, 200, json_pack("{s:I, s:o}", "count", (json_int_t)n, "entries", arr));
}

void api_tvs_remove(struct api_req *r)
{
	char subject[512], err[ERRLEN], sha256[80];
	size_t n = 0;
	int rc;

	for (const char *p = r->param[0]; *p && n + 1 < sizeof sha256; p++)
		if (*p != ':')
			sha256[n++] = (char)tolower((unsigned char)*p);
	sha256[n] = '\0';
	if (n != 64 || strspn(sha256, "0123456789abcdef") != 64) {
		api_reply_error(r, 400, "not a SHA-256 fingerprint (64 hex digits): '%.80s'", r->param[0]);
		return;
	}
	rc = admin_tvs_remove(r->st, api_actor(r), sha256, subject, sizeof subject, err, sizeof err);
	if (rc > 0)
		api_reply_error(r, 404, "TVS does not know %s", sha256);
	else if (rc < 0)
		api_reply_error(r, 500, "cannot remove the TVS entry: %s", err);
	else
		api_reply_json(r, 200, json_pack("{s:s, s:s}", "removed", sha256, "subject", subject));
}

/* The vendor's `show ctl` text of data, and whether it verified. */
static json_t *show_json(const uint8_t *data, size_t len)
{
	char err[ERRLEN] = "", *text = NULL;
	size_t tlen = 0;
	FILE *mem = open_memstream(&text, &tlen);
	json_t *o;
	int ok;

	if (!mem)
		return NULL;
	ok = itl_show(mem, data, len, err, sizeof err) == 0;
	fclose(mem);
	o = json_pack("{s:b, s:s, s:s%, s:I}", "verified", ok, "error", ok ? "" : err, "text", text ? text : "",
		      text ? tlen : 0, "length", (json_int_t)len);
	free(text);
	return o;
}

void api_ctl_show(struct api_req *r)
{
	struct itl_build_opts o;
	uint8_t *data = NULL;
	size_t len = 0;
	char err[ERRLEN];
	json_t *out;

	itl_build_opts_default(&o);
	o.kind = ITL_KIND_CTL;
	if (itl_build_from_state(r->st, &o, &data, &len, err, sizeof err) < 0) {
		api_reply_error(r, 409, "cannot build a CTL from this state: %s", err);
		return;
	}
	out = show_json(data, len);
	free(data);
	if (!out) {
		api_reply_error(r, 500, "out of memory");
		return;
	}
	json_object_set_new(out, "note", json_string("built from the state now, without CCM records "
						     "(opencapf ctl build --ccm CERT adds them); not published"));
	api_reply_json(r, 200, out);
}
