/*
 * auth_strings.h: random authentication strings for many phones at once
 * (`opencapf phone auth-strings generate`): uniform random digits from the
 * OpenSSL generator, mode set to "string", one transaction, one audit row
 * per phone ("phone.auth-string", detail {"auth_string":"generated"} —
 * never the string itself).
 */
#ifndef OPENCAPF_ADMIN_AUTH_STRINGS_H
#define OPENCAPF_ADMIN_AUTH_STRINGS_H

#include <stddef.h>

#include "store/store.h"

#define ADMIN_AUTH_STRING_DEFAULT_LENGTH 8

enum admin_auth_strings_rc {
	ADMIN_AUTH_OK = 0,
	ADMIN_AUTH_FAILED = -1,      /* nothing changed; err says why */
	ADMIN_AUTH_NOT_COMMITTED = -2, /* everything was handed out, then the commit failed: nothing changed */
};

/* n random digits (uniform: bytes >= 250 are redrawn) and a NUL; 0 / -1. */
int admin_random_digits(char *out, int n);

/* Each phone of names[0..n) gets a new string of `length` digits (4..10).
 * emit sees each (name, string) before the commit; then ready (may be
 * NULL) runs, and a non-zero return rolls everything back — so a caller
 * can hand the strings to their readers first and commit only if that
 * worked. The strings are wiped from memory here after emit. */
int admin_auth_strings_generate(struct store *st, const char *actor, const char (*names)[64], size_t n, int length,
				int (*emit)(const char *name, const char *auth_string, void *arg),
				int (*ready)(void *arg), void *arg, char *err, size_t errlen);

#endif
