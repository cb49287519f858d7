/*
 * test_log.c: log lines come out whole, with the program name, level and
 * message, one line each, short or longer than the line buffer; levels
 * below the minimum are dropped; control characters inside a message are
 * written as \xNN, so a message cannot forge a second line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/log.h"

/* Run fn with stderr sent to a temporary file; returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	char *text = calloc(1, 1 << 16);
	size_t n;

	assert_true(fd >= 0 && saved >= 0 && text != NULL);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	fn();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, (1 << 16) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

static void log_two_short(void)
{
	log_init("logtest", 0);
	log_set_level(LOG_LVL_INFO);
	log_info("capf session %d: device=%s", 42, "SEP001122334455");
	log_debug("not shown");
	log_warn("second line");
}

static void short_lines_whole(void **state)
{
	char *out = capture_stderr(log_two_short);

	(void)state;
	assert_string_equal(out, "logtest: info: capf session 42: device=SEP001122334455\n"
				 "logtest: warning: second line\n");
	free(out);
}

static char long_text[5000];

static void log_long(void)
{
	log_init("logtest", 0);
	log_err("%s", long_text);
	log_info("after");
}

static void long_line_whole(void **state)
{
	char *out, *expect = malloc(sizeof long_text + 64);

	(void)state;
	memset(long_text, 'x', sizeof long_text - 1);
	long_text[sizeof long_text - 1] = '\0';
	out = capture_stderr(log_long);
	snprintf(expect, sizeof long_text + 64, "logtest: error: %s\nlogtest: info: after\n", long_text);
	assert_string_equal(out, expect);
	free(expect);
	free(out);
}

static void log_stamped(void)
{
	log_init("logtest", 1);
	log_info("stamped");
}

static void timestamp_prefix(void **state)
{
	char *out = capture_stderr(log_stamped);

	(void)state;
	/* 2026-11-24T22:41:06Z logtest: info: stamped */
	assert_int_equal(strlen(out), 21 + strlen("logtest: info: stamped\n"));
	assert_true(out[4] == '-' && out[10] == 'T' && out[19] == 'Z' && out[20] == ' ');
	assert_string_equal(out + 21, "logtest: info: stamped\n");
	free(out);
}

static void log_forged(void)
{
	log_init("logtest", 0);
	log_warn("tvs: device=%s closed", "SEP1\nlogtest: info: forged\x1b[31m");
}

static void controls_escaped(void **state)
{
	char *out = capture_stderr(log_forged);

	(void)state;
	assert_string_equal(out, "logtest: warning: tvs: device=SEP1\\x0alogtest: info: forged\\x1b[31m closed\n");
	free(out);
}

static char long_forged[6000];

static void log_long_forged(void)
{
	log_init("logtest", 0);
	log_info("%s", long_forged);
}

static void long_line_escaped(void **state)
{
	char *out;

	(void)state;
	memset(long_forged, '\n', sizeof long_forged - 1);
	long_forged[sizeof long_forged - 1] = '\0';
	out = capture_stderr(log_long_forged);
	assert_int_equal(strlen(out), strlen("logtest: info: ") + 4 * (sizeof long_forged - 1) + 1);
	assert_memory_equal(out + strlen("logtest: info: "), "\\x0a\\x0a", 8);
	assert_non_null(strchr(out, '\n'));
	assert_int_equal(strchr(out, '\n') - out, (long)strlen(out) - 1);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(short_lines_whole),
		cmocka_unit_test(long_line_whole),
		cmocka_unit_test(timestamp_prefix),
		cmocka_unit_test(controls_escaped),
		cmocka_unit_test(long_line_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
