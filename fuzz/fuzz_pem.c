/*
 * fuzz_pem.c: fuzz target for certificate input (PEM bundles or DER), as
 * `opencapf trust add` and phones' certificates reach pki_certs_parse and
 * pki_cert_from_der, and phones' public keys reach pki_pubkey_from_der (the
 * fast SubjectPublicKeyInfo reader) and pki_cert_spki_der (the key inside an
 * LSC, as the load generator finds it). Whatever parses must re-encode and
 * describe itself.
 */
#include <openssl/x509.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/util.h"
#include "pki/pki.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_pubkey(const uint8_t *data, size_t size)
{
	char err[ERRLEN], desc[64];
	EVP_PKEY *key = pki_pubkey_from_der(data, size, err, sizeof err);
	const uint8_t *spki;
	size_t spki_len;
	uint8_t *der = NULL;
	size_t len;

	if (key) {
		pki_key_describe(key, desc, sizeof desc);
		if (pki_pubkey_to_der(key, &der, &len) == 0)
			OPENSSL_free(der);
		EVP_PKEY_free(key);
	}
	if (pki_cert_spki_der(data, size, &spki, &spki_len) == 0 &&
	    (spki < data || spki + spki_len > data + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRLEN];
	STACK_OF(X509) *sk = pki_certs_parse(data, size, err, sizeof err);
	X509 *one = pki_cert_from_der(data, size, err, sizeof err);

	if (sk) {
		for (int i = 0; i < sk_X509_num(sk); i++) {
			struct pki_cert_info info;
			uint8_t *der = NULL;
			size_t len;
			pki_cert_info(sk_X509_value(sk, i), &info);
			if (pki_cert_to_der(sk_X509_value(sk, i), &der, &len) == 0)
				OPENSSL_free(der);
		}
		sk_X509_pop_free(sk, X509_free);
	}
	if (one) {
		struct pki_cert_info info;
		pki_cert_info(one, &info);
		X509_free(one);
	}
	fuzz_pubkey(data, size);
	return 0;
}
