/*
 * ca.h: the CAPF certificate authority as a whole: creating a state with its
 * first CAPF certificate, and loading the current CAPF certificate and key
 * (the key only ever leaves here wrapped in a signer).
 */
#ifndef OPENCAPF_CAPF_CA_H
#define OPENCAPF_CAPF_CA_H

#include <openssl/x509.h>

#include "pki/pki.h"
#include "store/store.h"

struct capf_ca_params {
	struct pki_org org;
	enum pki_key_kind kind;
	int bits;
	int days;
	int lsc_days;
};

struct capf_ca_summary {
	char cn[128];
	char key[32];
	char not_after[40];
	char sha256[80];
};

/* The trust stores every state has, with what they are for. */
extern const char *const capf_default_trust_stores[][2];

/* Create a state in `dir` (which must not exist): database, keys, the CAPF
 * certificate, the default trust stores with the CAPF certificate placed in
 * CAPF-trust, CallManager-trust, phone-vpn-trust and 802.1x, settings, audit. */
int capf_ca_create_state(const char *dir, const struct capf_ca_params *p, const char *actor,
			 struct capf_ca_summary *summary, char *err, size_t errlen);

/* The current CAPF certificate (and, if key != NULL, its private key). */
int capf_ca_load(struct store *st, X509 **cert, EVP_PKEY **key, char *err, size_t errlen);

/* A signer over the current CAPF key. */
struct signer *capf_ca_signer(struct store *st, char *err, size_t errlen);

/* LSC validity in days from settings (default 1825). */
int capf_ca_lsc_days(struct store *st);

#endif
