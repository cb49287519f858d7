/*
 * store_tvs.h: what the Trust Verification Service knows (schema v2):
 * certificates with their roles and TTL, looked up by the SHA-256 of their
 * DER; and the state's service certificates other than CAPF's: the SAST/TFTP
 * signer of ITL/CTL files ("sast") and the TVS listener's certificate ("tvs").
 *
 * Conventions as in store.h: 0 / -1 (store_errmsg says why); lookups return
 * 1 for "not found"; rows passed to callbacks are valid during the call.
 */
#ifndef OPENCAPF_STORE_TVS_H
#define OPENCAPF_STORE_TVS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define TVS_ROLES_MAX 16           /* distinct roles per certificate */
#define TVS_SOURCE_ADMIN "admin"   /* added with `opencapf tvs add` */
#define TVS_SOURCE_SERVICE "service" /* kept in step with our CAPF/TVS/TFTP certificates */

struct tvs_cert_row {
	char sha256[80];             /* lower-case hex of the DER */
	char subject[512];           /* RFC 4514 */
	char issuer[512];
	char serial[130];            /* lower-case hex */
	int64_t not_before, not_after;
	uint16_t roles[TVS_ROLES_MAX];  /* ascending ids (wire/roles.h), each <= 255 */
	size_t nroles;
	int64_t ttl;                 /* seconds; -1 = the daemon's default */
	char source[16];             /* TVS_SOURCE_* */
	char note[128];
	int64_t added;
	const uint8_t *der;          /* store_tvs_each only; NULL from store_tvs_get */
	size_t derlen;
};

/* Add or replace the entry for a certificate (DER must parse as X.509).
 * Roles are sorted and deduplicated; 1..TVS_ROLES_MAX ids of 0..255.
 * ttl -1 = the daemon's default, else 0..4294967295. Returns 0 added,
 * 1 replaced an existing entry, -1 on error. */
int store_tvs_put(struct store *st, const uint8_t *der, size_t len, const uint16_t *roles, size_t nroles,
		  int64_t ttl, const char *source, const char *note);
/* The entry for a SHA-256 (64 lower- or upper-case hex digits); 1 = unknown. */
int store_tvs_get(struct store *st, const char *sha256, struct tvs_cert_row *out);
int store_tvs_remove(struct store *st, const char *sha256);          /* 1 = absent */
/* Every entry, in the order added (der filled). */
int store_tvs_each(struct store *st, int (*fn)(const struct tvs_cert_row *r, void *arg), void *arg);

/* ---- service certificates ---- */

#define SERVICE_SAST "sast"
#define SERVICE_TVS "tvs"

struct service_cert_row {
	char name[16];
	char key_file[128];          /* inside keys/ */
	char sha256[80];
	int64_t created;
	uint8_t *der;                /* malloc'd: service_cert_row_free */
	size_t derlen;
};
void service_cert_row_free(struct service_cert_row *r);
/* 1 = the state has none (created before schema 2, or not yet made). */
int store_service_cert_get(struct store *st, const char *name, struct service_cert_row *out);
/* Set (insert or replace) a service certificate; key_file must already exist. */
int store_service_cert_set(struct store *st, const char *name, const uint8_t *der, size_t len,
			   const char *key_file);

#endif
