/*
 * tvs_entries.h: what TVS vouches for, the one sequence behind `opencapf
 * tvs add|remove` and the HTTP API's POST /api/v1/tvs and DELETE
 * /api/v1/tvs/SHA256. Each call is one transaction; each certificate added
 * is audited "tvs.add" (or "tvs.update" when it was known: its roles and TTL
 * are replaced), each removed "tvs.remove". On a cluster the other nodes'
 * TVS answer for it at once (they read the shared store per query).
 */
#ifndef OPENCAPF_ADMIN_TVS_ENTRIES_H
#define OPENCAPF_ADMIN_TVS_ENTRIES_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "store/store.h"
#include "store/store_tvs.h"

struct admin_tvs_entry {
	uint16_t roles[TVS_ROLES_MAX];  /* 1..TVS_ROLES_MAX ids of 0..255 */
	size_t nroles;
	int64_t ttl;                    /* -1: the daemon's default */
	const char *note;               /* may be NULL */
};

/* One certificate's outcome. */
struct admin_tvs_item {
	char sha256[80];
	char subject[512];
	int updated;      /* 0 added, 1 known already (replaced) */
};

/* Add every certificate of certs with e's roles, TTL and note: 0, with
 * items[] (malloc'd, *n of them; free()) in the order given, or -1 with err
 * and nothing changed. */
int admin_tvs_add(struct store *st, const char *actor, STACK_OF(X509) *certs, const struct admin_tvs_entry *e,
		  struct admin_tvs_item **items, int *n, char *err, size_t errlen);
/* Remove the entry of a SHA-256 (64 hex digits): 0, 1 when TVS has none,
 * -1 with err. *subject (cap bytes) names what was removed. */
int admin_tvs_remove(struct store *st, const char *actor, const char *sha256, char *subject, size_t cap, char *err,
		     size_t errlen);

#endif
