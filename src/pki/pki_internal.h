/*
 * pki_internal.h: helpers shared by the files of the pki layer and by nobody
 * else: OpenSSL error text, random serials, validity, extensions built from
 * constant configuration strings, the hash ids of the CAPF protocol.
 */
#ifndef OPENCAPF_PKI_INTERNAL_H
#define OPENCAPF_PKI_INTERNAL_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest input the certificate and key readers accept. */
#define PKI_MAX_INPUT (1024 * 1024)
/* Most certificates one bundle may hold. */
#define PKI_MAX_CERTS 1000
/* Longest validity accepted for a certificate we issue (100 years). */
#define PKI_MAX_DAYS 36500

/* "what: <OpenSSL reason>" into err, then empty the thread's error queue.
 * OpenSSL reasons never carry key material. */
void pki_ossl_err(char *err, size_t errlen, const char *what);

/* 16 random bytes, first byte in 0x01..0x7f: positive, and DER keeps all 16. */
int pki_set_random_serial(X509 *x);

/* notBefore = now, notAfter = now + days (both from the same `now`). */
int pki_set_validity(X509 *x, time_t now, int days, char *err, size_t errlen);

/* Add an extension given in OpenSSL configuration syntax (constant strings
 * only: never pass text from outside). `issuer` may be `x` itself. */
int pki_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value, char *err, size_t errlen);

/* OpenSSL group name ("P-256") of one of the three curves phones use, by
 * its NID; NULL for any other curve. */
const char *pki_ec_group_of_nid(int nid);

/* The certificate's SubjectPublicKeyInfo from `key`: for RSA and EC on our
 * curves the encoded bits only (X509_get0_pubkey of `x` is then NULL until
 * it is parsed back from DER), else X509_set_pubkey. 0 or -1. */
int pki_x509_set_pubkey(X509 *x, EVP_PKEY *key);

/* EVP_MD for a CAPF hash id (1 SHA-1, 2 SHA-256, 3 SHA-512), NULL if unknown. */
const EVP_MD *pki_hash_md(int hash_id);

/* The signer the key hooks give for this key, or NULL (pki_key.c). */
struct signer *pki_key_hooked_signer(X509 *cert, EVP_PKEY *key);

#endif
