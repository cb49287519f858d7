/*
 * cmd_diagnose.c: `opencapf diagnose NAME | --cert FILE` and
 * `opencapf register log [NAME]`: why a phone's certificate is accepted or
 * refused, and what the registration TLS check recorded.
 *
 * The checks are src/diag/diagnose.c (so the admin API can give the same
 * answers); this file only prints them, for people or as JSON. Exit status
 * of diagnose: 0 nothing wrong, 3 problems found, 1 error, 2 usage.
 */
#include "cmd/opencapf/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "diag/diagnose.h"
#include "store/store_register.h"

#define EXIT_PROBLEMS 3

static const char diagnose_usage[] =
	"usage: opencapf diagnose NAME [--json]\n"
	"       opencapf diagnose --cert FILE [--json]\n\n"
	"Walk what the vendor Q&A walks by hand: which certificate the phone presents\n"
	"(its LSC if it has one, else its MIC), what it is (LSC, MIC, unknown, and by\n"
	"which rule), whether CallManager-trust, CAPF-trust, 802.1x and\n"
	"phone-vpn-trust accept it, whether the pending operation's authentication\n"
	"mode can work, the deadline, the CAPF certificate's expiry, lockouts, and\n"
	"the last registration check; each problem with its fix.\n\n"
	"  --cert FILE  check a certificate file (PEM or DER) instead of a phone\n"
	"  --json       machine-readable output\n\n"
	"Exit status: 0 no problem found, 3 problems found, 1 error, 2 usage.\n";

/* ---- diagnose, for people ---- */

static void print_cert(const struct diag_report *r)
{
	char until[40];

	if (!r->have_cert)
		return;
	fmt_time_utc(r->cert.not_after, until, sizeof until);
	printf("  %s\n  issuer %s\n  serial %s, %s, valid until %s\n  %s: %s\n", r->cert.subject, r->cert.issuer,
	       r->cert.serial, r->cert.key, until, cert_kind_name(r->cls.kind), r->cls.why);
}

static void print_trust(const struct diag_report *r)
{
	if (!r->have_cert)
		return;
	printf("\nTrust stores:\n");
	for (int i = 0; i < DIAG_TRUST_STORES; i++) {
		const struct diag_trust *t = &r->trust[i];
		if (t->accepted)
			printf("  %-18s accepts (through %s)\n", t->store, t->anchor);
		else if (t->count == 0)
			printf("  %-18s empty\n", t->store);
		else
			printf("  %-18s refuses: %s\n", t->store, t->reason);
	}
}

static void print_findings(const struct diag_report *r)
{
	printf("\nFindings:\n");
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct diag_finding *f = &r->findings[i];
		printf("%3zu. %-8s [%s%s%s] %s\n", i + 1, diag_level_name(f->level), f->topic, f->ref[0] ? ", " : "",
		       f->ref, f->text);
		if (f->fix[0])
			printf("     fix: %s\n", f->fix);
	}
	printf("\n%d problem%s, %d warning%s\n", r->problems, r->problems == 1 ? "" : "s", r->warnings,
	       r->warnings == 1 ? "" : "s");
}

static void print_report(const struct diag_report *r)
{
	if (r->phone[0] && !r->have_cert)
		printf("Phone %s: no certificate on record\n", r->phone);
	else if (r->phone[0])
		printf("Phone %s presents its %s:\n", r->phone, r->presented);
	else
		printf("Certificate (%s):\n", r->presented);
	print_cert(r);
	print_trust(r);
	print_findings(r);
}

static X509 *load_cert_file(const char *path)
{
	char err[ERRLEN];
	STACK_OF(X509) *sk = pki_certs_load(path, err, sizeof err);
	X509 *x;

	if (!sk) {
		cli_error("diagnose: %s", err);
		return NULL;
	}
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	if (!x)
		cli_error("diagnose: %s holds no certificate", path);
	return x;
}

static int run_diagnose(struct store *st, const char *name, const char *cert_file, int json)
{
	struct diag_report *r = calloc(1, sizeof *r);
	char err[ERRLEN];
	X509 *x = NULL;
	int rc;

	if (!r)
		return EXIT_FAIL;
	if (cert_file && !(x = load_cert_file(cert_file))) {
		free(r);
		return EXIT_FAIL;
	}
	rc = x ? diag_certificate(st, x, 0, r, err, sizeof err) : diag_phone(st, name, 0, r, err, sizeof err);
	X509_free(x);
	if (rc < 0) {
		cli_error("diagnose: %s", err);
		free(r);
		return EXIT_FAIL;
	}
	if (json) {
		json_t *o = diag_report_json(r);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		print_report(r);
	}
	rc = r->problems ? EXIT_PROBLEMS : EXIT_OK;
	free(r);
	return rc;
}

int cmd_diagnose(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cert_file = NULL;
	char canonical[16];
	int c, help = 0, json = 0, rc;
	struct store *st;

	while ((c = cli_getopt(cli, argc, argv, "", opts, diagnose_usage, &help)) != -1) {
		if (c == 'c')
			cert_file = optarg;
		else if (c == 'j')
			json = 1;
		else
			return EXIT_USAGE;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, cert_file ? 0 : 1, cert_file ? 0 : 1, diagnose_usage) < 0)
		return EXIT_USAGE;
	if (!cert_file && devname_normalize(argv[optind], canonical, sizeof canonical) == 0)
		argv[optind] = canonical;   /* sep00-11-.., a MAC address: SEP001122334455 */
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = run_diagnose(st, cert_file ? NULL : argv[optind], cert_file, json);
	store_close(st);
	return rc;
}

/* ---- register log ---- */

static const char log_usage[] =
	"usage: opencapf register log [NAME] [--limit N] [--json]\n\n"
	"What the registration TLS check of opencapfd (--register-listen) recorded,\n"
	"newest first: per connection the certificate the phone presented (LSC, MIC,\n"
	"unknown or none) and why, whether CallManager-trust accepted it, and the TLS\n"
	"alert sent when not.\n\n"
	"  --limit N   at most N records (default 50, 0 = all)\n"
	"  --json      machine-readable output\n";

/* Stored text as printed: names are escaped when recorded, but rows of older
 * versions may still hold control characters; they must not reach the
 * terminal (text_escape_controls leaves the recorded escapes as they are). */
static const char *shown(const char *s, char *buf, size_t cap)
{
	text_escape_controls(buf, cap, s, strlen(s));
	return buf;
}

static int print_row(const struct register_row *g, void *arg)
{
	char when[40], phone[256], alert[256], issuer[2048], rule[1024], why[1024];

	(void)arg;
	fmt_time_utc(g->time, when, sizeof when);
	printf("%s  %-15s  %-16s  %-7s  %-8s  %s\n", when, g->peer,
	       g->phone[0] ? shown(g->phone, phone, sizeof phone) : "-",
	       strcmp(g->cert_kind, "none") == 0 ? "none" : g->cert_kind, g->result,
	       g->alert[0] ? shown(g->alert, alert, sizeof alert) : "-");
	if (g->issuer[0])
		printf("    issuer %s, serial %s (%s)\n", shown(g->issuer, issuer, sizeof issuer), g->serial,
		       shown(g->rule, rule, sizeof rule));
	if (g->reason[0] && strcmp(g->result, "accepted") != 0)
		printf("    why: %s\n", shown(g->reason, why, sizeof why));
	return 0;
}

static int json_row(const struct register_row *g, void *arg)
{
	char when[40];

	fmt_time_utc(g->time, when, sizeof when);
	json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
					     "id", (json_int_t)g->id, "time", when, "peer", g->peer,
					     "phone", g->phone, "cert_kind", g->cert_kind, "rule", g->rule,
					     "subject", g->subject, "issuer", g->issuer, "serial", g->serial,
					     "result", g->result, "alert", g->alert, "reason", g->reason,
					     "tls_version", g->tls_version, "cipher", g->cipher));
	return 0;
}

static int register_log(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c, help = 0, json = 0, limit = 50, rc;
	const char *phone;
	struct store *st;
	char *end;
	json_t *a;

	while ((c = cli_getopt(cli, argc, argv, "", opts, log_usage, &help)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'l' && (limit = (int)strtol(optarg, &end, 10)) >= 0 && *optarg && !*end)
			continue;
		else {
			if (c == 'l')
				cli_error("register log: --limit wants a whole number, not '%s'", optarg);
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 1, log_usage) < 0)
		return EXIT_USAGE;
	phone = optind < argc ? argv[optind] : "";
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	a = json_array();
	if (!json)
		printf("%-23s  %-15s  %-16s  %-7s  %-8s  %s\n", "time", "peer", "phone", "cert", "result", "alert");
	rc = store_register_each(st, phone, limit, json ? json_row : print_row, a);
	if (rc < 0)
		cli_error("register log: %s", store_errmsg(st));
	else if (json) {
		json_dumpf(a, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	}
	json_decref(a);
	store_close(st);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_register(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "log", register_log, "what the registration TLS check recorded, newest first" },
		{ NULL, NULL, NULL },
	};

	return cli_dispatch(cli, "register", cmds, argc, argv);
}
