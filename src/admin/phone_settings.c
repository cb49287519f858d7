/*
 * phone_settings.c: checking a phone's settings given as text
 * (phone_settings.h).
 *
 * Each value is checked against what the store keeps: enums by the store's
 * parsers, key sizes from fixed lists, the auth string as 4 to 10 digits,
 * model and description as UTF-8 text without control characters within
 * the schema's lengths, the deadline as a UTC time. So nothing the store
 * would refuse gets as far as a transaction, and a row with several bad
 * values is refused with all of them named at once.
 */
#include "admin/phone_settings.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const char *const setting_names[PSET_COUNT] = {
	"name", "model", "description", "auth", "auth_string", "key_order", "rsa_bits", "ec_bits",
	"operation", "deadline",
};

const char *phone_setting_name(enum phone_setting s)
{
	return s >= 0 && s < PSET_COUNT ? setting_names[s] : "";
}

/* ---- single values ---- */

int phone_valid_auth_string(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 10)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int parse_int_in(const char *s, const int *allowed, int *out)
{
	char *end;
	long v;

	if (!*s || !isdigit((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -1;
	for (; *allowed; allowed++)
		if (*allowed == v) {
			*out = (int)v;
			return 0;
		}
	return -1;
}

int phone_parse_rsa_bits(const char *s, int *out)
{
	static const int sizes[] = { 512, 1024, 2048, 3072, 4096, 0 };
	return parse_int_in(s, sizes, out);
}

int phone_parse_ec_bits(const char *s, int *out)
{
	static const int sizes[] = { 256, 384, 521, 0 };
	return parse_int_in(s, sizes, out);
}

/* ---- one phone's settings ---- */

/* Copy a value without surrounding spaces. */
static void trimmed(const char *s, char *out, size_t cap)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	snprintf(out, cap, "%s", s);
	n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = '\0';
}

void phone_settings_add_problem(char *err, size_t errlen, const char *msg, const char *val)
{
	const char *at = strstr(msg, "%s");
	size_t n = strlen(err);
	char shown[40];

	if (n + 3 >= errlen)
		return;
	snprintf(shown, sizeof shown, "%s", val ? val : "");
	if (!text_valid(shown))
		snprintf(shown, sizeof shown, "?");
	if (!at)
		snprintf(err + n, errlen - n, "%s%s", n ? "; " : "", msg);
	else
		snprintf(err + n, errlen - n, "%s%.*s%s%s", n ? "; " : "", (int)(at - msg), msg, shown, at + 2);
}

/* Model and description: text, checked untrimmed. */
static const char *apply_text(enum phone_setting s, const char *raw, struct phone *p)
{
	int model = s == PSET_MODEL;
	char *dst = model ? p->model : p->description;
	size_t cap = model ? sizeof p->model : sizeof p->description;

	if (!text_valid(raw))
		return "control characters or invalid UTF-8";
	if (strlen(raw) >= cap)
		return model ? "too long (at most 31 bytes)" : "too long (at most 127 bytes)";
	snprintf(dst, cap, "%s", raw);
	return NULL;
}

/* One trimmed, non-empty value: NULL when applied, else the rule it broke. */
static const char *apply_one(enum phone_setting s, const char *v, struct phone *p)
{
	switch (s) {
	case PSET_AUTH:
		return auth_mode_parse(v, &p->auth) < 0 ? "expected null, string, lsc-first or mic-first" : NULL;
	case PSET_AUTH_STRING:
		if (!phone_valid_auth_string(v))
			return "expected 4 to 10 digits";
		snprintf(p->auth_string, sizeof p->auth_string, "%s", v);
		return NULL;
	case PSET_KEY_ORDER:
		return key_order_parse(v, &p->key_order) < 0 ? "expected rsa, ec or ec-rsa" : NULL;
	case PSET_RSA_BITS:
		return phone_parse_rsa_bits(v, &p->rsa_bits) < 0 ? "expected 512, 1024, 2048, 3072 or 4096" : NULL;
	case PSET_EC_BITS:
		return phone_parse_ec_bits(v, &p->ec_bits) < 0 ? "expected 256, 384 or 521" : NULL;
	case PSET_OPERATION:
		return capf_op_parse(v, &p->op) < 0 ? "expected none, install, delete or troubleshoot" : NULL;
	case PSET_DEADLINE:
		return parse_time_utc(v, &p->deadline) < 0 ? "expected \"YYYY-MM-DD HH:MM\" (UTC)" : NULL;
	default:
		return NULL;
	}
}

const char *phone_setting_set(enum phone_setting s, const char *v, struct phone *p)
{
	return s == PSET_MODEL || s == PSET_DESCRIPTION ? apply_text(s, v, p) : apply_one(s, v, p);
}

/* "auth 'x': expected ...", the value left out for secrets and free text. */
static void add_setting_problem(char *err, size_t errlen, enum phone_setting s, const char *v, const char *rule)
{
	char msg[200];
	int quiet = s == PSET_AUTH_STRING || s == PSET_MODEL || s == PSET_DESCRIPTION;

	snprintf(msg, sizeof msg, "%s%s: %s", phone_setting_name(s), quiet ? "" : " '%s'", rule);
	phone_settings_add_problem(err, errlen, msg, v);
}

const char *phone_settings_check_auth(const struct phone *p, unsigned given)
{
	if ((given & (1u << PSET_AUTH_STRING)) && p->auth != AUTH_STRING)
		return "an authentication string is used only with auth \"string\"";
	return NULL;
}

int phone_settings_apply(const char *const value[PSET_COUNT], struct phone *p, unsigned *given,
			 char *err, size_t errlen)
{
	char v[256];

	*given = 0;
	for (int s = PSET_MODEL; s < PSET_COUNT; s++) {
		const char *raw = value[s] ? value[s] : "";
		const char *problem;
		int text = s == PSET_MODEL || s == PSET_DESCRIPTION;

		if (text)
			snprintf(v, sizeof v, "%s", raw);
		else
			trimmed(raw, v, sizeof v);
		if (v[0] == '\0')
			continue;
		problem = phone_setting_set((enum phone_setting)s, text ? raw : v, p);
		if (problem)
			add_setting_problem(err, errlen, (enum phone_setting)s, v, problem);
		else
			*given |= 1u << s;
	}
	if (phone_settings_check_auth(p, *given))
		phone_settings_add_problem(err, errlen, phone_settings_check_auth(p, *given), NULL);
	return err[0] ? -1 : 0;
}
