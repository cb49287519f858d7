/*
 * api_input.h: JSON request bodies (and query strings) turned into checked
 * values, before anything touches the store. This is a parser of outside
 * bytes: fuzz/fuzz_api_json.c feeds it arbitrary JSON.
 *
 * Rules for every object: unknown members are refused (a typo must not be
 * silently ignored), each member has one JSON type (a number where a string
 * is expected is an error, not a conversion), text is bounded and must be
 * valid UTF-8 without control characters. The value rules are the
 * administration core's: phone settings go through phone_settings_apply
 * (the checks `phone add|set` and `phone import` use), enum names through
 * the store's parsers.
 *
 * Each function returns 0, or -1 with one sentence in err (a 400 for the
 * client). Strings in the results point into the JSON, valid while it lives.
 */
#ifndef OPENCAPF_API_INPUT_H
#define OPENCAPF_API_INPUT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "admin/tvs_entries.h"
#include "pki/pki.h"
#include "store/store.h"
#include "store/store_search.h"

#define API_INPUT_MAX_NAMES 10000

/* Phone settings {name?, model, description, auth, auth_string, key_order,
 * rsa_bits, ec_bits} applied onto *p. creating: "name" is required (a device
 * name); otherwise it may only repeat p->name. */
int api_input_phone(const json_t *o, int creating, struct phone *p, char *err, size_t errlen);
/* A new phone: api_input_phone's members plus "operation" (install, delete,
 * troubleshoot, none) and "deadline" ("YYYY-MM-DD HH:MM" UTC; needs an
 * operation). *op_given, *by_given: whether each was given. */
int api_input_phone_create(const json_t *o, struct phone *p, int *op_given, int *by_given, char *err,
			   size_t errlen);

/* {"operation": "install"|"delete"|"troubleshoot"|"none", "by": TIME|null}:
 * by is "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS]Z" (UTC); *deadline
 * is 0 when not given (the store's default applies: a day from now). */
int api_input_operation(const json_t *o, enum capf_op *op, int64_t *deadline, char *err, size_t errlen);

/* A phone filter, as an object with the CLI selector's names: names (array
 * of device names, or a comma-separated string), name (glob), model,
 * lsc_status, expiring_days, lsc_issuer, auth, operation, status. Query
 * strings arrive as an object of strings, so numbers may also be digits. */
struct api_filter {
	struct phone_filter f;
	const char **names;          /* malloc'd array; the strings are in `owned` or the JSON */
	char *owned;                 /* a split comma-separated list, malloc'd */
	char **canonical;            /* names rewritten to SEP + 12 upper-case hex digits, malloc'd */
	size_t n_canonical;
};
int api_input_filter(const json_t *o, struct api_filter *out, char *err, size_t errlen);
void api_filter_free(struct api_filter *f);

/* Bulk scheduling: {"filter": {...}, "operation", "by", "note", "dry_run", "all"}. */
struct api_schedule {
	struct api_filter filter;
	enum capf_op op;
	int64_t deadline;
	const char *note;            /* NULL when absent */
	int dry_run, all;
};
int api_input_schedule(const json_t *o, struct api_schedule *out, char *err, size_t errlen);
void api_schedule_free(struct api_schedule *s);

/* A CAPF key spec: rsa:2048, rsa:3072, rsa:4096, ec:p256, ec:p384. */
int api_input_capf_key(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen);
/* {"key": SPEC, "days": N, "force": bool} for a regeneration. */
struct api_regen {
	int has_key;
	enum pki_key_kind kind;
	int bits, days, force;
};
int api_input_regenerate(const json_t *o, struct api_regen *out, char *err, size_t errlen);
/* {"new_key": bool, "key": SPEC} for a CSR (key needs new_key). */
int api_input_csr(const json_t *o, int *new_key, enum pki_key_kind *kind, int *bits, char *err, size_t errlen);
/* {"certificate": PEM, "chain": PEM?, "force": bool}: the first certificate
 * is the CAPF certificate, the others join the chain. *cert, *chain: free. */
int api_input_import(const json_t *o, X509 **cert, STACK_OF(X509) **chain, int *force, char *err, size_t errlen);
/* {"certificates": PEM (one or a bundle), "note": TEXT?} for a trust store. */
int api_input_trust_add(const json_t *o, STACK_OF(X509) **certs, const char **note, char *err, size_t errlen);
/* {"certificates": PEM, "roles": [NAME or 0..255, ...], "ttl": SECONDS?, "note": TEXT?} for TVS. */
int api_input_tvs_add(const json_t *o, STACK_OF(X509) **certs, struct admin_tvs_entry *e, char *err, size_t errlen);

#endif
