/*
 * tvs_entries.c: adding and removing what TVS vouches for, with their audit
 * rows, in one transaction (tvs_entries.h).
 */
#include "admin/tvs_entries.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "pki/pki.h"
#include "tvs/tvs_server.h"

/* The audit row of one entry; its detail as JSON (subjects may hold quotes). */
static int audit_entry(struct store *st, const char *actor, const char *action, const char *target, json_t *detail)
{
	char *text = detail ? json_dumps(detail, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	int rc = text ? store_audit(st, actor, action, target, text) : -1;

	free(text);
	json_decref(detail);
	return rc;
}

static int add_one(struct store *st, const char *actor, X509 *cert, const struct admin_tvs_entry *e,
		   struct admin_tvs_item *item, char *err, size_t errlen)
{
	struct pki_cert_info info;
	char roles[256], ttl[32];
	uint8_t *der = NULL;
	size_t len;
	int rc;

	if (pki_cert_info(cert, &info) < 0 || pki_cert_to_der(cert, &der, &len) < 0) {
		seterr(err, errlen, "cannot encode a certificate");
		return -1;
	}
	rc = store_tvs_put(st, der, len, e->roles, e->nroles, e->ttl, TVS_SOURCE_ADMIN, e->note);
	OPENSSL_free(der);
	if (rc < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	tvs_roles_text(e->roles, e->nroles, roles, sizeof roles);
	if (e->ttl < 0)
		snprintf(ttl, sizeof ttl, "default");
	else
		snprintf(ttl, sizeof ttl, "%lld", (long long)e->ttl);
	snprintf(item->sha256, sizeof item->sha256, "%s", info.sha256);
	snprintf(item->subject, sizeof item->subject, "%s", info.subject);
	item->updated = rc == 1;
	if (audit_entry(st, actor, rc == 0 ? "tvs.add" : "tvs.update", info.cn,
			json_pack("{s:s, s:s, s:s, s:s}", "sha256", info.sha256, "subject", info.subject, "roles",
				  roles, "ttl", ttl)) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	return 0;
}

int admin_tvs_add(struct store *st, const char *actor, STACK_OF(X509) *certs, const struct admin_tvs_entry *e,
		  struct admin_tvs_item **items, int *n, char *err, size_t errlen)
{
	int count = sk_X509_num(certs), i = 0;

	*n = 0;
	if (count < 1 || e->nroles < 1) {
		seterr(err, errlen, count < 1 ? "no certificate to add" : "give at least one role");
		return -1;
	}
	if (!(*items = calloc((size_t)count, sizeof **items))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (store_begin(st) < 0)
		seterr(err, errlen, "%s", store_errmsg(st));
	else
		for (; i < count; i++)
			if (add_one(st, actor, sk_X509_value(certs, i), e, &(*items)[i], err, errlen) < 0)
				break;
	if (i < count || store_commit(st) < 0) {
		if (i == count)
			seterr(err, errlen, "%s", store_errmsg(st));
		store_rollback(st);
		free(*items);
		*items = NULL;
		return -1;
	}
	*n = count;
	return 0;
}

int admin_tvs_remove(struct store *st, const char *actor, const char *sha256, char *subject, size_t cap, char *err,
		     size_t errlen)
{
	struct tvs_cert_row row;
	int rc;

	if (store_begin(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	rc = store_tvs_get(st, sha256, &row);
	if (rc == 0)
		rc = store_tvs_remove(st, sha256);
	if (rc == 0)
		rc = audit_entry(st, actor, "tvs.remove", row.subject, json_pack("{s:s}", "sha256", row.sha256));
	if (rc != 0 || store_commit(st) < 0) {
		if (rc < 0 || rc == 0)
			seterr(err, errlen, "%s", store_errmsg(st));
		store_rollback(st);
		return rc > 0 ? 1 : -1;
	}
	snprintf(subject, cap, "%s", row.subject);
	return 0;
}
