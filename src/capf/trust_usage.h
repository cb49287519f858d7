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

#endif
