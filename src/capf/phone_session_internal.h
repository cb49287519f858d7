/*
 * phone_session_internal.h: what the files of the phone-side CAPF state
 * machine share, and nothing outside src/capf includes:
 *   phone_session.c  the session, its states and the other messages
 *   phone_auth.c     the AUTH_RESPONSE (certificate choice, signatures,
 *                    SUDI, misbehaviours)
 */
#ifndef OPENCAPF_CAPF_PHONE_SESSION_INTERNAL_H
#define OPENCAPF_CAPF_PHONE_SESSION_INTERNAL_H

#include "capf/phone_session.h"

enum phone_state {
	ST_WAIT_AUTH_REQUEST,
	ST_WAIT_OPERATION,   /* AUTH_RESPONSE sent */
	ST_WAIT_STORE,       /* KEY_GENERATE_RESPONSE sent (with a key or a refusal) */
	ST_WAIT_END,         /* STORE / FETCH / DELETE answered */
	ST_WAIT_REACTION,    /* a misbehaving AUTH_RESPONSE sent (or none at all) */
	ST_DONE,
};

struct phone_session {
	char devname[64];
	char *auth_string;
	X509 *mic, *lsc;
	EVP_PKEY *mic_key, *lsc_key;
	struct phone_options opts;
	enum phone_state state;
	int got_first;
	int pending_shown;
	int failure_shown;
	EVP_PKEY *pending_key;   /* generated and announced, waiting for its LSC */
	uint8_t *pending_spki;   /* its SubjectPublicKeyInfo as sent (OPENSSL_free) */
	size_t pending_spki_len;
	struct phone_outcome out;
};

/* End the session in error: status ERROR, the reason in out.error, "LSC:
 * Failed" on the console (once a session). Returns -1. */
int phone_protocol_error(struct phone_session *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Encode m onto out; -1 (a protocol error) when it cannot be. */
int phone_emit(struct phone_session *ps, const struct capf_msg *m, struct buf *out);

/* Answer an AUTH_REQUEST of this AUTH_TYPE (phone_auth.c): the
 * certificate the options pick, signed for this session, spoiled as the
 * misbehave option says. 0, or -1 (a protocol error). */
int phone_send_auth_response(struct phone_session *ps, uint8_t auth_type, struct buf *out);

#endif
