/*
 * signer_local.c: the in-process implementation of the signer interface
 * (pki.h): the CAPF private key lives in this process and signs LSC
 * templates with SHA-256.
 *
 * Thread safety: the key and the CAPF certificate are only read after
 * signer_local_new; every X509_sign call builds its own EVP_MD_CTX, which
 * OpenSSL 3 allows on a shared const EVP_PKEY. The signer is the last line
 * before the key is used, so it refuses what no LSC may be: a certificate
 * whose issuer is not the CAPF subject, or one that claims to be a CA.
 */
#include "pki/pki.h"
#include "pki/pki_internal.h"
#include "common/util.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

static int local_sign_cert(struct signer *s, X509 *cert, char *err, size_t errlen)
{
	EVP_PKEY *key = s ? s->impl : NULL;
	BASIC_CONSTRAINTS *bc;
	int crit = 0;

	if (!key || !cert) {
		seterr(err, errlen, "signer: nothing to sign with or nothing to sign");
		return -1;
	}
	if (X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(s->issuer)) != 0) {
		seterr(err, errlen, "signer: refusing a certificate whose issuer is not the CAPF subject");
		return -1;
	}
	/* not X509_get_extension_flags: it would cache a hash of the unsigned certificate */
	bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
	if (bc && bc->ca) {
		BASIC_CONSTRAINTS_free(bc);
		seterr(err, errlen, "signer: refusing to sign a CA certificate");
		return -1;
	}
	BASIC_CONSTRAINTS_free(bc);
	ERR_clear_error(); /* "extension absent" leaves nothing worth keeping */
	if (X509_sign(cert, key, EVP_sha256()) <= 0) {
		pki_ossl_err(err, errlen, "signer: signing failed");
		return -1;
	}
	return 0;
}

static void local_destroy(struct signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->impl);
	X509_free(s->issuer);
	free(s);
}

struct signer *signer_local_new(X509 *capf_cert, EVP_PKEY *capf_key)
{
	struct signer *s;

	if (!capf_cert || !capf_key || !pki_cert_key_match(capf_cert, capf_key))
		return NULL;
	if ((s = pki_key_hooked_signer(capf_cert, capf_key)))
		return s; /* the key lives in another process: sign there */
	s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	if (X509_up_ref(capf_cert) != 1) {
		free(s);
		return NULL;
	}
	if (EVP_PKEY_up_ref(capf_key) != 1) {
		X509_free(capf_cert);
		free(s);
		return NULL;
	}
	/* fill OpenSSL's extension cache now, while only this thread sees the certificate */
	X509_check_purpose(capf_cert, -1, 0);
	ERR_clear_error();
	s->sign_cert = local_sign_cert;
	s->destroy = local_destroy;
	s->issuer = capf_cert;
	s->impl = capf_key;
	return s;
}

void signer_free(struct signer *s)
{
	if (s && s->destroy)
		s->destroy(s);
}
