/*
 * trust.c: adding certificates to a trust store and the guarded removal
 * (phone-certificates.md §6), each one transaction with its audit rows.
 *
 * The removal decides inside its transaction (BEGIN IMMEDIATE): which
 * phones chain through a certificate is computed under the same write lock
 * that removes it, so no LSC recorded meanwhile escapes the guard.
 */
#include "admin/trust.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"

void admin_trust_result_free(struct admin_trust_result *r)
{
	free(r->items);
	r->items = NULL;
	r->n = 0;
}

static int result_init(struct admin_trust_result *r, int n)
{
	memset(r, 0, sizeof *r);
	r->items = calloc((size_t)n + 1, sizeof *r->items);
	return r->items ? 0 : -1;
}

/* 0 when the store exists, else ADMIN_TRUST_NO_STORE or _STORE, with err. */
static int check_store(struct store *st, const char *store_name, char *err, size_t errlen)
{
	int rc = store_trust_each(st, store_name, NULL, NULL);

	if (rc > 0)
		seterr(err, errlen, "no trust store named '%s'", store_name);
	else if (rc < 0)
		seterr(err, errlen, "%s", store_errmsg(st));
	return rc > 0 ? ADMIN_TRUST_NO_STORE : rc < 0 ? ADMIN_TRUST_STORE : 0;
}

/* ---- add ---- */

static int add_one(struct store *st, const char *actor, const char *store_name, X509 *x, const char *note,
		   struct admin_trust_item *item)
{
	struct pki_cert_info info;
	uint8_t *der = NULL;
	size_t len;
	int rc;

	if (pki_cert_info(x, &info) < 0 || pki_cert_to_der(x, &der, &len) < 0)
		return -1;
	rc = store_trust_add(st, store_name, der, len, info.sha256, info.subject, note ? note : "");
	OPENSSL_free(der);
	if (rc < 0 || (rc == 0 && trust_audit_cert(st, actor, "trust.add", store_name, info.sha256, info.subject,
						   NULL) < 0))
		return -1;
	snprintf(item->sha256, sizeof item->sha256, "%s", info.sha256);
	snprintf(item->subject, sizeof item->subject, "%s", info.subject);
	item->changed = rc == 0;
	return 0;
}

int admin_trust_add(struct store *st, const char *actor, const char *store_name, STACK_OF(X509) *certs,
		    const char *note, struct admin_trust_result *out, char *err, size_t errlen)
{
	int n = sk_X509_num(certs), i = 0, rc;

	if (result_init(out, n) < 0) {
		seterr(err, errlen, "out of memory");
		return ADMIN_TRUST_STORE;
	}
	if ((rc = check_store(st, store_name, err, errlen)) != 0)
		return rc;
	if (store_begin(st) == 0)
		for (; i < n; i++)
			if (add_one(st, actor, store_name, sk_X509_value(certs, i), note, &out->items[i]) < 0)
				break;
	if (i < n || store_commit(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		store_rollback(st);
		admin_trust_result_free(out);
		return ADMIN_TRUST_STORE;
	}
	out->n = n;
	return ADMIN_TRUST_OK;
}

/* ---- guarded remove ---- */

/* Each wanted fingerprint's index in u, all checked against the guard. */
static int decide_all(struct store *st, const char *store_name, const struct trust_usage *u, int nu,
		      const char (*fps)[80], int n, int force, const char *force_hint, int *idx,
		      struct admin_trust_result *out, char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		enum trust_removal d;

		idx[i] = trust_usage_find(u, nu, fps[i], store_name, err, errlen);
		if (idx[i] < 0)
			return idx[i] == -2 ? ADMIN_TRUST_AMBIGUOUS : ADMIN_TRUST_NO_CERT;
		d = trust_removal_check(st, store_name, &u[idx[i]], force, force_hint, err, errlen);
		if (d == TRUST_REMOVE_CURRENT_CAPF || d == TRUST_REMOVE_IN_USE) {
			out->refused = u[idx[i]];
			out->decision = d;
			return ADMIN_TRUST_REFUSED;
		}
		out->items[i].forced = d == TRUST_REMOVE_FORCED;
	}
	return ADMIN_TRUST_OK;
}

/* Removes each chosen certificate once (a FILE may name one twice). */
static int remove_chosen(struct store *st, const char *actor, const char *store_name, const struct trust_usage *u,
			 const int *idx, int n, struct admin_trust_result *out)
{
	for (int i = 0; i < n; i++) {
		struct admin_trust_item *item = &out->items[i];
		int dup = 0;

		for (int j = 0; j < i; j++)
			dup |= idx[j] == idx[i];
		snprintf(item->sha256, sizeof item->sha256, "%s", u[idx[i]].sha256);
		snprintf(item->subject, sizeof item->subject, "%s", u[idx[i]].subject);
		item->changed = !dup;
		if (!dup && trust_remove_audited(st, actor, store_name, &u[idx[i]], item->forced) < 0)
			return -1;
	}
	return 0;
}

static int remove_locked(struct store *st, const char *actor, const char *store_name, const char (*fps)[80],
			 int n, int force, const char *force_hint, struct admin_trust_result *out, char *err,
			 size_t errlen)
{
	struct trust_usage *u = NULL;
	int nu = 0, *idx = calloc((size_t)n + 1, sizeof *idx);
	int rc = idx ? trust_usage_compute(st, store_name, &u, &nu, err, errlen) : -1;

	if (rc > 0) {
		seterr(err, errlen, "no trust store named '%s'", store_name);
		rc = ADMIN_TRUST_NO_STORE;
	} else if (rc < 0) {
		rc = ADMIN_TRUST_STORE;
	} else if ((rc = decide_all(st, store_name, u, nu, fps, n, force, force_hint, idx, out, err, errlen)) == 0 &&
		   remove_chosen(st, actor, store_name, u, idx, n, out) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		rc = ADMIN_TRUST_STORE;
	}
	free(u);
	free(idx);
	return rc;
}

int admin_trust_remove(struct store *st, const char *actor, const char *store_name, const char (*fps)[80],
		       int n, int force, const char *force_hint, struct admin_trust_result *out, char *err,
		       size_t errlen)
{
	int rc;

	if (result_init(out, n) < 0) {
		seterr(err, errlen, "out of memory");
		return ADMIN_TRUST_STORE;
	}
	if (store_begin(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		admin_trust_result_free(out);
		return ADMIN_TRUST_STORE;
	}
	rc = remove_locked(st, actor, store_name, fps, n, force, force_hint, out, err, errlen);
	if (rc == 0 && store_commit(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		rc = ADMIN_TRUST_STORE;
	}
	if (rc != 0) {
		store_rollback(st);
		out->n = 0;
		free(out->items);
		out->items = NULL;
		return rc;
	}
	out->n = n;
	return ADMIN_TRUST_OK;
}
