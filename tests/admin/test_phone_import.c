/*
 * test_phone_import.c: phones from a CSV file through the administration
 * core (admin/phone_import.c): a good file adds its phones with one audit
 * row each and the summary row; a file with several bad lines names every
 * one as FILE:LINE and changes nothing; --update changes existing phones
 * and leaves unchanged rows unwritten and unaudited; a dry run counts and
 * writes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin/phone_import.h"
#include "common/util.h"
#include "store/store.h"
#include "../store/store_test_util.h"

#define ACTOR "test:admin"
#define FILE_LABEL "phones.csv"

static const char good_csv[] =
	"name,model,description,auth,auth_string,key_order,rsa_bits,ec_bits,operation,deadline\n"
	"SEP000000000101,7962,\"Desk, 1\",null,,rsa,1024,,,\n"
	"SEP000000000102,8845,,string,90817263,ec,,384,install,2031-05-06 07:08\n"
	"\n"
	"SEP000000000103,7975,,lsc-first,,,,,troubleshoot,\n";

/* Import text; the problems come back NUL-terminated in problems (may be NULL). */
static int import(struct store *st, const char *csv, int update, int dry_run, struct admin_import_result *r,
		  char *problems, size_t cap)
{
	char err[256] = "";
	int rc = admin_phone_import(st, ACTOR, (const uint8_t *)csv, strlen(csv), FILE_LABEL, update, dry_run, r,
				    err, sizeof err);

	if (problems)
		snprintf(problems, cap, "%.*s", (int)r->problems.len, r->problems.data ? (char *)r->problems.data : "");
	admin_import_result_free(r);
	return rc;
}

struct counts {
	int rows, imports, done;
	char done_detail[1024];
};

static int count_audit(const struct audit_entry *e, void *arg)
{
	struct counts *c = arg;

	c->rows++;
	if (strcmp(e->action, "phone.import") == 0)
		c->imports++;
	if (strcmp(e->action, "phone.import.done") == 0) {
		if (!c->done++)
			snprintf(c->done_detail, sizeof c->done_detail, "%s", e->detail);
	}
	return 0;
}

static struct counts audits(struct store *st)
{
	struct counts c;

	memset(&c, 0, sizeof c);
	assert_int_equal(store_audit_each(st, 0, count_audit, &c), 0);
	return c;
}

static void test_good_file(void **state)
{
	struct fixture *fx = *state;
	struct admin_import_result r;
	struct counts c, before = audits(fx->st);
	struct phone p;

	assert_int_equal(import(fx->st, good_csv, 0, 0, &r, NULL, 0), ADMIN_IMPORT_OK);
	assert_int_equal(r.added, 3);
	assert_int_equal(r.updated, 0);
	assert_int_equal(r.bad_lines, 0);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000101", &p), 0);
	assert_string_equal(p.description, "Desk, 1");
	assert_int_equal(p.rsa_bits, 1024);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000102", &p), 0);
	assert_int_equal(p.auth, AUTH_STRING);
	assert_string_equal(p.auth_string, "90817263");
	assert_int_equal(p.op, OP_INSTALL);
	assert_string_equal(p.status, STATUS_PENDING);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000103", &p), 0);
	assert_int_equal(p.op, OP_TROUBLESHOOT);
	assert_true(p.deadline > now_utc() + 86000);
	c = audits(fx->st);
	assert_int_equal(c.imports, before.imports + 3);
	assert_int_equal(c.done, before.done + 1);
	assert_non_null(strstr(c.done_detail, "\"added\":3"));
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE detail LIKE '%90817263%'"), 0);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action='phone.import' AND "
					    "object='SEP000000000102' AND detail LIKE '%\"source\":\"phones.csv:3\"%'"),
			 1);
}

static void test_bad_lines(void **state)
{
	struct fixture *fx = *state;
	static const char bad[] = "name,model,auth,auth_string,rsa_bits,operation,deadline\n"
				  "SEP000000000201,7962,null,,,,\n"
				  "SEP00000000020,7962,null,,,,\n"
				  "SEP000000000203,7962,string,,,,\n"
				  "SEP000000000204,7962,null,,2000,,\n"
				  "SEP000000000201,7962,null,,,,\n"
				  "SEP000000000206,7962,null,12x4,,later,soon\n"
				  "SEP000000000207,79\"62,null,,,,\n"
				  "SEP000000000208,7962,null,,,,\n";
	struct admin_import_result r;
	struct counts before = audits(fx->st), c;
	struct phone p;
	char problems[4096];

	assert_int_equal(import(fx->st, bad, 0, 0, &r, problems, sizeof problems), ADMIN_IMPORT_BAD_LINES);
	assert_int_equal(r.bad_lines, 6);
	assert_non_null(strstr(problems, "phones.csv:3: 'SEP00000000020' is not a device name"));
	assert_non_null(strstr(problems, "phones.csv:4: SEP000000000203: auth string needs an auth_string"));
	assert_non_null(strstr(problems, "phones.csv:5: SEP000000000204: rsa_bits '2000'"));
	assert_non_null(strstr(problems, "phones.csv:6: phone SEP000000000201 is also on line 2"));
	assert_non_null(strstr(problems, "phones.csv:7: SEP000000000206: "));
	assert_non_null(strstr(problems, "operation 'later'"));
	assert_non_null(strstr(problems, "deadline 'soon'"));
	assert_non_null(strstr(problems, "phones.csv:8: a quote inside an unquoted field"));
	assert_null(strstr(problems, "phones.csv:2:"));
	assert_null(strstr(problems, "phones.csv:9:"));
	assert_null(strstr(problems, "12x4"));
	assert_int_equal(store_phone_get(fx->st, "SEP000000000201", &p), 1);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000208", &p), 1);
	c = audits(fx->st);
	assert_int_equal(c.rows, before.rows);
	assert_int_equal(import(fx->st, "", 0, 0, &r, problems, sizeof problems), ADMIN_IMPORT_EMPTY);
	assert_non_null(strstr(problems, "phones.csv:1: empty file"));
	assert_int_equal(import(fx->st, "nam,model\n", 0, 0, &r, problems, sizeof problems), ADMIN_IMPORT_BAD_HEADER);
	assert_non_null(strstr(problems, "phones.csv:1: unknown column 'nam'"));
}

static void test_update_and_dry_run(void **state)
{
	struct fixture *fx = *state;
	static const char upd[] = "name,model,description\n"
				  "SEP000000000101,7965,\n"
				  "SEP000000000102,8845,\n"
				  "SEP000000000301,7962,new\n";
	struct admin_import_result r;
	struct counts before, c;
	struct phone p;
	char problems[1024];

	assert_int_equal(import(fx->st, good_csv, 0, 0, &r, NULL, 0), ADMIN_IMPORT_OK);
	assert_int_equal(import(fx->st, upd, 0, 0, &r, problems, sizeof problems), ADMIN_IMPORT_BAD_LINES);
	assert_int_equal(r.bad_lines, 2);
	assert_non_null(strstr(problems, "phones.csv:2: phone SEP000000000101 already exists (use --update"));
	before = audits(fx->st);
	assert_int_equal(import(fx->st, upd, 1, 1, &r, NULL, 0), ADMIN_IMPORT_OK);
	assert_int_equal(r.added, 1);
	assert_int_equal(r.updated, 1);
	assert_int_equal(r.unchanged, 1);
	assert_int_equal(audits(fx->st).rows, before.rows);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000301", &p), 1);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000101", &p), 0);
	assert_string_equal(p.model, "7962");
	assert_int_equal(import(fx->st, upd, 1, 0, &r, NULL, 0), ADMIN_IMPORT_OK);
	assert_int_equal(r.added, 1);
	assert_int_equal(r.updated, 1);
	assert_int_equal(r.unchanged, 1);
	assert_int_equal(store_phone_get(fx->st, "SEP000000000101", &p), 0);
	assert_string_equal(p.model, "7965");
	assert_string_equal(p.description, "Desk, 1"); /* an empty cell keeps the value */
	c = audits(fx->st);
	assert_int_equal(c.imports, before.imports + 2); /* the unchanged phone is not audited */
	assert_int_equal(c.done, before.done + 1);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action='phone.import' AND "
					    "object='SEP000000000102'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_file, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_update_and_dry_run, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
