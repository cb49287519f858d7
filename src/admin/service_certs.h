/*
 * service_certs.h: the state's service certificates besides CAPF's
 *:
 *   - "sast": the SAST/TFTP signer. RSA; signs ITLFile.tlv and CTLFile.tlv
 *     and appears in them with roles SAST and TFTP. Created by init
 *     (CN=ITLRECOVERY_<host>, like the vendor's ITL recovery certificate) or
 *     imported (`opencapf itl signer import`).
 *   - "tvs": the certificate the TVS listener presents (CN=TVS_<host>),
 *     listed in the ITL with role TVS.
 * Both are self-signed RSA-2048 with the CAPF certificate's organisation
 * fields; keys live in keys/ (0600) as <name>-<n>.key and old key files are
 * never overwritten.
 *
 * Errors: 0 / -1 with an err sentence.
 */
#ifndef OPENCAPF_CAPF_SERVICE_CERTS_H
#define OPENCAPF_CAPF_SERVICE_CERTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pki/pki.h"
#include "store/store.h"
#include "store/store_tvs.h" /* SERVICE_SAST, SERVICE_TVS */

#define SERVICE_KEY_SPEC_BITS 2048
#define SERVICE_DAYS_DEFAULT 1825

/* At init (called by capf_ca_create_state once the CAPF certificate is
 * recorded): create the SAST/TFTP signer and the TVS certificate, register
 * the CAPF, TVS and TFTP certificates with TVS, and publish the ITL. */
int service_certs_create(struct store *st, const struct pki_org *org, int days, const char *actor,
			 char *err, size_t errlen);

/* Load a service certificate ("sast" or "tvs") and, if key != NULL, its key.
 * A state without one gets an error saying how to create it. */
int service_cert_load(struct store *st, const char *name, X509 **cert, EVP_PKEY **key, char *err,
		      size_t errlen);

/* A new key and certificate for one service (org fields from the CAPF
 * certificate), then TVS registration and the ITL published again. A state
 * from before TVS (schema 1) also gets the other service certificate if it
 * lacks it, here and in service_cert_import. */
int service_cert_renew(struct store *st, const char *name, int days, const char *actor, char *err,
		       size_t errlen);

/* Use an existing certificate and key for a service. The SAST signer must
 * be RSA of 512, 1024, 2048 or 4096 bits (the sizes an ITL header can
 * name). Then TVS registration and the ITL published again. */
int service_cert_import(struct store *st, const char *name, X509 *cert, EVP_PKEY *key, const char *actor,
			char *err, size_t errlen);

/* Make sure TVS knows the current CAPF (role CAPF), TVS (TVS) and SAST/TFTP
 * (SAST, TFTP) certificates. An existing entry for the same certificate is
 * left as it is (an administrator may have changed its roles). */
int service_certs_register_tvs(struct store *st, char *err, size_t errlen);

#endif
