/*
 * api_input.c: checking JSON request bodies (api_input.h).
 *
 * The small readers at the top (member_string, member_int, member_bool)
 * are the only places that look at JSON types; each field below says what
 * it accepts and reuses the administration core's value checks:
 *  - phone settings: phone_settings_apply (admin/phone_settings.c), the
 *    validator `phone add|set|import` use, so the CLI and the API accept and
 *    refuse exactly the same values with the same words;
 *  - filters: the store's filter rules (phone_filter_set), the ones the
 *    selectors of `phone list|op` use, with the store's parsers for enums;
 *  - CAPF keys: the rule of `capf regenerate|csr --key`.
 */
#include "api/api_input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/phone_settings.h"
#include "admin/capf_lifecycle.h"
#include "common/util.h"
#include "wire/roles.h"

/* ---- readers ---- */

/* Refuse members not in `known` (NULL-terminated). */
static int known_members(const json_t *o, const char *const *known, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		int ok = 0;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(key, *k) == 0;
		if (!ok) {
			seterr(err, errlen, "unknown member '%.40s'", text_valid(key) ? key : "?");
			return -1;
		}
	}
	return 0;
}

/* 1 and *out when present, 0 when absent or null, -1 when not a string,
 * longer than max bytes, or not clean text. */
static int member_string(const json_t *o, const char *name, size_t max, const char **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		seterr(err, errlen, "'%s' must be a string", name);
		return -1;
	}
	if (json_string_length(v) > max || !text_valid(json_string_value(v))) {
		seterr(err, errlen, "'%s' must be printable text of at most %zu bytes", name, max);
		return -1;
	}
	*out = json_string_value(v);
	return 1;
}

/* Integers; strings of digits too when digits_ok (query strings). */
static int member_int(const json_t *o, const char *name, int64_t lo, int64_t hi, int digits_ok, int64_t *out,
		      char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	char *end;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (digits_ok && json_is_string(v) && *json_string_value(v)) {
		*out = strtoll(json_string_value(v), &end, 10);
		if (*end)
			*out = lo - 1;
	} else {
		seterr(err, errlen, "'%s' must be a whole number", name);
		return -1;
	}
	if (*out < lo || *out > hi) {
		seterr(err, errlen, "'%s' must be from %lld to %lld", name, (long long)lo, (long long)hi);
		return -1;
	}
	return 1;
}

static int member_bool(const json_t *o, const char *name, int *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		seterr(err, errlen, "'%s' must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

static int need_object(const json_t *o, const char *what, char *err, size_t errlen)
{
	if (json_is_object(o))
		return 0;
	seterr(err, errlen, "%s must be a JSON object", what);
	return -1;
}

/* ---- phone settings ---- */

/* JSON member -> setting, and whether the member is a number. */
static const struct {
	const char *member;
	enum phone_setting setting;
	int number;
} phone_members[] = {
	{ "model", PSET_MODEL, 0 },         { "description", PSET_DESCRIPTION, 0 },
	{ "auth", PSET_AUTH, 0 },           { "auth_string", PSET_AUTH_STRING, 0 },
	{ "key_order", PSET_KEY_ORDER, 0 }, { "rsa_bits", PSET_RSA_BITS, 1 },
	{ "ec_bits", PSET_EC_BITS, 1 },
};
#define N_PHONE_MEMBERS (sizeof phone_members / sizeof phone_members[0])

static const char *const phone_known[] = {
	"name", "model", "description", "auth", "auth_string", "key_order", "rsa_bits", "ec_bits", NULL,
};

/* One member's text as the value of its setting (left NULL when absent);
 * a number is written into num. */
static int phone_value(const json_t *o, size_t i, const char *value[PSET_COUNT], char num[24], char *err,
		       size_t errlen)
{
	const char *name = phone_members[i].member, *s = NULL;
	int64_t n;
	int rc;

	if (phone_members[i].number) {
		rc = member_int(o, name, 0, 1000000, 0, &n, err, errlen);
		if (rc > 0)
			snprintf(num, 24, "%lld", (long long)n);
		s = rc > 0 ? num : NULL;
	} else
		rc = member_string(o, name, 200, &s, err, errlen);
	if (rc < 0)
		return -1;
	value[phone_members[i].setting] = s;
	return 0;
}

/* An empty model or description clears it (a CSV cell left empty would
 * mean "unchanged", which a JSON "" does not). */
static void clear_empty_text(const json_t *o, struct phone *p)
{
	json_t *m = json_object_get(o, "model"), *d = json_object_get(o, "description");

	if (json_is_string(m) && json_string_length(m) == 0)
		p->model[0] = '\0';
	if (json_is_string(d) && json_string_length(d) == 0)
		p->description[0] = '\0';
}

static int phone_name(const json_t *o, int creating, struct phone *p, char *err, size_t errlen)
{
	const char *name;
	char canonical[16];
	int rc = member_string(o, "name", 63, &name, err, errlen);

	if (rc < 0)
		return -1;
	if (rc > 0 && devname_normalize(name, canonical, sizeof canonical) == 0)
		name = canonical;   /* a MAC address or "sep..." as SEP + 12 upper-case hex digits */
	if (creating && rc == 0) {
		seterr(err, errlen, "'name' is required (a device name, e.g. SEP001122334455)");
		return -1;
	}
	if (rc > 0 && !devname_valid(name)) {
		seterr(err, errlen, "'%s' is not a device name: expected " DEVNAME_RULE, text_valid(name) ? name : "?");
		return -1;
	}
	if (rc > 0 && !creating && strcmp(name, p->name) != 0) {
		seterr(err, errlen, "a phone cannot be renamed ('name' must be %s or left out)", p->name);
		return -1;
	}
	if (creating)
		snprintf(p->name, sizeof p->name, "%s", name);
	return 0;
}

/* The settings members (and, when ops, "operation" and "deadline") applied onto p. */
static int read_phone(const json_t *o, int creating, const char *const *known, struct phone *p, unsigned *given,
		      char *err, size_t errlen)
{
	const char *value[PSET_COUNT] = { NULL };
	char num[N_PHONE_MEMBERS][24];

	if (need_object(o, "the phone", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    phone_name(o, creating, p, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < N_PHONE_MEMBERS; i++)
		if (phone_value(o, i, value, num[i], err, errlen) < 0)
			return -1;
	if (known != phone_known && (member_string(o, "operation", 20, &value[PSET_OPERATION], err, errlen) < 0 ||
				     member_string(o, "deadline", 40, &value[PSET_DEADLINE], err, errlen) < 0))
		return -1;
	err[0] = '\0';
	if (phone_settings_apply(value, p, given, err, errlen) < 0)
		return -1;
	clear_empty_text(o, p);
	if (p->auth == AUTH_STRING && !p->auth_string[0]) {
		seterr(err, errlen, "auth \"string\" needs an auth_string (4 to 10 digits)");
		return -1;
	}
	return 0;
}

int api_input_phone(const json_t *o, int creating, struct phone *p, char *err, size_t errlen)
{
	unsigned given;

	return read_phone(o, creating, phone_known, p, &given, err, errlen);
}

int api_input_phone_create(const json_t *o, struct phone *p, int *op_given, int *by_given, char *err,
			   size_t errlen)
{
	static const char *const known[] = {
		"name", "model", "description", "auth", "auth_string", "key_order", "rsa_bits", "ec_bits",
		"operation", "deadline", NULL,
	};
	unsigned given = 0;

	if (read_phone(o, 1, known, p, &given, err, errlen) < 0)
		return -1;
	*op_given = !!(given & (1u << PSET_OPERATION));
	*by_given = !!(given & (1u << PSET_DEADLINE));
	if (*by_given && !*op_given) {
		seterr(err, errlen, "'deadline' needs an 'operation'");
		return -1;
	}
	return 0;
}

/* ---- scheduling ---- */

static int read_operation(const json_t *o, enum capf_op *op, int64_t *deadline, char *err, size_t errlen)
{
	const char *s, *by;
	int rc = member_string(o, "operation", 20, &s, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0 || capf_op_parse(s, op) < 0) {
		seterr(err, errlen, "'operation' must be install, delete, troubleshoot or none");
		return -1;
	}
	*deadline = 0;
	if ((rc = member_string(o, "by", 40, &by, err, errlen)) < 0)
		return -1;
	if (rc > 0 && parse_time_utc(by, deadline) < 0) {
		seterr(err, errlen, "'by' %s: expected \"YYYY-MM-DD HH:MM\" (UTC) or YYYY-MM-DDTHH:MM:SSZ", by);
		return -1;
	}
	if (rc > 0 && *op == OP_NONE)
		*deadline = 0;
	return 0;
}

int api_input_operation(const json_t *o, enum capf_op *op, int64_t *deadline, char *err, size_t errlen)
{
	static const char *const known[] = { "operation", "by", NULL };

	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0)
		return -1;
	return read_operation(o, op, deadline, err, errlen);
}

/* ---- filters ---- */

/* name as SEP + 12 upper-case hex digits when it is a MAC address or
 * "sep..." (the copy is kept in out->canonical); NULL when out of memory. */
static const char *canonical_name(struct api_filter *out, const char *name)
{
	char c[16], **grown;

	if (devname_normalize(name, c, sizeof c) < 0 || strcmp(c, name) == 0)
		return name;
	if (!(grown = realloc(out->canonical, (out->n_canonical + 1) * sizeof *grown)))
		return NULL;
	out->canonical = grown;
	if (!(grown[out->n_canonical] = strdup(c)))
		return NULL;
	return grown[out->n_canonical++];
}

static int filter_add_name(struct api_filter *out, size_t *cap, const char *name, char *err, size_t errlen)
{
	if (!(name = canonical_name(out, name))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (!devname_valid(name)) {
		seterr(err, errlen, "'%.40s' is not a device name: expected " DEVNAME_RULE,
		       text_valid(name) ? name : "?");
		return -1;
	}
	if (out->f.n_names >= API_INPUT_MAX_NAMES) {
		seterr(err, errlen, "at most %d names", API_INPUT_MAX_NAMES);
		return -1;
	}
	if (out->f.n_names == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		const char **nn = realloc(out->names, ncap * sizeof *nn);
		if (!nn) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
		out->names = nn;
		*cap = ncap;
	}
	out->names[out->f.n_names++] = name;
	out->f.names = out->names;
	return 0;
}

/* "names": an array of strings, or "A,B,C". */
static int filter_names(const json_t *o, struct api_filter *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, "names"), *item;
	size_t cap = 0, i;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_array(v)) {
		json_array_foreach(v, i, item) {
			if (!json_is_string(item)) {
				seterr(err, errlen, "'names' must hold strings");
				return -1;
			}
			if (filter_add_name(out, &cap, json_string_value(item), err, errlen) < 0)
				return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		seterr(err, errlen, "'names' must be an array of device names or a comma-separated string");
		return -1;
	}
	if (!(out->owned = strdup(json_string_value(v)))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (char *save = NULL, *t = strtok_r(out->owned, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (filter_add_name(out, &cap, t, err, errlen) < 0)
			return -1;
	return 0;
}

/* The selectors other than names: strings (expiring_days an integer too),
 * checked by the CLI's rule (phone_filter_set). */
static int filter_selectors(const json_t *o, struct phone_filter *f, char *err, size_t errlen)
{
	static const char *const names[] = { "name", "model", "lsc_status", "expiring_days", "lsc_issuer", "auth",
					     "operation", "status", NULL };
	char why[ERRLEN], days_text[24];   /* expiring_days is parsed, not kept */

	for (const char *const *n = names; *n; n++) {
		json_t *v = json_object_get(o, *n);
		const char *value;

		if (!v || json_is_null(v))
			continue;
		if (json_is_integer(v) && !strcmp(*n, "expiring_days")) {
			snprintf(days_text, sizeof days_text, "%lld", (long long)json_integer_value(v));
			value = days_text;
		} else if (json_is_string(v) && json_string_length(v) == strlen(json_string_value(v))) {
			value = json_string_value(v);
		} else {
			seterr(err, errlen, "'%s' must be %s", *n,
			       strcmp(*n, "expiring_days") ? "printable text" : "a number of days");
			return -1;
		}
		if (phone_filter_set(f, *n, value, why, sizeof why) < 0) {
			seterr(err, errlen, "'%s': %s", *n, why);
			return -1;
		}
	}
	return 0;
}

static const char *const filter_known[] = {
	"names", "name", "model", "lsc_status", "expiring_days", "lsc_issuer", "auth", "operation", "status", NULL,
};

int api_input_filter(const json_t *o, struct api_filter *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	phone_filter_init(&out->f);
	if (!o || json_is_null(o))
		return 0;
	if (need_object(o, "'filter'", err, errlen) < 0 || known_members(o, filter_known, err, errlen) < 0 ||
	    filter_names(o, out, err, errlen) < 0 || filter_selectors(o, &out->f, err, errlen) < 0) {
		api_filter_free(out);
		return -1;
	}
	return 0;
}

void api_filter_free(struct api_filter *f)
{
	for (size_t i = 0; i < f->n_canonical; i++)
		free(f->canonical[i]);
	free(f->canonical);
	f->canonical = NULL;
	f->n_canonical = 0;
	free(f->names);
	free(f->owned);
	f->names = NULL;
	f->owned = NULL;
	f->f.names = NULL;
	f->f.n_names = 0;
}

int api_input_schedule(const json_t *o, struct api_schedule *out, char *err, size_t errlen)
{
	static const char *const known[] = { "filter", "operation", "by", "note", "dry_run", "all", NULL };

	memset(out, 0, sizeof *out);
	phone_filter_init(&out->filter.f);
	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    read_operation(o, &out->op, &out->deadline, err, errlen) < 0 ||
	    member_string(o, "note", 200, &out->note, err, errlen) < 0 ||
	    member_bool(o, "dry_run", &out->dry_run, err, errlen) < 0 ||
	    member_bool(o, "all", &out->all, err, errlen) < 0 ||
	    api_input_filter(json_object_get(o, "filter"), &out->filter, err, errlen) < 0)
		return -1;
	if (phone_filter_is_empty(&out->filter.f) && !out->all) {
		seterr(err, errlen, "the filter selects every phone: say \"all\": true to mean it");
		api_schedule_free(out);
		return -1;
	}
	return 0;
}

void api_schedule_free(struct api_schedule *s)
{
	api_filter_free(&s->filter);
}

/* ---- the CAPF certificate ---- */

int api_input_capf_key(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen)
{
	char e[ERRLEN];

	if (capf_key_spec_parse(spec, kind, bits, e, sizeof e) < 0) {
		seterr(err, errlen, "'key' %s", e);
		return -1;
	}
	return 0;
}

int api_input_regenerate(const json_t *o, struct api_regen *out, char *err, size_t errlen)
{
	static const char *const known[] = { "key", "days", "force", NULL };
	const char *key;
	int64_t days = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    (rc = member_string(o, "key", 16, &key, err, errlen)) < 0 ||
	    (rc > 0 && api_input_capf_key(key, &out->kind, &out->bits, err, errlen) < 0) ||
	    member_int(o, "days", 1, 36500, 0, &days, err, errlen) < 0 ||
	    member_bool(o, "force", &out->force, err, errlen) < 0)
		return -1;
	out->has_key = rc > 0;
	out->days = (int)days;
	return 0;
}

int api_input_csr(const json_t *o, int *new_key, enum pki_key_kind *kind, int *bits, char *err, size_t errlen)
{
	static const char *const known[] = { "new_key", "key", NULL };
	const char *key;
	int rc;

	*kind = PKI_KEY_RSA;
	*bits = 0;
	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    member_bool(o, "new_key", new_key, err, errlen) < 0 ||
	    (rc = member_string(o, "key", 16, &key, err, errlen)) < 0 ||
	    (rc > 0 && api_input_capf_key(key, kind, bits, err, errlen) < 0))
		return -1;
	if (rc > 0 && !*new_key) {
		seterr(err, errlen, "'key' needs \"new_key\": true (the current key cannot change)");
		return -1;
	}
	return 0;
}

/* PEM text (a bundle) of member `name` into a stack; 0 absent, -1 error. */
static int member_certs(const json_t *o, const char *name, STACK_OF(X509) **out, char *err, size_t errlen)
{
	json_t *v = json_object_get(o, name);
	char e[ERRLEN];

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		seterr(err, errlen, "'%s' must be PEM text (-----BEGIN CERTIFICATE-----...)", name);
		return -1;
	}
	*out = pki_certs_parse((const uint8_t *)json_string_value(v), json_string_length(v), e, sizeof e);
	if (!*out || sk_X509_num(*out) == 0) {
		seterr(err, errlen, "'%s': %s", name, *out ? "no certificate found" : e);
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
		return -1;
	}
	return 1;
}

int api_input_import(const json_t *o, X509 **cert, STACK_OF(X509) **chain, int *force, char *err, size_t errlen)
{
	static const char *const known[] = { "certificate", "chain", "force", NULL };
	STACK_OF(X509) *certs = NULL;
	int rc;

	*cert = NULL;
	*chain = NULL;
	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    member_bool(o, "force", force, err, errlen) < 0 ||
	    (rc = member_certs(o, "certificate", &certs, err, errlen)) < 0 ||
	    member_certs(o, "chain", chain, err, errlen) < 0) {
		sk_X509_pop_free(certs, X509_free);
		return -1;
	}
	if (rc == 0) {
		seterr(err, errlen, "'certificate' is required (the CAPF certificate in PEM)");
		sk_X509_pop_free(*chain, X509_free);
		*chain = NULL;
		return -1;
	}
	if (!*chain && !(*chain = sk_X509_new_null())) {
		sk_X509_pop_free(certs, X509_free);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	capf_import_split(certs, cert, *chain);
	return 0;
}

/* 'certificates', which must be there (PEM, one certificate or a bundle). */
static int required_certs(const json_t *o, STACK_OF(X509) **certs, char *err, size_t errlen)
{
	int rc = member_certs(o, "certificates", certs, err, errlen);

	if (rc == 0)
		seterr(err, errlen, "'certificates' is required (PEM, one certificate or a bundle)");
	return rc > 0 ? 0 : -1;
}

int api_input_trust_add(const json_t *o, STACK_OF(X509) **certs, const char **note, char *err, size_t errlen)
{
	static const char *const known[] = { "certificates", "note", NULL };

	*certs = NULL;
	return need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	       member_string(o, "note", 127, note, err, errlen) < 0 || required_certs(o, certs, err, errlen) < 0
		       ? -1 : 0;
}

/* 'roles': names (as `tvs add --role`) or numbers 0..255. */
static int member_roles(const json_t *o, struct admin_tvs_entry *e, char *err, size_t errlen)
{
	json_t *arr = json_object_get(o, "roles"), *v;
	size_t i;

	if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > TVS_ROLES_MAX) {
		seterr(err, errlen, "'roles' must be a list of 1 to %d roles (SAST, CCM, CCM+TFTP, TFTP, CAPF, "
		       "APP-SERVER, TVS or numbers 0..255)", TVS_ROLES_MAX);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		uint16_t role;

		if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255)
			role = (uint16_t)json_integer_value(v);
		else if (!json_is_string(v) || role_from_name(json_string_value(v), &role) < 0 || role > 255) {
			seterr(err, errlen, "'roles' item %zu is not a role (SAST, CCM, CCM+TFTP, TFTP, CAPF, "
			       "APP-SERVER, TVS or a number 0..255)", i + 1);
			return -1;
		}
		e->roles[e->nroles++] = role;
	}
	return 0;
}

int api_input_tvs_add(const json_t *o, STACK_OF(X509) **certs, struct admin_tvs_entry *e, char *err, size_t errlen)
{
	static const char *const known[] = { "certificates", "roles", "ttl", "note", NULL };

	*certs = NULL;
	memset(e, 0, sizeof *e);
	e->ttl = -1;
	if (need_object(o, "the body", err, errlen) < 0 || known_members(o, known, err, errlen) < 0 ||
	    member_string(o, "note", 127, &e->note, err, errlen) < 0 ||
	    member_int(o, "ttl", 0, 4294967295LL, 0, &e->ttl, err, errlen) < 0 || member_roles(o, e, err, errlen) < 0 ||
	    required_certs(o, certs, err, errlen) < 0)
		return -1;
	return 0;
}
