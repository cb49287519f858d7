/*
 * test_store_lifecycle.c: what the CAPF certificate's life needs from the
 * store: finding and retiring CAPF certificates, notes and removal across
 * trust stores, the phones' current certificates, and the phones holding
 * LSCs from one CAPF certificate (only those we issued).
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

static void test_capf_find_previous_retire(void **state)
{
	struct fixture *f = *state;
	uint8_t *der[3];
	size_t len[3];
	char sha[3][65];
	struct capf_row row;

	for (int i = 0; i < 3; i++) {
		make_cert("CAPF-0000000b", 200 + i, &der[i], &len[i]);
		sha256_hex(der[i], len[i], sha[i]);
	}
	assert_int_equal(store_capf_previous(f->st, &row), 1);
	assert_int_equal(store_capf_add(f->st, der[0], len[0], "capf-1.key", NULL), 0);
	assert_int_equal(store_capf_previous(f->st, &row), 1);
	assert_int_equal(store_capf_add(f->st, der[1], len[1], "capf-2.key", NULL), 0);
	assert_int_equal(store_capf_previous(f->st, &row), 0);
	assert_string_equal(row.sha256, sha[0]);
	assert_int_equal(row.derlen, len[0]);
	assert_memory_equal(row.der, der[0], len[0]);
	capf_row_free(&row);
	assert_int_equal(store_capf_find(f->st, sha[1], &row), 0);
	assert_string_equal(row.state, "current");
	assert_string_equal(row.key_file, "capf-2.key");
	capf_row_free(&row);
	assert_int_equal(store_capf_find(f->st, "00", &row), 1);
	/* the current one cannot be retired; the previous one can, once */
	assert_int_equal(store_capf_retire(f->st, sha[1]), -1);
	assert_non_null(strstr(store_errmsg(f->st), "current"));
	assert_int_equal(store_capf_retire(f->st, sha[2]), -1);
	assert_int_equal(store_capf_retire(f->st, sha[0]), 0);
	assert_int_equal(store_capf_retire(f->st, sha[0]), 1);
	assert_int_equal(store_capf_previous(f->st, &row), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM capf_certs WHERE state = 'retired'"), 1);
	for (int i = 0; i < 3; i++)
		free(der[i]);
}

static int collect_store(const char *name, void *arg)
{
	char *out = arg;

	strcat(out, name);
	strcat(out, ";");
	return 0;
}

static void test_trust_across_stores(void **state)
{
	struct fixture *f = *state;
	uint8_t *der;
	size_t len;
	char sha[65], names[256] = "";
	int removed;

	make_cert("Some CA", 7, &der, &len);
	sha256_hex(der, len, sha);
	assert_int_equal(store_trust_create(f->st, "b-store", ""), 0);
	assert_int_equal(store_trust_create(f->st, "a-store", ""), 0);
	assert_int_equal(store_trust_count(f->st, "a-store"), 0);
	assert_int_equal(store_trust_add(f->st, "b-store", der, len, NULL, NULL, "first"), 0);
	assert_int_equal(store_trust_add(f->st, "a-store", der, len, NULL, NULL, "first"), 0);
	assert_int_equal(store_trust_count(f->st, "a-store"), 1);
	assert_int_equal(store_trust_count(f->st, "nowhere"), 0);
	assert_int_equal(store_trust_stores_of(f->st, sha, collect_store, names), 0);
	assert_string_equal(names, "a-store;b-store;");
	assert_int_equal(store_trust_set_note(f->st, sha, "CAPF certificate (previous)"), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM trust_certs WHERE note = 'CAPF certificate (previous)'"),
			 2);
	assert_int_equal(store_trust_remove_everywhere(f->st, sha, &removed), 0);
	assert_int_equal(removed, 2);
	assert_int_equal(store_trust_remove_everywhere(f->st, sha, &removed), 0);
	assert_int_equal(removed, 0);
	free(der);
}

struct names {
	char text[512];
	int n;
};

static int collect_cert(const struct cert_row *r, void *arg)
{
	struct names *c = arg;
	char one[64];

	snprintf(one, sizeof one, "%s/%s%s;", r->phone, r->kind, r->der && r->derlen ? "+der" : "");
	strcat(c->text, one);
	c->n++;
	return 0;
}

static void test_phone_certs_and_lsc_holders(void **state)
{
	struct fixture *f = *state;
	uint8_t *lsc[3], *mic;
	size_t lsclen[3], miclen;
	struct names all = { "", 0 }, lscs = { "", 0 }, holders = { "", 0 };

	add_phone(f->st, "SEP000000000002");
	add_phone(f->st, "SEP000000000001");
	add_phone(f->st, "SEP000000000003");
	for (int i = 0; i < 3; i++)
		make_cert("SEP00000000000x", 300 + i, &lsc[i], &lsclen[i]);
	make_cert("SEP000000000001", 400, &mic, &miclen);
	assert_int_equal(store_capf_complete_install(f->st, "SEP000000000002", lsc[0], lsclen[0], "capf-a", NULL), 0);
	assert_int_equal(store_capf_complete_install(f->st, "SEP000000000001", lsc[1], lsclen[1], "capf-a", NULL), 0);
	assert_int_equal(store_seen_cert(f->st, "SEP000000000001", "mic", mic, miclen), 0);
	/* an LSC from elsewhere: not ours, whatever it claims */
	assert_int_equal(store_seen_cert(f->st, "SEP000000000003", "lsc", lsc[2], lsclen[2]), 0);

	assert_int_equal(store_phone_certs_each(f->st, NULL, collect_cert, &all), 0);
	assert_string_equal(all.text, "SEP000000000001/lsc+der;SEP000000000001/mic+der;SEP000000000002/lsc+der;"
				      "SEP000000000003/lsc+der;");
	assert_int_equal(store_phone_certs_each(f->st, "mic", collect_cert, &lscs), 0);
	assert_int_equal(lscs.n, 1);
	assert_int_equal(store_lsc_by_capf_each(f->st, "capf-a", collect_cert, &holders), 0);
	assert_string_equal(holders.text, "SEP000000000001/lsc;SEP000000000002/lsc;");
	assert_int_equal(store_lsc_by_capf_count(f->st, "capf-a"), 2);
	assert_int_equal(store_lsc_by_capf_count(f->st, "capf-b"), 0);
	assert_int_equal(store_lsc_by_capf_count(f->st, ""), 0);
	for (int i = 0; i < 3; i++)
		free(lsc[i]);
	free(mic);
}

static void test_json_str_public(void **state)
{
	char out[32];

	(void)state;
	store_json_str(out, sizeof out, "a\"b\\c\n");
	assert_string_equal(out, "\"a\\\"b\\\\c\\u000a\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capf_find_previous_retire, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_trust_across_stores, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_phone_certs_and_lsc_holders, fixture_setup, fixture_teardown),
		cmocka_unit_test(test_json_str_public),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
