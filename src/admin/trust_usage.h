/*
 * trust_usage.h: which phones depend on each certificate of a trust store:
 * a phone depends on a certificate when its current LSC, or the MIC it last
 * presented, chains through it inside that store. This is what `trust show`
 * counts and what guards `trust remove` (phone-certificates.md §6: removing
 * an issuer that phones' certificates chain to breaks their TLS and their
 * CAPF authentication).
 */
#ifndef OPENCAPF_CAPF_TRUST_USAGE_H
#define OPENCAPF_CAPF_TRUST_USAGE_H

#include <stddef.h>

#include "common/util.h"
#include "store/store.h"

#define TRUST_USAGE_NAMES 5

struct trust_usage {
	char sha256[80];
	char subject[512];
	int lsc_phones;                 /* phones whose current LSC chains through it */
	int mic_phones;                 /* phones whose last MIC chains through it */
	int phones;                     /* phones with either */
	int nnames;
	char names[TRUST_USAGE_NAMES][64]; /* the first phones, by name */
};

/* One entry per certificate of the store, in the store's order (*out:
 * free()). The path of a phone's certificate is followed issuer by issuer
 * through the store's certificates (names, key identifiers and signatures
 * must agree; validity dates are ignored: an expired certificate still
 * depends on its issuer), and every certificate on the path counts the phone.
 * 0, 1 if there is no such store, -1 on error (err). */
int trust_usage_compute(struct store *st, const char *store_name, struct trust_usage **out, int *n,
			char *err, size_t errlen);

/* ---- the guarded removal and the export: the one core of `opencapf trust
 * remove|export` and DELETE|GET /api/v1/trust/STORE/... ---- */

/* "AB:CD:.." or "abcd.." (any case) to lower-case hex without ':'; -1 if
 * not hex or shorter than 8 digits. */
int trust_fp_normalize(const char *in, char *out, size_t cap);

/* 1 when sha256 is the current CAPF certificate and store_name is CAPF-trust
 * or CallManager-trust (its removal is guarded), else 0. */
int trust_is_current_capf(struct store *st, const char *store_name, const char *sha256);

/* Index in u[0..nu) of the one certificate whose fingerprint starts with fp
 * (normalized); -1 when none does, -2 when several do, with the reason in err. */
int trust_usage_find(const struct trust_usage *u, int nu, const char *fp, const char *store_name, char *err,
		     size_t errlen);

enum trust_removal {
	TRUST_REMOVE_OK = 0,        /* nothing depends on it */
	TRUST_REMOVE_FORCED,        /* force overrode a refusal: audited as trust.remove.forced */
	TRUST_REMOVE_CURRENT_CAPF,  /* refused: the current CAPF certificate */
	TRUST_REMOVE_IN_USE,        /* refused: phones chain through it */
};

/* May the certificate u of store_name go (phone-certificates.md §6)? When
 * refused, err gets the sentence (counts and the first phone names), ending
 * with "(FORCE_HINT to remove it anyway)". */
enum trust_removal trust_removal_check(struct store *st, const char *store_name, const struct trust_usage *u,
				       int force, const char *force_hint, char *err, size_t errlen);

/* The audit entry of a trust change: detail {"sha256":..,"subject":..EXTRA}. */
int trust_audit_cert(struct store *st, const char *actor, const char *action, const char *store_name,
		     const char *sha256, const char *subject, const char *extra);

/* Removes u from store_name and audits it ("trust.remove", or
 * "trust.remove.forced" when forced, with the phone counts); inside the
 * caller's transaction. 0, -1 (store_errmsg). */
int trust_remove_audited(struct store *st, const char *actor, const char *store_name, const struct trust_usage *u,
			 int forced);

/* The store as one plain PEM bundle appended to out, nothing between the
 * certificates (some peers, an ASA's terminal enrollment, take nothing
 * else); *count certificates written, *skipped that could not be encoded.
 * 0, 1 if there is no such store, -1 on error (store_errmsg, or out->failed). */
int trust_export_pem(struct store *st, const char *store_name, struct buf *out, int *count, int *skipped);

#endif
