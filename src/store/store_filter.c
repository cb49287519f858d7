/*
 * store_filter.c: phone filters (store_search.h) as values: the LSC state
 * names, the one rule that turns a selector and its text into a condition
 * (shared by the CLI's options and the API's "filter" members), and the
 * short description used in messages and audit details. No SQL here: the
 * query a filter makes is store_select.c's.
 *
 * Invariants:
 *  - phone_filter_set keeps text values by reference (the caller's storage)
 *    and checks them before taking them: printable, bounded in length.
 *  - A filter with no condition describes itself as "all".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

/* ---- names ---- */

static const char *const lsc_state_names[] = { "any", "none", "installed", "expired", "expiring" };

const char *lsc_state_name(enum lsc_state s)
{
	if ((unsigned)s < sizeof lsc_state_names / sizeof lsc_state_names[0])
		return lsc_state_names[s];
	return "?";
}

int lsc_state_parse(const char *s, enum lsc_state *out)
{
	for (size_t i = 0; s && i < sizeof lsc_state_names / sizeof lsc_state_names[0]; i++)
		if (strcmp(s, lsc_state_names[i]) == 0) {
			*out = (enum lsc_state)i;
			return 0;
		}
	return -1;
}

void phone_filter_init(struct phone_filter *f)
{
	memset(f, 0, sizeof *f);
	f->lsc = LSC_ANY;
}

int phone_filter_is_empty(const struct phone_filter *f)
{
	return !(f->names && f->n_names) && !(f->name_glob && f->name_glob[0]) && !(f->model && f->model[0]) &&
	       f->lsc == LSC_ANY && !(f->lsc_issuer && f->lsc_issuer[0]) && !f->has_auth && !f->has_op &&
	       !(f->status && f->status[0]);
}

int store_filter_expiring_days(const struct phone_filter *f)
{
	return f->expiring_days > 0 ? f->expiring_days : PHONE_FILTER_DEFAULT_EXPIRING_DAYS;
}

/* ---- one selector ---- */

static int filter_text(const char *value, size_t max, char *err, size_t errlen)
{
	if (!text_valid(value) || strlen(value) > max) {
		seterr(err, errlen, "expected printable text of at most %zu bytes", max);
		return -1;
	}
	return 0;
}

/* name, model, status, lsc-issuer: text kept by reference. */
static int set_text(struct phone_filter *f, const char *key, const char *value, char *err, size_t errlen)
{
	size_t max = key[0] == 'n' ? 63 : key[0] == 'm' ? 31 : key[0] == 's' ? 127 : 200;

	if (filter_text(value, max, err, errlen) < 0)
		return -1;
	if (key[0] == 'n')
		f->name_glob = value;
	else if (key[0] == 'm')
		f->model = value;
	else if (key[0] == 's')
		f->status = value;
	else
		f->lsc_issuer = *value ? value : NULL;
	return 1;
}

static int set_expiring_days(struct phone_filter *f, const char *value, char *err, size_t errlen)
{
	char *end;
	long v = strtol(value, &end, 10);

	if (!*value || *end || v < 1 || v > 36500) {
		seterr(err, errlen, "expected a number of days from 1 to 36500");
		return -1;
	}
	f->expiring_days = (int)v;
	if (f->lsc == LSC_ANY)
		f->lsc = LSC_EXPIRING;
	return 1;
}

/* lsc-status, auth, operation: a name of an enum; shown is the value as it
 * may appear in the error. */
static int set_enum(struct phone_filter *f, const char *key, const char *value, const char *shown, char *err,
		    size_t errlen)
{
	if (!strcmp(key, "lsc-status")) {
		if (lsc_state_parse(value, &f->lsc) == 0)
			return 1;
		seterr(err, errlen, "expected none, installed, expired or expiring, not '%s'", shown);
	} else if (!strcmp(key, "auth")) {
		if (auth_mode_parse(value, &f->auth) == 0)
			return f->has_auth = 1;
		seterr(err, errlen, "expected null, string, lsc-first or mic-first, not '%s'", shown);
	} else {
		if (capf_op_parse(value, &f->op) == 0)
			return f->has_op = 1;
		seterr(err, errlen, "expected none, install, delete or troubleshoot, not '%s'", shown);
	}
	return -1;
}

int phone_filter_set(struct phone_filter *f, const char *name, const char *value, char *err, size_t errlen)
{
	char key[24];
	const char *shown = value && text_valid(value) && strlen(value) <= 40 ? value : "?";
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof key; i++)
		key[i] = name[i] == '_' ? '-' : name[i];
	key[i] = '\0';
	if (!value)
		value = "";
	if (!strcmp(key, "name") || !strcmp(key, "model") || !strcmp(key, "status") || !strcmp(key, "lsc-issuer"))
		return set_text(f, key, value, err, errlen);
	if (!strcmp(key, "expiring-days"))
		return set_expiring_days(f, value, err, errlen);
	if (!strcmp(key, "lsc-status") || !strcmp(key, "auth") || !strcmp(key, "operation"))
		return set_enum(f, key, value, shown, err, errlen);
	return 0;
}

/* ---- description ---- */

/* Append "key=value" to out, space-separated, never overflowing. */
static void describe_add(char *out, size_t outcap, const char *key, const char *value)
{
	size_t n = strlen(out);

	if (n + 1 >= outcap)
		return;
	snprintf(out + n, outcap - n, "%s%s=%s", n ? " " : "", key, value);
}

static void describe_names(const struct phone_filter *f, char *out, size_t outcap)
{
	char tmp[160];

	if (!f->names || !f->n_names)
		return;
	if (f->n_names == 1)
		snprintf(tmp, sizeof tmp, "%s", f->names[0]);
	else
		snprintf(tmp, sizeof tmp, "%s,...(%zu)", f->names[0], f->n_names);
	describe_add(out, outcap, "names", tmp);
}

static void describe_lsc(const struct phone_filter *f, char *out, size_t outcap)
{
	char tmp[40];

	if (f->lsc == LSC_EXPIRING) {
		snprintf(tmp, sizeof tmp, "expiring<%dd", store_filter_expiring_days(f));
		describe_add(out, outcap, "lsc", tmp);
	} else if (f->lsc != LSC_ANY)
		describe_add(out, outcap, "lsc", lsc_state_name(f->lsc));
}

void phone_filter_describe(const struct phone_filter *f, char *out, size_t outcap)
{
	if (!outcap)
		return;
	out[0] = '\0';
	describe_names(f, out, outcap);
	if (f->name_glob && f->name_glob[0])
		describe_add(out, outcap, "name", f->name_glob);
	if (f->model && f->model[0])
		describe_add(out, outcap, "model", f->model);
	describe_lsc(f, out, outcap);
	if (f->lsc_issuer && f->lsc_issuer[0])
		describe_add(out, outcap, "lsc-issuer", f->lsc_issuer);
	if (f->has_auth)
		describe_add(out, outcap, "auth", auth_mode_name(f->auth));
	if (f->has_op)
		describe_add(out, outcap, "operation", capf_op_name(f->op));
	if (f->status && f->status[0])
		describe_add(out, outcap, "status", f->status);
	if (!out[0])
		snprintf(out, outcap, "all");
}
