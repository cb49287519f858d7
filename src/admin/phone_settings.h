/*
 * phone_settings.h: the rules for one phone's CAPF settings as text, the
 * one validator behind `opencapf phone add|set|import` and the API's phone
 * bodies, so that every way in accepts and refuses the same values with the
 * same words.
 *
 * A setting arrives as text (a CSV cell, a command-line value, a JSON
 * member turned into text); phone_settings_apply checks each one and
 * applies the good ones to a struct phone. Nothing here prints: problems
 * come back as sentences in err.
 */
#ifndef OPENCAPF_ADMIN_PHONE_SETTINGS_H
#define OPENCAPF_ADMIN_PHONE_SETTINGS_H

#include <stddef.h>

#include "store/store.h"

/* The settings of a phone, in the order of an exported CSV file's columns. */
enum phone_setting {
	PSET_NAME, PSET_MODEL, PSET_DESCRIPTION, PSET_AUTH, PSET_AUTH_STRING, PSET_KEY_ORDER,
	PSET_RSA_BITS, PSET_EC_BITS, PSET_OPERATION, PSET_DEADLINE, PSET_COUNT
};

/* "name", "model", ..., "deadline": a CSV column's and a JSON member's name. */
const char *phone_setting_name(enum phone_setting s);

/* Check value[s] for every setting but the name and apply it to p. A NULL
 * value, or one that is empty once trimmed, leaves the setting unchanged;
 * model and description are taken untrimmed. *given gets the bit (1u << s)
 * of each applied setting. Every problem is appended to err ('; '-separated;
 * err must hold a string, "" to start; an auth string is never echoed).
 * Returns -1 when err is not empty at the end, else 0. */
int phone_settings_apply(const char *const value[PSET_COUNT], struct phone *p, unsigned *given,
			 char *err, size_t errlen);

/* Check one value of setting s (not the name; trimmed, non-empty; model
 * and description as given) and apply it to p: NULL when applied, else the
 * rule it broke, e.g. "expected 256, 384 or 521" (the caller names the
 * setting its own way: "ec_bits '1': ..." or "--ec-bits 1: ..."). */
const char *phone_setting_set(enum phone_setting s, const char *v, struct phone *p);

/* A setting that makes no sense with the others once applied (given: the
 * bits of the settings given): an auth string for a phone whose mode is not
 * "string" would be stored and never used. The sentence, or NULL. */
const char *phone_settings_check_auth(const struct phone *p, unsigned given);

/* Append one problem to err ('; '-separated): msg, with its "%s" (if any)
 * replaced by val; a val that is not clean text is shown as '?'. */
void phone_settings_add_problem(char *err, size_t errlen, const char *msg, const char *val);

/* Single values (also used by `phone add|set` options). */
int phone_valid_auth_string(const char *s);      /* 1 for 4..10 digits, else 0 */
int phone_parse_rsa_bits(const char *s, int *out);
int phone_parse_ec_bits(const char *s, int *out);

#endif
