/*
 * pki_crl.h: CRLs (RFC 5280 §5) and OCSP responses (RFC 6960) signed by a
 * CAPF key, with OpenSSL 3's X509_CRL and OCSP functions.
 *
 * Serials are lower-case hex as the store keeps them (issued_certs.serial);
 * reasons are RFC 5280 CRLReason codes (0 unspecified is written as no
 * reasonCode extension, as §5.3.1 asks). Nothing here reads the database:
 * the caller hands over the entries (a CRL) or answers status lookups
 * through a callback (OCSP).
 *
 * Errors: NULL or -1 with an err sentence.
 */
#ifndef OPENCAPF_PKI_CRL_H
#define OPENCAPF_PKI_CRL_H

#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct pki_crl_entry {
	const char *serial;      /* lower-case hex */
	int64_t time;            /* revocationDate */
	int reason;              /* CRLReason */
};

/* A v2 CRL issued by `issuer`, signed with `key` (SHA-256): thisUpdate and
 * nextUpdate as given, cRLNumber `number`, authorityKeyIdentifier from the
 * issuer's subjectKeyIdentifier (its key hash when it has none), entries
 * sorted by serial. */
X509_CRL *pki_crl_build(X509 *issuer, EVP_PKEY *key, const struct pki_crl_entry *e, size_t n, int64_t number,
			int64_t this_update, int64_t next_update, char *err, size_t errlen);
int pki_crl_to_der(X509_CRL *crl, uint8_t **der, size_t *len);     /* *der: OPENSSL_free */
int pki_crl_to_pem(X509_CRL *crl, char **pem, size_t *len);        /* *pem: OPENSSL_free */
X509_CRL *pki_crl_from_der(const uint8_t *der, size_t len, char *err, size_t errlen);

/* The name of a CAPF certificate's CRL files and URL: its CN when that is
 * a plain name (letters, digits, . _ -; CAPF-xxxxxxxx), else CAPF- and the
 * first 8 hex digits of its SHA-256. */
void pki_capf_file_stem(X509 *cert, char *out, size_t cap);

/* 1 when the certificate may sign CRLs for verifiers (no keyUsage at all,
 * or keyUsage with cRLSign), else 0. */
int pki_cert_can_sign_crl(X509 *cert);

/* ---- OCSP (pki_ocsp.c) ---- */

/* What the responder knows about one serial of one issuer. */
enum pki_ocsp_status { PKI_OCSP_GOOD = 0, PKI_OCSP_REVOKED = 1, PKI_OCSP_UNKNOWN = 2 };
struct pki_ocsp_answer {
	enum pki_ocsp_status status;
	int64_t revoked_time;
	int reason;
};

/* One issuer the responder answers for, and the key that signs its answers. */
struct pki_ocsp_issuer {
	X509 *cert;
	EVP_PKEY *key;
};

/* Look up serial (lower-case hex) under issuers[issuer]: 0 and *answer, -1
 * on an internal error (the response is then internalError). */
typedef int (*pki_ocsp_lookup_fn)(void *arg, size_t issuer, const char *serial, struct pki_ocsp_answer *answer);

/* Parse a DER OCSPRequest (what a GET's base64 or a POST's body holds).
 * NULL with err naming what is wrong. */
OCSP_REQUEST *pki_ocsp_request_parse(const uint8_t *der, size_t len, char *err, size_t errlen);

/* The DER OCSPResponse for a request (NULL: malformedRequest): every
 * CertID must name one of the issuers (all the same one), else
 * unauthorized; each gets good, revoked (time, reason) or unknown, signed
 * by that issuer's key with its certificate included; thisUpdate now,
 * nextUpdate now + validity seconds; the request's nonce echoed. *der:
 * OPENSSL_free. Returns 0, -1 only when no response could be built. */
int pki_ocsp_respond(OCSP_REQUEST *req, const struct pki_ocsp_issuer *issuers, size_t nissuers,
		     pki_ocsp_lookup_fn lookup, void *arg, int64_t now, int64_t validity, uint8_t **der, size_t *len,
		     char *err, size_t errlen);

#endif
