/*
 * test_store_invariants.c: the CA invariants the store keeps (schema 5):
 * an LSC is on record as delivered before it is sent and confirmed only by
 * the session that holds the phone's install; claims are exclusive, lapse,
 * and are freed per node; issued certificates change only from delivered
 * to confirmed; the audit log refuses DELETE; repeated failures coalesce;
 * lockouts are per source address with backoff; the registration log keeps
 * real entries under a flood of refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "store/store_register.h"
#include "store_test_util.h"

#define PHONE "SEP001122334455"
#define CAPF_SHA "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"

static void session_entry(struct history_entry *h, const char *peer, const char *claim)
{
	memset(h, 0, sizeof *h);
	snprintf(h->peer, sizeof h->peer, "%s", peer);
	snprintf(h->operation, sizeof h->operation, "install");
	snprintf(h->auth_mode, sizeof h->auth_mode, "string");
	snprintf(h->claim, sizeof h->claim, "%s", claim);
	h->claim_until = now_utc() + 600;
}

static int count_row(const struct cert_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void test_delivered_then_confirmed(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct cert_row row;
	uint8_t *der;
	size_t len;
	char sha[65];
	int n = 0, confirmed = -1;

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x77L, &der, &len);
	sha256_hex(der, len, sha);
	session_entry(&h, "192.0.2.1", "node-a/1111");

	assert_int_equal(store_capf_lsc_delivered(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	/* On record before anything else: issued, unconfirmed, not current. */
	assert_int_equal(store_issued_find(f->st, sha, &row, &confirmed), 1);
	assert_int_equal(confirmed, 0);
	assert_string_equal(row.phone, PHONE);
	assert_int_equal(store_unconfirmed_each(f->st, PHONE, count_row, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_unconfirmed_count(f->st), 1);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &row), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = 'node-a/1111'"), 1);

	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(store_issued_find(f->st, sha, &row, &confirmed), 1);
	assert_int_equal(confirmed, 1);
	assert_int_equal(store_unconfirmed_count(f->st), 0);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &row), 0);
	assert_string_equal(row.sha256, sha);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = ''"), 1);
	free(der);
}

static void test_one_install_one_certificate(void **state)
{
	struct fixture *f = *state;
	struct history_entry a, b;
	uint8_t *der1, *der2;
	size_t len1, len2;

	node_alive("node-a");
	node_alive("node-b");
	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x101L, &der1, &len1);
	make_cert(PHONE, 0x102L, &der2, &len2);
	session_entry(&a, "192.0.2.1", "node-a/aaaa");
	session_entry(&b, "192.0.2.2", "node-b/bbbb");

	assert_int_equal(store_capf_lsc_delivered(f->st, PHONE, der1, len1, CAPF_SHA, &a), 0);
	/* Another session (another node) cannot deliver for the same install... */
	assert_int_equal(store_capf_lsc_delivered(f->st, PHONE, der2, len2, CAPF_SHA, &b), -1);
	assert_non_null(strstr(store_errmsg(f->st), "another session holds the pending install"));
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	/* ...nor confirm one. */
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der1, len1, CAPF_SHA, &b), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no longer holds"));
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der1, len1, CAPF_SHA, &a), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs WHERE status = 'confirmed'"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	free(der1);
	free(der2);
}

static void test_claims_lapse_and_free_per_node(void **state)
{
	struct fixture *f = *state;

	node_alive("node-a");
	node_alive("node-aa");
	node_alive("node-b");
	node_alive("node-c");
	add_phone(f->st, PHONE);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-a/1", now_utc() + 600), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-b/2", now_utc() + 600), 1);
	/* The holder may take it again; the wrong operation is never claimed. */
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-a/1", now_utc() + 600), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_DELETE, "node-b/2", now_utc() + 600), 1);
	/* The same node's leftover is taken over (its in-process claims decide). */
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-a/9", now_utc() + 600), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-aa/9", now_utc() + 600), 1);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-a/1", now_utc() + 600), 0);
	/* Another node's restart frees nothing of node-a's; node-a's frees it. */
	assert_int_equal(store_capf_release_node_claims(f->st, "node"), 0);
	assert_int_equal(store_capf_release_node_claims(f->st, "node-b"), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-b/2", now_utc() + 600), 1);
	assert_int_equal(store_capf_release_node_claims(f->st, "node-a"), 1);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-b/2", now_utc() - 1), 0);
	/* A lapsed claim is free again. */
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-c/3", now_utc() + 600), 0);
	assert_int_equal(store_capf_release(f->st, PHONE, "node-b/2"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = 'node-c/3'"), 1);
	assert_int_equal(store_capf_release(f->st, PHONE, "node-c/3"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = ''"), 1);
}

/* PostgreSQL, several nodes: a claim whose node has no connection left (a
 * node killed mid-session) is free at once; a live node's is not. */
static void test_claim_of_a_dead_node(void **state)
{
	struct fixture *f = *state;

	if (!store_test_pg())
		skip();
	node_alive("node-live");
	add_phone(f->st, PHONE);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-live/1", now_utc() + 600), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-other/2", now_utc() + 600), 1);
	assert_int_equal(store_capf_release(f->st, PHONE, "node-live/1"), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-dead/3", now_utc() + 600), 0);
	assert_int_equal(store_capf_claim(f->st, PHONE, OP_INSTALL, "node-other/2", now_utc() + 600), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = 'node-other/2'"), 1);
}

static void test_failed_session_frees_claim(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	uint8_t *der;
	size_t len;

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x55L, &der, &len);
	session_entry(&h, "192.0.2.1", "node-a/1111");
	assert_int_equal(store_capf_lsc_delivered(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	snprintf(h.reason, sizeof h.reason, "connection closed after the LSC was sent");
	snprintf(h.serial, sizeof h.serial, "55");
	assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, NULL, 0, 0, 0), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE op_claim = ''"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log WHERE action = 'capf.failed' "
					   "AND detail LIKE '%\"serial\":\"55\"%'"), 1);
	/* The certificate stays on record, unconfirmed; the install stays pending. */
	assert_int_equal(store_unconfirmed_count(f->st), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones WHERE operation = 'install'"), 1);
	free(der);
}

static void test_permanence(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	uint8_t *der;
	size_t len;

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x66L, &der, &len);
	session_entry(&h, "192.0.2.1", "");
	assert_int_equal(store_capf_lsc_delivered(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(store_audit(f->st, "test", "x", "", ""), 0);
	/* Nothing but delivered -> confirmed changes an issued certificate. */
	assert_int_not_equal(raw_exec(f->dir, "UPDATE issued_certs SET phone = 'other'"), SQLITE_OK);
	assert_int_not_equal(raw_exec(f->dir, "UPDATE issued_certs SET status = 'confirmed', serial = 'ff'"),
			     SQLITE_OK);
	assert_int_not_equal(raw_exec(f->dir, "DELETE FROM issued_certs"), SQLITE_OK);
	assert_int_equal(raw_exec(f->dir, "UPDATE issued_certs SET status = 'confirmed'"), SQLITE_OK);
	assert_int_not_equal(raw_exec(f->dir, "UPDATE issued_certs SET status = 'delivered'"), SQLITE_OK);
	/* The audit log: no UPDATE, no DELETE. */
	assert_int_not_equal(raw_exec(f->dir, "UPDATE audit_log SET actor = 'x'"), SQLITE_OK);
	assert_int_not_equal(raw_exec(f->dir, "DELETE FROM audit_log"), SQLITE_OK);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 1);
	free(der);
}

static void test_lockout_per_source_with_backoff(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	int64_t until, first;

	add_phone(f->st, PHONE);
	session_entry(&h, "192.0.2.66", "");
	snprintf(h.reason, sizeof h.reason, "wrong authentication string");
	for (int i = 0; i < 2; i++)
		assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, "Upgrade Failed: x", 1, 2, 100), 0);
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "192.0.2.66", &first), 0);
	assert_true(first >= now_utc() + 99 && first <= now_utc() + 100);
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "192.0.2.7", &until), 0);
	assert_int_equal(until, 0);
	/* The next lockout of the same pair lasts twice as long. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, "Upgrade Failed: x", 1, 2, 100), 0);
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "192.0.2.66", &until), 0);
	assert_true(until >= now_utc() + 199 && until <= now_utc() + 200);
	/* IPv6: the /64 is one source. */
	session_entry(&h, "2001:db8:1:2::5", "");
	for (int i = 0; i < 2; i++)
		assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, "Upgrade Failed: x", 1, 2, 100), 0);
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "2001:db8:1:2:ffff::1", &until), 0);
	assert_true(until > now_utc());
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "2001:db8:1:3::5", &until), 0);
	assert_int_equal(until, 0);
}

static void test_history_coalesces_and_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;

	add_phone(f->st, PHONE);
	session_entry(&h, "192.0.2.9", "");
	snprintf(h.outcome, sizeof h.outcome, "Device Locked Out");
	for (int i = 0; i < 50; i++)
		assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, NULL, 0, 0, 0), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count FROM phone_history"), 50);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 1);
	/* Another peer: its own row. Alternating failures: each its own row, bounded. */
	snprintf(h.peer, sizeof h.peer, "192.0.2.10");
	assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, NULL, 0, 0, 0), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 2);
	for (int i = 0; i < HISTORY_KEEP + 20; i++) {
		snprintf(h.reason, sizeof h.reason, "reason %d", i % 2);
		assert_int_equal(store_history_add(f->st, PHONE, &h) >= 0, 1);
	}
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), HISTORY_KEEP);
	/* Successes are never folded together. */
	snprintf(h.outcome, sizeof h.outcome, STATUS_DELETE_SUCCESS);
	assert_int_equal(store_history_add(f->st, PHONE, &h), 0);
	assert_int_equal(store_history_add(f->st, PHONE, &h), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history WHERE outcome = 'Delete Success'"),
			 2);
}

static void register_row(struct register_row *r, const char *peer, const char *result)
{
	memset(r, 0, sizeof *r);
	snprintf(r->peer, sizeof r->peer, "%s", peer);
	snprintf(r->cert_kind, sizeof r->cert_kind, "none");
	snprintf(r->result, sizeof r->result, "%s", result);
	snprintf(r->reason, sizeof r->reason, "no certificate");
}

static void test_register_log_flood(void **state)
{
	struct fixture *f = *state;
	struct register_row r;

	register_row(&r, "192.0.2.1", "accepted");
	snprintf(r.phone, sizeof r.phone, PHONE);
	assert_int_equal(store_register_add(f->st, &r), 0);
	/* Identical refusals from one peer: one row that counts them. */
	register_row(&r, "192.0.2.2", "refused");
	for (int i = 0; i < 100; i++)
		assert_int_equal(store_register_add(f->st, &r), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM register_log WHERE result = 'refused'"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count FROM register_log WHERE result = 'refused'"), 100);
	/* Refusals from many peers are pruned among themselves; the accepted row stays. */
	for (int i = 0; i < REGISTER_FAILED_KEEP + 1000; i++) {
		char peer[32];
		snprintf(peer, sizeof peer, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		register_row(&r, peer, "refused");
		assert_int_equal(store_register_add(f->st, &r), 0);
	}
	assert_true(raw_count(f->dir, "SELECT count(*) FROM register_log WHERE result = 'refused'") <=
		    REGISTER_FAILED_KEEP + 1000);
	assert_true(raw_count(f->dir, "SELECT count(*) FROM register_log WHERE result = 'refused'") >=
		    REGISTER_FAILED_KEEP);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM register_log WHERE result = 'accepted'"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delivered_then_confirmed, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_one_install_one_certificate, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_claims_lapse_and_free_per_node, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_failed_session_frees_claim, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_claim_of_a_dead_node, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_permanence, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_lockout_per_source_with_backoff, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_history_coalesces_and_is_bounded, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_register_log_flood, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
