/*
 * test_store_api.c: API tokens, browser sessions and failed logins
 * (store_api.h): a token checks only as itself (not with another id, a
 * changed character, a prefix, a longer text), only its hash is stored,
 * revoking ends it and its sessions, sessions expire, and failed logins
 * are counted per address and pruned (per address and in all, so the table
 * stays bounded).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "store/store_api.h"
#include "store_test_util.h"

static void create(struct store *st, enum api_role role, const char *label, struct api_token *t, char *text)
{
	assert_int_equal(store_api_token_create(st, role, label, t, text, API_SECRET_TEXT_MAX), 0);
}

static void test_token_checks_only_as_itself(void **state)
{
	struct fixture *f = *state;
	struct api_token a, b, got;
	char ta[API_SECRET_TEXT_MAX], tb[API_SECRET_TEXT_MAX], bad[API_SECRET_TEXT_MAX + 8];

	create(f->st, API_ROLE_ADMIN, "alice", &a, ta);
	create(f->st, API_ROLE_READ, "", &b, tb);
	assert_int_equal(strncmp(ta, "ocapf_", 6), 0);
	assert_int_equal(store_api_token_check(f->st, ta, &got), 0);
	assert_int_equal(got.id, a.id);
	assert_int_equal(got.role, API_ROLE_ADMIN);
	assert_string_equal(got.label, "alice");
	assert_int_equal(store_api_token_check(f->st, tb, &got), 0);
	assert_int_equal(got.role, API_ROLE_READ);

	/* a's secret under b's id, one character changed, cut, extended, junk */
	snprintf(bad, sizeof bad, "ocapf_%lld_%s", (long long)b.id, strrchr(ta, '_') + 1);
	assert_int_equal(store_api_token_check(f->st, bad, &got), 1);
	snprintf(bad, sizeof bad, "%s", ta);
	bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(store_api_token_check(f->st, bad, &got), 1);
	snprintf(bad, sizeof bad, "%.*s", (int)strlen(ta) - 1, ta);
	assert_int_equal(store_api_token_check(f->st, bad, &got), 1);
	snprintf(bad, sizeof bad, "%sA", ta);
	assert_int_equal(store_api_token_check(f->st, bad, &got), 1);
	assert_int_equal(store_api_token_check(f->st, "", &got), 1);
	assert_int_equal(store_api_token_check(f->st, "ocapf__x", &got), 1);
	assert_int_equal(store_api_token_check(f->st, "ocapf_999999999999999999999_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", &got), 1);
}

static void test_only_hashes_are_stored(void **state)
{
	struct fixture *f = *state;
	struct api_token t;
	char text[API_SECRET_TEXT_MAX], sql[256], hash[65];

	create(f->st, API_ROLE_ADMIN, "x", &t, text);
	sha256_hex((const uint8_t *)text, strlen(text), hash);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE hash = '%s'", hash);
	assert_int_equal(raw_count(f->dir, sql), 1);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM api_tokens WHERE (hash || label) LIKE '%%%s%%'",
		 strrchr(text, '_') + 1);
	assert_int_equal(raw_count(f->dir, sql), 0);
}

static void test_revoke(void **state)
{
	struct fixture *f = *state;
	struct api_token t, got;
	char text[API_SECRET_TEXT_MAX], cookie[API_SECRET_TEXT_MAX];
	int64_t expires;

	create(f->st, API_ROLE_ADMIN, "x", &t, text);
	assert_int_equal(store_api_session_create(f->st, t.id, 3600, "127.0.0.1", cookie, sizeof cookie, &expires), 0);
	assert_int_equal(store_api_session_check(f->st, cookie, &got, NULL), 0);
	assert_int_equal(got.id, t.id);
	assert_int_equal(store_api_token_revoke(f->st, t.id), 0);
	assert_int_equal(store_api_token_revoke(f->st, t.id), 1);
	assert_int_equal(store_api_token_revoke(f->st, 424242), 1);
	assert_int_equal(store_api_token_check(f->st, text, &got), 1);
	assert_int_equal(store_api_session_check(f->st, cookie, &got, NULL), 1);
	assert_int_equal(store_api_token_get(f->st, t.id, &got), 0);
	assert_true(got.revoked);
}

static void test_sessions(void **state)
{
	struct fixture *f = *state;
	struct api_token t, got;
	char text[API_SECRET_TEXT_MAX], c1[API_SECRET_TEXT_MAX], c2[API_SECRET_TEXT_MAX];
	int64_t expires;

	create(f->st, API_ROLE_READ, "", &t, text);
	assert_int_equal(store_api_session_create(f->st, t.id, 3600, "::1", c1, sizeof c1, &expires), 0);
	assert_int_equal(store_api_session_create(f->st, t.id, 3600, "::1", c2, sizeof c2, NULL), 0);
	assert_string_not_equal(c1, c2);
	assert_true(expires > now_utc());
	assert_int_equal(store_api_session_check(f->st, c1, &got, NULL), 0);
	assert_int_equal(got.role, API_ROLE_READ);
	assert_int_equal(store_api_session_delete(f->st, c1), 0);
	assert_int_equal(store_api_session_check(f->st, c1, &got, NULL), 1);
	assert_int_equal(store_api_session_check(f->st, c2, &got, NULL), 0);
	/* the token is no session, and a session is no token */
	assert_int_equal(store_api_session_check(f->st, text, &got, NULL), 1);
	assert_int_equal(store_api_token_check(f->st, c2, &got), 1);
	/* expired */
	assert_int_equal(raw_exec(f->dir, "UPDATE api_sessions SET expires = 1"), SQLITE_OK);
	assert_int_equal(store_api_session_check(f->st, c2, &got, NULL), 1);
}

static void test_login_failures(void **state)
{
	struct fixture *f = *state;
	int64_t t;

	assert_int_equal(store_api_login_failures(f->st, "10.0.0.1", 0), 0);
	assert_int_equal(store_api_login_failure_time(f->st, "10.0.0.1", 0, 1), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(store_api_login_failed(f->st, "10.0.0.1", 100), 0);
	assert_int_equal(store_api_login_failed(f->st, "10.0.0.2", 100), 0);
	assert_int_equal(store_api_login_failures(f->st, "10.0.0.1", 0), 3);
	t = store_api_login_failure_time(f->st, "10.0.0.1", 0, 3);
	assert_true(t >= now_utc() - 5 && t <= now_utc());
	assert_int_equal(store_api_login_failure_time(f->st, "10.0.0.1", 0, 4), 0);
	assert_int_equal(store_api_login_failures(f->st, "10.0.0.2", 0), 1);
	assert_int_equal(store_api_login_failures(f->st, "10.0.0.1", now_utc() + 10), 0);
	/* a source keeps only its newest `keep` failures */
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_api_login_failed(f->st, "10.0.0.1", 4), 0);
	assert_int_equal(store_api_login_failures(f->st, "10.0.0.1", 0), 4);
	assert_int_equal(store_api_login_failures(f->st, "10.0.0.2", 0), 1);
	/* failures older than a day are pruned by the next one */
	assert_int_equal(raw_exec(f->dir, "UPDATE login_failures SET time = 1"), SQLITE_OK);
	assert_int_equal(store_api_login_failed(f->st, "10.0.0.3", 100), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM login_failures"), 1);
	/* many sources: the table keeps STORE_LOGIN_FAILURES_MAX rows, the newest */
	assert_int_equal(raw_exec(f->dir, store_test_pg()
		? "INSERT INTO login_failures (source, time) SELECT '10.1.' || i, "
		  "extract(epoch from now())::bigint FROM generate_series(1, 12000) AS i"
		: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
		  "WHERE i < 12000) INSERT INTO login_failures (source, time) "
		  "SELECT '10.1.' || i, strftime('%s', 'now') FROM n"),
			 SQLITE_OK);
	assert_int_equal(store_api_login_failed(f->st, "10.2.0.1", 100), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM login_failures"), STORE_LOGIN_FAILURES_MAX);
	assert_int_equal(store_api_login_failures(f->st, "10.2.0.1", 0), 1);
	assert_int_equal(store_api_login_failures(f->st, "10.1.1", 0), 0);
	assert_int_equal(store_api_login_failures(f->st, "10.1.12000", 0), 1);
}

static void test_roles_and_labels(void **state)
{
	struct fixture *f = *state;
	enum api_role r;
	char text[API_SECRET_TEXT_MAX], label[200];
	struct api_token t;

	assert_int_equal(api_role_parse("admin", &r), 0);
	assert_int_equal(r, API_ROLE_ADMIN);
	assert_int_equal(api_role_parse("read", &r), 0);
	assert_int_equal(r, API_ROLE_READ);
	assert_int_equal(api_role_parse("root", &r), -1);
	memset(label, 'x', sizeof label - 1);
	label[sizeof label - 1] = '\0';
	assert_int_equal(store_api_token_create(f->st, API_ROLE_READ, label, &t, text, sizeof text), -1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM api_tokens"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token_checks_only_as_itself, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_only_hashes_are_stored, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_revoke, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_sessions, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_login_failures, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_roles_and_labels, fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
