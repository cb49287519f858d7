/*
 * phone_session.h: the phone side of one CAPF session as a pure state
 * machine (docs/protocol/capf-protocol.md, "Session flow").
 *
 * Feed it every message the server sends; it appends the phone's encoded
 * replies (zero, one or two whole messages: REQUEST_IN_PROGRESS is followed
 * by KEY_GENERATE_RESPONSE in the same call) to a buffer, and keeps the
 * outcome: what the server asked for, whether the phone's side of it worked,
 * the LSC it stored (with the key it generated for it), the END_SESSION
 * reason. It owns no socket and never sleeps, so the emulator's blocking
 * client, an event-driven load generator and the unit tests drive the same
 * code.
 *
 * Invariants: every message after the first must carry the session id of the
 * server's first message; the phone answers in the element order the public
 * phone implementation uses (ascending by tag), so its output is byte for
 * byte the recorded one given the same keys. The authentication string is
 * copied, wiped on free and never logged.
 */
#ifndef OPENCAPF_CAPF_PHONE_SESSION_H
#define OPENCAPF_CAPF_PHONE_SESSION_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "pki/pki.h"
#include "wire/capf_msg.h"

/* What the phone holds. References are taken; the caller keeps its own. */
struct phone_identity {
	const char *devname;       /* "SEP001122334455" */
	X509 *mic;                 /* may be NULL */
	EVP_PKEY *mic_key;         /* required when mic is set */
	X509 *lsc;                 /* NULL when no LSC is installed */
	EVP_PKEY *lsc_key;         /* required when lsc is set */
};

/* Which certificate authenticates the phone when the server's AUTH_REQUEST
 * leaves the choice to it (AUTH_TYPE 0, 1, 2 or absent). AUTH_TYPE 3 always
 * means LSC (else MIC), 4 always means MIC (else LSC). */
enum phone_auth_cert {
	PHONE_AUTH_LSC_FIRST = 0,  /* LSC if installed, else MIC */
	PHONE_AUTH_MIC_FIRST,      /* MIC, else LSC */
	PHONE_AUTH_NO_CERT,        /* no certificate, signatures or SUDI */
};

/* Deliberately broken phones, for server-robustness tests. */
enum phone_misbehave {
	PHONE_MISBEHAVE_NONE = 0,
	PHONE_MISBEHAVE_DISCONNECT_AFTER_AUTH,  /* hang up after AUTH_RESPONSE */
	PHONE_MISBEHAVE_DISCONNECT_BEFORE_STORE,/* hang up instead of the STORE response */
	PHONE_MISBEHAVE_SILENT,                 /* never send anything */
	PHONE_MISBEHAVE_WRONG_SESSION_ID,       /* AUTH_RESPONSE with another session id */
	PHONE_MISBEHAVE_TRUNCATED,              /* header announces more body than is sent */
	PHONE_MISBEHAVE_OVERSIZE_ELEMENT,       /* an element runs past the body */
	PHONE_MISBEHAVE_BAD_PROTOCOL_ID,        /* AUTH_RESPONSE with protocol id != 0x55 */
	PHONE_MISBEHAVE_GARBAGE,                /* random bytes instead of AUTH_RESPONSE */
};
/* "disconnect-after-auth" ... "garbage"; -1 for an unknown name. */
int phone_misbehave_parse(const char *name);
const char *phone_misbehave_name(enum phone_misbehave m);

/* Produces the key the server asked for: kind and bits as in pki.h (EC bits
 * are the curve size 256/384/521). Returns a new reference or NULL with err. */
typedef EVP_PKEY *(*phone_keygen_fn)(void *arg, enum pki_key_kind kind, int bits,
				     char *err, size_t errlen);

/* Receives the phone's console/status lines ("LSC: Pending", "LSC: Installed",
 * "LSC: Failed (...)"), without a newline. */
typedef void (*phone_console_fn)(void *arg, const char *line);

struct phone_options {
	enum phone_auth_cert auth_cert;
	const char *auth_string;     /* PASSWORD element; NULL = empty string */
	int refuse_ec;               /* answer an EC key request with REASON 7, no key */
	int sudi;                    /* add SUDI_DATA, reusing the authentication certificate */
	int mic_wrapped_as_lsc;      /* wrap a MIC with certificate type 1, as the public
				      * test client does (the vectors); default type 2 */
	enum phone_misbehave misbehave;
	phone_keygen_fn keygen;      /* NULL = pki_key_generate */
	void *keygen_arg;
	int lsc_der_only;            /* keep a stored LSC as DER only (new_lsc stays NULL) and
				      * check it carries our key by its SubjectPublicKeyInfo
				      * bytes: the load generator, spared OpenSSL 3.0's decode */
	phone_console_fn console;    /* NULL = none */
	void *console_arg;
};

enum phone_status {
	PHONE_STATUS_RUNNING = 0,    /* waiting for the server's next message */
	PHONE_STATUS_ENDED,          /* END_SESSION received: see end_reason */
	PHONE_STATUS_HANGUP,         /* the phone closes now (misbehave disconnect-*) */
	PHONE_STATUS_ERROR,          /* protocol error (see error); the phone closes */
};

/* The operation the server started. */
enum phone_operation {
	PHONE_OP_NONE = 0,
	PHONE_OP_INSTALL,
	PHONE_OP_FETCH,
	PHONE_OP_DELETE,
};

struct phone_outcome {
	enum phone_status status;
	enum phone_operation operation;
	int end_reason;              /* END_SESSION REASON, -1 if none came */
	uint32_t session_id;         /* from the server's first message */
	int phone_step_ok;           /* the phone's side worked: LSC stored, LSC deleted,
				      * certificate sent (0 if the phone had none) */
	int had_lsc;                 /* for fetch/delete: the phone held an LSC */
	int keys_refused;            /* EC key requests refused (refuse_ec) */
	X509 *new_lsc;               /* the stored LSC, owned by the session (NULL with
				      * lsc_der_only) */
	uint8_t *new_lsc_der;        /* the stored LSC as the server sent it, owned */
	size_t new_lsc_len;
	EVP_PKEY *new_lsc_key;       /* its key, owned by the session */
	char error[ERRLEN];          /* why the status is ERROR, or why a step failed */
};

struct phone_session;

/* NULL on allocation failure or an invalid identity (no devname, certificate
 * without key). */
struct phone_session *phone_session_new(const struct phone_identity *id,
					const struct phone_options *opts);
void phone_session_free(struct phone_session *ps);

/* One decoded server message. Appends the replies to out_replies (whole
 * encoded messages, each to be sent with one write). Returns 0, or -1 when
 * the session has ended in error (status ERROR; the reason is in error).
 * Messages after the session ended are protocol errors. */
int phone_session_on_message(struct phone_session *ps, const struct capf_msg *in,
			     struct buf *out_replies);
/* The same from raw bytes (exactly one whole message): a wrong protocol id or
 * a malformed body is a protocol error. */
int phone_session_on_bytes(struct phone_session *ps, const uint8_t *data, size_t len,
			   struct buf *out_replies);
/* The connection closed (or timed out: `why`) while the session was running:
 * status ERROR unless it had already ended. */
void phone_session_on_close(struct phone_session *ps, const char *why);

const struct phone_outcome *phone_session_outcome(const struct phone_session *ps);

/* Split a reply buffer into messages: returns 1 and the next message at *off
 * (advancing it), 0 at the end. Misbehaving replies may not frame; the rest
 * of the buffer is then returned as one piece. */
int phone_replies_next(const struct buf *replies, size_t *off, const uint8_t **msg, size_t *len);

/* One line summing up the outcome, as phonesim prints it after "result: ":
 * "installed serial=.. issuer=..", "deleted", "fetched", "no action",
 * "failed reason=7 (invalid element)", "unknown device", "protocol error: ..". */
void phone_session_result_text(const struct phone_session *ps, char *out, size_t outcap);

#endif
