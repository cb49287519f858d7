/*
 * setting.c: checks of configuration values that remember, for the error,
 * what the refused value should have been (setting.h).
 */
#include "common/setting.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char expected[160];

int setting_refuse(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expected, sizeof expected, fmt, ap);
	va_end(ap);
	return -1;
}

const char *setting_expected(void) { return expected; }

void setting_expected_clear(void) { expected[0] = '\0'; }

int setting_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || n < lo || n > hi)
		return setting_refuse("a whole number from %d to %d", lo, hi);
	*out = (int)n;
	return 0;
}

int setting_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return setting_refuse("yes or no");
	return 0;
}

int setting_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		return setting_refuse("at most %zu characters", cap - 1);
	memcpy(dst, v, n + 1);
	return 0;
}
