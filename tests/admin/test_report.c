/*
 * test_report.c: the CAPF report's one computation (admin/report.c), the
 * numbers `opencapf report`, the API's report and its dashboard all give. A
 * store holds a phone in each state (no LSC, a valid one, one expiring, an
 * expired one, a failed operation, an LSC sent and never confirmed); the
 * summary of every phone and of a filtered selection count each once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../store/store_test_util.h"
#include "admin/report.h"
#include "common/util.h"
#include "store/store_search.h"

#define CAPF_SHA "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"
#define P_NONE "SEP00000000000A"
#define P_OK "SEP00000000000B"
#define P_SOON "SEP00000000000C"
#define P_OLD "SEP00000000000D"
#define P_FAIL "SEP00000000000E"
#define P_UNCONF "SEP00000000000F"

/* A self-signed EC certificate valid from `from` to `to` days from now. */
static void cert_days(long serial, long from, long to, uint8_t **der, size_t *len)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char *out = NULL;
	int n;

	assert_non_null(key);
	assert_non_null(x);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 86400L * from));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400L * to));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
						    (const unsigned char *)"lsc", -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	n = i2d_X509(x, &out);
	assert_true(n > 0);
	*der = out;
	*len = (size_t)n;
	X509_free(x);
	EVP_PKEY_free(key);
}

static void hist(struct history_entry *h)
{
	memset(h, 0, sizeof *h);
	h->time = now_utc();
	snprintf(h->peer, sizeof h->peer, "10.0.0.1");
	snprintf(h->operation, sizeof h->operation, "install");
	snprintf(h->auth_mode, sizeof h->auth_mode, "string");
	snprintf(h->outcome, sizeof h->outcome, "Upgrade Success");
}

/* The phone gets an LSC valid from `from` to `to` days from now. */
static void give_lsc(struct store *st, const char *name, long serial, long from, long to)
{
	struct history_entry h;
	uint8_t *der;
	size_t len;

	hist(&h);
	cert_days(serial, from, to, &der, &len);
	assert_int_equal(store_capf_complete_install(st, name, der, len, CAPF_SHA, &h), 0);
	OPENSSL_free(der);
}

static void set_op(struct store *st, const char *name, enum capf_op op, const char *status)
{
	struct phone p;

	assert_int_equal(store_phone_get(st, name, &p), 0);
	p.op = op;
	p.deadline = op == OP_NONE ? 0 : now_utc() + 86400;
	snprintf(p.status, sizeof p.status, "%s", status);
	assert_int_equal(store_phone_update(st, &p), 0);
}

static void fill(struct store *st)
{
	struct history_entry h;
	uint8_t *der;
	size_t len;

	for (const char *const *n = (const char *const[]){ P_NONE, P_OK, P_SOON, P_OLD, P_FAIL, P_UNCONF, NULL };
	     *n; n++)
		add_phone(st, *n);
	give_lsc(st, P_OK, 1, -1, 365);
	give_lsc(st, P_SOON, 2, -1, 10);
	give_lsc(st, P_OLD, 3, -400, -1);
	set_op(st, P_NONE, OP_INSTALL, "Pending");
	set_op(st, P_OK, OP_NONE, "Upgrade Success");
	set_op(st, P_SOON, OP_TROUBLESHOOT, "Pending");
	set_op(st, P_OLD, OP_NONE, "");
	set_op(st, P_FAIL, OP_INSTALL, "Upgrade Failed: Invalid MIC");
	set_op(st, P_UNCONF, OP_DELETE, "Pending");
	hist(&h);
	cert_days(4, -1, 365, &der, &len);
	assert_int_equal(store_capf_lsc_delivered(st, P_UNCONF, der, len, CAPF_SHA, &h), 0);
	OPENSSL_free(der);
}

struct seen {
	char names[8][16];
	enum lsc_state state[8];
	size_t n;
};

static int see(const struct admin_report_row *r, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->names[s->n], sizeof s->names[0], "%s", r->row->phone.name);
	s->state[s->n++] = r->lsc_state;
	return 0;
}

/* The summary's counts in one order: total, none, installed, expiring,
 * expired, unconfirmed, pending, install, delete, troubleshoot, failed. */
#define NCOUNTS 11
static void check_counts(const struct admin_report_summary *s, const int64_t want[NCOUNTS])
{
	const int64_t got[NCOUNTS] = { s->total,   s->none,    s->installed, s->expiring,     s->expired, s->unconfirmed,
				       s->pending, s->install, s->delete_,   s->troubleshoot, s->failed };

	for (int i = 0; i < NCOUNTS; i++) {
		if (got[i] != want[i])
			fail_msg("count %d: %lld, expected %lld", i, (long long)got[i], (long long)want[i]);
	}
}

static void test_every_phone(void **state)
{
	struct fixture *f = *state;
	static const enum lsc_state want[] = { LSC_NONE, LSC_INSTALLED, LSC_EXPIRING, LSC_EXPIRED, LSC_NONE,
					       LSC_NONE };
	/* the expiring LSC is still a valid (installed) one */
	static const int64_t counts[NCOUNTS] = { 6, 3, 2, 1, 1, 1, 4, 2, 1, 1, 1 };
	struct admin_report_summary s;
	struct phone_filter pf;
	struct seen seen = { .n = 0 };

	fill(f->st);
	phone_filter_init(&pf);
	assert_int_equal(admin_report_each(f->st, &pf, see, &seen, &s), 0);
	assert_int_equal(seen.n, 6);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(seen.state[i], want[i]);
	assert_string_equal(seen.names[0], P_NONE);
	assert_int_equal(s.expiring_days, PHONE_FILTER_DEFAULT_EXPIRING_DAYS);
	check_counts(&s, counts);
	assert_int_equal(s.total, store_phone_count(f->st, &pf));
}

/* The summary counts the selection, the same phones the filter lists. */
static void test_selection(void **state)
{
	struct fixture *f = *state;
	static const int64_t no_lsc[NCOUNTS] = { 3, 3, 0, 0, 0, 1, 3, 2, 1, 0, 1 };
	/* P_SOON (10 days) is not expiring in a 5-day window */
	static const int64_t valid[NCOUNTS] = { 2, 0, 2, 0, 0, 0, 1, 0, 0, 1, 0 };
	struct admin_report_summary s;
	struct phone_filter pf;

	fill(f->st);
	phone_filter_init(&pf);
	pf.lsc = LSC_NONE;
	assert_int_equal(admin_report_summary(f->st, &pf, &s), 0);
	check_counts(&s, no_lsc);

	phone_filter_init(&pf);
	pf.lsc = LSC_INSTALLED;
	pf.expiring_days = 5;
	assert_int_equal(admin_report_summary(f->st, &pf, &s), 0);
	assert_int_equal(s.expiring_days, 5);
	check_counts(&s, valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_phone, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_selection, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
