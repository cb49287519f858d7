/*
 * trust.h: adding certificates to a trust store and the guarded removal,
 * the one sequence behind `opencapf trust add|remove` and the HTTP API's
 * POST /api/v1/trust/STORE and DELETE /api/v1/trust/STORE/FINGERPRINT.
 *
 * Each call is one transaction: every certificate or none. Each one added
 * is audited "trust.add", each one removed "trust.remove" (or
 * "trust.remove.forced" when force overrode a refusal), with detail
 * {"sha256":..,"subject":..} (trust_usage.h). Nothing here prints: the
 * result code says what went wrong, err holds the sentence.
 */
#ifndef OPENCAPF_ADMIN_TRUST_H
#define OPENCAPF_ADMIN_TRUST_H

#include <stddef.h>

#include <openssl/x509.h>

#include "admin/trust_usage.h"
#include "store/store.h"

enum admin_trust_rc {
	ADMIN_TRUST_OK = 0,
	ADMIN_TRUST_STORE = -1,      /* the store failed; err says why */
	ADMIN_TRUST_NO_STORE = -2,   /* no trust store by that name */
	ADMIN_TRUST_NO_CERT = -3,    /* remove: no certificate with that fingerprint */
	ADMIN_TRUST_AMBIGUOUS = -4,  /* remove: the fingerprint prefix names several */
	ADMIN_TRUST_REFUSED = -5,    /* remove: guarded (current CAPF, or phones chain through it) */
};

/* What happened to one certificate. */
struct admin_trust_item {
	char sha256[80];
	char subject[512];
	int changed;   /* add: 1 added, 0 already present; remove: 1 removed, 0 named twice */
	int forced;    /* remove: force overrode a refusal */
};

struct admin_trust_result {
	struct admin_trust_item *items;  /* in the order given; free() */
	int n;
	struct trust_usage refused;      /* ADMIN_TRUST_REFUSED: the certificate and who depends on it */
	enum trust_removal decision;     /* ADMIN_TRUST_REFUSED: why */
};

void admin_trust_result_free(struct admin_trust_result *r);

/* Add certs to store_name with note (may be NULL). */
int admin_trust_add(struct store *st, const char *actor, const char *store_name, STACK_OF(X509) *certs,
		    const char *note, struct admin_trust_result *out, char *err, size_t errlen);

/* Remove the certificates whose SHA-256 fingerprints start with fps[0..n)
 * (normalized, trust_fp_normalize) from store_name. A refusal of any of
 * them refuses all; err then ends with "(FORCE_HINT to remove it anyway)". */
int admin_trust_remove(struct store *st, const char *actor, const char *store_name, const char (*fps)[80],
		       int n, int force, const char *force_hint, struct admin_trust_result *out, char *err,
		       size_t errlen);

#endif
