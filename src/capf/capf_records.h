/*
 * capf_records.h: everything the CAPF server session reads and writes about
 * phones, as a small table of operations (the way tvs/ reaches its records
 * through a lookup callback). The session never sees a database: the daemon
 * hands it capf_store_records over its worker's store handle, a test can
 * hand it records kept in memory, and a second store backend needs only
 * another table.
 *
 * Every operation returns what the store function of the same name does
 * (store.h): 0, 1 for "not found" where that applies, -1 with errmsg().
 */
#ifndef OPENCAPF_CAPF_RECORDS_H
#define OPENCAPF_CAPF_RECORDS_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct capf_records {
	int (*phone_get)(void *ctx, const char *name, struct phone *out);
	int (*locked_until)(void *ctx, const char *name, const char *peer, int64_t *until);
	int (*history_add)(void *ctx, const char *name, const struct history_entry *h);
	int (*attempt_failed)(void *ctx, const char *name, const struct history_entry *h, const char *status,
			      int auth_failed, int max_failures, int lockout_seconds);
	int (*lsc_delivered)(void *ctx, const char *name, const uint8_t *der, size_t len, const char *capf_sha256,
			     const struct history_entry *h);
	int (*complete_install)(void *ctx, const char *name, const uint8_t *der, size_t len,
				const char *capf_sha256, const struct history_entry *h);
	int (*complete_troubleshoot)(void *ctx, const char *name, const char *kind, const uint8_t *der,
				     size_t len, const struct history_entry *h);
	int (*complete_delete)(void *ctx, const char *name, const struct history_entry *h);
	/* A certificate the phone proved it holds (kind "lsc" or "mic"). */
	int (*seen_cert)(void *ctx, const char *name, const char *kind, const uint8_t *der, size_t len);
	/* The anchors of a trust store (TRUST_CAPF, TRUST_MANUFACTURING), NULL on error. */
	STACK_OF(X509) *(*trust)(void *ctx, const char *store_name);
	const char *(*errmsg)(void *ctx);
	/* Optional (NULL: nothing is revoked): 1 when the certificate is an
	 * LSC this state issued and revoked (why says when and for what), 0 when
	 * not, -1 on error. */
	int (*revoked)(void *ctx, const uint8_t *der, size_t len, char *why, size_t wl);
};

/* The records of a state directory: ctx is that worker's struct store. */
extern const struct capf_records capf_store_records;

#endif
