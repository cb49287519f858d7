/*
 * test_store_records.c: CAPF certificates (current / previous / retired),
 * trust stores, and the audit log.
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

struct capf_list {
	int n;
	char states[4][12];
	char sha[4][80];
};

static int collect_capf(const struct capf_row *r, void *arg)
{
	struct capf_list *l = arg;

	assert_non_null(r->der);
	if (l->n < 4) {
		snprintf(l->states[l->n], sizeof l->states[l->n], "%s", r->state);
		snprintf(l->sha[l->n], sizeof l->sha[l->n], "%s", r->sha256);
	}
	l->n++;
	return 0;
}

static void test_capf_certs(void **state)
{
	struct fixture *f = *state;
	uint8_t *der[3];
	size_t len[3];
	char sha[3][65];
	struct capf_row row;
	struct capf_list l = { 0 };

	assert_int_equal(store_capf_current(f->st, &row), 1);
	for (int i = 0; i < 3; i++) {
		make_cert("CAPF-0000000a", 100 + i, &der[i], &len[i]);
		sha256_hex(der[i], len[i], sha[i]);
	}
	assert_int_equal(store_capf_add(f->st, der[0], len[0], "capf-1.key", sha[0]), 0);
	assert_int_equal(store_capf_current(f->st, &row), 0);
	assert_string_equal(row.state, "current");
	assert_string_equal(row.key_file, "capf-1.key");
	assert_string_equal(row.sha256, sha[0]);
	assert_int_equal(row.derlen, len[0]);
	assert_memory_equal(row.der, der[0], len[0]);
	assert_true(row.created > 0);
	capf_row_free(&row);
	assert_null(row.der);

	/* sha256 computed when not given. */
	assert_int_equal(store_capf_add(f->st, der[1], len[1], "capf-2.key", NULL), 0);
	assert_int_equal(store_capf_current(f->st, &row), 0);
	assert_string_equal(row.sha256, sha[1]);
	assert_string_equal(row.key_file, "capf-2.key");
	capf_row_free(&row);
	assert_int_equal(store_capf_each(f->st, collect_capf, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.states[0], "current");
	assert_string_equal(l.states[1], "previous");
	assert_string_equal(l.sha[1], sha[0]);

	assert_int_equal(store_capf_add(f->st, der[2], len[2], "capf-3.key", sha[2]), 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_capf_each(f->st, collect_capf, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.states[0], "current");
	assert_string_equal(l.states[1], "previous");
	assert_string_equal(l.states[2], "retired");
	assert_string_equal(l.sha[2], sha[0]);

	/* Refused: the same certificate twice, a key path outside keys/. */
	assert_int_equal(store_capf_add(f->st, der[2], len[2], "capf-4.key", sha[2]), -1);
	assert_int_equal(store_capf_add(f->st, der[2], len[2], "../capf.key", NULL), -1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM capf_certs WHERE state = 'current'"), 1);
	assert_int_equal(store_capf_current(f->st, &row), 0);
	assert_string_equal(row.sha256, sha[2]);
	capf_row_free(&row);
	for (int i = 0; i < 3; i++)
		free(der[i]);
}

struct trust_list {
	int n;
	char subject[4][512];
	char note[4][128];
	char serial[4][130];
	int64_t not_after[4];
	size_t derlen[4];
};

static int collect_trust(const struct cert_row *r, void *arg)
{
	struct trust_list *l = arg;

	if (l->n < 4) {
		snprintf(l->subject[l->n], sizeof l->subject[l->n], "%s", r->subject);
		snprintf(l->note[l->n], sizeof l->note[l->n], "%s", r->note);
		snprintf(l->serial[l->n], sizeof l->serial[l->n], "%s", r->serial);
		l->not_after[l->n] = r->not_after;
		l->derlen[l->n] = r->derlen;
		assert_non_null(r->der);
	}
	l->n++;
	return 0;
}

static int collect_names(const char *name, const char *desc, void *arg)
{
	strcat(arg, name);
	strcat(arg, "=");
	strcat(arg, desc);
	strcat(arg, ";");
	return 0;
}

static void test_trust(void **state)
{
	struct fixture *f = *state;
	uint8_t *a, *b;
	size_t alen, blen;
	char asha[65], bsha[65], names[512] = "";
	struct trust_list l = { 0 };

	make_cert("Manufacturing CA", 0x0101, &a, &alen);
	make_cert("CAPF-0000000b", 0x0202, &b, &blen);
	sha256_hex(a, alen, asha);
	sha256_hex(b, blen, bsha);

	assert_int_equal(store_trust_create(f->st, TRUST_MANUFACTURING, "MIC issuers"), 0);
	assert_int_equal(store_trust_create(f->st, TRUST_CAPF, "CAPF certificates"), 0);
	assert_int_equal(store_trust_create(f->st, TRUST_CAPF, "again"), 1);
	assert_int_equal(store_trust_names(f->st, collect_names, names), 0);
	assert_string_equal(names, "CAPF-trust=CAPF certificates;manufacturing=MIC issuers;");

	assert_int_equal(store_trust_add(f->st, TRUST_MANUFACTURING, a, alen, asha, "CN=Manufacturing CA,O=Test",
					 "vendor root"), 0);
	assert_int_equal(store_trust_add(f->st, TRUST_MANUFACTURING, a, alen, asha, "CN=Manufacturing CA,O=Test",
					 "again"), 1);
	assert_int_equal(store_trust_add(f->st, TRUST_MANUFACTURING, b, blen, NULL, NULL, NULL), 0);
	assert_int_equal(store_trust_add(f->st, "no-such-store", b, blen, bsha, "x", ""), -1);
	assert_non_null(strstr(store_errmsg(f->st), "no trust store named no-such-store"));
	assert_int_equal(store_trust_add(f->st, TRUST_CAPF, (const uint8_t *)"junk", 4, bsha, "x", ""), -1);

	assert_int_equal(store_trust_each(f->st, TRUST_MANUFACTURING, collect_trust, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.subject[0], "CN=Manufacturing CA,O=Test");
	assert_string_equal(l.note[0], "vendor root");
	assert_string_equal(l.serial[0], "0101");
	assert_true(l.not_after[0] > now_utc());
	assert_int_equal(l.derlen[0], alen);
	assert_string_equal(l.subject[1], "CN=CAPF-0000000b,O=Test");   /* parsed when not given */
	assert_int_equal(store_trust_each(f->st, "no-such-store", collect_trust, &l), 1);
	assert_int_equal(store_trust_each(f->st, TRUST_CAPF, NULL, NULL), 0);

	assert_int_equal(store_trust_remove(f->st, TRUST_MANUFACTURING, asha), 0);
	assert_int_equal(store_trust_remove(f->st, TRUST_MANUFACTURING, asha), 1);
	memset(&l, 0, sizeof l);
	assert_int_equal(store_trust_each(f->st, TRUST_MANUFACTURING, collect_trust, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.subject[0], "CN=CAPF-0000000b,O=Test");
	free(a);
	free(b);
}

struct audit_list {
	int n;
	struct audit_entry e[4];
};

static int collect_audit(const struct audit_entry *e, void *arg)
{
	struct audit_list *l = arg;

	if (l->n < 4)
		l->e[l->n] = *e;
	l->n++;
	return 0;
}

static void test_audit(void **state)
{
	struct fixture *f = *state;
	struct audit_list l = { 0 };

	assert_int_equal(store_audit(f->st, "cli:root", "init", "CAPF-0000000a", "{\"a\":1}"), 0);
	assert_int_equal(store_audit(f->st, "cli:root", "phone.add", "SEP001122334455", NULL), 0);
	assert_int_equal(store_audit(f->st, "api:token-3", "phone.set", "SEP001122334455", "{\"b\":2}"), 0);
	assert_int_equal(store_audit(f->st, "", "x", "y", "z"), -1);

	assert_int_equal(store_audit_each(f->st, 0, collect_audit, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[0].action, "phone.set");
	assert_string_equal(l.e[0].actor, "api:token-3");
	assert_string_equal(l.e[0].detail, "{\"b\":2}");
	assert_string_equal(l.e[1].action, "phone.add");
	assert_string_equal(l.e[1].detail, "");
	assert_string_equal(l.e[2].action, "init");
	assert_string_equal(l.e[2].object, "CAPF-0000000a");
	assert_true(l.e[0].id > l.e[1].id && l.e[1].id > l.e[2].id);
	assert_true(l.e[2].time > 0 && l.e[2].time <= now_utc());

	memset(&l, 0, sizeof l);
	assert_int_equal(store_audit_each(f->st, 2, collect_audit, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.e[1].action, "phone.add");

	assert_int_equal(raw_exec(f->dir, "UPDATE audit_log SET actor = 'nobody'"), SQLITE_CONSTRAINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capf_certs, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_trust, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
