/*
 * test_server_records.c: the CAPF server session with its records kept in
 * memory (capf_records.h), no database: our phone session plays the phone.
 * It checks the order the invariants demand: the LSC is recorded before the
 * message that carries it exists, a failed record means no certificate
 * leaves, the install is confirmed only after the phone stored it, and
 * REQUEST_IN_PROGRESS is held to the key-generation limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capf/phone_session.h"
#include "capf/server_session.h"
#include "common/util.h"
#include "pki/pki.h"
#include "wire/capf_msg.h"

#define DEVICE "SEP001122334455"

/* The records of one phone, and what the session did to them, in order. */
struct memory_records {
	struct phone phone;
	int fail_delivery;           /* lsc_delivered answers -1 ("disk full") */
	char calls[256];             /* "get,delivered,install" */
	int delivered, installed, failed;
};

static void called(struct memory_records *m, const char *what)
{
	snprintf(m->calls + strlen(m->calls), sizeof m->calls - strlen(m->calls), "%s%s", m->calls[0] ? "," : "",
		 what);
}

static int mem_phone_get(void *ctx, const char *name, struct phone *out)
{
	struct memory_records *m = ctx;

	called(m, "get");
	if (strcmp(name, m->phone.name) != 0)
		return 1;
	*out = m->phone;
	return 0;
}

static int mem_locked_until(void *ctx, const char *name, const char *peer, int64_t *until)
{
	(void)ctx, (void)name, (void)peer;
	*until = 0;
	return 0;
}

static int mem_history_add(void *ctx, const char *name, const struct history_entry *h)
{
	(void)name, (void)h;
	called(ctx, "history");
	return 0;
}

static int mem_attempt_failed(void *ctx, const char *name, const struct history_entry *h, const char *status,
			      int auth_failed, int max_failures, int lockout_seconds)
{
	struct memory_records *m = ctx;

	(void)name, (void)h, (void)status, (void)auth_failed, (void)max_failures, (void)lockout_seconds;
	called(m, "failed");
	m->failed++;
	return 0;
}

static int mem_lsc_delivered(void *ctx, const char *name, const uint8_t *der, size_t len, const char *capf_sha256,
			     const struct history_entry *h)
{
	struct memory_records *m = ctx;

	(void)name, (void)der, (void)len, (void)capf_sha256;
	assert_true(h->claim[0] != '\0');     /* the session claims the install with its record */
	called(m, "delivered");
	if (m->fail_delivery)
		return -1;
	m->delivered++;
	return 0;
}

static int mem_complete_install(void *ctx, const char *name, const uint8_t *der, size_t len,
				const char *capf_sha256, const struct history_entry *h)
{
	struct memory_records *m = ctx;

	(void)name, (void)der, (void)len, (void)capf_sha256, (void)h;
	called(m, "install");
	m->installed++;
	m->phone.op = OP_NONE;
	return 0;
}

static int mem_unused_cert(void *ctx, const char *name, const char *kind, const uint8_t *der, size_t len,
			   const struct history_entry *h)
{
	(void)ctx, (void)name, (void)kind, (void)der, (void)len, (void)h;
	fail_msg("troubleshoot is not part of these sessions");
	return -1;
}

static int mem_unused_delete(void *ctx, const char *name, const struct history_entry *h)
{
	(void)ctx, (void)name, (void)h;
	fail_msg("delete is not part of these sessions");
	return -1;
}

static int mem_seen_cert(void *ctx, const char *name, const char *kind, const uint8_t *der, size_t len)
{
	(void)ctx, (void)name, (void)kind, (void)der, (void)len;
	return 0;
}

static STACK_OF(X509) *mem_trust(void *ctx, const char *store_name)
{
	(void)ctx, (void)store_name;
	return sk_X509_new_null();
}

static const char *mem_errmsg(void *ctx)
{
	(void)ctx;
	return "database or disk is full";
}

static const struct capf_records memory_records_ops = {
	.phone_get = mem_phone_get, .locked_until = mem_locked_until, .history_add = mem_history_add,
	.attempt_failed = mem_attempt_failed, .lsc_delivered = mem_lsc_delivered,
	.complete_install = mem_complete_install, .complete_troubleshoot = mem_unused_cert,
	.complete_delete = mem_unused_delete, .seen_cert = mem_seen_cert, .trust = mem_trust,
	.errmsg = mem_errmsg,
};

struct pair {
	struct memory_records rec;
	struct capf_server_cfg cfg;
	struct capf_server_env env;
	struct capf_server_session srv;
	struct phone_session *ph;
	struct signer *signer;
};

static void pair_init(struct pair *p)
{
	struct phone_identity id = { .devname = DEVICE };
	struct phone_options opts = { .auth_cert = PHONE_AUTH_NO_CERT };
	struct pki_org org = { .o = "Example", .c = "NZ" };
	char err[ERRLEN];
	EVP_PKEY *key = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	X509 *cert = pki_capf_cert_create(key, &org, 30, err, sizeof err);

	memset(p, 0, sizeof *p);
	assert_non_null(cert);
	p->signer = signer_local_new(cert, key);
	X509_free(cert);
	EVP_PKEY_free(key);
	phone_defaults(&p->rec.phone, DEVICE);
	p->rec.phone.op = OP_INSTALL;
	p->rec.phone.key_order = KEY_ORDER_EC;
	capf_server_cfg_defaults(&p->cfg);
	p->env = (struct capf_server_env){ .rec = &memory_records_ops, .rec_ctx = &p->rec, .signer = p->signer,
					   .capf_sha256 = "00", .cfg = &p->cfg, .node = "test" };
	capf_server_session_init(&p->srv, 4711, "192.0.2.1");
	p->ph = phone_session_new(&id, &opts);
	assert_non_null(p->ph);
}

static void pair_free(struct pair *p)
{
	capf_server_session_free(&p->srv);
	phone_session_free(p->ph);
	signer_free(p->signer);
}

/* Server bytes to the phone and the phone's replies back, until one side is
 * done. Returns the command of the last server message. */
static int converse(struct pair *p, struct buf *from_server)
{
	struct buf to_server;
	const uint8_t *msg;
	size_t off, len;
	int last = -1, done = 0;

	buf_init(&to_server);
	while (!done && from_server->len > 0) {
		buf_reset(&to_server);
		for (off = 0; phone_replies_next(from_server, &off, &msg, &len);) {
			last = msg[1];
			if (last == CAPF_CMD_STORE_CERTIFICATE_REQUEST)
				/* the certificate leaves only once it is on record */
				assert_non_null(strstr(p->rec.calls, "delivered"));
			phone_session_on_bytes(p->ph, msg, len, &to_server);
		}
		buf_reset(from_server);
		for (off = 0; !done && phone_replies_next(&to_server, &off, &msg, &len);)
			done = capf_server_session_on_message(&p->srv, &p->env, msg, len, from_server);
	}
	for (off = 0; phone_replies_next(from_server, &off, &msg, &len);) {
		last = msg[1];
		phone_session_on_bytes(p->ph, msg, len, &to_server);
	}
	buf_free(&to_server);
	return last;
}

static void test_install_records_before_sending(void **state)
{
	struct pair p;
	struct buf out;

	(void)state;
	pair_init(&p);
	buf_init(&out);
	assert_int_equal(capf_server_session_start(&p.srv, &out), 0);
	assert_int_equal(converse(&p, &out), CAPF_CMD_END_SESSION);
	assert_string_equal(p.rec.calls, "get,delivered,install");
	assert_int_equal(phone_session_outcome(p.ph)->end_reason, CAPF_REASON_UPDATE_CERTIFICATE);
	assert_int_equal(phone_session_outcome(p.ph)->phone_step_ok, 1);
	assert_int_equal(p.srv.state, SRV_DONE);
	buf_free(&out);
	pair_free(&p);
}

static void test_failed_record_sends_nothing(void **state)
{
	struct pair p;
	struct buf out;

	(void)state;
	pair_init(&p);
	p.rec.fail_delivery = 1;
	buf_init(&out);
	assert_int_equal(capf_server_session_start(&p.srv, &out), 0);
	assert_int_equal(converse(&p, &out), CAPF_CMD_END_SESSION);
	assert_string_equal(p.rec.calls, "get,delivered,failed");
	assert_int_equal(phone_session_outcome(p.ph)->end_reason, CAPF_REASON_INVALID_ELEMENT);
	assert_null(phone_session_outcome(p.ph)->new_lsc_der);    /* no certificate reached the phone */
	assert_non_null(strstr(p.srv.reason, "not sent: database or disk is full"));
	buf_free(&out);
	pair_free(&p);
}

static void test_in_progress_has_a_limit(void **state)
{
	static const uint8_t one = 1, version = CAPF_VERSION;
	struct pair p;
	struct buf out, in;
	struct capf_msg m;

	(void)state;
	pair_init(&p);
	p.cfg.keygen_timeout = 5;
	buf_init(&out);
	buf_init(&in);
	assert_int_equal(capf_server_session_start(&p.srv, &out), 0);
	/* AUTH_RESPONSE from the phone, then the server's key request. */
	buf_reset(&out);
	capf_msg_init(&m, CAPF_CMD_AUTH_RESPONSE, 4711);
	capf_msg_add_u8(&m, CAPF_TAG_REASON, &one);
	capf_msg_add_u8(&m, CAPF_TAG_VERSION, &version);
	capf_msg_add(&m, CAPF_TAG_DEVICE_NAME, (const uint8_t *)DEVICE, sizeof DEVICE);
	capf_msg_add(&m, CAPF_TAG_PASSWORD, (const uint8_t *)"", 1);
	assert_int_equal(capf_msg_encode(&m, &in), 0);
	assert_int_equal(capf_server_session_on_message(&p.srv, &p.env, in.data, in.len, &out), 0);
	assert_int_equal(p.srv.state, SRV_WAIT_KEY);
	assert_true(capf_server_session_timeout(&p.srv, &p.cfg) <= 5);
	/* Within the limit REQUEST_IN_PROGRESS is fine; past it, the session fails. */
	buf_reset(&in);
	capf_msg_init(&m, CAPF_CMD_REQUEST_IN_PROGRESS, 4711);
	assert_int_equal(capf_msg_encode(&m, &in), 0);
	assert_int_equal(capf_server_session_on_message(&p.srv, &p.env, in.data, in.len, &out), 0);
	p.srv.keygen_deadline = now_utc() - 1;
	assert_int_equal(capf_server_session_on_message(&p.srv, &p.env, in.data, in.len, &out), 1);
	assert_non_null(strstr(p.srv.outcome, "Key Generation Failed"));
	assert_string_equal(p.rec.calls, "get,failed");
	buf_free(&in);
	buf_free(&out);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_records_before_sending),
		cmocka_unit_test(test_failed_record_sends_nothing),
		cmocka_unit_test(test_in_progress_has_a_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
