/*
 * auth_strings.c: generated authentication strings for many phones, in one
 * bulk transaction with an audit row each.
 */
#include "admin/auth_strings.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>

#include "admin/phone_json.h"
#include "common/util.h"
#include "store/store_search.h"

int admin_random_digits(char *out, int n)
{
	unsigned char pool[64];
	size_t used = sizeof pool;

	for (int i = 0; i < n;) {
		if (used == sizeof pool) {
			if (RAND_bytes(pool, sizeof pool) != 1)
				return -1;
			used = 0;
		}
		if (pool[used] < 250)
			out[i++] = (char)('0' + pool[used] % 10);
		used++;
	}
	out[n] = '\0';
	OPENSSL_cleanse(pool, sizeof pool);
	return 0;
}

/* One phone: new string, stored and audited, then shown to emit. */
static int generate_one(struct store_bulk *b, struct store *st, const char *actor, const char *name, int length,
			int (*emit)(const char *, const char *, void *), void *arg, char *err, size_t errlen)
{
	struct phone before, p;
	char *detail;
	int rc = store_bulk_get(b, name, &before);

	if (rc != 0) {
		seterr(err, errlen, "cannot read phone %s: %s", name, rc > 0 ? "it was removed meanwhile" : store_errmsg(st));
		return -1;
	}
	p = before;
	p.auth = AUTH_STRING;
	rc = -1;
	if (admin_random_digits(p.auth_string, length) < 0) {
		seterr(err, errlen, "the random generator failed");
		goto out;
	}
	detail = phone_audit_detail_with(&before, &p, "auth_string", json_string("generated"));
	if (store_bulk_update(b, &p) < 0 || store_bulk_audit(b, actor, "phone.auth-string", p.name,
							       detail ? detail : "{}") < 0)
		seterr(err, errlen, "cannot change phone %s: %s", p.name, store_errmsg(st));
	else if (emit(p.name, p.auth_string, arg) != 0)
		seterr(err, errlen, "out of memory");
	else
		rc = 0;
	free(detail);
out:
	OPENSSL_cleanse(&p, sizeof p);
	OPENSSL_cleanse(&before, sizeof before);
	return rc;
}

int admin_auth_strings_generate(struct store *st, const char *actor, const char (*names)[64], size_t n, int length,
				int (*emit)(const char *name, const char *auth_string, void *arg),
				int (*ready)(void *arg), void *arg, char *err, size_t errlen)
{
	struct store_bulk *b;

	if (length < 4 || length > 10) {
		seterr(err, errlen, "length %d: expected 4 to 10 digits", length);
		return ADMIN_AUTH_FAILED;
	}
	if (store_bulk_begin(st, &b) < 0) {
		seterr(err, errlen, "cannot start the change: %s", store_errmsg(st));
		return ADMIN_AUTH_FAILED;
	}
	for (size_t i = 0; i < n; i++)
		if (generate_one(b, st, actor, names[i], length, emit, arg, err, errlen) < 0)
			goto fail;
	if (ready && ready(arg) != 0) {
		seterr(err, errlen, "the strings could not be handed out");
		goto fail;
	}
	if (store_bulk_end(b, 1) < 0) {
		seterr(err, errlen, "cannot commit: %s; nothing changed", store_errmsg(st));
		return ADMIN_AUTH_NOT_COMMITTED;
	}
	return ADMIN_AUTH_OK;
fail:
	store_bulk_end(b, 0);
	return ADMIN_AUTH_FAILED;
}
