/*
 * tvs_server.h: the Trust Verification Service, server side, as a pure
 * function: one request message in, one response message out
 * (docs/protocol/tvs-and-itl.md, "Trust Verification Service").
 *
 * The server identifies a certificate by the SHA-256 of the CERTIFICATE
 * element's bytes, exactly as sent; it never parses the certificate (there is
 * nothing to gain from parsing untrusted DER when the answer only depends on
 * its fingerprint). What is known comes from a lookup callback, so this file
 * needs no database; net/tvs_listener.c passes one over the state.
 *
 * Answers, in the element order of the recorded reference server:
 *   known   -> VERIFY_RESPONSE { STATUS 0, ROLES (one byte each), TTL (4) }
 *   unknown -> VERIFY_RESPONSE { STATUS 1 }
 * with the request's session id echoed and the reserved byte 0.
 */
#ifndef OPENCAPF_TVS_SERVER_H
#define OPENCAPF_TVS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define TVS_ANSWER_ROLES_MAX 16

struct tvs_answer {
	uint8_t roles[TVS_ANSWER_ROLES_MAX];
	size_t nroles;
	uint32_t ttl;
};

/* Look a certificate up by its SHA-256 (64 lower-case hex digits):
 * 0 known (fill ans), 1 unknown, -1 error (the request gets no answer). */
typedef int (*tvs_lookup_fn)(void *arg, const char *sha256, struct tvs_answer *ans);

/* What a request was about, for the log line. */
struct tvs_request_info {
	uint32_t session_id;
	uint8_t cmd;
	char device[64];         /* DEVICE_NAME text escaped (text_escape), "" when absent or unreadable */
	char sha256[65];         /* of the CERTIFICATE element, "" when absent */
	int known;               /* 1 known, 0 unknown, -1 not answered */
	struct tvs_answer ans;
};

/* Handle one whole message (as framed by tvs_frame_length). On 0 the
 * response is appended to out. -1 (err says why, no response) for a message
 * that does not decode, a command other than VERIFY_REQUEST, a request
 * without a CERTIFICATE, or a failed lookup: the caller closes the
 * connection. info may be NULL. */
int tvs_server_handle(const uint8_t *msg, size_t len, tvs_lookup_fn lookup, void *arg, struct buf *out,
		      struct tvs_request_info *info, char *err, size_t errlen);

/* "CCM,CAPF": role names (wire/roles.h), decimal ids for unknown ones. */
void tvs_roles_text(const uint16_t *roles, size_t n, char *out, size_t outcap);

#endif
