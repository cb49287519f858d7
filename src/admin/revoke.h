/*
 * revoke.h: revoking LSCs, the one sequence behind `opencapf phone revoke`,
 * `opencapf cert revoke` and the HTTP API's POST /api/v1/phones/NAME/revoke
 * and POST /api/v1/certs/SERIAL/revoke.
 *
 * Each call is one transaction; each certificate revoked gets its permanent
 * row in revocations and the audit row "cert.revoke" (store_revoke.h) with
 * the caller's actor. Nothing here prints: the result code says what went
 * wrong, err names the bad value, and *out says what was revoked.
 *
 * Revoking does not change what the phone holds (phone_certs): the phone
 * keeps presenting the certificate, and servers refuse it once they have
 * the new CRL (crl.h) or ask the OCSP responder.
 */
#ifndef OPENCAPF_ADMIN_REVOKE_H
#define OPENCAPF_ADMIN_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_revoke.h"

enum admin_revoke_rc {
	ADMIN_REVOKE_OK = 0,
	ADMIN_REVOKE_STORE = -1,      /* the store failed; err says why */
	ADMIN_REVOKE_NOT_FOUND = -2,  /* no such phone, or no LSC we issued with that serial */
	ADMIN_REVOKE_NO_LSC = -3,     /* the phone holds no LSC this state issued */
	ADMIN_REVOKE_ALREADY = -4,    /* the certificate was revoked before (out has that revocation) */
	ADMIN_REVOKE_INVALID = -5,    /* a bad serial or reason; err says which */
	ADMIN_REVOKE_AMBIGUOUS = -6,  /* the serial was issued under several CAPF certificates */
};

#define ADMIN_REVOKED_MAX 16

/* What was revoked (or, for ADMIN_REVOKE_ALREADY, the earlier revocation). */
struct admin_revoked {
	int n;                        /* how many certificates were revoked */
	int more;                     /* revoked beyond ADMIN_REVOKED_MAX (listed by n only) */
	struct revocation r[ADMIN_REVOKED_MAX];
};

/* An administrator's serial ("1a:2B:..", "0x1a2b", "1A2B") in the store's
 * form (lower-case hex of the integer's bytes); -1 with err naming it. */
int admin_serial_normalize(const char *in, char *out, size_t outcap, char *err, size_t errlen);

/* Revoke the phone's current LSC (the one it holds, when we issued it). */
int admin_revoke_phone(struct store *st, const char *actor, const char *name, int reason,
		       struct admin_revoked *out, char *err, size_t errlen);

/* Revoke the LSC we issued with this serial (any CAPF certificate). */
int admin_revoke_serial(struct store *st, const char *actor, const char *serial, int reason,
			struct admin_revoked *out, char *err, size_t errlen);

/* Add a revocation to out (for the callers' store walks). */
void admin_revoked_add(struct admin_revoked *out, const struct cert_row *c, int reason, int64_t when);

#endif
