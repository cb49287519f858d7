/*
 * test_store_search.c: selecting phones by filter (every condition alone
 * and combined, LSC states around their boundaries, the issuing CAPF by
 * fingerprint prefix and by issuer name, long name lists), scheduling an
 * operation on a selection (dry run, audit rows, all-or-nothing, the
 * empty-filter guard), the bulk writer, filtered audit reads, and the
 * speed of all of it at 20,000 phones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/util.h"
#include "store/store_search.h"
#include "store_test_util.h"

#define CAPF_OLD "aa11bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff00112233"
#define CAPF_NEW "bb22cc33dd44ee55ff6600112233445566778899aabbccddeeff0011223344aa"

struct names {
	int n;
	char name[64][64];
};

static int collect(const struct phone_row *r, void *arg)
{
	struct names *ns = arg;

	if (ns->n < 64)
		snprintf(ns->name[ns->n], sizeof ns->name[0], "%s", r->phone.name);
	ns->n++;
	return 0;
}

/* The names a filter selects, "A,B,C" in order. */
static const char *selected(struct store *st, const struct phone_filter *f)
{
	static char out[1024];
	struct names ns = { 0 };

	out[0] = '\0';
	assert_int_equal(store_phone_select(st, f, collect, &ns), 0);
	assert_int_equal(store_phone_count(st, f), ns.n);
	for (int i = 0; i < ns.n && i < 64; i++) {
		size_t n = strlen(out);
		snprintf(out + n, sizeof out - n, "%s%s", i ? "," : "", ns.name[i]);
	}
	return out;
}

static void put_phone(struct store *st, const char *name, const char *model, enum auth_mode auth,
		      enum capf_op op, const char *status)
{
	struct phone p;

	phone_defaults(&p, name);
	snprintf(p.model, sizeof p.model, "%s", model);
	p.auth = auth;
	if (auth == AUTH_STRING)
		snprintf(p.auth_string, sizeof p.auth_string, "5551234");
	p.op = op;
	p.deadline = op == OP_NONE ? 0 : now_utc() + 3600;
	snprintf(p.status, sizeof p.status, "%s", status);
	assert_int_equal(store_phone_insert(st, &p), 0);
}

static void install(struct store *st, const char *phone, const char *cn, long serial, const char *capf)
{
	struct history_entry h;
	struct phone p;
	uint8_t *der;
	size_t len;

	make_cert(cn, serial, &der, &len);
	memset(&h, 0, sizeof h);
	snprintf(h.outcome, sizeof h.outcome, "%s", STATUS_UPGRADE_SUCCESS);
	assert_int_equal(store_phone_get(st, phone, &p), 0);
	assert_int_equal(store_capf_complete_install(st, phone, der, len, capf, &h), 0);
	/* complete_install clears the operation: put the test's back. */
	assert_int_equal(store_phone_update(st, &p), 0);
	free(der);
}

/*
 * A: 7962 null,      LSC from the old CAPF (CN CAPF-0a1b2c3d)
 * B: 7962 string,    LSC from the new CAPF (CN CAPF-99887766), install pending
 * C: 8845 lsc-first, no LSC, "Upgrade Failed: Invalid LSC"
 * D: 8845 mic-first, an LSC it presented (seen, not ours: CN CAPF-deadbeef)
 * E: 7975 null,      no LSC, troubleshoot pending
 */
#define A "SEP00000000000A"
#define B "SEP00000000000B"
#define C "SEP00000000000C"
#define D "SEP00000000000D"
#define E "SEP00000000000E"

static void fleet(struct store *st)
{
	uint8_t *der;
	size_t len;

	put_phone(st, A, "7962", AUTH_NULL, OP_NONE, "");
	put_phone(st, B, "7962", AUTH_STRING, OP_INSTALL, STATUS_PENDING);
	put_phone(st, C, "8845", AUTH_LSC_FIRST, OP_INSTALL, "Upgrade Failed: Invalid LSC");
	put_phone(st, D, "8845", AUTH_MIC_FIRST, OP_NONE, STATUS_TROUBLESHOOT_SUCCESS);
	put_phone(st, E, "7975", AUTH_NULL, OP_TROUBLESHOOT, STATUS_PENDING);
	install(st, A, "CAPF-0a1b2c3d", 0x1a, CAPF_OLD);
	install(st, B, "CAPF-99887766", 0x1b, CAPF_NEW);
	make_cert("CAPF-deadbeef", 0x1d, &der, &len);
	assert_int_equal(store_seen_cert(st, D, "lsc", der, len), 0);
	free(der);
}

static void test_filters(void **state)
{
	struct fixture *fx = *state;
	struct phone_filter f;
	const char *two[] = { C, "SEP0000000000FF", A };
	int64_t now = now_utc();

	fleet(fx->st);
	phone_filter_init(&f);
	assert_true(phone_filter_is_empty(&f));
	assert_string_equal(selected(fx->st, &f), A "," B "," C "," D "," E);

	f.names = two;
	f.n_names = 3;
	assert_false(phone_filter_is_empty(&f));
	assert_string_equal(selected(fx->st, &f), A "," C);     /* name order, unknown name ignored */
	phone_filter_init(&f);
	f.name_glob = "SEP00000000000[B-D]";
	assert_string_equal(selected(fx->st, &f), B "," C "," D);
	f.name_glob = "sep*";                                   /* case-sensitive */
	assert_string_equal(selected(fx->st, &f), "");
	phone_filter_init(&f);
	f.model = "8845";
	assert_string_equal(selected(fx->st, &f), C "," D);
	f.model = "884";                                        /* exact */
	assert_string_equal(selected(fx->st, &f), "");

	phone_filter_init(&f);
	f.has_auth = 1;
	f.auth = AUTH_NULL;                                     /* 0, but has_auth says it counts */
	assert_string_equal(selected(fx->st, &f), A "," E);
	phone_filter_init(&f);
	f.has_op = 1;
	f.op = OP_INSTALL;
	assert_string_equal(selected(fx->st, &f), B "," C);
	f.op = OP_NONE;
	assert_string_equal(selected(fx->st, &f), A "," D);
	phone_filter_init(&f);
	f.status = "failed";                                    /* contained, any case */
	assert_string_equal(selected(fx->st, &f), C);
	f.status = "none";
	assert_string_equal(selected(fx->st, &f), A);
	f.status = "Pending";
	assert_string_equal(selected(fx->st, &f), B "," E);

	/* LSC states: the certificates are valid for a year from now. */
	phone_filter_init(&f);
	f.lsc = LSC_NONE;
	assert_string_equal(selected(fx->st, &f), C "," E);
	f.lsc = LSC_INSTALLED;
	assert_string_equal(selected(fx->st, &f), A "," B "," D);
	f.lsc = LSC_EXPIRED;
	assert_string_equal(selected(fx->st, &f), "");
	f.lsc = LSC_EXPIRING;                                   /* 30 days by default */
	assert_string_equal(selected(fx->st, &f), "");
	f.expiring_days = 400;
	assert_string_equal(selected(fx->st, &f), A "," B "," D);
	f.expiring_days = 0;
	f.now = now + 350 * 86400;                              /* 15 days left */
	assert_string_equal(selected(fx->st, &f), A "," B "," D);
	f.expiring_days = 10;
	assert_string_equal(selected(fx->st, &f), "");
	f.now = now + 400 * 86400;
	f.lsc = LSC_EXPIRED;
	assert_string_equal(selected(fx->st, &f), A "," B "," D);
	f.lsc = LSC_INSTALLED;
	assert_string_equal(selected(fx->st, &f), "");
	f.lsc = LSC_EXPIRING;
	assert_string_equal(selected(fx->st, &f), "");

	/* Issuer: fingerprint prefix (8+ hex, colons, any case) or issuer text. */
	phone_filter_init(&f);
	f.lsc_issuer = CAPF_OLD;
	assert_string_equal(selected(fx->st, &f), A);
	f.lsc_issuer = "AA:11:BB:22";
	assert_string_equal(selected(fx->st, &f), A);
	f.lsc_issuer = "bb22cc33";
	assert_string_equal(selected(fx->st, &f), B);
	f.lsc_issuer = "aa11";                                  /* too short for a prefix, no such text */
	assert_string_equal(selected(fx->st, &f), "");
	f.lsc_issuer = "CAPF-0A1B2C3D";
	assert_string_equal(selected(fx->st, &f), A);
	f.lsc_issuer = "capf-deadbeef";                         /* a seen LSC, by its issuer name */
	assert_string_equal(selected(fx->st, &f), D);
	f.lsc_issuer = "CAPF-";
	assert_string_equal(selected(fx->st, &f), A "," B "," D);
	f.lsc_issuer = "%";                                     /* no LIKE wildcards */
	assert_string_equal(selected(fx->st, &f), "");

	/* Combined: AND. */
	phone_filter_init(&f);
	f.model = "7962";
	f.lsc = LSC_INSTALLED;
	f.has_auth = 1;
	f.auth = AUTH_STRING;
	assert_string_equal(selected(fx->st, &f), B);
	f.lsc_issuer = "CAPF-0a1b2c3d";
	assert_string_equal(selected(fx->st, &f), "");
}

static int brief_check(const struct phone_row *r, void *arg)
{
	(void)arg;
	if (!strcmp(r->phone.name, A)) {
		assert_true(r->lsc.present);
		assert_string_equal(r->lsc.source, "issued");
		assert_string_equal(r->lsc.serial, "1a");
		assert_string_equal(r->lsc.issuer_sha256, CAPF_OLD);
		assert_non_null(strstr(r->lsc.issuer, "CAPF-0a1b2c3d"));
		assert_true(r->lsc.not_after > now_utc());
		assert_false(r->mic.present);
		assert_string_equal(r->phone.model, "7962");
	} else if (!strcmp(r->phone.name, D)) {
		assert_true(r->lsc.present);
		assert_string_equal(r->lsc.source, "seen");
		assert_string_equal(r->lsc.issuer_sha256, "");
	} else if (!strcmp(r->phone.name, B)) {
		assert_string_equal(r->phone.auth_string, "5551234");
	} else
		assert_false(r->lsc.present);
	return 0;
}

static int stop_at_two(const struct phone_row *r, void *arg)
{
	int *n = arg;
	(void)r;
	return ++*n == 2 ? 42 : 0;
}

static void test_rows_and_stop(void **state)
{
	struct fixture *fx = *state;
	struct phone_filter f;
	char text[256];
	int n = 0;

	fleet(fx->st);
	phone_filter_init(&f);
	assert_int_equal(store_phone_select(fx->st, &f, brief_check, NULL), 0);
	assert_int_equal(store_phone_select(fx->st, &f, stop_at_two, &n), 42);
	assert_int_equal(n, 2);
	assert_int_equal(store_phone_select(fx->st, &f, NULL, NULL), 0);

	phone_filter_describe(&f, text, sizeof text);
	assert_string_equal(text, "all");
	f.model = "7962";
	f.lsc = LSC_EXPIRING;
	f.expiring_days = 14;
	f.lsc_issuer = "CAPF-0a1b2c3d";
	phone_filter_describe(&f, text, sizeof text);
	assert_string_equal(text, "model=7962 lsc=expiring<14d lsc-issuer=CAPF-0a1b2c3d");
	phone_filter_describe(&f, text, 8);                     /* bounded */
	assert_true(strlen(text) < 8);

	{
		enum lsc_state s;
		assert_int_equal(lsc_state_parse("expired", &s), 0);
		assert_int_equal(s, LSC_EXPIRED);
		assert_int_equal(lsc_state_parse("any", &s), 0);
		assert_int_equal(s, LSC_ANY);
		assert_int_equal(lsc_state_parse("Expired", &s), -1);
		assert_int_equal(lsc_state_parse(NULL, &s), -1);
		assert_string_equal(lsc_state_name(LSC_NONE), "none");
	}
}

static int abort_on_c(const struct phone_row *r, void *arg)
{
	(void)arg;
	return strcmp(r->phone.name, C) == 0 ? 7 : 0;
}

struct audits {
	int n;
	struct audit_entry e[16];
};

static int collect_audit(const struct audit_entry *e, void *arg)
{
	struct audits *a = arg;

	if (a->n < 16)
		a->e[a->n] = *e;
	a->n++;
	return 0;
}

static void test_schedule(void **state)
{
	struct fixture *fx = *state;
	struct phone_filter f;
	struct phone_schedule ps = { .op = OP_INSTALL, .deadline = 4102444800, .actor = "cli:test", .note = "rollover to CAPF-99887766" };
	struct audits au = { 0 };
	struct audit_filter af = { .action_prefix = "phone.op" };
	struct phone p;
	size_t n = 99;
	long audits_before;
	int64_t by = now_utc() + 7 * 86400;

	fleet(fx->st);
	audits_before = raw_count(fx->dir, "SELECT count(*) FROM audit_log");

	/* An empty filter needs `all`. */
	phone_filter_init(&f);
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), -1);
	assert_non_null(strstr(store_errmsg(fx->st), "every phone"));
	assert_int_equal(n, 0);

	/* Dry run: counts, calls back, writes nothing. */
	f.lsc_issuer = CAPF_OLD;
	ps.dry_run = 1;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log"), audits_before);
	assert_int_equal(store_phone_get(fx->st, A, &p), 0);
	assert_int_equal(p.op, OP_NONE);

	/* For real: the phones whose LSC the old CAPF issued. */
	ps.dry_run = 0;
	ps.deadline = by;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_phone_get(fx->st, A, &p), 0);
	assert_int_equal(p.op, OP_INSTALL);
	assert_int_equal(p.deadline, by);
	assert_string_equal(p.status, STATUS_PENDING);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log"), audits_before + 1);
	assert_int_equal(store_audit_select(fx->st, &af, collect_audit, &au), 0);
	assert_int_equal(au.n, 1);
	assert_string_equal(au.e[0].actor, "cli:test");
	assert_string_equal(au.e[0].object, A);
	assert_non_null(strstr(au.e[0].detail, "\"before\":{\"operation\":\"none\",\"deadline\":null,\"status\":\"\"}"));
	assert_non_null(strstr(au.e[0].detail, "\"after\":{\"operation\":\"install\""));
	assert_non_null(strstr(au.e[0].detail, "\"note\":\"rollover to CAPF-99887766\""));
	assert_non_null(strstr(au.e[0].detail, "\"filter\":\"lsc-issuer=" CAPF_OLD "\""));

	/* A callback that refuses rolls everything back. */
	phone_filter_init(&f);
	f.model = "8845";
	ps.op = OP_DELETE;
	ps.action = "rollover.schedule";
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, abort_on_c, NULL, &n), 7);
	assert_int_equal(store_phone_get(fx->st, C, &p), 0);
	assert_int_equal(p.op, OP_INSTALL);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action = 'rollover.schedule'"), 0);

	/* `none` clears deadline and status; the action is the caller's. */
	ps.op = OP_NONE;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_phone_get(fx->st, C, &p), 0);
	assert_int_equal(p.op, OP_NONE);
	assert_int_equal(p.deadline, 0);
	assert_string_equal(p.status, "");
	assert_string_equal(p.auth_string, "");                  /* settings untouched */
	assert_int_equal(p.auth, AUTH_LSC_FIRST);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action = 'rollover.schedule'"), 2);

	/* An operation without a deadline is refused (the administration
	 * core gives the default); all with an empty filter. */
	phone_filter_init(&f);
	ps.op = OP_TROUBLESHOOT;
	ps.deadline = 0;
	ps.all = 1;
	ps.action = NULL;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), -1);
	assert_non_null(strstr(store_errmsg(fx->st), "deadline"));
	ps.deadline = now_utc() + 86400;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_phone_get(fx->st, E, &p), 0);
	assert_int_equal(p.deadline, ps.deadline);

	/* No secret in any audit row. */
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE detail LIKE '%5551234%'"), 0);

	/* Inside the caller's transaction: a savepoint, undone with it. */
	assert_int_equal(store_begin(fx->st), 0);
	phone_filter_init(&f);
	f.names = (const char *const[]){ B };
	f.n_names = 1;
	ps.op = OP_DELETE;
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	store_rollback(fx->st);
	assert_int_equal(store_phone_get(fx->st, B, &p), 0);
	assert_int_equal(p.op, OP_TROUBLESHOOT);

	/* Bad input. */
	ps.actor = "";
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), -1);
}

static void test_bulk(void **state)
{
	struct fixture *fx = *state;
	struct store_bulk *b;
	struct phone p, q;

	/* Roll back: nothing stays. */
	assert_int_equal(store_bulk_begin(fx->st, &b), 0);
	phone_defaults(&p, A);
	snprintf(p.auth_string, sizeof p.auth_string, "1234");
	assert_int_equal(store_bulk_insert(b, &p), 0);
	assert_int_equal(store_bulk_get(b, A, &q), 0);
	assert_string_equal(q.auth_string, "1234");
	assert_int_equal(store_bulk_audit(b, "cli:test", "phone.import", A, "{}"), 0);
	assert_int_equal(store_bulk_end(b, 0), -1);
	assert_int_equal(store_phone_get(fx->st, A, &q), 1);
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action = 'phone.import'"), 0);

	/* Commit. */
	assert_int_equal(store_bulk_begin(fx->st, &b), 0);
	assert_int_equal(store_bulk_get(b, A, &q), 1);
	assert_int_equal(store_bulk_insert(b, &p), 0);
	snprintf(p.model, sizeof p.model, "7821");
	assert_int_equal(store_bulk_update(b, &p), 0);
	assert_int_equal(store_bulk_audit(b, "cli:test", "phone.import", A, "{}"), 0);
	assert_int_equal(store_bulk_end(b, 1), 0);
	assert_int_equal(store_phone_get(fx->st, A, &q), 0);
	assert_string_equal(q.model, "7821");
	assert_true(q.created > 0);

	/* A failed call poisons the batch: commit is refused, nothing stays. */
	assert_int_equal(store_bulk_begin(fx->st, &b), 0);
	phone_defaults(&q, B);
	assert_int_equal(store_bulk_insert(b, &q), 0);
	assert_int_equal(store_bulk_insert(b, &p), -1);          /* A exists */
	assert_non_null(strstr(store_errmsg(fx->st), "already exists"));
	phone_defaults(&q, C);
	assert_int_equal(store_bulk_update(b, &q), -1);          /* C does not */
	q.rsa_bits = 100;                                        /* schema CHECK */
	assert_int_equal(store_bulk_insert(b, &q), -1);
	assert_int_equal(store_bulk_audit(b, "", "x", "", ""), -1);
	assert_int_equal(store_bulk_end(b, 1), -1);
	assert_int_equal(store_phone_get(fx->st, B, &q), 1);

	/* Not inside another transaction. */
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_bulk_begin(fx->st, &b), -1);
	assert_null(b);
	store_rollback(fx->st);
	assert_int_equal(store_bulk_end(NULL, 1), -1);
}

static void test_audit_select(void **state)
{
	struct fixture *fx = *state;
	struct audit_filter f = { 0 };
	struct audits au = { 0 };

	assert_int_equal(store_audit(fx->st, "cli:alice", "phone.add", A, "{}"), 0);
	assert_int_equal(store_audit(fx->st, "cli:bob", "phone.op", B, "{}"), 0);
	assert_int_equal(store_audit(fx->st, "capf", "capf.install", A, "{}"), 0);
	assert_int_equal(store_audit(fx->st, "cli:alice", "phone.import.done", "/tmp/x.csv", "{}"), 0);
	assert_int_equal(store_audit(fx->st, "cli:alice", "phoneX", "[odd]", "{}"), 0);
	/* Spread the times: 1000, 2000, ... (the log refuses UPDATE, so rebuild). */
	assert_int_equal(raw_exec(fx->dir, store_test_pg()
		? "DROP TRIGGER audit_log_no_update ON audit_log; "
		  "UPDATE audit_log SET time = 1000 * id WHERE actor <> 'cli:root'"
		: "DROP TRIGGER audit_log_no_update; "
		  "UPDATE audit_log SET time = 1000 * id WHERE actor <> 'cli:root'"),
			 SQLITE_OK);

#define COUNT_WITH(...)                                                         \
	do {                                                                    \
		struct audit_filter g = { __VA_ARGS__ };                        \
		au.n = 0;                                                       \
		assert_int_equal(store_audit_select(fx->st, &g, collect_audit, &au), 0); \
	} while (0)

	COUNT_WITH(.actor = "cli:alice");
	assert_int_equal(au.n, 3);
	assert_string_equal(au.e[0].action, "phoneX");           /* newest first */
	COUNT_WITH(.actor = "cli:alice", .oldest_first = 1);
	assert_string_equal(au.e[0].action, "phone.add");
	COUNT_WITH(.action_prefix = "phone.");
	assert_int_equal(au.n, 3);
	COUNT_WITH(.action_prefix = "phone.op");
	assert_int_equal(au.n, 1);
	COUNT_WITH(.action_prefix = "capf.");
	assert_int_equal(au.n, 1);
	assert_string_equal(au.e[0].actor, "capf");
	COUNT_WITH(.object = A);
	assert_int_equal(au.n, 2);
	COUNT_WITH(.object = "SEP*");
	assert_int_equal(au.n, 3);
	COUNT_WITH(.object = "[odd]");                           /* a glob that matches nothing literal */
	assert_int_equal(au.n, 0);
	COUNT_WITH(.object = "/tmp/x.csv");
	assert_int_equal(au.n, 1);
	COUNT_WITH(.since = 2000, .until = 4000);
	assert_int_equal(au.n, 2);
	COUNT_WITH(.since = 2000, .until = 4000, .actor = "capf");
	assert_int_equal(au.n, 1);
	COUNT_WITH(.limit = 2);
	assert_int_equal(au.n, 2);
	COUNT_WITH(.actor = "nobody");
	assert_int_equal(au.n, 0);
	(void)f;
#undef COUNT_WITH
}

static int count_rows(const struct phone_row *r, void *arg)
{
	(void)r;
	++*(size_t *)arg;
	return 0;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_twenty_thousand(void **state)
{
	struct fixture *fx = *state;
	struct store_bulk *b;
	struct phone_filter f;
	struct phone_schedule ps = { .op = OP_INSTALL, .deadline = 4102444800, .actor = "cli:test" };
	const char **names;
	char (*store_names)[16];
	size_t n = 0;
	double t0, t1, t2, t3;

	names = calloc(20000, sizeof *names);
	store_names = calloc(20000, sizeof *store_names);
	assert_non_null(names);
	assert_non_null(store_names);
	t0 = seconds();
	assert_int_equal(store_bulk_begin(fx->st, &b), 0);
	for (int i = 0; i < 20000; i++) {
		struct phone p;
		char name[16];
		snprintf(name, sizeof name, "SEP%012X", 0x200000 + i);
		phone_defaults(&p, name);
		snprintf(p.model, sizeof p.model, "%s", i % 4 ? "7962" : "8845");
		assert_int_equal(store_bulk_insert(b, &p), 0);
		assert_int_equal(store_bulk_audit(b, "cli:test", "phone.import", name, "{}"), 0);
		snprintf(store_names[i], sizeof store_names[i], "%s", name);
		names[i] = store_names[i];
	}
	assert_int_equal(store_bulk_end(b, 1), 0);
	t1 = seconds();
	phone_filter_init(&f);
	assert_int_equal(store_phone_select(fx->st, &f, count_rows, &n), 0);
	assert_int_equal(n, 20000);
	f.model = "7962";
	assert_int_equal(store_phone_count(fx->st, &f), 15000);
	/* An explicit list longer than SQLite's parameter limit. */
	phone_filter_init(&f);
	f.names = names;
	f.n_names = 20000;
	assert_int_equal(store_phone_count(fx->st, &f), 20000);
	t2 = seconds();
	f.n_names = 0;
	f.model = "7962";
	assert_int_equal(store_phone_schedule(fx->st, &f, &ps, NULL, NULL, &n), 0);
	assert_int_equal(n, 15000);
	t3 = seconds();
	assert_int_equal(raw_count(fx->dir, "SELECT count(*) FROM audit_log WHERE action = 'phone.op'"), 15000);
	printf("# 20000 phones: bulk insert %.2f s, select+count %.2f s, schedule 15000 %.2f s\n", t1 - t0, t2 - t1,
	       t3 - t2);
	assert_true(t1 - t0 < 10.0);
	assert_true(t2 - t1 < 10.0);
	assert_true(t3 - t2 < 10.0);
	free(names);
	free(store_names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_rows_and_stop, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_schedule, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_bulk, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_audit_select, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_twenty_thousand, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
