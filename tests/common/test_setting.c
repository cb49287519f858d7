/*
 * test_setting.c: configuration value checks store good values and, for a
 * refused one, say what was expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/setting.h"

static void test_int(void **state)
{
	int v = 7;

	(void)state;
	setting_expected_clear();
	assert_int_equal(setting_int("42", 1, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_string_equal(setting_expected(), "");
	for (const char *const *bad = (const char *const[]){ "0", "101", "", "4x", "-1", "99999999999", NULL }; *bad; bad++) {
		setting_expected_clear();
		assert_int_equal(setting_int(*bad, 1, 100, &v), -1);
		assert_string_equal(setting_expected(), "a whole number from 1 to 100");
		assert_int_equal(v, 42);
	}
}

static void test_bool(void **state)
{
	int v = -1;

	(void)state;
	assert_int_equal(setting_bool("yes", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(setting_bool("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(setting_bool("maybe", &v), -1);
	assert_string_equal(setting_expected(), "yes or no");
	assert_int_equal(v, 0);
}

static void test_str(void **state)
{
	char dst[6] = "old";

	(void)state;
	assert_int_equal(setting_str(dst, sizeof dst, "hello"), 0);
	assert_string_equal(dst, "hello");
	assert_int_equal(setting_str(dst, sizeof dst, "hello!"), -1);
	assert_string_equal(setting_expected(), "at most 5 characters");
	assert_string_equal(dst, "hello");
}

static void test_refuse(void **state)
{
	(void)state;
	assert_int_equal(setting_refuse("%s or %s", "legacy", "modern"), -1);
	assert_string_equal(setting_expected(), "legacy or modern");
	setting_expected_clear();
	assert_string_equal(setting_expected(), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_str),
		cmocka_unit_test(test_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
