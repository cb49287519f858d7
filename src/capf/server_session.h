/*
 * server_session.h: the server side of one CAPF session as a state machine.
 *
 * Feed it whole messages; it appends its replies (each one whole message)
 * to a buffer, makes the record changes through the environment's records
 * (capf_records.h: no database here), and says when the session is over.
 * No sockets: the net layer owns I/O and timeouts, and asks the session which
 * timeout its current state wants.
 *
 *   WAIT_AUTH --auth ok, operation claimed--> WAIT_KEY --key--> [WAIT_RECORD] --recorded-->
 *       WAIT_STORE --stored--> [WAIT_COMMIT] --committed--> DONE
 *             \-> WAIT_FETCH / WAIT_DELETE --answer--> DONE
 *             \-> DONE (no operation, unknown device, operation claimed by another session, failure)
 *
 * The bracketed states exist with env.defer_install (group commit): the
 * caller records the issued LSC as delivered (WAIT_RECORD) and the phone's
 * confirmation (WAIT_COMMIT) in the committer's transactions and tells the
 * session when they committed. Without it the session writes both itself.
 * Either way the LSC is on disk before STORE_CERTIFICATE_REQUEST is queued,
 * and confirmed on disk before END_SESSION REASON 1.
 */
#ifndef OPENCAPF_CAPF_SERVER_SESSION_H
#define OPENCAPF_CAPF_SERVER_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "capf/capf_records.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"

/* A records operation of the session's environment: REC(env, phone_get, name, &p). */
#define REC(env, op, ...) ((env)->rec->op((env)->rec_ctx, __VA_ARGS__))
#define REC_ERR(env) ((env)->rec->errmsg((env)->rec_ctx))

struct capf_server_cfg {
	int lockout_failures;     /* failed authentications before a lockout (0 = never) */
	int lockout_seconds;      /* how long a lockout lasts */
	int auth_timeout;         /* seconds to wait for AUTH_RESPONSE / short answers */
	int keygen_timeout;       /* seconds a phone may take to generate its key */
	int lsc_days;             /* LSC validity */
};
/* The longest a session may last (the life of its operation claim). */
int capf_server_cfg_session_max(const struct capf_server_cfg *cfg);
void capf_server_cfg_defaults(struct capf_server_cfg *cfg);

/* What a session needs from the worker that runs it. */
struct capf_server_env {
	const struct capf_records *rec;   /* the phones' records (capf_records.h) ... */
	void *rec_ctx;                    /* ... and their context: capf_store_records takes a struct store */
	struct signer *signer;            /* the current CAPF certificate's signer */
	const char *capf_sha256;          /* fingerprint of signer->issuer */
	const struct capf_server_cfg *cfg;
	int defer_install;                /* leave recording the LSC to the caller (WAIT_RECORD, WAIT_COMMIT) */
	const char *node;                 /* this daemon's node name, the prefix of its claims */
	struct session_claims *claims;    /* devices in a session in this process (NULL: none kept) */
};

enum capf_srv_state {
	SRV_WAIT_AUTH,
	SRV_WAIT_KEY,
	SRV_WAIT_STORE,
	SRV_WAIT_FETCH,
	SRV_WAIT_DELETE,
	SRV_WAIT_RECORD,            /* issued; the caller records it as delivered before it is sent */
	SRV_WAIT_COMMIT,            /* stored by the phone; the caller records the install */
	SRV_DONE,
};

struct capf_server_session {
	enum capf_srv_state state;
	uint32_t session_id;
	char peer[64];
	char device[64];
	int known;                  /* device found in the store */
	struct phone phone;         /* as loaded when it authenticated */
	int key_kind;               /* what we asked for: PKI_KEY_RSA / PKI_KEY_EC */
	int key_bits;
	int fell_back_to_rsa;       /* EC preferred, RSA backup: second request sent */
	uint8_t *lsc_der;           /* issued, waiting for the phone to store it */
	size_t lsc_len;
	int lsc_recorded;           /* lsc_der is on record (delivered) */
	char claim[48];             /* the operation claim this session holds, "" if none */
	int64_t claim_until;
	struct session_claims *claims; /* where it holds its device, dropped by capf_server_session_free */
	int64_t keygen_deadline;    /* no key after this: the session fails, however many REQUEST_IN_PROGRESS */
	int64_t started;
	char auth_used[16];         /* "null", "string", "lsc", "mic" */
	char outcome[128];          /* status word the session led to */
	char reason[256];           /* why, for failures */
	int end_reason;             /* REASON sent in END_SESSION, -1 before */
};

void capf_server_session_init(struct capf_server_session *s, uint32_t session_id, const char *peer);
void capf_server_session_free(struct capf_server_session *s);

/* The server speaks first: AUTH_REQUEST {VERSION 3, AUTH_TYPE 0}. */
int capf_server_session_start(struct capf_server_session *s, struct buf *out);

/* One whole message in (header + body). Replies are appended to `out`.
 * Returns 1 when the session is over (send `out`, then close), 0 otherwise. */
int capf_server_session_on_message(struct capf_server_session *s, const struct capf_server_env *env,
				   const uint8_t *msg, size_t len, struct buf *out);

/* WAIT_RECORD and WAIT_COMMIT (env.defer_install): the history entry to
 * record with the delivery (store_capf_lsc_delivered) or the install
 * (store_capf_complete_install), whose other arguments are s->device,
 * s->lsc_der, s->lsc_len and env->capf_sha256. */
void capf_server_session_install_entry(const struct capf_server_session *s, struct history_entry *h);
/* WAIT_RECORD: the delivery committed (rc 0: STORE_CERTIFICATE_REQUEST is
 * appended, returns 0) or failed (rc -1, why: END_SESSION REASON 7, returns 1). */
int capf_server_session_recorded(struct capf_server_session *s, const struct capf_server_env *env, int rc,
				 const char *why, struct buf *out);
/* WAIT_COMMIT: once the transaction committed (rc 0) or failed (rc -1,
 * why), install_done appends END_SESSION (REASON 1, or 7 on failure)
 * and returns 1: the session is over. Never REASON 1 before the commit. */
int capf_server_session_install_done(struct capf_server_session *s, const struct capf_server_env *env, int rc,
				     const char *why, struct buf *out);

/* The connection closed or timed out before DONE: record the attempt (the
 * operation stays pending) when the device is known. */
void capf_server_session_abort(struct capf_server_session *s, const struct capf_server_env *env,
			       const char *why);

/* Seconds the current state may wait for the phone (in WAIT_KEY, what is
 * left of the key-generation limit). */
int capf_server_session_timeout(const struct capf_server_session *s, const struct capf_server_cfg *cfg);

/* One log line for the outcome: device, peer, operation, mode, result, reason. */
void capf_server_session_log(const struct capf_server_session *s);

#endif
