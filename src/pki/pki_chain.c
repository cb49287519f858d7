/*
 * pki_chain.c: does a certificate chain to one of a set of trusted
 * certificates? Used for LSCs (against CAPF-trust), MICs and SUDI
 * certificates (against the manufacturing trust) and by the diagnostics.
 *
 * Every certificate handed in is a trust anchor, whether self-signed or not
 * (X509_V_FLAG_PARTIAL_CHAIN), because sites trust intermediate
 * manufacturing CAs directly. No purpose or key-size policy is applied here:
 * a phone's RSA-512 LSC still chains; policy belongs to the callers. Failures
 * are reported in the words of the TLS alerts an administrator meets in
 * phone logs: "unknown CA", "certificate expired", "certificate not yet
 * valid", "bad certificate signature"; anything rarer in OpenSSL's words.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

static const char *reason_text(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return "unknown CA";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "certificate expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "certificate not yet valid";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
		return "bad certificate signature";
	default:
		return X509_verify_cert_error_string(e);
	}
}

int pki_verify_chain(X509 *leaf, STACK_OF(X509) *trusted, int64_t at, X509 **which,
		     char *err, size_t errlen)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int rc = -1;

	if (which)
		*which = NULL;
	if (!leaf) {
		seterr(err, errlen, "no certificate to check");
		return -1;
	}
	if (!trusted || sk_X509_num(trusted) == 0) {
		seterr(err, errlen, "unknown CA");
		return -1;
	}
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(trusted); i++) {
		/* a duplicate anchor is harmless; ignore its error */
		if (X509_STORE_add_cert(store, sk_X509_value(trusted, i)) != 1)
			ERR_clear_error();
	}
	if (X509_STORE_CTX_init(ctx, store, leaf, NULL) != 1) {
		pki_ossl_err(err, errlen, "cannot set up the chain check");
		goto out;
	}
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (at != 0)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
	if (X509_verify_cert(ctx) != 1) {
		seterr(err, errlen, "%s", reason_text(X509_STORE_CTX_get_error(ctx)));
		ERR_clear_error();
		goto out;
	}
	if (which) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
		X509 *anchor = chain ? sk_X509_value(chain, sk_X509_num(chain) - 1) : NULL;

		/* hand back the caller's own object, not whatever the store holds */
		for (int i = 0; anchor && i < sk_X509_num(trusted); i++) {
			if (X509_cmp(sk_X509_value(trusted, i), anchor) == 0) {
				*which = sk_X509_value(trusted, i);
				break;
			}
		}
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return rc;
}
