/*
 * server_session.c: the CAPF server's side of one session
 * (capf-protocol.md, "Session flow").
 *
 * Invariants:
 *  - the operation is marked done only after the phone confirms (STORE or
 *    DELETE response with REASON 1), in the same transaction that records the
 *    LSC; a session that ends any other way leaves the operation pending and
 *    records the attempt;
 *  - every reply is one whole message, and END_SESSION is always the last.
 */
#include "capf/server_session.h"

#include <stdlib.h>
#include <string.h>

#include "capf/capf_auth.h"
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
		if (store_capf_attempt_failed(env->st, s->device, &h, status, auth_failed,
					      env->cfg->lockout_failures, env->cfg->lockout_seconds) < 0)
			log_err("capf: %s: cannot record the failed attempt: %s", s->device, store_errmsg(env->st));
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

static int key_request(struct capf_server_session *s, int kind, int bits, struct buf *out)
{
	s->key_kind = kind;
	s->key_bits = bits;
	s->state = SRV_WAIT_KEY;
	return capf_put_key_request(out, s->session_id, (uint8_t)kind, bits);
}

static int start_operation(struct capf_server_session *s, struct buf *out)
{
	struct capf_msg m;

	switch (s->phone.op) {
	case OP_INSTALL:
		if (s->phone.key_order == KEY_ORDER_RSA)
			return key_request(s, PKI_KEY_RSA, s->phone.rsa_bits, out);
		return key_request(s, PKI_KEY_EC, s->phone.ec_bits, out);
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

static int no_operation(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	struct history_entry h;

	snprintf(s->outcome, sizeof s->outcome, "No Pending Operation");
	fill_history(s, &h);
	if (store_history_add(env->st, s->device, &h) < 0)
		log_err("capf: %s: cannot record the session: %s", s->device, store_errmsg(env->st));
	return end_session(s, CAPF_REASON_NO_ACTION, out);
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
	rc = store_phone_get(env->st, s->device, &s->phone);
	if (rc != 0) {
		snprintf(s->outcome, sizeof s->outcome, rc > 0 ? "Unknown Device" : "Failed");
		snprintf(s->reason, sizeof s->reason, "%s", rc > 0 ? "device not configured" : "database error");
		return end_session(s, rc > 0 ? CAPF_REASON_UNKNOWN_DEVICE : CAPF_REASON_INVALID_ELEMENT, out);
	}
	s->known = 1;
	if (s->phone.locked_until > now_utc()) {
		snprintf(s->reason, sizeof s->reason, "locked out after repeated authentication failures");
		return fail_session(s, env, 0, "Device Locked Out", out);
	}
	if (s->phone.op == OP_NONE)
		return no_operation(s, env, out);
	if (s->phone.deadline && now_utc() > s->phone.deadline) {
		snprintf(s->reason, sizeof s->reason, "operation deadline passed");
		snprintf(s->outcome, sizeof s->outcome, "%s", STATUS_LATE);
		struct history_entry h;
		fill_history(s, &h);
		if (store_capf_attempt_failed(env->st, s->device, &h, STATUS_LATE, 0, 0, 0) < 0)
			log_err("capf: %s: cannot record the attempt: %s", s->device, store_errmsg(env->st));
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
	if (start_operation(s, out) < 0)
		return protocol_error(s, env, "cannot encode request", out);
	return 0;
}

/* The phone answered the key request without a key. */
static int on_no_key(struct capf_server_session *s, const struct capf_server_env *env, struct buf *out)
{
	if (s->key_kind == PKI_KEY_EC && s->phone.key_order == KEY_ORDER_EC_RSA && !s->fell_back_to_rsa) {
		s->fell_back_to_rsa = 1;
		return key_request(s, PKI_KEY_RSA, s->phone.rsa_bits, out) < 0 ? -1 : 0;
	}
	snprintf(s->reason, sizeof s->reason, "phone could not generate a %s key",
		 s->key_kind == PKI_KEY_EC ? "EC" : "RSA");
	return fail_session(s, env, 0, "Key Generation Failed", out);
}

static int issue_lsc(struct capf_server_session *s, const struct capf_server_env *env, EVP_PKEY *pub,
		     struct buf *out)
{
	char err[ERRLEN];

	if (pki_lsc_issue_der(env->signer, s->device, pub, env->cfg->lsc_days, &s->lsc_der, &s->lsc_len, err,
			      sizeof err) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot issue the LSC: %s", err);
		return fail_session(s, env, 0, "Internal Error", out);
	}
	if (capf_put_store_lsc(out, s->session_id, s->lsc_der, s->lsc_len) < 0)
		return protocol_error(s, env, "cannot encode the certificate", out);
	s->state = SRV_WAIT_STORE;
	return 0;
}

static int on_key_response(struct capf_server_session *s, const struct capf_server_env *env,
			   const struct capf_msg *m, struct buf *out)
{
	const struct capf_elem *k;
	enum pki_key_kind kind;
	char err[ERRLEN];
	EVP_PKEY *pub;
	int bits, rc;

	if (m->cmd == CAPF_CMD_REQUEST_IN_PROGRESS)
		return 0;
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
	if (store_capf_complete_install(env->st, s->device, s->lsc_der, s->lsc_len, env->capf_sha256, &h) < 0)
		return capf_server_session_install_done(s, env, -1, store_errmsg(env->st), out);
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
	if (store_capf_complete_troubleshoot(env->st, s->device, type == CAPF_CERT_MIC ? "mic" : "lsc", der,
					     derlen, &h) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot record: %s", store_errmsg(env->st));
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
	if (store_capf_complete_delete(env->st, s->device, &h) < 0) {
		snprintf(s->reason, sizeof s->reason, "cannot record: %s", store_errmsg(env->st));
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
	case SRV_WAIT_COMMIT: return 0;  /* nothing is expected; END_SESSION follows the commit */
	case SRV_DONE: break;
	}
	return 1;
}

void capf_server_session_abort(struct capf_server_session *s, const struct capf_server_env *env,
			       const char *why)
{
	struct history_entry h;

	if (s->state == SRV_DONE || s->state == SRV_WAIT_COMMIT) /* the committer records a stored LSC */
		return;
	snprintf(s->outcome, sizeof s->outcome, "Interrupted");
	snprintf(s->reason, sizeof s->reason, "%s", why);
	s->state = SRV_DONE;
	if (!s->known || s->phone.op == OP_NONE)
		return;
	fill_history(s, &h);
	if (store_capf_attempt_failed(env->st, s->device, &h, NULL, 0, 0, 0) < 0)
		log_err("capf: %s: cannot record the interrupted attempt: %s", s->device, store_errmsg(env->st));
}

int capf_server_session_timeout(const struct capf_server_session *s, const struct capf_server_cfg *cfg)
{
	return s->state == SRV_WAIT_KEY ? cfg->keygen_timeout : cfg->auth_timeout;
}

void capf_server_session_log(const struct capf_server_session *s)
{
	log_info("capf session %u: device=%s peer=%s operation=%s auth=%s result=\"%s\"%s%s%s",
		 s->session_id, s->device, s->peer, s->known ? capf_op_name(s->phone.op) : "-",
		 s->known ? (s->auth_used[0] ? s->auth_used : auth_mode_name(s->phone.auth)) : "-",
		 s->outcome[0] ? s->outcome : "-", s->reason[0] ? " reason=\"" : "", s->reason,
		 s->reason[0] ? "\"" : "");
}
