/*
 * store_search.h: phones at fleet scale: selecting phones by a filter (in
 * SQL, one query joined with their current certificates), scheduling a CAPF
 * operation on every phone a filter selects (one transaction, one audit row
 * per phone), a bulk writer for imports (statements prepared once, one
 * transaction), and reading the audit log with filters.
 *
 * Conventions are store.h's: 0 / -1 with store_errmsg(); callbacks see rows
 * valid only during the call and stop the walk by returning non-zero (that
 * value is returned).
 *
 * A filter's conditions are ANDed. A zeroed filter (or phone_filter_init)
 * matches every phone.
 */
#ifndef OPENCAPF_STORE_SEARCH_H
#define OPENCAPF_STORE_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The phone's current LSC (phone_certs, kind 'lsc'). Every phone is exactly
 * one of NONE, INSTALLED, EXPIRED; EXPIRING is the part of INSTALLED whose
 * not_after falls within `expiring_days` of now. */
enum lsc_state {
	LSC_ANY = 0,       /* no condition */
	LSC_NONE,          /* no LSC on record */
	LSC_INSTALLED,     /* an LSC that has not expired */
	LSC_EXPIRED,       /* an LSC whose not_after is past */
	LSC_EXPIRING,      /* an LSC valid now that expires within expiring_days */
};
const char *lsc_state_name(enum lsc_state s);            /* "any", "none", "installed", ... */
int lsc_state_parse(const char *s, enum lsc_state *out); /* -1 if unknown ("any" is accepted) */

#define PHONE_FILTER_DEFAULT_EXPIRING_DAYS 30

struct phone_filter {
	const char *const *names;   /* exact names, n_names of them (NULL/0: no condition) */
	size_t n_names;
	const char *name_glob;      /* shell glob on the name (* ? [...]), case-sensitive */
	const char *model;          /* exact model */
	enum lsc_state lsc;
	int expiring_days;          /* window of LSC_EXPIRING; <= 0: the default (30) */
	/* Which CAPF issued the current LSC. Either a prefix (at least 8 hex
	 * digits, ':' separators allowed, any case) of the SHA-256 fingerprint
	 * of the issuing CAPF certificate, or text contained in the LSC's
	 * issuer name, case-insensitive (e.g. "CAPF-0a1b2c3d"). Both are tried. */
	const char *lsc_issuer;
	int has_auth;               /* when set, auth must equal `auth` */
	enum auth_mode auth;
	int has_op;                 /* when set, the operation must equal `op` */
	enum capf_op op;
	/* Status text contained in the status, case-insensitive ("Failed"
	 * selects every failure); "none" selects phones with no status yet. */
	const char *status;
	int64_t now;                /* reference time for LSC expiry; 0: now */
};
void phone_filter_init(struct phone_filter *f);
/* 1 when the filter has no condition at all (it would select every phone). */
int phone_filter_is_empty(const struct phone_filter *f);
/* One selector applied to f: the one rule of `opencapf phone list|op|export
 * --SELECTOR VALUE` and of the API's "filter" members. name is one of name,
 * model, lsc-status, expiring-days, lsc-issuer, auth, operation, status
 * ('_' for '-' too); value is text (kept by reference for name, model,
 * lsc-issuer and status). Returns 1 when applied, 0 when name is no such
 * selector, -1 on a bad value with the reason in err, e.g. "expected none,
 * installed, expired or expiring, not 'x'" (the caller names the option).
 * The explicit name list (names) is the caller's: see devname_valid(). */
int phone_filter_set(struct phone_filter *f, const char *name, const char *value, char *err, size_t errlen);
/* Short text for people and audit details, e.g. "model=7962 lsc=none". */
void phone_filter_describe(const struct phone_filter *f, char *out, size_t outcap);

/* What is known of one of the phone's certificates, without the DER. */
struct phone_cert_brief {
	int present;
	char source[8];             /* "issued" (by us) or "seen" (presented by the phone) */
	char serial[130];
	char subject[512];
	char issuer[512];
	char issuer_sha256[80];     /* the CAPF certificate that signed it, if we issued it */
	char sha256[80];
	int64_t not_before, not_after;
	int64_t time;               /* recorded */
};

struct phone_row {
	struct phone phone;         /* includes auth_string: a secret, callers must not print it by default */
	struct phone_cert_brief lsc;
	struct phone_cert_brief mic;
};
typedef int (*phone_row_fn)(const struct phone_row *r, void *arg);

/* Every phone matching f, ordered by name, in one query. fn may be NULL. */
int store_phone_select(struct store *st, const struct phone_filter *f, phone_row_fn fn, void *arg);
/* Number of phones matching f, or -1. */
int64_t store_phone_count(struct store *st, const struct phone_filter *f);

/* ---- scheduling an operation on many phones at once ---- */

struct phone_schedule {
	enum capf_op op;
	int64_t deadline;           /* "completes by" (admin_phones_schedule gives the default) */
	const char *actor;          /* audit actor (required), e.g. "cli:root" */
	const char *action;         /* audit action; NULL: "phone.op" */
	const char *note;           /* free text stored in each audit detail (why); never a secret */
	int dry_run;                /* select and report only: nothing is written */
	int all;                    /* must be set to act on an empty filter (every phone) */
};

/* One transaction (a SAVEPOINT inside the caller's): every phone matching f
 * gets the operation, the deadline (0 for none) and the status "Pending"
 * ("" for none), and one audit row (object = phone name, detail = JSON
 * {"before":{operation,deadline,status},"after":{...},"filter":"...",
 * "note":"..."}). fn (may be NULL) sees each selected phone as it was before
 * the change, in name order; a non-zero return rolls everything back and is
 * returned. *count (may be NULL) = phones changed, or that would be with
 * dry_run. Returns 0, -1 (error, nothing changed) or fn's value. */
int store_phone_schedule(struct store *st, const struct phone_filter *f, const struct phone_schedule *ps,
			 phone_row_fn fn, void *arg, size_t *count);

/* ---- bulk writer (imports, generated authentication strings) ---- */

/* One transaction and statements prepared once, for writing thousands of
 * phones quickly. A failing call leaves the reason in store_errmsg and makes
 * store_bulk_end roll back. store_bulk_begin fails if a transaction is
 * already open on the connection. */
struct store_bulk;
int store_bulk_begin(struct store *st, struct store_bulk **out);
int store_bulk_get(struct store_bulk *b, const char *name, struct phone *out);   /* 1 = not found */
int store_bulk_insert(struct store_bulk *b, const struct phone *p);             /* -1 if it exists */
int store_bulk_update(struct store_bulk *b, const struct phone *p);             /* -1 if it does not */
int store_bulk_audit(struct store_bulk *b, const char *actor, const char *action, const char *object,
		     const char *detail);
/* Commit when `commit` and no call failed, else roll back; frees b.
 * Returns 0 when committed, -1 otherwise. */
int store_bulk_end(struct store_bulk *b, int commit);

/* ---- reading the audit log ---- */

struct audit_filter {
	const char *actor;          /* exact, e.g. "cli:root" or "capf" */
	const char *action_prefix;  /* plain text prefix: "phone." selects phone.add, phone.op, ... */
	const char *object;         /* exact, or a glob when it holds * ? [ */
	int64_t since, until;       /* time >= since, time < until; 0: open */
	int limit;                  /* <= 0: all */
	int oldest_first;           /* default newest first */
};
int store_audit_select(struct store *st, const struct audit_filter *f,
		       int (*fn)(const struct audit_entry *e, void *arg), void *arg);

#endif
