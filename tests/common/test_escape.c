/*
 * test_escape.c: text_escape and text_escape_controls (common/util.h):
 * control characters, C1 controls and bytes that are not UTF-8 come out as
 * \xNN, a backslash as \\ (text_escape only), valid UTF-8 stays; results
 * are cut before an escape or a character, never inside one, and the
 * return value says how long the whole result is; escaping in place works;
 * text_valid agrees with what is kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

static void check(const char *src, size_t len, const char *want)
{
	char out[256];
	size_t n = text_escape(out, sizeof out, src, len);

	assert_string_equal(out, want);
	assert_int_equal(n, strlen(want));
}

static void plain_text_unchanged(void **state)
{
	(void)state;
	check("SEP001122334455", 15, "SEP001122334455");
	check("CN=Cisco Manufacturing CA SHA2, O=x", 35, "CN=Cisco Manufacturing CA SHA2, O=x");
	check("", 0, "");
	check("Zürich 東京 \xf0\x9f\x93\x9e", 19, "Zürich 東京 \xf0\x9f\x93\x9e");
}

static void controls_escaped(void **state)
{
	(void)state;
	check("a\nb", 3, "a\\x0ab");
	check("\x1b[31mred", 8, "\\x1b[31mred");
	check("\r\t\x7f", 3, "\\x0d\\x09\\x7f");
	check("a\0b", 3, "a\\x00b");
	check("back\\slash", 10, "back\\\\slash");
	/* an escape sent by the peer is not mistaken for one of ours */
	check("\\x0a", 4, "\\\\x0a");
}

static void bad_utf8_and_c1_escaped(void **state)
{
	(void)state;
	check("\xc2\x9b" "2J", 4, "\\xc2\\x9b2J");          /* C1 CSI */
	check("\xff\xfe", 2, "\\xff\\xfe");                  /* not UTF-8 */
	check("\xc0\xaf", 2, "\\xc0\\xaf");                  /* overlong '/' */
	check("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");         /* surrogate */
	check("ab\xe6\x9d", 4, "ab\\xe6\\x9d");              /* cut sequence */
	check("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80"); /* above U+10FFFF */
}

static void controls_only_keeps_backslash(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(text_escape_controls(out, sizeof out, "C=NZ\\,x\n", 8), 11);
	assert_string_equal(out, "C=NZ\\,x\\x0a");
	assert_int_equal(text_escape_controls(out, sizeof out, "\xc2\x85", 2), 8);
	assert_string_equal(out, "\\xc2\\x85");
}

static void cut_whole_units(void **state)
{
	char out[8];

	(void)state;
	/* "ab" fits, "\x0a" (4) would end at 6 < 8, then "c" at 7: all fit */
	assert_int_equal(text_escape(out, sizeof out, "ab\ncd", 5), 8);
	assert_string_equal(out, "ab\\x0ac");
	/* the escape does not fit whole: cut before it */
	assert_int_equal(text_escape(out, 5, "abc\n", 4), 7);
	assert_string_equal(out, "abc");
	/* a 3-byte character is not split */
	assert_int_equal(text_escape(out, 5, "ab\xe6\x9d\xb1", 5), 5);
	assert_string_equal(out, "ab");
	/* after a unit that did not fit, nothing later is squeezed in */
	assert_int_equal(text_escape(out, 4, "a\nb", 3), 6);
	assert_string_equal(out, "a");
	assert_int_equal(text_escape(out, 1, "abc", 3), 3);
	assert_string_equal(out, "");
	/* cap 0: nothing written, the length still told */
	out[0] = 'z';
	assert_int_equal(text_escape(out, 0, "a\n", 2), 5);
	assert_int_equal(out[0], 'z');
}

static void in_place(void **state)
{
	char buf[64] = "SEP0011\n\x1b[31m";
	char big[600];

	(void)state;
	assert_int_equal(text_escape(buf, sizeof buf, buf, strlen(buf)), 19);
	assert_string_equal(buf, "SEP0011\\x0a\\x1b[31m");
	strcpy(buf, "plain");
	assert_int_equal(text_escape(buf, sizeof buf, buf, strlen(buf)), 5);
	assert_string_equal(buf, "plain");
	/* bigger than the stack copy */
	memset(big, '\n', 300);
	big[300] = '\0';
	assert_int_equal(text_escape(big, sizeof big, big, 300), 1200);
	assert_int_equal(strlen(big), 596);
	assert_memory_equal(big, "\\x0a\\x0a", 8);
}

static void text_valid_agrees(void **state)
{
	static const char *const samples[] = { "SEP001122334455", "Zürich", "a\nb", "\xc2\x9b", "\xff", "a\\b", "" };
	char out[64];

	(void)state;
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		size_t len = strlen(samples[i]);
		int same = text_escape_controls(out, sizeof out, samples[i], len) == len;

		assert_int_equal(text_valid(samples[i]), same);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_text_unchanged),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(bad_utf8_and_c1_escaped),
		cmocka_unit_test(controls_only_keeps_backslash),
		cmocka_unit_test(cut_whole_units),
		cmocka_unit_test(in_place),
		cmocka_unit_test(text_valid_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
