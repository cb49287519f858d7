/*
 * setting.h: checking one configuration value ([section] key = value in
 * opencapfd.conf, or the --option that sets it). Each check returns 0 and
 * stores the value, or -1 and remembers what was expected, so that the
 * error can say "bad value for capf.lsc_days: '0' (expected a whole number
 * from 1 to 36500)". Per thread; cleared by setting_expected_clear.
 */
#ifndef OPENCAPF_COMMON_SETTING_H
#define OPENCAPF_COMMON_SETTING_H

#include <stddef.h>

/* A decimal integer from lo to hi. */
int setting_int(const char *v, int lo, int hi, int *out);
/* yes/true/1 or no/false/0. */
int setting_bool(const char *v, int *out);
/* Text that fits dst (cap bytes with the NUL). */
int setting_str(char *dst, size_t cap, const char *v);
/* Refuse the value: what was expected, printf-style; returns -1. */
int setting_refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What the last refused value should have been ("" when nobody said). */
const char *setting_expected(void);
void setting_expected_clear(void);

#endif
