/*
 * ca.h: the current CAPF certificate and key of a state (the key only ever
 * leaves here wrapped in a signer), for the CAPF server and for the
 * administration core (admin/capf_lifecycle.h creates and changes them).
 */
#ifndef OPENCAPF_CAPF_CA_H
#define OPENCAPF_CAPF_CA_H

#include <openssl/x509.h>

#include "pki/pki.h"
#include "store/store.h"

/* The current CAPF certificate (and, if key != NULL, its private key). */
int capf_ca_load(struct store *st, X509 **cert, EVP_PKEY **key, char *err, size_t errlen);

/* A signer over the current CAPF key. */
struct signer *capf_ca_signer(struct store *st, char *err, size_t errlen);

/* The setting naming where opencapfd's HTTP server is reached from the
 * servers that check LSCs ("http://host:8080"); "" or absent: LSCs carry
 * no revocation URLs. */
#define CAPF_SETTING_REVOCATION_URL "revocation_url"

/* With the setting set, s writes into each LSC its CRL's URL
 * (URL/crl/<CAPF CN>.crl) and the OCSP responder's (URL/ocsp). */
void capf_ca_signer_urls(struct store *st, struct signer *s);

/* LSC validity in days from settings (default 1825). */
int capf_ca_lsc_days(struct store *st);

#endif
