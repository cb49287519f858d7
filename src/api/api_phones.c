/*
 * api_phones.c: /api/v1/phones: list (the CLI's filters, paged), show,
 * create, update, delete, schedule an operation on one phone or on every
 * phone a filter selects, and a phone's CAPF history.
 *
 * The work is the CLI's: one phone is added, changed, removed and scheduled
 * by the administration core (admin/phones.c: one transaction, one audit
 * row), many through store_phone_select and store_phone_schedule, with the
 * same value checks (api_input.c -> phone_settings_apply) and the same JSON
 * (admin/phone_json.c). Phones are shown without their
 * authentication string ("auth_string_set": true/false), always.
 */
#include <stdlib.h>
#include <string.h>

#include "admin/phone_json.h"
#include "admin/phones.h"
#include "api/api_input.h"
#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store_search.h"

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 10000
#define HISTORY_DEFAULT 50

/* ---- one phone: phone_full_json() (admin/phone_json.c), the shape of `phone show --json` ---- */

/* The path's device name made canonical (a MAC address or lower-case
 * "sep..." becomes SEP + 12 upper-case hex digits); 1 when it is a device name. */
static int phone_param_valid(struct api_req *r)
{
	char canonical[16], *dup;

	if (devname_normalize(r->param[0], canonical, sizeof canonical) == 0 && strcmp(canonical, r->param[0]) &&
	    (dup = strdup(canonical))) {
		free(r->param[0]);
		r->param[0] = dup;
	}
	return devname_valid(r->param[0]);
}

/* The phone named by the path; a reply (400/404/500) is sent otherwise. */
static int load_phone(struct api_req *r, struct phone *p)
{
	const char *name;
	int rc;

	if (!phone_param_valid(r)) {
		name = r->param[0];
		api_reply_error(r, 404, "no phone named '%.64s' (device names are SEP + 12 hex digits, or a MAC address)",
				name);
		return -1;
	}
	name = r->param[0];
	rc = store_phone_get(r->st, name, p);
	if (rc > 0)
		api_reply_error(r, 404, "no phone named %s", name);
	else if (rc < 0)
		api_reply_store_error(r, "cannot read the phone");
	return rc == 0 ? 0 : -1;
}

/* A core call's failure as the API's reply; what: "cannot add the phone", ... */
static void reply_failure(struct api_req *r, int rc, const char *name, const char *what, const char *err)
{
	if (rc == ADMIN_PHONE_NOT_FOUND)
		api_reply_error(r, 404, "no phone named %s", name);
	else if (rc == ADMIN_PHONE_EXISTS)
		api_reply_error(r, 409, "phone %s already exists (PATCH /api/v1/phones/%s changes it)", name, name);
	else if (rc == ADMIN_PHONE_NO_AUTH_STRING)
		api_reply_error(r, 400, "auth \"string\" needs an auth_string (4 to 10 digits)");
	else if (rc == ADMIN_PHONE_INVALID)
		api_reply_error(r, 400, "%s", err);
	else if (strstr(err, "database is locked") || strstr(err, "busy"))
		api_reply_error(r, 503, "%s: the database is busy, try again", what);
	else {
		log_warn("api: %s %s: %s: %s", api_method_name(r->method), r->path, what, err);
		api_reply_error(r, 500, "%s: %s", what, err);
	}
}

/* ---- list ---- */

struct page {
	json_t *arr;
	int64_t skip, left;
	int64_t since, until, total; /* last contact in [since, until), as the audit's ages ("7d"); 0: open */
};

static int page_row(const struct phone_row *row, void *arg)
{
	struct page *pg = arg;

	if ((pg->since && row->phone.last_contact < pg->since) || (pg->until && row->phone.last_contact >= pg->until))
		return 0;
	pg->total++;
	if (pg->skip > 0) {
		pg->skip--;
		return 0;
	}
	if (pg->left-- <= 0)
		return pg->since || pg->until ? 0 : 1; /* counting on */
	json_array_append_new(pg->arr, phone_row_json(row));
	return 0;
}

/* The query's filter members as a JSON object of strings. */
static json_t *query_object(struct api_req *r)
{
	json_t *o = json_object();
	struct evkeyval *kv;

	TAILQ_FOREACH(kv, &r->query, next)
		if (strcmp(kv->key, "limit") != 0 && strcmp(kv->key, "offset") != 0 && strcmp(kv->key, "since") != 0 &&
		    strcmp(kv->key, "until") != 0)
			json_object_set_new(o, kv->key, json_string(kv->value));
	return o;
}

/* since/until: "YYYY-MM-DD[ HH:MM]" or an age ("7d"), as `opencapf audit`. */
static int contact_window(struct api_req *r, struct page *pg)
{
	const char *names[2] = { "since", "until" };
	int64_t *out[2] = { &pg->since, &pg->until };

	for (int i = 0; i < 2; i++) {
		const char *v = api_query(r, names[i]);
		if (v && parse_time_or_age(v, out[i]) < 0) {
			api_reply_error(r, 400, "query parameter %s: expected \"YYYY-MM-DD[ HH:MM]\" (UTC) or an age "
				"such as 7d", names[i]);
			return -1;
		}
	}
	return 0;
}

void api_phones_list(struct api_req *r)
{
	struct page pg = { 0 };
	struct api_filter f;
	json_t *q = query_object(r);
	char err[ERRLEN];
	int64_t limit, offset, total;
	int rc;

	/* The filter points into q: it lives until the end. */
	rc = api_input_filter(q, &f, err, sizeof err);
	if (rc < 0) {
		json_decref(q);
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (api_query_int(r, "limit", 1, LIST_MAX_LIMIT, LIST_DEFAULT_LIMIT, &limit) < 0 ||
	    api_query_int(r, "offset", 0, INT64_MAX / 2, 0, &offset) < 0 || contact_window(r, &pg) < 0)
		goto out;
	pg.arr = json_array();
	pg.skip = offset;
	pg.left = limit;
	total = pg.since || pg.until ? 0 : store_phone_count(r->st, &f.f);
	if (total < 0 || store_phone_select(r->st, &f.f, page_row, &pg) < 0) {
		json_decref(pg.arr);
		api_reply_store_error(r, "cannot list phones");
		goto out;
	}
	if (pg.since || pg.until)
		total = pg.total;
	api_reply_json(r, 200, json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "offset",
					 (json_int_t)offset, "limit", (json_int_t)limit, "phones", pg.arr));
out:
	api_filter_free(&f);
	json_decref(q);
}

/* ---- show, create, update, delete ---- */

void api_phone_show(struct api_req *r)
{
	struct phone p;

	if (load_phone(r, &p) == 0)
		api_reply_json(r, 200, phone_full_json(r->st, &p, HISTORY_DEFAULT));
}

void api_phones_create(struct api_req *r)
{
	struct phone p;
	char err[ERRLEN], loc[128];
	int op_given, by_given, rc;

	phone_defaults(&p, "");
	if (api_input_phone_create(r->body, &p, &op_given, &by_given, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	rc = admin_phone_add(r->st, r->actor, &p, (op_given ? ADMIN_GIVEN_OP : 0u) | (by_given ? ADMIN_GIVEN_BY : 0u),
			     &p, err, sizeof err);
	if (rc != ADMIN_PHONE_OK) {
		reply_failure(r, rc, p.name, "cannot add the phone", err);
		return;
	}
	snprintf(loc, sizeof loc, "/api/v1/phones/%s", p.name);
	api_header(r, "Location", loc);
	api_reply_json(r, 201, phone_full_json(r->st, &p, HISTORY_DEFAULT));
}

/* PATCH: the body applied onto the stored phone. */
static int body_change(struct phone *p, void *arg, unsigned *given, char *err, size_t errlen)
{
	*given = 0;
	return api_input_phone(arg, 0, p, err, errlen);
}

void api_phone_update(struct api_req *r)
{
	struct phone p;
	char err[ERRLEN];
	int rc;

	if (!phone_param_valid(r)) {
		load_phone(r, &p);
		return;
	}
	rc = admin_phone_update(r->st, r->actor, r->param[0], body_change, r->body, NULL, &p, err, sizeof err);
	if (rc != ADMIN_PHONE_OK) {
		reply_failure(r, rc, r->param[0], "cannot update the phone", err);
		return;
	}
	api_reply_json(r, 200, phone_full_json(r->st, &p, HISTORY_DEFAULT));
}

void api_phone_delete(struct api_req *r)
{
	struct phone p;
	char err[ERRLEN];
	int force, rc;

	if (api_query_bool(r, "force", &force) < 0)
		return;
	if (!phone_param_valid(r)) {
		load_phone(r, &p);
		return;
	}
	rc = admin_phone_remove(r->st, r->actor, r->param[0], force, &p, err, sizeof err);
	if (rc == ADMIN_PHONE_PENDING)
		api_reply_error(r, 409, "phone %s has a pending %s operation; add ?force=true to remove it anyway",
				p.name, capf_op_name(p.op));
	else if (rc != ADMIN_PHONE_OK)
		reply_failure(r, rc, r->param[0], "cannot remove the phone", err);
	else
		api_reply_json(r, 200, json_pack("{s:s, s:b}", "name", p.name, "removed", 1));
}

/* ---- scheduling ---- */

static json_t *schedule_warning(enum capf_op op, int64_t deadline)
{
	if (op == OP_NONE || deadline == 0 || deadline > now_utc())
		return json_null();
	return json_string("the deadline is already past: the operation will fail with \"" STATUS_LATE "\"");
}

void api_phone_operation(struct api_req *r)
{
	struct phone p;
	enum capf_op op;
	int64_t deadline;
	char err[ERRLEN];
	json_t *o;
	int rc;

	if (api_input_operation(r->body, &op, &deadline, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	if (!phone_param_valid(r)) {
		load_phone(r, &p);
		return;
	}
	rc = admin_phone_schedule(r->st, r->actor, r->param[0], op, deadline, &p, err, sizeof err);
	if (rc != ADMIN_PHONE_OK) {
		reply_failure(r, rc, r->param[0], "cannot schedule the operation", err);
		return;
	}
	o = phone_full_json(r->st, &p, HISTORY_DEFAULT);
	json_object_set_new(o, "warning", schedule_warning(op, p.deadline));
	api_reply_json(r, 200, o);
}

static int collect_name(const struct phone_row *row, void *arg)
{
	json_array_append_new(arg, json_string(row->phone.name));
	return 0;
}

void api_phones_schedule(struct api_req *r)
{
	struct api_schedule in;
	struct phone_schedule ps = { 0 };
	char err[ERRLEN], desc[512];
	size_t count = 0;
	json_t *names;

	if (api_input_schedule(r->body, &in, err, sizeof err) < 0) {
		api_reply_error(r, 400, "%s", err);
		return;
	}
	ps = (struct phone_schedule){ .op = in.op, .deadline = in.deadline, .actor = r->actor,
				      .action = "phone.op", .note = in.note, .dry_run = in.dry_run, .all = in.all };
	names = json_array();
	if (admin_phones_schedule(r->st, &in.filter.f, &ps, collect_name, names, &count) != 0) {
		json_decref(names);
		api_reply_store_error(r, "cannot schedule the operation");
	} else {
		phone_filter_describe(&in.filter.f, desc, sizeof desc);
		api_reply_json(r, 200, json_pack("{s:s, s:I, s:b, s:s, s:o, s:o}", "operation", capf_op_name(in.op),
						 "count", (json_int_t)count, "dry_run", in.dry_run, "filter", desc,
						 "phones", names, "warning", schedule_warning(in.op, in.deadline)));
	}
	api_schedule_free(&in);
}

static int add_history(const struct history_entry *h, void *arg)
{
	json_array_append_new(arg, phone_history_json(h));
	return 0;
}

void api_phone_history(struct api_req *r)
{
	struct phone p;
	int64_t limit;
	json_t *arr;

	if (api_query_int(r, "limit", 1, 100000, HISTORY_DEFAULT, &limit) < 0 || load_phone(r, &p) < 0)
		return;
	arr = json_array();
	if (store_history_each(r->st, p.name, (int)limit, add_history, arr) < 0) {
		json_decref(arr);
		api_reply_store_error(r, "cannot read the history");
		return;
	}
	api_reply_json(r, 200, json_pack("{s:s, s:o}", "name", p.name, "history", arr));
}
