/*
 * test_store_capf_ops.c: completing CAPF operations (install, delete,
 * troubleshoot, failed attempts), the permanence of issued certificates,
 * and transactions: nesting inside store_begin, all-or-nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "store_test_util.h"

#define PHONE "SEP001122334455"
#define CAPF_SHA "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"

static void hist(struct history_entry *h, int64_t t, const char *outcome, const char *reason)
{
	memset(h, 0, sizeof *h);
	h->time = t;
	snprintf(h->peer, sizeof h->peer, "198.51.100.4:40000");
	snprintf(h->operation, sizeof h->operation, "install");
	snprintf(h->auth_mode, sizeof h->auth_mode, "string");
	snprintf(h->outcome, sizeof h->outcome, "%s", outcome);
	snprintf(h->reason, sizeof h->reason, "%s", reason);
}

struct rows {
	int n;
	struct cert_row r[4];
};

static int collect_certs(const struct cert_row *r, void *arg)
{
	struct rows *rows = arg;

	if (rows->n < 4) {
		rows->r[rows->n] = *r;
		rows->r[rows->n].der = NULL;   /* borrowed: not valid after the call */
	}
	rows->n++;
	return 0;
}

struct audits {
	int n;
	struct audit_entry e[8];
};

static int collect_audit(const struct audit_entry *e, void *arg)
{
	struct audits *a = arg;

	if (a->n < 8)
		a->e[a->n] = *e;
	a->n++;
	return 0;
}

static void test_complete_install(void **state)
{
	struct fixture *f = *state;
	uint8_t *der1, *der2;
	size_t len1, len2;
	char sha1[65], sha2[65];
	struct history_entry h;
	struct phone p;
	struct cert_row lsc;
	struct rows rows = { 0 };
	struct audits au = { 0 };

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x1234abcdL, &der1, &len1);
	make_cert(PHONE, 0x0a0b0cL, &der2, &len2);
	sha256_hex(der1, len1, sha1);
	sha256_hex(der2, len2, sha2);

	hist(&h, 1800000000, "", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der1, len1, CAPF_SHA, &h), 0);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_int_equal(p.op, OP_NONE);
	assert_int_equal(p.deadline, 0);
	assert_string_equal(p.status, STATUS_UPGRADE_SUCCESS);
	assert_int_equal(p.auth_failures, 0);
	assert_int_equal(p.last_contact, 1800000000);
	assert_string_equal(p.auth_string, "9081726354");   /* settings untouched */

	assert_int_equal(store_phone_lsc(f->st, PHONE, 1, &lsc), 0);
	assert_string_equal(lsc.serial, "1234abcd");
	assert_string_equal(lsc.sha256, sha1);
	assert_string_equal(lsc.issuer_sha256, CAPF_SHA);
	assert_string_equal(lsc.kind, "lsc");
	assert_non_null(strstr(lsc.subject, "CN=" PHONE));
	assert_true(lsc.not_after > lsc.not_before);
	assert_int_equal(lsc.derlen, len1);
	assert_memory_equal(lsc.der, der1, len1);
	cert_row_free(&lsc);
	assert_null(lsc.der);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc), 0);
	assert_null(lsc.der);
	assert_int_equal(store_phone_mic(f->st, PHONE, 0, &lsc), 1);

	/* Second install: both stay on record, the new one is current. */
	p.op = OP_INSTALL;
	assert_int_equal(store_phone_update(f->st, &p), 0);
	hist(&h, 1800000100, "Upgrade Success", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der2, len2, CAPF_SHA, &h), 0);
	assert_int_equal(store_issued_each(f->st, PHONE, collect_certs, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.r[0].sha256, sha1);
	assert_string_equal(rows.r[1].sha256, sha2);
	assert_string_equal(rows.r[1].serial, "0a0b0c");
	assert_int_equal(rows.r[1].time, 1800000100);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc), 0);
	assert_string_equal(lsc.sha256, sha2);
	rows.n = 0;
	assert_int_equal(store_issued_each(f->st, NULL, collect_certs, &rows), 0);
	assert_int_equal(rows.n, 2);
	rows.n = 0;
	assert_int_equal(store_issued_each(f->st, "SEP999999999999", collect_certs, &rows), 0);
	assert_int_equal(rows.n, 0);

	/* History and audit: one each per completion, no secret. */
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history WHERE outcome = 'Upgrade Success'"), 2);
	assert_int_equal(store_audit_each(f->st, 0, collect_audit, &au), 0);
	/* ... and the upgrade revoked the first LSC as superseded. */
	assert_int_equal(au.n, 3);
	assert_string_equal(au.e[0].actor, "capf");
	assert_string_equal(au.e[0].action, "capf.install");
	assert_string_equal(au.e[0].object, PHONE);
	assert_non_null(strstr(au.e[0].detail, "\"serial\":\"0a0b0c\""));
	assert_string_equal(au.e[1].action, "cert.revoke");
	assert_string_equal(au.e[1].object, "1234abcd");
	assert_non_null(strstr(au.e[1].detail, "\"reason\":\"superseded\""));
	assert_non_null(strstr(au.e[2].detail, "\"serial\":\"1234abcd\""));
	assert_non_null(strstr(au.e[0].detail, "\"outcome\":\"Upgrade Success\""));
	assert_null(strstr(au.e[0].detail, "9081726354"));
	free(der1);
	free(der2);
}

static void test_issued_certs_permanent(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	uint8_t *der;
	size_t len;
	char msg[256];

	add_phone(f->st, PHONE);
	make_cert(PHONE, 77, &der, &len);
	hist(&h, 0, "", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	free(der);
	store_close(f->st);
	f->st = NULL;

	assert_int_equal(raw_exec_msg(f->dir, "UPDATE issued_certs SET serial = 'ff'", msg, sizeof msg), SQLITE_CONSTRAINT);
	assert_string_equal(msg, "issued certificates are permanent");
	assert_int_equal(raw_exec_msg(f->dir, "DELETE FROM issued_certs", msg, sizeof msg), SQLITE_CONSTRAINT);
	assert_string_equal(msg, "issued certificates are permanent");
	/* Deleting the phone (foreign keys on) does not take its LSCs along. */
	assert_int_equal(raw_exec(f->dir, store_test_pg() ? "DELETE FROM phones"
							  : "PRAGMA foreign_keys = ON; DELETE FROM phones"), SQLITE_OK);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs WHERE serial = '4d'"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_certs"), 0);
}

static void test_complete_delete(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct cert_row lsc;
	struct phone p;
	struct audits au = { 0 };
	uint8_t *der;
	size_t len;

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x55, &der, &len);
	hist(&h, 1800000000, "", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	p.op = OP_DELETE;
	p.deadline = 1900000000;
	assert_int_equal(store_phone_update(f->st, &p), 0);

	hist(&h, 1800000500, "", "");
	assert_int_equal(store_capf_complete_delete(f->st, PHONE, &h), 0);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_int_equal(p.op, OP_NONE);
	assert_int_equal(p.deadline, 0);
	assert_string_equal(p.status, STATUS_DELETE_SUCCESS);
	assert_int_equal(p.last_contact, 1800000500);
	assert_int_equal(store_audit_each(f->st, 1, collect_audit, &au), 0);
	assert_int_equal(au.n, 1);
	assert_string_equal(au.e[0].action, "capf.delete");
	assert_non_null(strstr(au.e[0].detail, "\"serial\":\"55\""));
	assert_non_null(strstr(au.e[0].detail, "\"outcome\":\"Delete Success\""));

	/* Unknown phone: an error, nothing written. */
	assert_int_equal(store_capf_complete_delete(f->st, "SEP00000000DEAD", &h), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no phone named"));
	/* install, the delete's revocation (cessationOfOperation), delete */
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 3);
	free(der);
}

static void test_complete_troubleshoot(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct cert_row mic, lsc;
	struct phone p;
	uint8_t *mder, *lder;
	size_t mlen, llen;
	char msha[65];

	add_phone(f->st, PHONE);
	make_cert(PHONE, 0x31, &mder, &mlen);
	make_cert(PHONE, 0x32, &lder, &llen);
	sha256_hex(mder, mlen, msha);
	hist(&h, 1800000000, "", "");
	assert_int_equal(store_capf_complete_troubleshoot(f->st, PHONE, "mic", mder, mlen, &h), 0);
	assert_int_equal(store_phone_mic(f->st, PHONE, 1, &mic), 0);
	assert_string_equal(mic.sha256, msha);
	assert_string_equal(mic.serial, "31");
	assert_int_equal(mic.time, 1800000000);
	assert_memory_equal(mic.der, mder, mlen);
	cert_row_free(&mic);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc), 1);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_string_equal(p.status, STATUS_TROUBLESHOOT_SUCCESS);
	assert_int_equal(p.op, OP_NONE);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM seen_certs WHERE kind = 'mic'"), 1);

	/* Without a certificate; then the same MIC seen again is one row. */
	assert_int_equal(store_capf_complete_troubleshoot(f->st, PHONE, NULL, NULL, 0, &h), 0);
	assert_int_equal(store_seen_cert(f->st, PHONE, "mic", mder, mlen), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count FROM seen_certs WHERE kind = 'mic'"), 2);

	/* A presented LSC that we issued keeps its CAPF fingerprint. */
	assert_int_equal(store_capf_complete_install(f->st, PHONE, lder, llen, CAPF_SHA, &h), 0);
	assert_int_equal(store_capf_complete_delete(f->st, PHONE, &h), 0);
	assert_int_equal(store_seen_cert(f->st, PHONE, "lsc", lder, llen), 0);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc), 0);
	assert_string_equal(lsc.issuer_sha256, CAPF_SHA);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_certs WHERE kind = 'lsc' AND source = 'issued'"), 1);

	/* Bad kind or bytes: refused. */
	assert_int_equal(store_seen_cert(f->st, PHONE, "xyz", lder, llen), -1);
	assert_int_equal(store_seen_cert(f->st, PHONE, "lsc", (const uint8_t *)"junk", 4), -1);
	assert_int_equal(store_seen_cert(f->st, "SEP00000000DEAD", "lsc", lder, llen), -1);
	free(mder);
	free(lder);
}

static int first_lockout(const struct auth_lockout *l, void *arg)
{
	*(struct auth_lockout *)arg = *l;
	return 1;
}

static void test_attempt_failed_lockout(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct auth_lockout l;
	struct phone p;
	struct audits au = { 0 };
	int64_t until;

	add_phone(f->st, PHONE);
	hist(&h, 1800000000, "", "wrong authentication string");
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, "Upgrade Failed: Authentication Failed",
							   1, 3, 600), 0);
		memset(&l, 0, sizeof l);
		assert_int_equal(store_auth_lockouts_each(f->st, PHONE, first_lockout, &l), 1);
		assert_int_equal(l.failures, i);
		assert_int_equal(l.locked_until, 0);
	}
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_string_equal(p.status, "Upgrade Failed: Authentication Failed");
	assert_int_equal(p.op, OP_INSTALL);          /* still pending */
	assert_int_equal(p.last_contact, 1800000000);
	assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, "Upgrade Failed: Authentication Failed",
						   1, 3, 600), 0);
	assert_int_equal(store_auth_locked_until(f->st, PHONE, h.peer, &until), 0);
	assert_int_equal(until, 1800000000 + 600);
	/* Only that address is locked out. */
	assert_int_equal(store_auth_locked_until(f->st, PHONE, "198.51.100.5", &until), 0);
	assert_int_equal(until, 0);

	/* Not an authentication failure, no status: counter and status kept. */
	hist(&h, 1800000900, "", "connection \"closed\"\n");
	assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, NULL, 0, 3, 600), 0);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_string_equal(p.status, "Upgrade Failed: Authentication Failed");
	assert_int_equal(p.last_contact, 1800000900);
	/* The three identical failures are one row counted three times. */
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 2);
	assert_int_equal(raw_count(f->dir, "SELECT count FROM phone_history WHERE outcome <> 'Failed'"), 3);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history WHERE outcome = 'Failed'"), 1);
	assert_int_equal(store_audit_each(f->st, 2, collect_audit, &au), 0);
	assert_int_equal(au.n, 2);
	assert_string_equal(au.e[0].action, "capf.failed");
	assert_non_null(strstr(au.e[0].detail, "\"reason\":\"connection \\\"closed\\\"\\u000a\""));
	assert_non_null(strstr(au.e[1].detail, "\"auth_failures\":1"));

	/* A successful operation from that address clears its lockout. */
	hist(&h, 1800001000, "", "");
	assert_int_equal(store_capf_attempt_failed(f->st, PHONE, &h, NULL, 1, 3, 600), 0);
	assert_int_equal(store_capf_complete_delete(f->st, PHONE, &h), 0);
	assert_int_equal(store_auth_lockouts_each(f->st, PHONE, first_lockout, &l), 0);
}

static void test_install_bad_cert_records_nothing(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct phone p;

	add_phone(f->st, PHONE);
	hist(&h, 0, "", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, (const uint8_t *)"\x30\x03\x02\x01\x01", 5,
						     CAPF_SHA, &h), -1);
	assert_non_null(strstr(store_errmsg(f->st), "not an X.509 certificate"));
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_int_equal(p.op, OP_INSTALL);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 0);
}

static void test_install_for_removed_phone(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct audits au = { 0 };
	uint8_t *der;
	size_t len;

	make_cert(PHONE, 9, &der, &len);
	hist(&h, 0, "", "");
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	assert_int_equal(store_audit_each(f->st, 0, collect_audit, &au), 0);
	assert_int_equal(au.n, 1);
	assert_non_null(strstr(au.e[0].detail, "phone removed during the session"));
	free(der);
}

static void test_nested_in_caller_transaction(void **state)
{
	struct fixture *f = *state;
	struct history_entry h;
	struct phone p;
	uint8_t *der;
	size_t len;

	make_cert(PHONE, 0x42, &der, &len);
	hist(&h, 0, "", "");

	/* Rolled back with the caller's transaction. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_begin(f->st), -1);       /* no nesting of store_begin itself */
	add_phone(f->st, PHONE);
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(store_audit(f->st, "cli:test", "phone.add", PHONE, "{}"), 0);
	store_rollback(f->st);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 0);

	/* A failing nested call undoes only itself; the caller can go on. */
	assert_int_equal(store_begin(f->st), 0);
	add_phone(f->st, PHONE);
	assert_int_equal(store_capf_complete_delete(f->st, "SEP00000000DEAD", &h), -1);
	assert_int_equal(store_capf_complete_install(f->st, PHONE, der, len, CAPF_SHA, &h), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 0);   /* not yet visible */
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_phone_get(f->st, PHONE, &p), 0);
	assert_string_equal(p.status, STATUS_UPGRADE_SUCCESS);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM issued_certs"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 1);
	assert_int_equal(store_commit(f->st), -1);       /* nothing open */
	free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_complete_install, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_issued_certs_permanent, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_complete_delete, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_complete_troubleshoot, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_attempt_failed_lockout, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_install_bad_cert_records_nothing, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_install_for_removed_phone, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_nested_in_caller_transaction, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
