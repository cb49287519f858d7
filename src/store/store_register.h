/*
 * store_register.h: the log of the registration TLS check (schema v3):
 * per connection, which certificate the phone presented (LSC, MIC, unknown,
 * or none), whether CallManager-trust accepted it, and the alert sent.
 *
 * Conventions as in store.h: 0 / -1 (store_errmsg says why); rows passed
 * to callbacks are valid during the call.
 */
#ifndef OPENCAPF_STORE_REGISTER_H
#define OPENCAPF_STORE_REGISTER_H

#include <stdint.h>

#include "store/store.h"

#define REGISTER_LOG_KEEP 100000   /* accepted rows kept; older ones are pruned on insert */
#define REGISTER_FAILED_KEEP 10000 /* refused and failed rows kept */

struct register_row {
	int64_t id;
	int64_t time;
	char peer[64];
	char phone[64];          /* CN of the presented certificate ("" when none) */
	char cert_kind[8];       /* "lsc", "mic", "unknown", "none" */
	char rule[256];          /* why that kind (src/diag/classify.h) */
	char subject[512];
	char issuer[512];
	char serial[130];
	char sha256[80];
	char result[12];         /* "accepted", "refused", "failed" */
	char alert[64];          /* TLS alert we sent, e.g. "unknown CA"; "" when none */
	char reason[256];        /* the chain check's or the TLS layer's words */
	char tls_version[16];
	char cipher[64];
	int count;               /* identical refusals counted in this row (reading) */
	int64_t first_time;      /* the first of them (reading) */
};

/* Append a row (time 0: now; id ignored). */
int store_register_add(struct store *st, const struct register_row *r);
/* Newest first; phone NULL or "": every phone; limit <= 0: all. */
int store_register_each(struct store *st, const char *phone, int limit,
			int (*fn)(const struct register_row *r, void *arg), void *arg);
/* The newest row for a phone; 1 = none. */
int store_register_last(struct store *st, const char *phone, struct register_row *out);

#endif
