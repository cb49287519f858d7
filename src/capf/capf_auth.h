/*
 * capf_auth.h: checking the credentials of an AUTH_RESPONSE against the
 * phone's authentication mode (capf-protocol.md, "Authentication").
 */
#ifndef OPENCAPF_CAPF_AUTH_H
#define OPENCAPF_CAPF_AUTH_H

#include "capf/server_session.h"
#include "wire/capf_msg.h"

enum capf_auth_result {
	CAPF_AUTH_OK,
	CAPF_AUTH_FAILED,        /* wrong credentials: counts toward the lockout */
	CAPF_AUTH_ERROR,         /* our side failed (database) */
};

/* On failure `status` is the vendor's word for it ("Invalid LSC", "Invalid
 * MIC", "Authentication String Mismatch") and `reason` the detail. On success
 * s->auth_used says which credential passed; a presented certificate is
 * recorded as seen. */
enum capf_auth_result capf_auth_check(struct capf_server_session *s, const struct capf_server_env *env,
				      const struct capf_msg *m, const char **status,
				      char *reason, size_t reasonlen);

#endif
