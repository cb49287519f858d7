/*
 * capf_records_store.c: capf_records.h over a state directory's store, one
 * adapter per operation (ctx is the worker's struct store).
 */
#include "capf/capf_records.h"

#include <stdio.h>

#include "capf/trust_load.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store_revoke.h"

static int phone_get(void *ctx, const char *name, struct phone *out)
{
	return store_phone_get(ctx, name, out);
}

static int locked_until(void *ctx, const char *name, const char *peer, int64_t *until)
{
	return store_auth_locked_until(ctx, name, peer, until);
}

static int history_add(void *ctx, const char *name, const struct history_entry *h)
{
	return store_history_add(ctx, name, h);
}

static int attempt_failed(void *ctx, const char *name, const struct history_entry *h, const char *status,
			  int auth_failed, int max_failures, int lockout_seconds)
{
	return store_capf_attempt_failed(ctx, name, h, status, auth_failed, max_failures, lockout_seconds);
}

static int lsc_delivered(void *ctx, const char *name, const uint8_t *der, size_t len, const char *capf_sha256,
			 const struct history_entry *h)
{
	return store_capf_lsc_delivered(ctx, name, der, len, capf_sha256, h);
}

static int complete_install(void *ctx, const char *name, const uint8_t *der, size_t len, const char *capf_sha256,
			    const struct history_entry *h)
{
	return store_capf_complete_install(ctx, name, der, len, capf_sha256, h);
}

static int complete_troubleshoot(void *ctx, const char *name, const char *kind, const uint8_t *der, size_t len,
				 const struct history_entry *h)
{
	return store_capf_complete_troubleshoot(ctx, name, kind, der, len, h);
}

static int complete_delete(void *ctx, const char *name, const struct history_entry *h)
{
	return store_capf_complete_delete(ctx, name, h);
}

static int seen_cert(void *ctx, const char *name, const char *kind, const uint8_t *der, size_t len)
{
	return store_seen_cert(ctx, name, kind, der, len);
}

static STACK_OF(X509) *trust(void *ctx, const char *store_name)
{
	return trust_load_stack(ctx, store_name);
}

static const char *errmsg(void *ctx)
{
	return store_errmsg(ctx);
}

static int revoked(void *ctx, const uint8_t *der, size_t len, char *why, size_t wl)
{
	char sha[65], when[40];
	struct cert_row row;
	struct revocation rv;
	int confirmed, rc;

	pki_fingerprint_der(der, len, "sha256", 0, sha, sizeof sha);
	rc = store_issued_find(ctx, sha, &row, &confirmed);
	if (rc <= 0)
		return rc;
	rc = store_revocation_effective(ctx, row.issuer_sha256, row.serial, now_utc(), &rv);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	fmt_time_utc(rv.time, when, sizeof when);
	snprintf(why, wl, "the LSC (serial %s) was revoked on %s (%s)", row.serial, when, revoke_reason_name(rv.reason));
	return 1;
}

const struct capf_records capf_store_records = {
	.phone_get = phone_get,
	.locked_until = locked_until,
	.history_add = history_add,
	.attempt_failed = attempt_failed,
	.lsc_delivered = lsc_delivered,
	.complete_install = complete_install,
	.complete_troubleshoot = complete_troubleshoot,
	.complete_delete = complete_delete,
	.seen_cert = seen_cert,
	.trust = trust,
	.errmsg = errmsg,
	.revoked = revoked,
};
