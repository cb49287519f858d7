/*
 * signer_provider.h: "opencapf-signer", a small OpenSSL 3 provider built into
 * opencapfd (OSSL_PROVIDER_add_builtin). It offers key management for RSA
 * and EC keys whose private half lives in the signer process, RSA and ECDSA
 * signatures (digest-sign: the whole message goes to the signer, which
 * decides what it is), and RSA decryption for TLS RSA key exchange (TLS
 * padding only, so the signer is no decryption oracle). Public operations
 * (key size, group, comparing with a certificate, exporting the public key)
 * use a real public key of the default provider. The library's default
 * property query prefers other providers ("?opencapf.signer=no"), so only
 * keys made here use this provider.
 *
 * Why a provider: the build forbids OpenSSL's deprecated RSA_METHOD and
 * EC_KEY_METHOD, and a provider is the OpenSSL 3 way for a key whose
 * private operations happen elsewhere (as pkcs11-provider does).
 */
#ifndef OPENCAPF_SIGNER_PROVIDER_H
#define OPENCAPF_SIGNER_PROVIDER_H

#include <openssl/evp.h>

#include "common/util.h"
#include "signer/signer_msg.h"

/* Where a key's private operations happen: the signer process
 * (signer_client.c) or a PKCS#11 token (signer_p11.c). Both take the whole
 * message; 0 with the result in out, or -1 with err. */
struct signer_key_backend {
	int (*sign)(void *ctx, int slot, const struct signer_sig_params *sp, const uint8_t *data, size_t len,
		    struct buf *out, char *err, size_t errlen);
	int (*decrypt_tls)(void *ctx, int slot, unsigned client_version, unsigned negotiated_version,
			   const uint8_t *ct, size_t len, struct buf *out, char *err, size_t errlen);
};

/* Load the default provider and this one into the default library context. */
int signer_provider_load(char *err, size_t errlen);

/* A key of this provider: `pub` (the public key, reference taken), its
 * backend and what the backend calls it (ctx, slot), and where it came from
 * (a key file's path, a token URI). */
EVP_PKEY *signer_provider_key(const struct signer_key_backend *be, void *ctx, int slot, const char *path,
			      EVP_PKEY *pub, char *err, size_t errlen);

/* For a key of this provider: its backend, ctx, slot and path (0), else -1. */
int signer_provider_key_ref(const EVP_PKEY *key, const struct signer_key_backend **be, void **ctx, int *slot,
			    const char **path);

#endif
