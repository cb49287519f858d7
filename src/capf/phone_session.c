/*
 * phone_session.c: the phone side of CAPF as a state machine.
 *
 * States follow the server's flow: wait for AUTH_REQUEST, answer it, then
 * wait for the operation (key generation, fetch, delete) or END_SESSION. A
 * key request may be repeated (the server falls back from EC to RSA when the
 * phone refuses EC), so the state after a key answer accepts another key
 * request as well as STORE_CERTIFICATE_REQUEST.
 *
 * Replies are built with the shared codec in ascending tag order, which is
 * what the public phone implementation sends; the unit test holds us to its
 * recorded bytes. Misbehaviours only ever change the AUTH_RESPONSE (or drop
 * the STORE answer), then the phone just watches what the server does.
 * The AUTH_RESPONSE itself (certificate, signatures, SUDI) is phone_auth.c's.
 */
#include "capf/phone_session_internal.h"

#include <openssl/crypto.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const char *const misbehave_names[] = {
	[PHONE_MISBEHAVE_NONE] = "none",
	[PHONE_MISBEHAVE_DISCONNECT_AFTER_AUTH] = "disconnect-after-auth",
	[PHONE_MISBEHAVE_DISCONNECT_BEFORE_STORE] = "disconnect-before-store",
	[PHONE_MISBEHAVE_SILENT] = "silent",
	[PHONE_MISBEHAVE_WRONG_SESSION_ID] = "wrong-session-id",
	[PHONE_MISBEHAVE_TRUNCATED] = "truncated",
	[PHONE_MISBEHAVE_OVERSIZE_ELEMENT] = "oversize-element",
	[PHONE_MISBEHAVE_BAD_PROTOCOL_ID] = "bad-protocol-id",
	[PHONE_MISBEHAVE_GARBAGE] = "garbage",
};
#define N_MISBEHAVE (sizeof misbehave_names / sizeof misbehave_names[0])

int phone_misbehave_parse(const char *name)
{
	for (size_t i = 0; i < N_MISBEHAVE; i++)
		if (strcmp(name, misbehave_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *phone_misbehave_name(enum phone_misbehave m)
{
	return (size_t)m < N_MISBEHAVE ? misbehave_names[m] : "unknown";
}

/* ---- life cycle ---- */

static int identity_valid(const struct phone_identity *id)
{
	if (!id || !id->devname || !*id->devname || strlen(id->devname) >= 64)
		return 0;
	if ((id->mic && !id->mic_key) || (id->lsc && !id->lsc_key))
		return 0;
	return 1;
}

static void take_cert(X509 **dst, EVP_PKEY **dstkey, X509 *cert, EVP_PKEY *key)
{
	if (!cert)
		return;
	X509_up_ref(cert);
	EVP_PKEY_up_ref(key);
	*dst = cert;
	*dstkey = key;
}

struct phone_session *phone_session_new(const struct phone_identity *id,
					const struct phone_options *opts)
{
	struct phone_session *ps;
	static const struct phone_options defaults;

	if (!identity_valid(id))
		return NULL;
	ps = calloc(1, sizeof *ps);
	if (!ps)
		return NULL;
	ps->opts = opts ? *opts : defaults;
	ps->auth_string = strdup(ps->opts.auth_string ? ps->opts.auth_string : "");
	if (!ps->auth_string) {
		free(ps);
		return NULL;
	}
	ps->opts.auth_string = NULL; /* only our wiped copy is kept */
	snprintf(ps->devname, sizeof ps->devname, "%s", id->devname);
	take_cert(&ps->mic, &ps->mic_key, id->mic, id->mic_key);
	take_cert(&ps->lsc, &ps->lsc_key, id->lsc, id->lsc_key);
	ps->state = ST_WAIT_AUTH_REQUEST;
	ps->out.end_reason = -1;
	return ps;
}

void phone_session_free(struct phone_session *ps)
{
	if (!ps)
		return;
	OPENSSL_cleanse(ps->auth_string, strlen(ps->auth_string));
	free(ps->auth_string);
	X509_free(ps->mic);
	X509_free(ps->lsc);
	EVP_PKEY_free(ps->mic_key);
	EVP_PKEY_free(ps->lsc_key);
	EVP_PKEY_free(ps->pending_key);
	OPENSSL_free(ps->pending_spki);
	X509_free(ps->out.new_lsc);
	EVP_PKEY_free(ps->out.new_lsc_key);
	OPENSSL_free(ps->out.new_lsc_der);
	free(ps);
}

const struct phone_outcome *phone_session_outcome(const struct phone_session *ps)
{
	return &ps->out;
}

/* ---- console lines and failures ---- */

/* "invalid element" from the codec's "INVALID_ELEMENT". */
static void reason_words(uint8_t reason, char *out, size_t outcap)
{
	size_t i;

	snprintf(out, outcap, "%s", capf_reason_name(reason));
	for (i = 0; out[i]; i++)
		out[i] = out[i] == '_' ? ' ' : (char)tolower((unsigned char)out[i]);
}

static void console(struct phone_session *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void console(struct phone_session *ps, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!ps->opts.console)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	ps->opts.console(ps->opts.console_arg, line);
}

/* "LSC: Failed" once per session, with the first reason. */
static void show_failure(struct phone_session *ps, const char *why)
{
	if (ps->failure_shown)
		return;
	ps->failure_shown = 1;
	console(ps, "LSC: Failed (%s)", why);
}

int phone_protocol_error(struct phone_session *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->out.error, sizeof ps->out.error, fmt, ap);
	va_end(ap);
	ps->out.status = PHONE_STATUS_ERROR;
	ps->state = ST_DONE;
	show_failure(ps, ps->out.error);
	return -1;
}

/* A step of the phone's own that failed without ending the session. */
static void step_failed(struct phone_session *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void step_failed(struct phone_session *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ps->out.error, sizeof ps->out.error, fmt, ap);
	va_end(ap);
}

int phone_emit(struct phone_session *ps, const struct capf_msg *m, struct buf *out)
{
	if (capf_msg_encode(m, out) < 0 || out->failed)
		return phone_protocol_error(ps, "cannot encode %s", capf_cmd_name(m->cmd));
	return 0;
}

static int emit_reason(struct phone_session *ps, uint8_t cmd, uint8_t reason, struct buf *out)
{
	struct capf_msg m;

	capf_msg_init(&m, cmd, ps->out.session_id);
	capf_msg_add_u8(&m, CAPF_TAG_REASON, &reason);
	return phone_emit(ps, &m, out);
}

/* ---- AUTH_REQUEST (phone_auth.c builds the answer) ---- */

static int on_auth_request(struct phone_session *ps, const struct capf_msg *in, struct buf *out)
{
	uint8_t version = CAPF_VERSION, auth_type = CAPF_AUTH_NONE;

	if (capf_msg_find(in, CAPF_TAG_VERSION) && capf_msg_get_u8(in, CAPF_TAG_VERSION, &version) < 0)
		return phone_protocol_error(ps, "AUTH_REQUEST has a malformed VERSION");
	if (version != CAPF_VERSION)
		return phone_protocol_error(ps, "server speaks CAPF version %u, the phone only 3", version);
	if (capf_msg_find(in, CAPF_TAG_AUTH_TYPE) &&
	    capf_msg_get_u8(in, CAPF_TAG_AUTH_TYPE, &auth_type) < 0)
		return phone_protocol_error(ps, "AUTH_REQUEST has a malformed AUTH_TYPE");

	switch (ps->opts.misbehave) {
	case PHONE_MISBEHAVE_SILENT:
		ps->state = ST_WAIT_REACTION;
		return 0;
	case PHONE_MISBEHAVE_NONE:
	case PHONE_MISBEHAVE_DISCONNECT_BEFORE_STORE:
		ps->state = ST_WAIT_OPERATION;
		break;
	case PHONE_MISBEHAVE_DISCONNECT_AFTER_AUTH:
		ps->out.status = PHONE_STATUS_HANGUP;
		ps->state = ST_DONE;
		break;
	default:
		ps->state = ST_WAIT_REACTION;
		break;
	}
	return phone_send_auth_response(ps, auth_type, out);
}

/* ---- key generation ---- */

static EVP_PKEY *default_keygen(void *arg, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	(void)arg;
	return pki_key_generate(kind, bits, err, errlen);
}

/* What the server asks for: 0 and kind/bits, or -1 with a reason. */
static int parse_key_request(const struct capf_msg *in, enum pki_key_kind *kind, int *bits,
			     char *why, size_t whylen)
{
	static const int curve_bits[] = { 256, 384, 521 };
	uint8_t type = CAPF_KEY_RSA, curve;
	uint16_t size;

	if (capf_msg_find(in, CAPF_TAG_KEY_TYPE) && capf_msg_get_u8(in, CAPF_TAG_KEY_TYPE, &type) < 0) {
		seterr(why, whylen, "malformed KEY_TYPE");
		return -1;
	}
	if (type == CAPF_KEY_RSA) {
		if (capf_msg_get_u16(in, CAPF_TAG_KEY_SIZE, &size) < 0) {
			seterr(why, whylen, "RSA key request without a valid KEY_SIZE");
			return -1;
		}
		*kind = PKI_KEY_RSA;
		*bits = size;
		return 0;
	}
	if (type != CAPF_KEY_EC) {
		seterr(why, whylen, "unknown KEY_TYPE %u", type);
		return -1;
	}
	if (capf_msg_get_u8(in, CAPF_TAG_CURVE, &curve) < 0 || curve > CAPF_CURVE_P521) {
		seterr(why, whylen, "EC key request without a known CURVE");
		return -1;
	}
	*kind = PKI_KEY_EC;
	*bits = curve_bits[curve];
	return 0;
}

static int refuse_key(struct phone_session *ps, struct buf *out)
{
	ps->state = ST_WAIT_STORE;
	return emit_reason(ps, CAPF_CMD_KEY_GENERATE_RESPONSE, CAPF_REASON_INVALID_ELEMENT, out);
}

/* REQUEST_IN_PROGRESS, then KEY_GENERATE_RESPONSE {PUBLIC_KEY}. */
static int send_public_key(struct phone_session *ps, EVP_PKEY *key, struct buf *out)
{
	struct capf_msg m;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int rc;

	if (pki_pubkey_to_der(key, &der, &derlen) < 0)
		return phone_protocol_error(ps, "cannot encode the generated public key");
	capf_msg_init(&m, CAPF_CMD_REQUEST_IN_PROGRESS, ps->out.session_id);
	rc = phone_emit(ps, &m, out);
	if (rc == 0) {
		capf_msg_init(&m, CAPF_CMD_KEY_GENERATE_RESPONSE, ps->out.session_id);
		capf_msg_add(&m, CAPF_TAG_PUBLIC_KEY, der, derlen);
		rc = phone_emit(ps, &m, out);
	}
	OPENSSL_free(ps->pending_spki);
	ps->pending_spki = der;      /* kept to recognise our key in the LSC */
	ps->pending_spki_len = derlen;
	return rc;
}

static int on_key_generate_request(struct phone_session *ps, const struct capf_msg *in,
				   struct buf *out)
{
	phone_keygen_fn keygen = ps->opts.keygen ? ps->opts.keygen : default_keygen;
	enum pki_key_kind kind;
	char why[ERRLEN];
	EVP_PKEY *key;
	int bits;

	ps->out.operation = PHONE_OP_INSTALL;
	if (!ps->pending_shown) {
		ps->pending_shown = 1;
		console(ps, "LSC: Pending");
	}
	if (parse_key_request(in, &kind, &bits, why, sizeof why) < 0) {
		step_failed(ps, "bad key request: %s", why);
		return refuse_key(ps, out);
	}
	if (kind == PKI_KEY_EC && ps->opts.refuse_ec) {
		ps->out.keys_refused++;
		step_failed(ps, "the phone refused the EC P-%d key request", bits);
		return refuse_key(ps, out);
	}
	key = keygen(ps->opts.keygen_arg, kind, bits, why, sizeof why);
	if (!key) {
		step_failed(ps, "key generation failed: %s", why);
		return refuse_key(ps, out);
	}
	EVP_PKEY_free(ps->pending_key);
	ps->pending_key = key;
	ps->state = ST_WAIT_STORE;
	return send_public_key(ps, key, out);
}

/* ---- store, fetch, delete ---- */

/* Does the certificate carry the key we sent, byte for byte? */
static int carries_our_key(const struct phone_session *ps, const uint8_t *der, size_t len)
{
	const uint8_t *spki;
	size_t spki_len;

	return pki_cert_spki_der(der, len, &spki, &spki_len) == 0 && ps->pending_spki &&
	       spki_len == ps->pending_spki_len && memcmp(spki, ps->pending_spki, spki_len) == 0;
}

/* The LSC of a STORE_CERTIFICATE_REQUEST if it is one for our pending key:
 * 0 with its DER in *der (a pointer into the message) and, unless
 * lsc_der_only, the parsed certificate in *cert; -1 (step failed). */
static int certificate_to_store(struct phone_session *ps, const struct capf_msg *in, const uint8_t **der,
				size_t *derlen, X509 **cert)
{
	const struct capf_elem *e = capf_msg_find(in, CAPF_TAG_CERTIFICATE);
	uint8_t type, wrap_type;
	char err[ERRLEN];

	*cert = NULL;
	if (!ps->pending_key) {
		step_failed(ps, "STORE_CERTIFICATE_REQUEST but the phone has no generated key");
		return -1;
	}
	if (capf_msg_find(in, CAPF_TAG_CERTIFICATE_TYPE) &&
	    (capf_msg_get_u8(in, CAPF_TAG_CERTIFICATE_TYPE, &type) < 0 || type != CAPF_CERT_LSC)) {
		step_failed(ps, "STORE_CERTIFICATE_REQUEST for a certificate type other than LSC");
		return -1;
	}
	if (!e || capf_cert_unwrap(e->val, e->len, der, derlen, &wrap_type, err, sizeof err) < 0) {
		step_failed(ps, "STORE_CERTIFICATE_REQUEST without a valid CERTIFICATE");
		return -1;
	}
	if (!ps->opts.lsc_der_only && !(*cert = pki_cert_from_der(*der, *derlen, err, sizeof err))) {
		step_failed(ps, "the stored certificate does not parse: %s", err);
		return -1;
	}
	if (*cert ? EVP_PKEY_eq(X509_get0_pubkey(*cert), ps->pending_key) != 1 : !carries_our_key(ps, *der, *derlen)) {
		step_failed(ps, "the certificate does not carry the key the phone generated");
		X509_free(*cert);
		*cert = NULL;
		return -1;
	}
	return 0;
}

static int on_store_request(struct phone_session *ps, const struct capf_msg *in, struct buf *out)
{
	const uint8_t *der;
	size_t derlen;
	uint8_t *copy = NULL;
	X509 *cert;

	ps->state = ST_WAIT_END;
	if (certificate_to_store(ps, in, &der, &derlen, &cert) < 0 || !(copy = OPENSSL_memdup(der, derlen))) {
		X509_free(cert);
		show_failure(ps, ps->out.error[0] ? ps->out.error : "out of memory");
		return emit_reason(ps, CAPF_CMD_STORE_CERTIFICATE_RESPONSE, CAPF_REASON_INVALID_ELEMENT, out);
	}
	X509_free(ps->out.new_lsc);
	EVP_PKEY_free(ps->out.new_lsc_key);
	OPENSSL_free(ps->out.new_lsc_der);
	ps->out.new_lsc = cert;
	ps->out.new_lsc_der = copy;
	ps->out.new_lsc_len = derlen;
	ps->out.new_lsc_key = ps->pending_key;
	ps->pending_key = NULL;
	ps->out.error[0] = '\0';
	if (ps->opts.misbehave == PHONE_MISBEHAVE_DISCONNECT_BEFORE_STORE) {
		/* Take the certificate, never confirm it. */
		ps->out.status = PHONE_STATUS_HANGUP;
		ps->state = ST_DONE;
		return 0;
	}
	ps->out.phone_step_ok = 1;
	console(ps, "LSC: Installed");
	return emit_reason(ps, CAPF_CMD_STORE_CERTIFICATE_RESPONSE, CAPF_REASON_UPDATE_CERTIFICATE, out);
}

static int on_fetch_request(struct phone_session *ps, struct buf *out)
{
	static const uint8_t success = CAPF_REASON_UPDATE_CERTIFICATE;
	struct capf_msg m;
	struct buf wrapped;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int rc;

	ps->out.operation = PHONE_OP_FETCH;
	ps->out.had_lsc = ps->lsc != NULL;
	ps->out.phone_step_ok = 1;
	ps->state = ST_WAIT_END;
	if (!ps->lsc)
		return emit_reason(ps, CAPF_CMD_FETCH_CERTIFICATE_RESPONSE, CAPF_REASON_INVALID_ELEMENT, out);
	if (pki_cert_to_der(ps->lsc, &der, &derlen) < 0)
		return phone_protocol_error(ps, "cannot encode the LSC");
	buf_init(&wrapped);
	capf_cert_wrap(&wrapped, der, derlen, CAPF_CERT_LSC);
	capf_msg_init(&m, CAPF_CMD_FETCH_CERTIFICATE_RESPONSE, ps->out.session_id);
	capf_msg_add_u8(&m, CAPF_TAG_REASON, &success);
	capf_msg_add(&m, CAPF_TAG_CERTIFICATE, wrapped.data, wrapped.len);
	rc = wrapped.failed ? phone_protocol_error(ps, "out of memory") : phone_emit(ps, &m, out);
	buf_free(&wrapped);
	OPENSSL_free(der);
	return rc;
}

static int on_delete_request(struct phone_session *ps, struct buf *out)
{
	ps->out.operation = PHONE_OP_DELETE;
	ps->out.had_lsc = ps->lsc != NULL;
	ps->out.phone_step_ok = 1;
	ps->state = ST_WAIT_END;
	if (!ps->lsc)
		return emit_reason(ps, CAPF_CMD_DELETE_CERTIFICATE_RESPONSE, CAPF_REASON_INVALID_ELEMENT, out);
	X509_free(ps->lsc);
	EVP_PKEY_free(ps->lsc_key);
	ps->lsc = NULL;
	ps->lsc_key = NULL;
	console(ps, "LSC: Not Installed");
	return emit_reason(ps, CAPF_CMD_DELETE_CERTIFICATE_RESPONSE, CAPF_REASON_UPDATE_CERTIFICATE, out);
}

static int on_end_session(struct phone_session *ps, const struct capf_msg *in)
{
	uint8_t reason;
	char why[ERRLEN];

	if (capf_msg_get_u8(in, CAPF_TAG_REASON, &reason) < 0)
		return phone_protocol_error(ps, "END_SESSION without a valid REASON");
	ps->out.end_reason = reason;
	ps->out.status = PHONE_STATUS_ENDED;
	ps->state = ST_DONE;
	if (reason != CAPF_REASON_NO_ACTION && reason != CAPF_REASON_UPDATE_CERTIFICATE) {
		char words[64];
		reason_words(reason, words, sizeof words);
		snprintf(why, sizeof why, "server ended the session: reason %u, %s", reason, words);
		show_failure(ps, why);
	} else if (ps->out.operation == PHONE_OP_INSTALL && !ps->out.phone_step_ok) {
		show_failure(ps, ps->out.error[0] ? ps->out.error : "no certificate was stored");
	}
	return 0;
}

/* ---- dispatch ---- */

static int command_allowed(enum phone_state st, uint8_t cmd)
{
	if (cmd == CAPF_CMD_END_SESSION)
		return st != ST_DONE;
	switch (st) {
	case ST_WAIT_AUTH_REQUEST:
		return cmd == CAPF_CMD_AUTH_REQUEST;
	case ST_WAIT_OPERATION:
		return cmd == CAPF_CMD_KEY_GENERATE_REQUEST || cmd == CAPF_CMD_FETCH_CERTIFICATE_REQUEST ||
		       cmd == CAPF_CMD_DELETE_CERTIFICATE_REQUEST;
	case ST_WAIT_STORE:
		return cmd == CAPF_CMD_STORE_CERTIFICATE_REQUEST || cmd == CAPF_CMD_KEY_GENERATE_REQUEST;
	default:
		return 0;
	}
}

static int check_session_id(struct phone_session *ps, const struct capf_msg *in)
{
	if (!ps->got_first) {
		ps->got_first = 1;
		ps->out.session_id = in->session_id;
		return 0;
	}
	if (in->session_id != ps->out.session_id)
		return phone_protocol_error(ps, "%s carries session id %08x, the session is %08x",
					    capf_cmd_name(in->cmd), in->session_id, ps->out.session_id);
	return 0;
}

static int unexpected(struct phone_session *ps, const struct capf_msg *in)
{
	if (ps->state == ST_DONE)
		return phone_protocol_error(ps, "%s after the session ended", capf_cmd_name(in->cmd));
	if (ps->state == ST_WAIT_REACTION)
		return phone_protocol_error(ps, "server answered the %s phone with %s instead of ending the session",
					    phone_misbehave_name(ps->opts.misbehave), capf_cmd_name(in->cmd));
	return phone_protocol_error(ps, "unexpected %s (command %u) at this point of the session",
				    capf_cmd_name(in->cmd), in->cmd);
}

int phone_session_on_message(struct phone_session *ps, const struct capf_msg *in,
			     struct buf *out_replies)
{
	if (ps->state == ST_DONE)
		return unexpected(ps, in);
	if (check_session_id(ps, in) < 0)
		return -1;
	if (!command_allowed(ps->state, in->cmd))
		return unexpected(ps, in);
	switch (in->cmd) {
	case CAPF_CMD_AUTH_REQUEST: return on_auth_request(ps, in, out_replies);
	case CAPF_CMD_KEY_GENERATE_REQUEST: return on_key_generate_request(ps, in, out_replies);
	case CAPF_CMD_STORE_CERTIFICATE_REQUEST: return on_store_request(ps, in, out_replies);
	case CAPF_CMD_FETCH_CERTIFICATE_REQUEST: return on_fetch_request(ps, out_replies);
	case CAPF_CMD_DELETE_CERTIFICATE_REQUEST: return on_delete_request(ps, out_replies);
	default: return on_end_session(ps, in);
	}
}

int phone_session_on_bytes(struct phone_session *ps, const uint8_t *data, size_t len,
			   struct buf *out_replies)
{
	struct capf_msg m;
	char err[ERRLEN];

	if (ps->state == ST_DONE)
		return phone_protocol_error(ps, "%zu more bytes after the session ended", len);
	if (capf_msg_decode(&m, data, len, err, sizeof err) < 0)
		return phone_protocol_error(ps, "malformed message from the server: %s", err);
	return phone_session_on_message(ps, &m, out_replies);
}

void phone_session_on_close(struct phone_session *ps, const char *why)
{
	if (ps->state == ST_DONE)
		return;
	phone_protocol_error(ps, "%s", why ? why : "server closed the connection without END_SESSION");
}

int phone_replies_next(const struct buf *replies, size_t *off, const uint8_t **msg, size_t *len)
{
	size_t avail, total;
	char err[ERRLEN];

	if (*off >= replies->len)
		return 0;
	avail = replies->len - *off;
	*msg = replies->data + *off;
	if (capf_frame_length(*msg, avail, &total, err, sizeof err) == 1 && total <= avail)
		*len = total;
	else
		*len = avail;
	*off += *len;
	return 1;
}

/* ---- the result line ---- */

static void installed_text(const struct phone_session *ps, char *out, size_t outcap)
{
	struct pki_cert_info info;

	if (pki_cert_info(ps->out.new_lsc, &info) < 0)
		snprintf(out, outcap, "installed");
	else
		snprintf(out, outcap, "installed serial=%s issuer=%s", info.serial, info.issuer);
}

static void ended_text(const struct phone_session *ps, char *out, size_t outcap)
{
	const struct phone_outcome *o = &ps->out;
	char words[64];

	reason_words((uint8_t)o->end_reason, words, sizeof words);
	if (o->end_reason == CAPF_REASON_UNKNOWN_DEVICE)
		snprintf(out, outcap, "unknown device");
	else if (o->end_reason != CAPF_REASON_NO_ACTION && o->end_reason != CAPF_REASON_UPDATE_CERTIFICATE)
		snprintf(out, outcap, "failed reason=%d (%s)", o->end_reason, words);
	else if (o->operation == PHONE_OP_INSTALL && o->phone_step_ok)
		installed_text(ps, out, outcap);
	else if (o->operation == PHONE_OP_INSTALL)
		snprintf(out, outcap, "failed: %s", o->error[0] ? o->error : "no certificate was stored");
	else if (o->operation == PHONE_OP_FETCH)
		snprintf(out, outcap, o->had_lsc ? "fetched" : "fetched (the phone had no LSC to send)");
	else if (o->operation == PHONE_OP_DELETE)
		snprintf(out, outcap, o->had_lsc ? "deleted" : "deleted (the phone had no LSC)");
	else
		snprintf(out, outcap, "no action");
}

void phone_session_result_text(const struct phone_session *ps, char *out, size_t outcap)
{
	switch (ps->out.status) {
	case PHONE_STATUS_RUNNING:
		snprintf(out, outcap, "in progress");
		break;
	case PHONE_STATUS_HANGUP:
		snprintf(out, outcap, "disconnected (misbehave %s)", phone_misbehave_name(ps->opts.misbehave));
		break;
	case PHONE_STATUS_ERROR:
		snprintf(out, outcap, "protocol error: %s", ps->out.error);
		break;
	case PHONE_STATUS_ENDED:
		ended_text(ps, out, outcap);
		break;
	}
}

