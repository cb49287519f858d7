/*
 * phone_json.c: phones as JSON (phone_json.h).
 *
 * phone_full_json reads the phone's current certificates with the same
 * one-query select the lists use (store_phone_select), so a phone shows the
 * same "lsc" and "mic" alone and in a list; the phone given is the fallback
 * when the select finds nothing (a phone removed meanwhile).
 */
#include "admin/phone_json.h"
#include "admin/provision.h"

#include "common/json_util.h"
#include "common/util.h"

json_t *phone_settings_json(const struct phone *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:s, s:o, s:s, s:o}",
			 "name", p->name, "model", p->model, "description", p->description,
			 "auth", auth_mode_name(p->auth), "auth_string_set", p->auth_string[0] != '\0',
			 "key_order", key_order_name(p->key_order), "rsa_bits", p->rsa_bits,
			 "ec_bits", p->ec_bits, "operation", capf_op_name(p->op),
			 "deadline", json_time_utc(p->deadline), "status", p->status,
			 "last_contact", json_time_utc(p->last_contact));
}

char *phone_audit_detail_with(const struct phone *before, const struct phone *after, const char *key,
			      json_t *value)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "before", before ? phone_settings_json(before) : json_null());
	json_object_set_new(o, "after", after ? phone_settings_json(after) : json_null());
	if (key && value)
		json_object_set_new(o, key, value);
	else if (value)
		json_decref(value);
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

char *phone_audit_detail(const struct phone *before, const struct phone *after)
{
	return phone_audit_detail_with(before, after, NULL, NULL);
}

json_t *phone_history_json(const struct history_entry *h)
{
	return json_pack("{s:o, s:s, s:s, s:s, s:s, s:s, s:i, s:o}", "time", json_time_utc(h->time), "peer", h->peer,
			 "operation", h->operation, "auth", h->auth_mode, "outcome", h->outcome, "reason", h->reason,
			 "count", h->count > 0 ? h->count : 1, "first_time",
			 json_time_utc(h->first_time ? h->first_time : h->time));
}

static int add_unconfirmed(const struct cert_row *r, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s, s:s, s:o, s:o, s:s}", "serial", r->serial, "sha256", r->sha256,
					     "issued", json_time_utc(r->time), "not_after",
					     json_time_utc(r->not_after), "issuer_sha256", r->issuer_sha256));
	return 0;
}

static int add_lockout(const struct auth_lockout *l, void *arg)
{
	if (l->locked_until > now_utc())
		json_array_append_new(arg, json_pack("{s:s, s:o, s:i}", "source", l->source, "locked_until",
						     json_time_utc(l->locked_until), "lockouts", l->lockouts));
	return 0;
}

static int add_history(const struct history_entry *h, void *arg)
{
	json_array_append_new(arg, phone_history_json(h));
	return 0;
}

json_t *phone_row_json(const struct phone_row *r)
{
	json_t *o = phone_settings_json(&r->phone);
	const char *state = !r->lsc.present ? "none" : r->lsc.not_after < now_utc() ? "expired" : "installed";

	json_object_set_new(o, "lsc_state", json_string(state));
	json_object_set_new(o, "lsc", phone_cert_brief_json(&r->lsc));
	json_object_set_new(o, "mic", phone_cert_brief_json(&r->mic));
	return o;
}

static int keep_row(const struct phone_row *r, void *arg)
{
	*(json_t **)arg = phone_row_json(r);
	return 1;
}

/* What the provisioning folder holds for the phone (admin/provision.h). */
static json_t *provisioning_json(struct store *st, const char *name)
{
	struct provision_state ps;
	char err[512];

	if (provision_phone_state(st, name, &ps, err, sizeof err) < 0)
		return json_null();
	return json_pack("{s:b, s:b, s:o, s:o}", "template", ps.has_template, "encrypted", ps.encrypted, "published",
			 json_time_utc(ps.published), "encrypted_to",
			 ps.encrypted_to[0] ? json_string(ps.encrypted_to) : json_null());
}

json_t *phone_full_json(struct store *st, const struct phone *p, int history)
{
	const char *names[1] = { p->name };
	struct phone_filter f;
	json_t *o = NULL, *hist = json_array();

	phone_filter_init(&f);
	f.names = names;
	f.n_names = 1;
	if (store_phone_select(st, &f, keep_row, &o) < 0 || !o)
		o = phone_settings_json(p);
	json_object_set_new(o, "auth_label", json_string(auth_mode_label(p->auth)));
	json_object_set_new(o, "key_order_label", json_string(key_order_label(p->key_order)));
	json_object_set_new(o, "operation_label", json_string(capf_op_label(p->op)));
	json_object_set_new(o, "locked_until", p->locked_until > now_utc() ? json_time_utc(p->locked_until) : json_null());
	json_object_set_new(o, "unconfirmed_lscs", json_array());
	store_unconfirmed_each(st, p->name, add_unconfirmed, json_object_get(o, "unconfirmed_lscs"));
	json_object_set_new(o, "lockouts", json_array());
	store_auth_lockouts_each(st, p->name, add_lockout, json_object_get(o, "lockouts"));
	store_history_each(st, p->name, history, add_history, hist);
	json_object_set_new(o, "history", hist);
	json_object_set_new(o, "provisioning", provisioning_json(st, p->name));
	return o;
}

json_t *phone_cert_brief_json(const struct phone_cert_brief *c)
{
	if (!c->present)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o}", "serial", c->serial,
			 "subject", c->subject, "issuer", c->issuer, "source", c->source,
			 "not_before", json_time_utc(c->not_before), "not_after", json_time_utc(c->not_after),
			 "sha256", c->sha256, "issuer_sha256", c->issuer_sha256, "time", json_time_utc(c->time));
}
