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

struct signer_client;

/* Load the default provider and this one into the default library context. */
int signer_provider_load(char *err, size_t errlen);

/* A key of this provider: `pub` (the public key, reference taken) and what
 * the signer calls it (client, slot, the path it was loaded from). */
EVP_PKEY *signer_provider_key(struct signer_client *c, int slot, const char *path, EVP_PKEY *pub, char *err,
			      size_t errlen);

/* For a key of this provider: its client, slot and path (0), else -1. */
int signer_provider_key_ref(const EVP_PKEY *key, struct signer_client **c, int *slot, const char **path);

#endif
