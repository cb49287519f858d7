/*
 * server_session.c: the CAPF server's side of one session
 * (capf-protocol.md, "Session flow").
 *
 * Invariants:
 *  - a session acts on a phone's pending operation only after claiming it
 *    (in this process: session_claims.h; in the database, with the LSC's
 *    delivery record): of two sessions for one device, one works and the
 *    other is refused with its own history line;
 *  - an issued LSC is on record (delivered) before STORE_CERTIFICATE_REQUEST
 *    is queued: no phone ever holds a certificate we cannot find or revoke;
 *  - the operation is marked done only after the phone confirms (STORE or
 *    DELETE response with REASON 1), in the same transaction that confirms
 *    the LSC; a session that ends any other way leaves the operation pending,
 *    records the attempt (naming a delivered LSC) and frees its claim;
 *  - key generation has an absolute limit: REQUEST_IN_PROGRESS keeps the
 *    session alive only until keygen_timeout after the key request;
 *  - every reply is one whole message, and END_SESSION is always the last.
 */
#include "capf/server_session.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "capf/capf_auth.h"
#include "capf/session_claims.h"
#include "common/log.h"
#include "wire/capf_msg.h"

void capf_server_cfg_defaults(struct capf_server_cfg *cfg)
{
	cfg->lockout_failures = 5;
	cfg->lockout_seconds = 900;
	cfg->auth_timeout = 30;
	cfg->keygen_timeout = 600;
	cfg->lsc_days = 1825;
}

int capf_server_cfg_session_max(const struct capf_server_cfg *cfg)
{
	/* handshake and AUTH, two key generations (EC, then RSA), store, commit */
	return 4 * cfg->auth_timeout + 2 * cfg->keygen_timeout + 60;
}

void capf_server_session_init(struct capf_server_session *s, uint32_t session_id, const char *peer)
{
	memset(s, 0, sizeof *s);
	s->state = SRV_WAIT_AUTH;
	s->session_id = session_id;
	s->end_reason = -1;
	s->started = now_utc();
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	snprintf(s->device, sizeof s->device, "-");
}

void capf_server_session_free(struct capf_server_session *s)
{
	if (s->claims)
		session_claims_drop(s->claims, s->device);
	s->claims = NULL;
	OPENSSL_free(s->lsc_der);
	s->lsc_der = NULL;
	OPENSSL_cleanse(s->phone.auth_string, sizeof s->phone.auth_string);
}

/* Encode a message into out; every element value lives until this returns. */
int capf_server_session_start(struct capf_server_session *s, struct buf *out)
{
	return capf_put_auth_request(out, s->session_id);
}

static const char *op_word(enum capf_op op)
{
	switch (op) {
	case OP_DELETE: return "Delete";
	case OP_TROUBLESHOOT: return "Troubleshoot";
	default: return "Upgrade";
	}
}

static void fill_history(const struct capf_server_session *s, struct history_entry *h)
{
	memset(h, 0, sizeof *h);
	h->time = now_utc();
	snprintf(h->peer, sizeof h->peer, "%s", s->peer);
	snprintf(h->operation, sizeof h->operation, "%s", capf_op_name(s->phone.op));
	snprintf(h->auth_mode, sizeof h->auth_mode, "%s", auth_mode_name(s->phone.auth));
	snprintf(h->outcome, sizeof h->outcome, "%s", s->outcome);
	snprintf(h->reason, sizeof h->reason, "%s", s->reason);
	snprintf(h->claim, sizeof h->claim, "%s", s->claim);
	h->claim_until = s->claim_until;
}

/* END_SESSION with `reason`; the session is over. */
static int end_session(struct capf_server_session *s, uint8_t reason, struct buf *out)
{
	capf_put_end_session(out, s->session_id, reason);
	s->end_reason = reason;
	s->state = SRV_DONE;
	return 1;
}

/* A failure in a known phone's session: record it, end with REASON 7. */
static int fail_session(struct capf_server_session *s, const struct capf_server_env *env, int auth_failed,
			const char *status_reason, struct buf *out)
{
	struct history_entry h;
	char status[160];

	snprintf(status, sizeof status, "%s Failed: %s", op_word(s->phone.op), status_reason);
	snprintf(s->outcome, sizeof s->outcome, "%s", status);
	if (s->known) {
		fill_history(s, &h);
		if (REC(env, attempt_failed, s->device, &h, status, auth_failed,
					      env->cfg->lockout_failures, env->cfg->lockout_seconds) < 0)
			log_err("capf: %s: cannot record the failed attempt: %s", s->device, REC_ERR(env));
	}
	return end_session(s, CAPF_REASON_INVALID_ELEMENT, out);
}

/* A message that does not belong: bad framing, wrong id, wrong command. */
static int protocol_error(struct capf_server_session *s, const struct capf_server_env *env,
			  const char *why, struct buf *out)
{
	snprintf(s->reason, sizeof s->reason, "%s", why);
	if (s->known)
		return fail_session(s, env, 0, "Protocol Error", out);
	snprintf(s->outcome, sizeof s->outcome, "Rejected");
	return end_session(s, CAPF_REASON_INVALID_ELEMENT, out);
}

static int key_request(struct capf_server_session *s, const struct capf_server_env *env, int kind, int bits,
		       struct buf *out)
{
	s->key_kind = kind;
	s->key_bits = bits;
	s->state = SRV_WAIT_KEY;
	s->keygen_deadline = now_utc() + env->cfg->keygen_timeout;
	return capf_put_key_request(out, s->session_id, (uint8_t)kind, bits);
}

static int start_operation(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	struct capf_msg m;

	switch (s->phone.op) {
	case OP_INSTALL:
		if (s->phone.key_order == KEY_ORDER_RSA)
			return key_request(s, env, PKI_KEY_RSA, s->phone.rsa_bits, out);
		return key_request(s, env, PKI_KEY_EC, s->phone.ec_bits, out);
	case OP_DELETE:
		capf_msg_init(&m, CAPF_CMD_DELETE_CERTIFICATE_REQUEST, s->session_id);
		s->state = SRV_WAIT_DELETE;
		return capf_msg_encode(&m, out);
	case OP_TROUBLESHOOT:
		capf_msg_init(&m, CAPF_CMD_FETCH_CERTIFICATE_REQUEST, s->session_id);
		s->state = SRV_WAIT_FETCH;
		return capf_msg_encode(&m, out);
	case OP_NONE:
		break;
	}
	return -1;
}

/* A session that changes nothing about the phone: a history line only. */
static int history_only(struct capf_server_session *s, const struct capf_server_env *env, const char *outcome,
			uint8_t reason, struct buf *out)
{
	struct history_entry h;

	snprintf(s->outcome, sizeof s->outcome, "%s", outcome);
	fill_history(s, &h);
	if (REC(env, history_add, s->device, &h) < 0)
		log_err("capf: %s: cannot record the session: %s", s->device, REC_ERR(env));
	return end_session(s, reason, out);
}

static int no_operation(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	return history_only(s, env, "No Pending Operation", CAPF_REASON_NO_ACTION, out);
}

/* Only one session may work on a phone's operation: in this process the
 * shared in-memory set says so at once; the database claim ("<node>/<random>")
 * is taken with the LSC's delivery record (store_capf_lsc_delivered). */
static int claim_operation(struct capf_server_session *s, const struct capf_server_env *env)
{
	unsigned char r[8];
	int rc = env->claims ? session_claims_take(env->claims, s->device) : 0;

	if (rc != 0)
		return rc;
	s->claims = env->claims;
	if (RAND_bytes(r, sizeof r) != 1)
		return -1;
	snprintf(s->claim, sizeof s->claim, "%.24s/%02x%02x%02x%02x%02x%02x%02x%02x",
		 env->node && env->node[0] ? env->node : "local", r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]);
	s->claim_until = now_utc() + capf_server_cfg_session_max(env->cfg);
	return 0;
}

/* The source address is locked out of string authentication for this phone. */
static int locked_out(struct capf_server_session *s, const struct capf_server_env *env, int64_t until,
		      struct buf *out)
{
	char when[32];

	fmt_time_utc(until, when, sizeof when);
	snprintf(s->reason, sizeof s->reason, "%s is locked out after repeated authentication failures until %s",
		 s->peer, when);
	return history_only(s, env, "Device Locked Out", CAPF_REASON_INVALID_ELEMENT, out);
}

/* Header checks common to every phone message; NULL reason when fine. */
static const char *check_header(const struct capf_server_session *s, const struct capf_msg *m)
{
	if (m->session_id != s->session_id)
		return "wrong session id";
	return NULL;
}

static int on_auth_response(struct capf_server_session *s, const struct capf_server_env *env,
			    const struct capf_msg *m, struct buf *out)
{
	char reason[ERRLEN] = "";
	const char *status = "Authentication Failed";
	int64_t locked;
	uint8_t version;
	int rc;

	if (m->cmd != CAPF_CMD_AUTH_RESPONSE)
		return protocol_error(s, env, "expected AUTH_RESPONSE", out);
	if (capf_msg_get_u8(m, CAPF_TAG_VERSION, &version) < 0 || version != CAPF_VERSION)
		return protocol_error(s, env, "unsupported protocol version", out);
	if (capf_msg_get_cstr(m, CAPF_TAG_DEVICE_NAME, s->device, sizeof s->device) < 0) {
		snprintf(s->device, sizeof s->device, "-");
		return protocol_error(s, env, "no device name", out);
	}
	/* From here on the name reaches the log, the history and the audit. */
	text_escape(s->device, sizeof s->device, s->device, strlen(s->device));
	rc = REC(env, phone_get, s->device, &s->phone);
	if (rc != 0) {
		snprintf(s->outcome, sizeof s->outcome, rc > 0 ? "Unknown Device" : "Failed");
		snprintf(s->reason, sizeof s->reason, "%s", rc > 0 ? "device not configured" : "database error");
		return end_session(s, rc > 0 ? CAPF_REASON_UNKNOWN_DEVICE : CAPF_REASON_INVALID_ELEMENT, out);
	}
	s->known = 1;
	if (REC(env, locked_until, s->device, s->peer, &locked) < 0) {
		snprintf(s->reason, sizeof s->reason, "database error: %s", REC_ERR(env));
		return fail_session(s, env, 0, "Internal Error", out);
	}
	if (locked > now_utc())
		return locked_out(s, env, locked, out);
	if (s->phone.op == OP_NONE)
		return no_operation(s, env, out);
	if (s->phone.deadline && now_utc() > s->phone.deadline) {
		snprintf(s->reason, sizeof s->reason, "operation deadline passed");
		snprintf(s->outcome, sizeof s->outcome, "%s", STATUS_LATE);
		struct history_entry h;
		fill_history(s, &h);
		if (REC(env, attempt_failed, s->device, &h, STATUS_LATE, 0, 0, 0) < 0)
			log_err("capf: %s: cannot record the attempt: %s", s->device, REC_ERR(env));
		return end_session(s, CAPF_REASON_INVALID_ELEMENT, out);
	}
	switch (capf_auth_check(s, env, m, &status, reason, sizeof reason)) {
	case CAPF_AUTH_OK:
		break;
	case CAPF_AUTH_FAILED:
		snprintf(s->reason, sizeof s->reason, "%s", reason);
		return fail_session(s, env, 1, status, out);
	case CAPF_AUTH_ERROR:
		snprintf(s->reason, sizeof s->reason, "%s", reason);
		return fail_session(s, env, 0, "Internal Error", out);
	}
	switch (claim_operation(s, env)) {
	case 0:
		break;
	case 1:
		snprintf(s->reason, sizeof s->reason, "another session for this device holds its pending operation");
		return history_only(s, env, "Refused: Operation In Progress", CAPF_REASON_INVALID_ELEMENT, out);
	default:
		snprintf(s->reason, sizeof s->reason, "cannot claim the operation: %s", REC_ERR(env));
		return fail_session(s, env, 0, "Internal Error", out);
	}
	if (start_operation(s, env, out) < 0)
		return protocol_error(s, env, "cannot encode request", out);
	return 0;
}

/* The phone answered the key request without a key. */
static int on_no_key(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	if (s->key_kind == PKI_KEY_EC && s->phone.key_order == KEY_ORDER_EC_RSA && !s->fell_back_to_rsa) {
		s->fell_back_to_rsa = 1;
		return key_request(s, env, PKI_KEY_RSA, s->phone.rsa_bits, out) < 0 ? -1 : 0;
	}
	snprintf(s->reason, sizeof s->reason, "phone could not generate a %s key",
		 s->key_kind == PKI_KEY_EC ? "EC" : "RSA");
	return fail_session(s, env, 0, "Key Generation Failed", out);
}

/* The LSC is on record: send it. */
static int send_lsc(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	s->lsc_recorded = 1;
	if (capf_put_store_lsc(out, s->session_id, s->lsc_der, s->lsc_len) < 0)
		return protocol_error(s, env, "cannot encode the certificate", out);
	s->state = SRV_WAIT_STORE;
	return 0;
}

int capf_server_session_recorded(struct capf_server_session *s, const struct capf_server_env *env, int rc,
				 const char *why, struct buf *out)
{
	if (s->state != SRV_WAIT_RECORD)
		return 1;
	if (rc == 0)
		return send_lsc(s, env, out);
	snprintf(s->reason, sizeof s->reason, "cannot record the LSC, so it was not sent: %s",
		 why ? why : "unknown error");
	return fail_session(s, env, 0, "Internal Error", out);
}

/* Issue the LSC, then record it as delivered before anything of it leaves:
 * here, or in the caller's group commit (WAIT_RECORD). */
static int issue_lsc(struct capf_server_session *s, const struct capf_server_env *env, EVP_PKEY *pub,
		     struct buf *out)
{
	struct history_entry h;
	char err[ERRLEN];

	if (pki_lsc_issue_der(env->signer, s->device, pub, env->cfg->lsc_days, &s->lsc_der, &s->lsc_len, err,
			      sizeof err) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot issue the LSC: %s", err);
		return fail_session(s, env, 0, "Internal Error", out);
	}
	s->state = SRV_WAIT_RECORD;
	if (env->defer_install)
		return 0;
	fill_history(s, &h);
	if (REC(env, lsc_delivered, s->device, s->lsc_der, s->lsc_len, env->capf_sha256, &h) < 0)
		return capf_server_session_recorded(s, env, -1, REC_ERR(env), out);
	return send_lsc(s, env, out);
}

static int on_key_response(struct capf_server_session *s, const struct capf_server_env *env,
			   const struct capf_msg *m, struct buf *out)
{
	const struct capf_elem *k;
	enum pki_key_kind kind;
	char err[ERRLEN];
	EVP_PKEY *pub;
	int bits, rc;

	if (m->cmd == CAPF_CMD_REQUEST_IN_PROGRESS) {
		if (now_utc() <= s->keygen_deadline)
			return 0;
		snprintf(s->reason, sizeof s->reason, "no key within %d s of the request (still in progress)",
			 env->cfg->keygen_timeout);
		return fail_session(s, env, 0, "Key Generation Failed", out);
	}
	if (m->cmd != CAPF_CMD_KEY_GENERATE_RESPONSE)
		return protocol_error(s, env, "expected KEY_GENERATE_RESPONSE", out);
	if (!(k = capf_msg_find(m, CAPF_TAG_PUBLIC_KEY)))
		return on_no_key(s, env, out);
	if (!(pub = pki_pubkey_from_der(k->val, k->len, err, sizeof err))) {
		snprintf(s->reason, sizeof s->reason, "bad public key: %s", err);
		return fail_session(s, env, 0, "Invalid Public Key", out);
	}
	if (pki_key_info(pub, &kind, &bits) < 0 || (int)kind != s->key_kind || bits != s->key_bits) {
		char got[32];
		pki_key_describe(pub, got, sizeof got);
		snprintf(s->reason, sizeof s->reason, "asked for %s %d, got %s",
			 s->key_kind == PKI_KEY_EC ? "EC" : "RSA", s->key_bits, got);
		EVP_PKEY_free(pub);
		return fail_session(s, env, 0, "Invalid Public Key", out);
	}
	rc = issue_lsc(s, env, pub, out);
	EVP_PKEY_free(pub);
	return rc;
}

static int on_store_response(struct capf_server_session *s, const struct capf_server_env *env,
			     const struct capf_msg *m, struct buf *out)
{
	struct history_entry h;
	uint8_t reason;

	if (m->cmd != CAPF_CMD_STORE_CERTIFICATE_RESPONSE)
		return protocol_error(s, env, "expected STORE_CERTIFICATE_RESPONSE", out);
	if (capf_msg_get_u8(m, CAPF_TAG_REASON, &reason) < 0 || reason != CAPF_REASON_UPDATE_CERTIFICATE) {
		snprintf(s->reason, sizeof s->reason, "phone did not store the certificate");
		return fail_session(s, env, 0, "Phone Could Not Store Certificate", out);
	}
	snprintf(s->outcome, sizeof s->outcome, STATUS_UPGRADE_SUCCESS);
	if (env->defer_install) {
		s->state = SRV_WAIT_COMMIT;
		return 0;
	}
	fill_history(s, &h);
	if (REC(env, complete_install, s->device, s->lsc_der, s->lsc_len, env->capf_sha256, &h) < 0)
		return capf_server_session_install_done(s, env, -1, REC_ERR(env), out);
	return end_session(s, CAPF_REASON_UPDATE_CERTIFICATE, out);
}

void capf_server_session_install_entry(const struct capf_server_session *s, struct history_entry *h)
{
	fill_history(s, h);
}

int capf_server_session_install_done(struct capf_server_session *s, const struct capf_server_env *env, int rc,
				     const char *why, struct buf *out)
{
	if (rc == 0)
		return end_session(s, CAPF_REASON_UPDATE_CERTIFICATE, out);
	snprintf(s->reason, sizeof s->reason, "cannot record the LSC: %s", why ? why : "unknown error");
	return fail_session(s, env, 0, "Internal Error", out);
}

static int on_fetch_response(struct capf_server_session *s, const struct capf_server_env *env,
			     const struct capf_msg *m, struct buf *out)
{
	const struct capf_elem *e;
	const uint8_t *der = NULL;
	size_t derlen = 0;
	uint8_t type = CAPF_CERT_LSC, reason = 0;
	struct history_entry h;
	char err[ERRLEN];

	if (m->cmd != CAPF_CMD_FETCH_CERTIFICATE_RESPONSE)
		return protocol_error(s, env, "expected FETCH_CERTIFICATE_RESPONSE", out);
	capf_msg_get_u8(m, CAPF_TAG_REASON, &reason);
	e = capf_msg_find(m, CAPF_TAG_CERTIFICATE);
	if (reason == CAPF_REASON_UPDATE_CERTIFICATE && e &&
	    capf_cert_unwrap(e->val, e->len, &der, &derlen, &type, err, sizeof err) < 0) {
		snprintf(s->reason, sizeof s->reason, "bad certificate: %s", err);
		return fail_session(s, env, 0, "Invalid Certificate", out);
	}
	if (!der)
		snprintf(s->reason, sizeof s->reason, "phone holds no LSC");
	snprintf(s->outcome, sizeof s->outcome, STATUS_TROUBLESHOOT_SUCCESS);
	fill_history(s, &h);
	if (REC(env, complete_troubleshoot, s->device, type == CAPF_CERT_MIC ? "mic" : "lsc", der,
					     derlen, &h) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot record: %s", REC_ERR(env));
		return fail_session(s, env, 0, "Internal Error", out);
	}
	return end_session(s, CAPF_REASON_NO_ACTION, out);
}

static int on_delete_response(struct capf_server_session *s, const struct capf_server_env *env,
			      const struct capf_msg *m, struct buf *out)
{
	struct history_entry h;
	uint8_t reason = 0;

	if (m->cmd != CAPF_CMD_DELETE_CERTIFICATE_RESPONSE)
		return protocol_error(s, env, "expected DELETE_CERTIFICATE_RESPONSE", out);
	if (capf_msg_get_u8(m, CAPF_TAG_REASON, &reason) < 0) {
		snprintf(s->reason, sizeof s->reason, "no reason in the delete response");
		return fail_session(s, env, 0, "Protocol Error", out);
	}
	if (reason != CAPF_REASON_UPDATE_CERTIFICATE)
		snprintf(s->reason, sizeof s->reason, "phone had no LSC");
	snprintf(s->outcome, sizeof s->outcome, STATUS_DELETE_SUCCESS);
	fill_history(s, &h);
	if (REC(env, complete_delete, s->device, &h) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot record: %s", REC_ERR(env));
		return fail_session(s, env, 0, "Internal Error", out);
	}
	return end_session(s, CAPF_REASON_UPDATE_CERTIFICATE, out);
}

int capf_server_session_on_message(struct capf_server_session *s, const struct capf_server_env *env,
				   const uint8_t *msg, size_t len, struct buf *out)
{
	struct capf_msg m;
	char err[ERRLEN], why[ERRLEN + 32];
	const char *bad;

	if (s->state == SRV_DONE)
		return 1;
	if (capf_msg_decode(&m, msg, len, err, sizeof err) < 0) {
		snprintf(why, sizeof why, "malformed message: %s", err);
		return protocol_error(s, env, why, out);
	}
	if ((bad = check_header(s, &m)) != NULL)
		return protocol_error(s, env, bad, out);
	switch (s->state) {
	case SRV_WAIT_AUTH: return on_auth_response(s, env, &m, out);
	case SRV_WAIT_KEY: return on_key_response(s, env, &m, out);
	case SRV_WAIT_STORE: return on_store_response(s, env, &m, out);
	case SRV_WAIT_FETCH: return on_fetch_response(s, env, &m, out);
	case SRV_WAIT_DELETE: return on_delete_response(s, env, &m, out);
	case SRV_WAIT_RECORD:            /* nothing is expected; the LSC follows the record */
	case SRV_WAIT_COMMIT: return 0;  /* nothing is expected; END_SESSION follows the commit */
	case SRV_DONE: break;
	}
	return 1;
}

/* The serial of the delivered LSC, for the audit of an interrupted session. */
static void lsc_serial(const struct capf_server_session *s, char *out, size_t cap)
{
	const unsigned char *p = s->lsc_der;
	struct pki_cert_info info;
	X509 *x = d2i_X509(NULL, &p, (long)s->lsc_len);

	out[0] = '\0';
	if (x && pki_cert_info(x, &info) == 0)
		snprintf(out, cap, "%s", info.serial);
	X509_free(x);
}

void capf_server_session_abort(struct capf_server_session *s, const struct capf_server_env *env,
			       const char *why)
{
	struct history_entry h;

	/* In WAIT_RECORD and WAIT_COMMIT the committer owns the session's records. */
	if (s->state == SRV_DONE || s->state == SRV_WAIT_RECORD || s->state == SRV_WAIT_COMMIT)
		return;
	snprintf(s->outcome, sizeof s->outcome, "Interrupted");
	if (s->lsc_recorded)
		snprintf(s->reason, sizeof s->reason, "%s after the LSC was issued; it is on record, unconfirmed", why);
	else
		snprintf(s->reason, sizeof s->reason, "%s", why);
	s->state = SRV_DONE;
	if (!s->known || !s->claim[0])
		return;
	fill_history(s, &h);
	if (s->lsc_recorded)
		lsc_serial(s, h.serial, sizeof h.serial);
	if (REC(env, attempt_failed, s->device, &h, NULL, 0, 0, 0) < 0)
		log_err("capf: %s: cannot record the interrupted attempt: %s", s->device, REC_ERR(env));
}

int capf_server_session_timeout(const struct capf_server_session *s, const struct capf_server_cfg *cfg)
{
	int64_t left;

	if (s->state != SRV_WAIT_KEY)
		return cfg->auth_timeout;
	left = s->keygen_deadline - now_utc();
	return left < 1 ? 1 : left > cfg->keygen_timeout ? cfg->keygen_timeout : (int)left;
}

void capf_server_session_log(const struct capf_server_session *s)
{
	log_info("capf session %u: device=%s peer=%s operation=%s auth=%s result=\"%s\"%s%s%s",
		 s->session_id, s->device, s->peer, s->known ? capf_op_name(s->phone.op) : "-",
		 s->known ? (s->auth_used[0] ? s->auth_used : auth_mode_name(s->phone.auth)) : "-",
		 s->outcome[0] ? s->outcome : "-", s->reason[0] ? " reason=\"" : "", s->reason,
		 s->reason[0] ? "\"" : "");
}
