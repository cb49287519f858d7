/*
 * test_store_phone.c: phones (every field round-trips), their history, the
 * enum names and labels, and the schema's CHECK constraints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "store_test_util.h"

static void full_phone(struct phone *p, const char *name)
{
	phone_defaults(p, name);
	snprintf(p->model, sizeof p->model, "Cisco 8845");
	snprintf(p->description, sizeof p->description, "Reception desk, O'Brien \"quoted\"; DROP TABLE phones");
	p->auth = AUTH_MIC_FIRST;
	snprintf(p->auth_string, sizeof p->auth_string, "12345678901234567890123456789012");
	p->key_order = KEY_ORDER_EC_RSA;
	p->rsa_bits = 3072;
	p->ec_bits = 384;
	p->op = OP_TROUBLESHOOT;
	p->deadline = 1900000000;
	snprintf(p->status, sizeof p->status, "%s", STATUS_PENDING);
	p->auth_failures = 2;
	p->locked_until = 1800000001;
	p->last_contact = 1800000002;
	p->created = 1700000003;
	p->updated = 1700000004;
}

static void assert_phone_equal(const struct phone *a, const struct phone *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->model, b->model);
	assert_string_equal(a->description, b->description);
	assert_int_equal(a->auth, b->auth);
	assert_string_equal(a->auth_string, b->auth_string);
	assert_int_equal(a->key_order, b->key_order);
	assert_int_equal(a->rsa_bits, b->rsa_bits);
	assert_int_equal(a->ec_bits, b->ec_bits);
	assert_int_equal(a->op, b->op);
	assert_int_equal(a->deadline, b->deadline);
	assert_string_equal(a->status, b->status);
	assert_int_equal(a->auth_failures, b->auth_failures);
	assert_int_equal(a->locked_until, b->locked_until);
	assert_int_equal(a->last_contact, b->last_contact);
	assert_int_equal(a->created, b->created);
}

static void test_defaults(void **state)
{
	struct phone p;

	(void)state;
	memset(&p, 0x5a, sizeof p);
	phone_defaults(&p, "SEP001122334455");
	assert_string_equal(p.name, "SEP001122334455");
	assert_string_equal(p.model, "");
	assert_string_equal(p.description, "");
	assert_int_equal(p.auth, AUTH_NULL);
	assert_string_equal(p.auth_string, "");
	assert_int_equal(p.key_order, KEY_ORDER_RSA);
	assert_int_equal(p.rsa_bits, 2048);
	assert_int_equal(p.ec_bits, 256);
	assert_int_equal(p.op, OP_NONE);
	assert_string_equal(p.status, "");
	assert_int_equal(p.deadline, 0);
	assert_int_equal(p.auth_failures, 0);
	assert_int_equal(p.locked_until, 0);
	assert_int_equal(p.last_contact, 0);
	assert_int_equal(p.created, 0);
	assert_int_equal(p.updated, 0);
}

static void test_enums(void **state)
{
	enum auth_mode a;
	enum key_order k;
	enum capf_op o;

	(void)state;
	for (int i = AUTH_NULL; i <= AUTH_MIC_FIRST; i++) {
		assert_int_equal(auth_mode_parse(auth_mode_name((enum auth_mode)i), &a), 0);
		assert_int_equal(a, i);
		assert_int_equal(auth_mode_parse(auth_mode_label((enum auth_mode)i), &a), 0);
		assert_int_equal(a, i);
	}
	for (int i = KEY_ORDER_RSA; i <= KEY_ORDER_EC_RSA; i++) {
		assert_int_equal(key_order_parse(key_order_name((enum key_order)i), &k), 0);
		assert_int_equal(k, i);
	}
	for (int i = OP_NONE; i <= OP_TROUBLESHOOT; i++) {
		assert_int_equal(capf_op_parse(capf_op_label((enum capf_op)i), &o), 0);
		assert_int_equal(o, i);
	}
	assert_string_equal(auth_mode_name(AUTH_LSC_FIRST), "lsc-first");
	assert_string_equal(auth_mode_label(AUTH_NULL), "By Null String");
	assert_string_equal(auth_mode_label(AUTH_MIC_FIRST), "By Existing Certificate (Precedence to MIC)");
	assert_string_equal(key_order_name(KEY_ORDER_EC_RSA), "ec-rsa");
	assert_string_equal(key_order_label(KEY_ORDER_EC_RSA), "EC Preferred, RSA Backup");
	assert_string_equal(capf_op_name(OP_INSTALL), "install");
	assert_string_equal(capf_op_label(OP_NONE), "No Pending Operation");
	assert_string_equal(capf_op_label(OP_INSTALL), "Install/Upgrade");
	assert_int_equal(auth_mode_parse("STRING", &a), 0);
	assert_int_equal(a, AUTH_STRING);
	assert_int_equal(auth_mode_parse("bogus", &a), -1);
	assert_int_equal(key_order_parse("", &k), -1);
	assert_int_equal(capf_op_parse(NULL, &o), -1);
	assert_string_equal(capf_op_name((enum capf_op)42), "unknown");
}

static void test_insert_get_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct phone in, out;

	full_phone(&in, "SEP0011223344AA");
	assert_int_equal(store_phone_insert(f->st, &in), 0);
	memset(&out, 0, sizeof out);
	assert_int_equal(store_phone_get(f->st, "SEP0011223344AA", &out), 0);
	assert_phone_equal(&in, &out);
	assert_int_equal(out.updated, in.updated);
	assert_int_equal(store_phone_get(f->st, "SEP000000000000", &out), 1);

	/* created 0 means "now". */
	phone_defaults(&in, "SEP0011223344AB");
	assert_int_equal(store_phone_insert(f->st, &in), 0);
	assert_int_equal(store_phone_get(f->st, "SEP0011223344AB", &out), 0);
	assert_true(out.created >= now_utc() - 5 && out.created <= now_utc());
	assert_int_equal(out.updated, out.created);
}

static void test_insert_duplicate(void **state)
{
	struct fixture *f = *state;
	struct phone p, out;

	full_phone(&p, "SEP0011223344AA");
	assert_int_equal(store_phone_insert(f->st, &p), 0);
	p.rsa_bits = 1024;
	assert_int_equal(store_phone_insert(f->st, &p), -1);
	assert_non_null(strstr(store_errmsg(f->st), "already exists"));
	assert_int_equal(store_phone_get(f->st, p.name, &out), 0);
	assert_int_equal(out.rsa_bits, 3072);
}

static void test_update(void **state)
{
	struct fixture *f = *state;
	struct phone p, out;

	full_phone(&p, "SEP0011223344AA");
	assert_int_equal(store_phone_insert(f->st, &p), 0);
	p.auth = AUTH_LSC_FIRST;
	p.key_order = KEY_ORDER_EC;
	p.rsa_bits = 4096;
	p.ec_bits = 521;
	p.op = OP_DELETE;
	snprintf(p.model, sizeof p.model, "Cisco 7841");
	snprintf(p.auth_string, sizeof p.auth_string, "4321");
	p.created = 5;   /* ignored: created is written once */
	assert_int_equal(store_phone_update(f->st, &p), 0);
	assert_int_equal(store_phone_get(f->st, p.name, &out), 0);
	p.created = 1700000003;
	assert_phone_equal(&p, &out);
	assert_true(out.updated >= now_utc() - 5);

	full_phone(&p, "SEP00000000FFFF");
	assert_int_equal(store_phone_update(f->st, &p), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no phone named SEP00000000FFFF"));
	assert_int_equal(store_phone_get(f->st, "SEP00000000FFFF", &out), 1);
}

static void test_check_constraints(void **state)
{
	struct fixture *f = *state;
	struct phone p;

	phone_defaults(&p, "SEP0011223344AA");
	p.ec_bits = 255;
	assert_int_equal(store_phone_insert(f->st, &p), -1);
	p.ec_bits = 256;
	p.rsa_bits = 8192;
	assert_int_equal(store_phone_insert(f->st, &p), -1);
	p.rsa_bits = 2048;
	p.auth = (enum auth_mode)9;
	assert_int_equal(store_phone_insert(f->st, &p), -1);
	phone_defaults(&p, "");
	assert_int_equal(store_phone_insert(f->st, &p), -1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones"), 0);
}

static int collect_names(const struct phone *p, void *arg)
{
	char *out = arg;

	strcat(out, p->name);
	strcat(out, " ");
	return 0;
}

static int stop_after_first(const struct phone *p, void *arg)
{
	(*(int *)arg)++;
	return 7;
}

static void test_delete_and_each(void **state)
{
	struct fixture *f = *state;
	char names[256] = "";
	int calls = 0;

	add_phone(f->st, "SEP0000000000CC");
	add_phone(f->st, "SEP0000000000AA");
	add_phone(f->st, "SEP0000000000BB");
	assert_int_equal(store_phone_each(f->st, collect_names, names), 0);
	assert_string_equal(names, "SEP0000000000AA SEP0000000000BB SEP0000000000CC ");
	assert_int_equal(store_phone_each(f->st, stop_after_first, &calls), 7);
	assert_int_equal(calls, 1);

	assert_int_equal(store_phone_delete(f->st, "SEP0000000000BB"), 0);
	assert_int_equal(store_phone_delete(f->st, "SEP0000000000BB"), 1);
	names[0] = '\0';
	assert_int_equal(store_phone_each(f->st, collect_names, names), 0);
	assert_string_equal(names, "SEP0000000000AA SEP0000000000CC ");
}

struct hist_ctx {
	int n;
	char outcomes[8][128];
	int64_t times[8];
};

static int collect_history(const struct history_entry *h, void *arg)
{
	struct hist_ctx *c = arg;

	if (c->n < 8) {
		snprintf(c->outcomes[c->n], sizeof c->outcomes[c->n], "%s", h->outcome);
		c->times[c->n] = h->time;
	}
	c->n++;
	return 0;
}

static void history(struct store *st, const char *phone, int64_t t, const char *outcome)
{
	struct history_entry h;

	memset(&h, 0, sizeof h);
	h.time = t;
	snprintf(h.peer, sizeof h.peer, "192.0.2.7:51000");
	snprintf(h.operation, sizeof h.operation, "install");
	snprintf(h.auth_mode, sizeof h.auth_mode, "string");
	snprintf(h.outcome, sizeof h.outcome, "%s", outcome);
	snprintf(h.reason, sizeof h.reason, "test");
	assert_int_equal(store_history_add(st, phone, &h), 0);
}

static void test_history(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct hist_ctx c;

	add_phone(f->st, "SEP0000000000AA");
	add_phone(f->st, "SEP0000000000BB");
	history(f->st, "SEP0000000000AA", 1000, "first");
	history(f->st, "SEP0000000000AA", 3000, "third");
	history(f->st, "SEP0000000000AA", 2000, "second");
	history(f->st, "SEP0000000000BB", 4000, "other phone");
	memset(&c, 0, sizeof c);
	assert_int_equal(store_history_each(f->st, "SEP0000000000AA", 0, collect_history, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.outcomes[0], "third");
	assert_string_equal(c.outcomes[1], "second");
	assert_string_equal(c.outcomes[2], "first");
	assert_int_equal(c.times[0], 3000);
	memset(&c, 0, sizeof c);
	assert_int_equal(store_history_each(f->st, "SEP0000000000AA", 2, collect_history, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.outcomes[1], "second");

	/* History belongs to a known phone, and goes with it. */
	memset(&h, 0, sizeof h);
	assert_int_equal(store_history_add(f->st, "SEP00000000DEAD", &h), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no phone named"));
	assert_int_equal(store_phone_delete(f->st, "SEP0000000000AA"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_enums),
		cmocka_unit_test_setup_teardown(test_insert_get_roundtrip, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_insert_duplicate, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_update, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_check_constraints, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_each, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_history, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
