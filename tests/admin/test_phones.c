/*
 * test_phones.c: one phone's add, update, schedule and remove through the
 * administration core (admin/phones.c): the stored phone after each step,
 * the refusals (taken name, missing phone, pending operation, auth "string"
 * without digits), one audit row per change with the before/after shape, and
 * the API create body's "operation" and "deadline"; many phones scheduled
 * at once with the default deadline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin/phones.h"
#include "api/api_input.h"
#include "common/util.h"
#include "store/store.h"
#include "../store/store_test_util.h"

#define NAME "SEP001122334455"
#define ACTOR "test:admin"

/* The audit rows of NAME, oldest first. */
struct rows {
	int n;
	struct audit_entry e[8];
};

static int collect(const struct audit_entry *e, void *arg)
{
	struct rows *r = arg;

	if (strcmp(e->object, NAME) == 0 && r->n < 8)
		r->e[r->n++] = *e;
	return 0;
}

static struct audit_entry *row(struct store *st, int newest_index, int *count)
{
	static struct rows r;

	memset(&r, 0, sizeof r);
	assert_int_equal(store_audit_each(st, 0, collect, &r), 0);
	*count = r.n;
	return &r.e[newest_index];
}

static int set_model(struct phone *p, void *arg, unsigned *given, char *err, size_t errlen)
{
	snprintf(p->model, sizeof p->model, "%s", (const char *)arg);
	p->op = OP_DELETE;
	*given = ADMIN_GIVEN_OP;
	return 0;
}

static void test_add(struct store *st)
{
	struct phone p, got;
	char err[256] = "";
	struct audit_entry *e;
	int n;

	phone_defaults(&p, NAME);
	p.op = OP_INSTALL;
	assert_int_equal(admin_phone_add(st, ACTOR, &p, ADMIN_GIVEN_OP, &got, err, sizeof err), ADMIN_PHONE_OK);
	assert_int_equal(store_phone_get(st, NAME, &got), 0);
	assert_int_equal(got.op, OP_INSTALL);
	assert_string_equal(got.status, STATUS_PENDING);
	assert_true(got.deadline > now_utc() + ADMIN_DEFAULT_DEADLINE_SECONDS - 60 &&
		    got.deadline <= now_utc() + ADMIN_DEFAULT_DEADLINE_SECONDS);
	assert_int_equal(admin_phone_add(st, ACTOR, &p, 0, &got, err, sizeof err), ADMIN_PHONE_EXISTS);
	e = row(st, 0, &n);
	assert_int_equal(n, 1);
	assert_string_equal(e->action, "phone.add");
	assert_string_equal(e->actor, ACTOR);
	assert_non_null(strstr(e->detail, "\"before\":null"));
	assert_non_null(strstr(e->detail, "\"after\":{"));
	assert_null(strstr(e->detail, "\"filter\""));
	p.auth = AUTH_STRING;
	snprintf(p.name, sizeof p.name, "SEP0011223344AA");
	assert_int_equal(admin_phone_add(st, ACTOR, &p, 0, &got, err, sizeof err), ADMIN_PHONE_NO_AUTH_STRING);
}

static void test_update_schedule(struct store *st)
{
	struct phone before, got;
	char err[256] = "";
	struct audit_entry *e;
	int n;

	assert_int_equal(admin_phone_update(st, ACTOR, NAME, set_model, "8845", &before, &got, err, sizeof err),
			 ADMIN_PHONE_OK);
	assert_int_equal(before.op, OP_INSTALL);
	assert_int_equal(store_phone_get(st, NAME, &got), 0);
	assert_string_equal(got.model, "8845");
	assert_int_equal(got.op, OP_DELETE);
	assert_int_equal(admin_phone_update(st, ACTOR, "SEP0011223344BB", set_model, "x", NULL, &got, err,
					    sizeof err), ADMIN_PHONE_NOT_FOUND);
	assert_int_equal(admin_phone_schedule(st, ACTOR, NAME, OP_TROUBLESHOOT, 2000000000, &got, err, sizeof err),
			 ADMIN_PHONE_OK);
	assert_int_equal(store_phone_get(st, NAME, &got), 0);
	assert_int_equal(got.op, OP_TROUBLESHOOT);
	assert_int_equal(got.deadline, 2000000000);
	assert_string_equal(got.status, STATUS_PENDING);
	e = row(st, 0, &n);
	assert_int_equal(n, 3);
	assert_string_equal(e->action, "phone.op");
	assert_non_null(strstr(e->detail, "\"before\":{"));
	assert_null(strstr(e->detail, "\"filter\""));
	assert_string_equal(row(st, 1, &n)->action, "phone.set");
}

static void test_remove(struct store *st)
{
	struct phone p, got;
	char err[256] = "";
	struct audit_entry *e;
	int n;

	assert_int_equal(admin_phone_remove(st, ACTOR, NAME, 0, &p, err, sizeof err), ADMIN_PHONE_PENDING);
	assert_int_equal(p.op, OP_TROUBLESHOOT);
	assert_int_equal(admin_phone_schedule(st, ACTOR, NAME, OP_NONE, 0, &got, err, sizeof err), ADMIN_PHONE_OK);
	assert_int_equal(got.deadline, 0);
	assert_string_equal(got.status, "");
	assert_int_equal(admin_phone_remove(st, ACTOR, NAME, 0, &p, err, sizeof err), ADMIN_PHONE_OK);
	assert_int_equal(store_phone_get(st, NAME, &got), 1);
	assert_int_equal(admin_phone_remove(st, ACTOR, NAME, 1, &p, err, sizeof err), ADMIN_PHONE_NOT_FOUND);
	e = row(st, 0, &n);
	assert_int_equal(n, 5);
	assert_string_equal(e->action, "phone.remove");
	assert_non_null(strstr(e->detail, "\"after\":null"));
}

static void test_phone_life(void **state)
{
	struct fixture *fx = *state;

	test_add(fx->st);
	test_update_schedule(fx->st);
	test_remove(fx->st);
}

/* Many phones at once: the core gives the default deadline the store no
 * longer picks, and `none` clears it. */
static void test_bulk_schedule(void **state)
{
	struct fixture *fx = *state;
	const char *names[] = { "SEP000000000001", "SEP000000000002", "SEP000000000003" };
	struct phone_schedule ps = { .op = OP_INSTALL, .actor = ACTOR };
	struct phone_filter f;
	struct phone p, got;
	char err[256] = "";
	size_t n = 0;

	for (int i = 0; i < 3; i++) {
		phone_defaults(&p, names[i]);
		assert_int_equal(admin_phone_add(fx->st, ACTOR, &p, 0, &got, err, sizeof err), ADMIN_PHONE_OK);
	}
	phone_filter_init(&f);
	f.names = names;
	f.n_names = 2;
	assert_int_equal(admin_phones_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_true(ps.deadline > now_utc() + ADMIN_DEFAULT_DEADLINE_SECONDS - 60);
	assert_int_equal(store_phone_get(fx->st, names[1], &got), 0);
	assert_int_equal(got.op, OP_INSTALL);
	assert_int_equal(got.deadline, ps.deadline);
	assert_string_equal(got.status, STATUS_PENDING);
	assert_int_equal(store_phone_get(fx->st, names[2], &got), 0);
	assert_int_equal(got.op, OP_NONE);
	ps.op = OP_NONE;
	assert_int_equal(admin_phones_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(ps.deadline, 0);
	assert_int_equal(store_phone_get(fx->st, names[0], &got), 0);
	assert_int_equal(got.op, OP_NONE);
	assert_int_equal(got.deadline, 0);
}

/* The API's create body may carry the operation and deadline `phone add` takes. */
static void test_api_create_operation(void **state)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", NAME, "operation", "install", "deadline",
			      "2031-01-02 03:04");
	struct phone p;
	char err[256] = "";
	int op_given, by_given;

	(void)state;
	phone_defaults(&p, "");
	assert_int_equal(api_input_phone_create(o, &p, &op_given, &by_given, err, sizeof err), 0);
	assert_true(op_given && by_given);
	assert_int_equal(p.op, OP_INSTALL);
	assert_int_not_equal(p.deadline, 0);
	json_object_del(o, "operation");
	assert_int_equal(api_input_phone_create(o, &p, &op_given, &by_given, err, sizeof err), -1);
	assert_string_equal(err, "'deadline' needs an 'operation'");
	assert_int_equal(api_input_phone(o, 0, &p, err, sizeof err), -1); /* PATCH: no deadline */
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_phone_life, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_bulk_schedule, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_api_create_operation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
