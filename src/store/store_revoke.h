/*
 * store_revoke.h: revoked LSCs and the CRL number of each CAPF certificate.
 *
 * A revocation names an LSC by its serial (lower-case hex, the form of
 * issued_certs.serial) and the SHA-256 of the CAPF certificate that issued
 * it, with the time and the RFC 5280 reason code. Revocations are permanent:
 * the schema's triggers refuse UPDATE and DELETE, as for issued_certs. Each
 * one is written in the transaction of the change that causes it (an
 * administrator's revoke, a confirmed upgrade, a completed CAPF delete, a
 * removed phone) with its own audit row "cert.revoke".
 *
 * crl_state keeps, per CAPF certificate, the number of the last CRL signed
 * and the newest revocation it covered, so a publisher can tell a CRL that
 * is behind the records (after a crash, too) from one that is current.
 */
#ifndef OPENCAPF_STORE_REVOKE_H
#define OPENCAPF_STORE_REVOKE_H

#include <stdint.h>

#include "store/store.h"

/* RFC 5280 CRLReason codes (the values of OpenSSL's OCSP_REVOKED_STATUS_*). */
enum revoke_reason {
	REVOKE_UNSPECIFIED = 0,
	REVOKE_KEY_COMPROMISE = 1,
	REVOKE_AFFILIATION_CHANGED = 3,
	REVOKE_SUPERSEDED = 4,
	REVOKE_CESSATION = 5,
};
/* "unspecified", "keyCompromise", "affiliationChanged", "superseded",
 * "cessationOfOperation" (RFC 5280's names); NULL for another code. */
const char *revoke_reason_name(int reason);
/* 0 and *reason for one of those names, -1 otherwise. */
int revoke_reason_parse(const char *s, int *reason);

struct revocation {
	int64_t id;
	char serial[130];
	char issuer_sha256[80];
	char phone[64];
	int64_t time;
	int reason;              /* enum revoke_reason */
};

/* Revoke one LSC we issued (audit row "cert.revoke" by actor, object the
 * serial): 0 revoked now, 1 it already was (nothing written), -1 error. */
int store_revoke(struct store *st, const char *actor, const char *serial, const char *issuer_sha256,
		 const char *phone, int reason, int64_t when);
/* The same inside the caller's transaction. */
int store_revoke_locked(struct store *st, const char *actor, const char *serial, const char *issuer_sha256,
			const char *phone, int reason, int64_t when);

/* Every certificate issued to `phone` that is neither revoked nor expired
 * at `when` is revoked for `reason`, inside the caller's transaction;
 * fn (may be NULL) sees each one. Returns how many, or -1. */
int store_revoke_phone_locked(struct store *st, const char *actor, const char *phone, int reason, int64_t when,
			      int (*fn)(const struct cert_row *r, void *arg), void *arg);

/* 0 and the revocation of (issuer, serial), 1 when it is not revoked. */
int store_revocation_find(struct store *st, const char *issuer_sha256, const char *serial,
			  struct revocation *out);
/* The same, but only a revocation in effect at `now` counts (a superseded
 * LSC's revocation waits for the grace period: its time is in the future). */
int store_revocation_effective(struct store *st, const char *issuer_sha256, const char *serial, int64_t now,
			       struct revocation *out);
/* 1 when a revocation under the CAPF certificate took effect after `since`
 * and by `now` (a CRL signed at `since` lacks it), 0 when none, -1 error. */
int store_revocation_pending_due(struct store *st, const char *issuer_sha256, int64_t since, int64_t now);

/* The setting that delays the revocation of a superseded LSC (seconds,
 * default 0: revoked when the phone confirmed storing its new LSC). */
#define REVOKE_SETTING_SUPERSEDED_GRACE "superseded_grace"

/* Revocations under one CAPF certificate ("" or NULL: all), oldest first. */
int store_revocations_each(struct store *st, const char *issuer_sha256,
			   int (*fn)(const struct revocation *r, void *arg), void *arg);
/* The newest revocation id under a CAPF certificate (0 when none). */
int store_revocation_last_id(struct store *st, const char *issuer_sha256, int64_t *id);

/* 0 and the LSC issued under issuer_sha256 with this serial (der not
 * filled), 1 when we never issued one. */
int store_issued_by_serial(struct store *st, const char *issuer_sha256, const char *serial, struct cert_row *out);
/* Every LSC with this serial, whatever issued it (der not filled). */
int store_issued_serial_each(struct store *st, const char *serial,
			     int (*fn)(const struct cert_row *r, void *arg), void *arg);
/* Has any LSC been issued under this CAPF certificate? 1 yes, 0 no, -1 error. */
int store_capf_has_issued(struct store *st, const char *capf_sha256);

/* The CRL state of one CAPF certificate; all zero before its first CRL. */
struct crl_state {
	int64_t number;          /* the last CRL number used */
	int64_t last_revocation; /* the newest revocation id that CRL covered */
	int64_t this_update, next_update;
};
int store_crl_state(struct store *st, const char *capf_sha256, struct crl_state *out);
/* Take the next CRL number for a CRL covering revocations up to
 * last_revocation (one statement): *number gets it. */
int store_crl_next(struct store *st, const char *capf_sha256, int64_t last_revocation, int64_t this_update,
		   int64_t next_update, int64_t *number);

#endif
