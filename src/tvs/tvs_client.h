/*
 * tvs_client.h: the phone side of TVS (used by phonesim): building a
 * VERIFY_REQUEST and reading the VERIFY_RESPONSE. Pure, like tvs_server.h.
 */
#ifndef OPENCAPF_TVS_CLIENT_H
#define OPENCAPF_TVS_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"

#define TVS_DEFAULT_PORT "2445"

struct tvs_verdict {
	uint8_t status;          /* TVS_STATUS_VALID / TVS_STATUS_INVALID (or another value sent) */
	uint8_t roles[64];
	size_t nroles;
	int has_ttl;
	uint32_t ttl;
};

/* VERIFY_REQUEST {DEVICE_NAME 0x01 + device, CERTIFICATE der}; device is the
 * "CP-7962-SEP001122334455" form (model, then device name). Appends to out. */
int tvs_client_request(struct buf *out, uint32_t session_id, const char *device, const uint8_t *der,
		       size_t len, char *err, size_t errlen);
/* Decode a whole response: VERIFY_RESPONSE, the same session id, a 1-byte
 * STATUS; ROLES and TTL when present. 0 or -1 with err. */
int tvs_client_response(const uint8_t *msg, size_t len, uint32_t session_id, struct tvs_verdict *v,
			char *err, size_t errlen);
/* The lines the public TVS client prints after the certificate's:
 * "Status:           Valid", "Role:             CCM"..., "TTL:              86400 seconds". */
void tvs_verdict_print(FILE *out, const struct tvs_verdict *v);

#endif
