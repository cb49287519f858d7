/*
 * ocsp.h: the state's OCSP responder (RFC 6960): answers for every LSC
 * issued under the current or previous CAPF certificate, signed by that
 * CAPF key (the CA itself is the responder: no delegated certificate).
 *
 * good: we issued that serial under that issuer and it is not revoked;
 * revoked: with the time and reason on record; unknown: a serial this
 * state never issued under that issuer. A CertID naming another issuer
 * gets the response status unauthorized, a request that does not parse
 * malformedRequest. thisUpdate is now, nextUpdate now + ADMIN_OCSP_VALIDITY;
 * a nonce in the request is echoed.
 *
 * One responder per thread (it caches the CAPF certificates and keys and
 * reloads them when the state's CAPF certificates change).
 */
#ifndef OPENCAPF_ADMIN_OCSP_H
#define OPENCAPF_ADMIN_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define ADMIN_OCSP_VALIDITY 3600

struct admin_ocsp;
struct admin_ocsp *admin_ocsp_new(void);
void admin_ocsp_free(struct admin_ocsp *o);

/* The DER OCSPResponse for a DER OCSPRequest (*resp: OPENSSL_free). 0,
 * with *resp also for malformed requests and other issuers (their status
 * says so); -1 with err only when nothing could be answered. */
int admin_ocsp_answer(struct admin_ocsp *o, struct store *st, const uint8_t *req, size_t len, uint8_t **resp,
		      size_t *resplen, char *err, size_t errlen);

#endif
