/*
 * test_phone_settings.c: one validator for a phone's settings
 * (admin/phone_settings.c). Good values are applied and marked given, every
 * bad one is named in one sentence list (the auth string never echoed), and
 * the same values given as a CSV row (`opencapf phone import`) and as an API
 * body (api_input_phone) are accepted or refused with the same words.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admin/phone_csv.h"
#include "admin/phone_settings.h"
#include "api/api_input.h"

#define NAME "SEP001122334455"

static void test_good_values_applied(void **state)
{
	const char *v[PSET_COUNT] = { NULL };
	struct phone p;
	char err[256] = "";
	unsigned given;

	(void)state;
	phone_defaults(&p, NAME);
	v[PSET_MODEL] = " CP-8845";
	v[PSET_AUTH] = " string ";
	v[PSET_AUTH_STRING] = "123456";
	v[PSET_RSA_BITS] = "4096";
	v[PSET_EC_BITS] = "";
	assert_int_equal(phone_settings_apply(v, &p, &given, err, sizeof err), 0);
	assert_string_equal(err, "");
	assert_string_equal(p.model, " CP-8845"); /* text is taken untrimmed */
	assert_int_equal(p.auth, AUTH_STRING);
	assert_string_equal(p.auth_string, "123456");
	assert_int_equal(p.rsa_bits, 4096);
	assert_int_equal(given, (1u << PSET_MODEL) | (1u << PSET_AUTH) | (1u << PSET_AUTH_STRING) |
					(1u << PSET_RSA_BITS));
}

static void test_every_problem_named(void **state)
{
	const char *v[PSET_COUNT] = { NULL };
	struct phone p;
	char err[512] = "";
	unsigned given;

	(void)state;
	phone_defaults(&p, NAME);
	v[PSET_AUTH_STRING] = "12x45";
	v[PSET_RSA_BITS] = "1000";
	v[PSET_OPERATION] = "reboot";
	assert_int_equal(phone_settings_apply(v, &p, &given, err, sizeof err), -1);
	assert_string_equal(err, "auth_string: expected 4 to 10 digits; "
				 "rsa_bits '1000': expected 512, 1024, 2048, 3072 or 4096; "
				 "operation 'reboot': expected none, install, delete or troubleshoot");
	assert_null(strstr(err, "12x45"));
	assert_int_equal(given, 0);
}

/* The error sentence of one row "name,<column>\n NAME,<cell>" imported. */
static int csv_error(const char *column, const char *cell, char *err, size_t errlen)
{
	char text[256];
	struct csv_reader r;
	static struct csv_record rec;
	struct phone_csv_map m;
	struct phone p;
	unsigned given;

	snprintf(text, sizeof text, "name,%s\n%s,%s\n", column, NAME, cell);
	csv_reader_init(&r, text, strlen(text));
	assert_int_equal(csv_read(&r, &rec, err, errlen), 1);
	assert_int_equal(phone_csv_map_header(&rec, &m, err, errlen), 0);
	assert_int_equal(csv_read(&r, &rec, err, errlen), 1);
	phone_defaults(&p, NAME);
	return phone_csv_apply(&m, &rec, &p, &given, err, errlen);
}

static int api_error(const char *json, char *err, size_t errlen)
{
	json_t *o = json_loads(json, 0, NULL);
	struct phone p;
	int rc;

	assert_non_null(o);
	phone_defaults(&p, NAME);
	rc = api_input_phone(o, 0, &p, err, errlen);
	json_decref(o);
	return rc;
}

static void test_csv_and_api_agree(void **state)
{
	static const struct {
		const char *column, *cell, *json;
	} cases[] = {
		{ "auth", "lsc-first", "{\"auth\":\"lsc-first\"}" },
		{ "auth", "sometimes", "{\"auth\":\"sometimes\"}" },
		{ "key_order", "dsa", "{\"key_order\":\"dsa\"}" },
		{ "rsa_bits", "1000", "{\"rsa_bits\":1000}" },
		{ "ec_bits", "384", "{\"ec_bits\":384}" },
		{ "ec_bits", "385", "{\"ec_bits\":385}" },
		{ "auth_string", "12", "{\"auth_string\":\"12\"}" },
	};
	char e1[256], e2[256];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int r1, r2;
		e1[0] = e2[0] = '\0';
		r1 = csv_error(cases[i].column, cases[i].cell, e1, sizeof e1);
		r2 = api_error(cases[i].json, e2, sizeof e2);
		assert_int_equal(r1, r2);
		if (r1 < 0)
			assert_string_equal(e1, e2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_values_applied),
		cmocka_unit_test(test_every_problem_named),
		cmocka_unit_test(test_csv_and_api_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
