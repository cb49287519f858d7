/*
 * test_store_revoke.c: revocation records: an upgrade supersedes the old
 * LSC and a completed delete ends the current one, each in the
 * completion's transaction; revocations are permanent; a removed phone's
 * certificates are revoked once; CRL numbers only grow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "store/store_revoke.h"
#include "store_test_util.h"

#define PHONE "SEP001122334455"
#define CAPF_SHA "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"

static void hist(struct history_entry *h)
{
	memset(h, 0, sizeof *h);
	snprintf(h->operation, sizeof h->operation, "install");
}

static void install(struct store *st, long serial, uint8_t **der, size_t *len)
{
	struct history_entry h;
	struct phone p;

	make_cert(PHONE, serial, der, len);
	assert_int_equal(store_phone_get(st, PHONE, &p), 0);
	p.op = OP_INSTALL;
	assert_int_equal(store_phone_update(st, &p), 0);
	hist(&h);
	assert_int_equal(store_capf_complete_install(st, PHONE, *der, *len, CAPF_SHA, &h), 0);
}

static void test_upgrade_supersedes(void **state)
{
	struct fixture *f = *state;
	struct revocation r;
	struct cert_row lsc1, lsc2;
	uint8_t *d1, *d2;
	size_t l1, l2;

	add_phone(f->st, PHONE);
	install(f->st, 1001, &d1, &l1);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc1), 0);
	assert_int_equal(store_revocation_find(f->st, CAPF_SHA, lsc1.serial, &r), 1);
	install(f->st, 1002, &d2, &l2);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc2), 0);
	assert_int_equal(store_revocation_find(f->st, CAPF_SHA, lsc1.serial, &r), 0);
	assert_int_equal(r.reason, REVOKE_SUPERSEDED);
	assert_string_equal(r.phone, PHONE);
	assert_int_equal(store_revocation_find(f->st, CAPF_SHA, lsc2.serial, &r), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log WHERE action = 'cert.revoke'"), 1);

	/* permanent */
	assert_int_not_equal(raw_exec(f->dir, "UPDATE revocations SET reason = 1"), SQLITE_OK);
	assert_int_not_equal(raw_exec(f->dir, "DELETE FROM revocations"), SQLITE_OK);

	/* a completed delete ends the current one */
	struct history_entry h;
	hist(&h);
	assert_int_equal(store_capf_complete_delete(f->st, PHONE, &h), 0);
	assert_int_equal(store_revocation_find(f->st, CAPF_SHA, lsc2.serial, &r), 0);
	assert_int_equal(r.reason, REVOKE_CESSATION);
	free(d1);
	free(d2);
}

static void test_revoke_phone_once(void **state)
{
	struct fixture *f = *state;
	uint8_t *d1, *d2;
	size_t l1, l2;
	int64_t last = 0, n1 = 0, n2 = 0;

	add_phone(f->st, PHONE);
	install(f->st, 2001, &d1, &l1);
	install(f->st, 2002, &d2, &l2);
	assert_int_equal(store_begin(f->st), 0);
	/* the first was superseded already: only the current one is new */
	assert_int_equal(store_revoke_phone_locked(f->st, "test", PHONE, REVOKE_CESSATION, now_utc(), NULL, NULL), 1);
	assert_int_equal(store_revoke_phone_locked(f->st, "test", PHONE, REVOKE_CESSATION, now_utc(), NULL, NULL), 0);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM revocations"), 2);
	assert_int_equal(store_revocation_last_id(f->st, CAPF_SHA, &last), 0);
	assert_int_equal(last, 2);
	assert_int_equal(store_crl_next(f->st, CAPF_SHA, last, 1, 2, &n1), 0);
	assert_int_equal(store_crl_next(f->st, CAPF_SHA, last, 3, 4, &n2), 0);
	assert_int_equal(n1, 1);
	assert_int_equal(n2, 2);
	assert_int_equal(store_capf_has_issued(f->st, CAPF_SHA), 1);
	free(d1);
	free(d2);
}

static void test_superseded_grace(void **state)
{
	struct fixture *f = *state;
	struct revocation r;
	struct cert_row lsc1;
	uint8_t *d1, *d2;
	size_t l1, l2;
	int64_t now = now_utc();

	add_phone(f->st, PHONE);
	assert_int_equal(store_setting_set(f->st, REVOKE_SETTING_SUPERSEDED_GRACE, "3600"), 0);
	install(f->st, 3001, &d1, &l1);
	assert_int_equal(store_phone_lsc(f->st, PHONE, 0, &lsc1), 0);
	install(f->st, 3002, &d2, &l2);
	/* recorded now, in effect an hour later */
	assert_int_equal(store_revocation_find(f->st, CAPF_SHA, lsc1.serial, &r), 0);
	assert_true(r.time >= now + 3600);
	assert_int_equal(store_revocation_effective(f->st, CAPF_SHA, lsc1.serial, now, &r), 1);
	assert_int_equal(store_revocation_effective(f->st, CAPF_SHA, lsc1.serial, now + 3601, &r), 0);
	assert_int_equal(store_revocation_pending_due(f->st, CAPF_SHA, now, now + 10), 0);
	assert_int_equal(store_revocation_pending_due(f->st, CAPF_SHA, now, now + 3601), 1);
	free(d1);
	free(d2);
}

static void test_reason_names(void **state)
{
	int r = -1;

	(void)state;
	assert_int_equal(revoke_reason_parse("keyCompromise", &r), 0);
	assert_int_equal(r, 1);
	assert_int_equal(revoke_reason_parse("cessationOfOperation", &r), 0);
	assert_int_equal(r, 5);
	assert_int_equal(revoke_reason_parse("bogus", &r), -1);
	assert_string_equal(revoke_reason_name(REVOKE_AFFILIATION_CHANGED), "affiliationChanged");
	assert_null(revoke_reason_name(2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upgrade_supersedes, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_revoke_phone_once, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_superseded_grace, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_reason_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
