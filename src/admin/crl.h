/*
 * crl.h: the CRLs of a state: one per CAPF certificate that may sign CRLs
 * (keyUsage cRLSign): the current one, and the previous one when it has
 * issued LSCs,
 * signed with that CAPF key, listing every revocation recorded under it
 * (store_revoke.h).
 *
 * Published into the TFTP/provisioning folder (itl_tftp_dir) as
 * <CAPF CN>.crl (DER) and <CAPF CN>.crl.pem, each written atomically
 * (temporary file, fsync, rename); opencapfd serves the same files at
 * /crl/<CAPF CN>.crl and /crl/<CAPF CN>.pem. nextUpdate is thisUpdate +
 * the setting crl_days (default 7).
 *
 * A CRL is published again when a revocation was recorded after the one it
 * covers, when half of its validity has passed, or when its files are
 * missing or older than the state's CRL number (a crash between taking the
 * number and writing): admin_crl_publish(force = 0) is cheap when nothing
 * changed, so the daemon calls it on a timer. Nothing here prints; CRL
 * publication is derived data and has no audit row (the revocations do).
 */
#ifndef OPENCAPF_ADMIN_CRL_H
#define OPENCAPF_ADMIN_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "store/store.h"

#define CRL_SETTING_DAYS "crl_days"
#define CRL_DEFAULT_DAYS 7

/* What happened to the CRL of one CAPF certificate. */
struct admin_crl {
	char name[72];             /* the file name stem: the CAPF CN (CAPF-xxxxxxxx) */
	char capf_sha256[80];
	char state[12];            /* current, previous */
	int can_sign;              /* the certificate has cRLSign */
	int written;               /* published by this call */
	int64_t number, this_update, next_update;
	size_t entries;
	char der_path[4200], pem_path[4200];
};

/* Days between thisUpdate and nextUpdate (setting crl_days, default 7). */
int admin_crl_days(struct store *st);
/* Seconds a superseded LSC stays valid after the phone confirmed its new
 * one (setting superseded_grace, default 0). */
int64_t admin_crl_superseded_grace(struct store *st);

/* Change the settings (days 1..366, grace 0..90 days in seconds; -1 keeps
 * one; url: the base URL of opencapfd's HTTP server written into new LSCs
 * as their CRL and OCSP locations (capf/ca.h), "" for none, NULL keeps it)
 * in one transaction with the audit row "crl.settings"; 0, or -1 with err
 * naming the bad value. New LSCs carry a changed URL once opencapfd starts
 * again or its CAPF certificate changes. */
int admin_crl_settings(struct store *st, const char *actor, int days, int64_t grace, const char *url, char *err,
		       size_t errlen);
/* The base URL (setting revocation_url), "" when none. */
void admin_crl_url(struct store *st, char *out, size_t cap);

/* Publish every CRL that is due (all of them when force); fn (may be NULL)
 * sees each CAPF certificate considered, written or not. Returns how many
 * were written, or -1 with err. A CAPF certificate without cRLSign gets no
 * CRL (can_sign = 0): verifiers refuse such CRLs, and with them every LSC.
 * force < 0 writes nothing: fn sees each CRL as the state last published it. */
int admin_crl_publish(struct store *st, int force, int (*fn)(const struct admin_crl *c, void *arg), void *arg,
		      char *err, size_t errlen);

/* The published DER of the CRL named `file` ("CAPF-xxxxxxxx.crl" or
 * "CAPF-xxxxxxxx.pem"): 0 and *data (malloc'd), 1 when there is none, -1
 * for a name that is not one. *pem says which form it is. */
int admin_crl_read(struct store *st, const char *file, uint8_t **data, size_t *len, int *pem);

/* The published CRL of the CAPF certificate with this SHA-256 (current or
 * previous, with cRLSign), after publishing what is due: 0 and *crl (the
 * caller frees it), 1 when opencapf publishes no CRL for it (another CA, a
 * retired CAPF certificate, one without cRLSign), -1 with err. */
int admin_crl_of_cert(struct store *st, const char *sha256, X509_CRL **crl, char *err, size_t errlen);

#endif
