/*
 * phone_view.c: text and JSON views of phones for `opencapf phone show|list`
 * and the audit detail of phone changes.
 */
#include "cmd/opencapf/phone_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static json_t *time_json(int64_t t)
{
	char s[40];

	if (t == 0)
		return json_null();
	fmt_time_utc(t, s, sizeof s);
	return json_string(s);
}

json_t *phone_settings_json(const struct phone *p)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:i, s:i, s:s, s:o, s:s, s:o}",
			 "name", p->name, "model", p->model, "description", p->description,
			 "auth", auth_mode_name(p->auth), "auth_string_set", p->auth_string[0] != '\0',
			 "key_order", key_order_name(p->key_order), "rsa_bits", p->rsa_bits,
			 "ec_bits", p->ec_bits, "operation", capf_op_name(p->op),
			 "deadline", time_json(p->deadline), "status", p->status,
			 "last_contact", time_json(p->last_contact));
}

char *phone_audit_detail(const struct phone *before, const struct phone *after)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "before", before ? phone_settings_json(before) : json_null());
	json_object_set_new(o, "after", after ? phone_settings_json(after) : json_null());
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

static json_t *cert_json(const struct cert_row *r)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o}", "serial", r->serial, "subject", r->subject,
			 "issuer", r->issuer, "not_before", time_json(r->not_before),
			 "not_after", time_json(r->not_after), "sha256", r->sha256, "time", time_json(r->time));
}

static int add_history(const struct history_entry *h, void *arg)
{
	json_array_append_new(arg, json_pack("{s:o, s:s, s:s, s:s, s:s, s:s}", "time", time_json(h->time),
					     "peer", h->peer, "operation", h->operation, "auth", h->auth_mode,
					     "outcome", h->outcome, "reason", h->reason));
	return 0;
}

static json_t *phone_full_json(struct store *st, const struct phone *p)
{
	json_t *o = phone_settings_json(p), *hist = json_array();
	struct cert_row r;

	json_object_set_new(o, "auth_label", json_string(auth_mode_label(p->auth)));
	json_object_set_new(o, "operation_label", json_string(capf_op_label(p->op)));
	json_object_set_new(o, "locked_until", p->locked_until > now_utc() ? time_json(p->locked_until) : json_null());
	if (store_phone_lsc(st, p->name, 0, &r) == 0) {
		json_object_set_new(o, "lsc", cert_json(&r));
		cert_row_free(&r);
	} else
		json_object_set_new(o, "lsc", json_null());
	if (store_phone_mic(st, p->name, 0, &r) == 0) {
		json_object_set_new(o, "mic", cert_json(&r));
		cert_row_free(&r);
	} else
		json_object_set_new(o, "mic", json_null());
	store_history_each(st, p->name, 50, add_history, hist);
	json_object_set_new(o, "history", hist);
	return o;
}

int phone_print_json(struct store *st, const struct phone *p)
{
	json_t *o = phone_full_json(st, p);
	int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	putchar('\n');
	json_decref(o);
	return rc;
}

static void print_cert(const char *label, const struct cert_row *r)
{
	char na[40];

	fmt_time_utc(r->not_after, na, sizeof na);
	printf("%-22s serial %s\n", label, r->serial);
	printf("%-22s issuer %s\n", "", r->issuer);
	printf("%-22s valid until %s%s\n", "", na, r->not_after < now_utc() ? " (EXPIRED)" : "");
}

static int print_history_line(const struct history_entry *h, void *arg)
{
	char t[40];

	(void)arg;
	fmt_time_utc(h->time, t, sizeof t);
	printf("  %s  %-15s %-12s %-9s %s%s%s\n", t, h->peer, h->operation, h->auth_mode, h->outcome,
	       h->reason[0] ? ": " : "", h->reason);
	return 0;
}

int phone_print_text(struct store *st, const struct phone *p)
{
	struct cert_row r;
	char t[40];

	printf("Device Name:                 %s\n", p->name);
	if (p->model[0])
		printf("Model:                       %s\n", p->model);
	if (p->description[0])
		printf("Description:                 %s\n", p->description);
	printf("CAPF Information\n");
	printf("  Certificate Operation:     %s\n", capf_op_label(p->op));
	printf("  Authentication Mode:       %s\n", auth_mode_label(p->auth));
	if (p->auth == AUTH_STRING)
		printf("  Authentication String:     (set)\n");
	printf("  Key Order:                 %s\n", key_order_label(p->key_order));
	printf("  RSA Key Size (Bits):       %d\n", p->rsa_bits);
	printf("  EC Key Size (Bits):        %d\n", p->ec_bits);
	if (p->deadline) {
		fmt_time_utc(p->deadline, t, sizeof t);
		printf("  Operation Completes By:    %s\n", t);
	}
	printf("  Certificate Operation Status: %s\n", p->status[0] ? p->status : "None");
	if (p->locked_until > now_utc()) {
		fmt_time_utc(p->locked_until, t, sizeof t);
		printf("  Locked until:              %s (repeated authentication failures)\n", t);
	}
	if (store_phone_lsc(st, p->name, 0, &r) == 0) {
		print_cert("LSC:", &r);
		cert_row_free(&r);
	} else
		printf("LSC:                   none\n");
	if (store_phone_mic(st, p->name, 0, &r) == 0) {
		print_cert("MIC (last seen):", &r);
		cert_row_free(&r);
	}
	printf("History (newest first):\n");
	return store_history_each(st, p->name, 20, print_history_line, NULL);
}

struct list_ctx {
	struct store *st;
	json_t *arr;
};

static int list_one(const struct phone *p, void *arg)
{
	struct list_ctx *ctx = arg;
	struct cert_row r;
	int has_lsc = store_phone_lsc(ctx->st, p->name, 0, &r) == 0;
	char na[40] = "-";

	if (has_lsc)
		fmt_time_utc(r.not_after, na, sizeof na);
	if (ctx->arr) {
		json_t *o = phone_settings_json(p);
		json_object_set_new(o, "lsc", has_lsc ? cert_json(&r) : json_null());
		json_array_append_new(ctx->arr, o);
	} else
		printf("%-16s %-10s %-13s %-28.28s %s\n", p->name, auth_mode_name(p->auth), capf_op_name(p->op),
		       p->status[0] ? p->status : "-", has_lsc ? na : "none");
	if (has_lsc)
		cert_row_free(&r);
	return 0;
}

int phone_print_list(struct store *st, int json)
{
	struct list_ctx ctx = { st, json ? json_array() : NULL };
	int rc;

	if (!json)
		printf("%-16s %-10s %-13s %-28s %s\n", "NAME", "AUTH", "OPERATION", "STATUS", "LSC NOT AFTER");
	rc = store_phone_each(st, list_one, &ctx);
	if (json) {
		json_dumpf(ctx.arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(ctx.arr);
	}
	return rc;
}
