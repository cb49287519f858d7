/*
 * trust_load.c: read a trust store's certificates into a stack of X509.
 * Certificates that no longer parse are skipped (and logged), not fatal.
 */
#include "capf/trust_load.h"

#include "common/log.h"
#include "common/util.h"
#include "pki/pki.h"

static int push_cert(const struct cert_row *r, void *arg)
{
	STACK_OF(X509) *sk = arg;
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);

	if (!x) {
		log_warn("trust store certificate %s skipped: %s", r->sha256, err);
		return 0;
	}
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return -1;
	}
	return 0;
}

STACK_OF(X509) *trust_load_stack(struct store *st, const char *store_name)
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	if (!sk)
		return NULL;
	if (store_trust_each(st, store_name, push_cert, sk) < 0) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	return sk;
}
