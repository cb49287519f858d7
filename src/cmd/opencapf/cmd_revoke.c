/*
 * cmd_revoke.c: `opencapf phone revoke NAME`, `opencapf cert revoke SERIAL`
 * and `opencapf crl show|publish`: argument parsing and wording around the
 * administration core (admin/revoke.h, admin/crl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "admin/crl.h"
#include "admin/revoke.h"
#include "cmd/opencapf/cli.h"
#include "cmd/opencapf/cmd_phone.h"

#define REASONS "keyCompromise|affiliationChanged|superseded|cessationOfOperation"

static const char phone_revoke_usage[] =
	"usage: opencapf phone revoke NAME [--reason " REASONS "]\n\n"
	"Revoke the LSC the phone holds (default reason keyCompromise: a lost or\n"
	"stolen phone). The certificate goes on the next CRL of the CAPF\n"
	"certificate that issued it and the OCSP responder answers revoked at once.\n"
	"Export trust stores again (opencapf trust export) for servers that read\n"
	"the CRL from a file.\n";

static const char cert_revoke_usage[] =
	"usage: opencapf cert revoke SERIAL [--reason " REASONS "]\n\n"
	"Revoke the LSC this state issued with serial SERIAL (hexadecimal, colons\n"
	"allowed), whether or not a phone holds it now; default reason keyCompromise.\n";

/* --reason into *reason; EXIT_OK, or EXIT_USAGE with the message printed. */
static int parse_reason_opts(struct cli *cli, int argc, char **argv, const char *usage, int *reason, int *help)
{
	static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	int c;

	*reason = REVOKE_KEY_COMPROMISE;
	while ((c = cli_getopt(cli, argc, argv, "", opts, usage, help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (revoke_reason_parse(optarg, reason) < 0 || *reason == REVOKE_UNSPECIFIED) {
			cli_error("--reason %s: use one of " REASONS, optarg);
			return EXIT_USAGE;
		}
	}
	if (*help)
		return EXIT_OK;
	return cli_expect_args(argc, argv, 1, 1, usage) < 0 ? EXIT_USAGE : EXIT_OK;
}

void cli_print_revoked(const struct admin_revoked *rv)
{
	for (int i = 0; i < rv->n && i < ADMIN_REVOKED_MAX; i++)
		printf("revoked LSC serial %s of %s (%s), issued under CAPF %.16s\n", rv->r[i].serial,
		       rv->r[i].phone[0] ? rv->r[i].phone : "-", revoke_reason_name(rv->r[i].reason),
		       rv->r[i].issuer_sha256);
	if (rv->more)
		printf("... and %d more\n", rv->more);
}

static int revoke_result(int rc, const struct admin_revoked *rv, const char *err)
{
	if (rc == ADMIN_REVOKE_OK) {
		cli_print_revoked(rv);
		printf("the next CRL lists it: run 'opencapf crl publish' (opencapfd does it by itself) and export "
		       "the trust stores again\n");
		return EXIT_OK;
	}
	cli_error("%s", err);
	return rc == ADMIN_REVOKE_INVALID ? EXIT_USAGE : EXIT_FAIL;
}

int phone_revoke(struct cli *cli, int argc, char **argv)
{
	struct admin_revoked rv;
	struct store *st;
	char err[512] = "";
	int help = 0, reason, rc;

	if ((rc = parse_reason_opts(cli, argc, argv, phone_revoke_usage, &reason, &help)) != EXIT_OK || help)
		return rc;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_revoke_phone(st, cli->actor, argv[optind], reason, &rv, err, sizeof err);
	store_close(st);
	return revoke_result(rc, &rv, err);
}

static int cert_revoke(struct cli *cli, int argc, char **argv)
{
	struct admin_revoked rv;
	struct store *st;
	char err[512] = "";
	int help = 0, reason, rc;

	if ((rc = parse_reason_opts(cli, argc, argv, cert_revoke_usage, &reason, &help)) != EXIT_OK || help)
		return rc;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_revoke_serial(st, cli->actor, argv[optind], reason, &rv, err, sizeof err);
	store_close(st);
	return revoke_result(rc, &rv, err);
}

int cmd_cert(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "revoke", cert_revoke, "revoke an LSC this state issued, by serial" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "cert", cmds, argc, argv);
}

/* ---- crl show | publish ---- */

static const char crl_show_usage[] =
	"usage: opencapf crl show\n\n"
	"The CRL of each CAPF certificate (current, previous) that issued LSCs: its\n"
	"files in the TFTP folder, CRL number, thisUpdate, nextUpdate and every\n"
	"revoked serial with its date and reason. A CAPF certificate without\n"
	"keyUsage cRLSign gets no CRL (verifiers would refuse it): regenerate it\n"
	"(a rollover); the OCSP responder answers for its LSCs meanwhile.\n";

static const char crl_publish_usage[] =
	"usage: opencapf crl publish [--if-due]\n\n"
	"Sign and write the CRLs into the TFTP folder now (DER NAME.crl and PEM\n"
	"NAME.crl.pem, each atomically), nextUpdate = now + the setting crl_days\n"
	"(default 7). --if-due writes only those behind the revocations or past half\n"
	"their validity, as opencapfd does by itself every few seconds.\n";

static void print_entries(const char *path)
{
	uint8_t *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	X509_CRL *crl;
	STACK_OF(X509_REVOKED) *rev;

	if (read_file(path, 64 * 1024 * 1024, &der, &len, NULL, 0) != 0)
		return;
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	rev = crl ? X509_CRL_get_REVOKED(crl) : NULL;
	for (int i = 0; i < sk_X509_REVOKED_num(rev); i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(rev, i);
		ASN1_ENUMERATED *why = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = bn ? BN_bn2hex(bn) : NULL;
		struct tm tm;
		char when[32] = "?";
		const char *reason = why ? revoke_reason_name((int)ASN1_ENUMERATED_get(why)) : "unspecified";

		if (ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(r), &tm) == 1)
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		printf("    %s  revoked %s UTC  %s\n", hex ? hex : "?", when, reason ? reason : "other");
		OPENSSL_free(hex);
		BN_free(bn);
		ASN1_ENUMERATED_free(why);
	}
	X509_CRL_free(crl);
	free(der);
}

static void print_time(const char *label, int64_t t)
{
	char buf[32] = "-";
	time_t tt = (time_t)t;
	struct tm tm;

	if (t && gmtime_r(&tt, &tm))
		strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("  %-12s %s\n", label, buf);
}

static int show_one(const struct admin_crl *c, void *arg)
{
	int *n = arg;

	(*n)++;
	printf("%s (%s CAPF certificate, sha256 %s)\n", c->name, c->state, c->capf_sha256);
	if (!c->can_sign) {
		printf("  no CRL: the certificate lacks keyUsage cRLSign; 'opencapf capf regenerate' and a rollover\n"
		       "  give LSCs a CAPF certificate that has it; OCSP answers for these LSCs meanwhile\n");
		return 0;
	}
	if (!c->number) {
		printf("  not published yet ('opencapf crl publish')\n");
		return 0;
	}
	printf("  %-12s %s\n  %-12s %s\n  %-12s %lld%s\n", "DER", c->der_path, "PEM", c->pem_path, "number",
	       (long long)c->number, c->written ? "" : "");
	print_time("thisUpdate", c->this_update);
	print_time("nextUpdate", c->next_update);
	print_entries(c->der_path);
	return 0;
}

static int crl_show(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	char err[512] = "";
	int help = 0, n = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, crl_show_usage, &help)) != -1)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, crl_show_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_crl_publish(st, -1, show_one, &n, err, sizeof err);
	store_close(st);
	if (rc < 0) {
		cli_error("crl show: %s", err);
		return EXIT_FAIL;
	}
	if (n == 0)
		printf("no CRL: no CAPF certificate of this state has issued an LSC yet\n");
	return EXIT_OK;
}

static int published_one(const struct admin_crl *c, void *arg)
{
	(void)arg;
	if (!c->can_sign)
		printf("%s: no CRL (the certificate lacks keyUsage cRLSign; regenerate it and roll over)\n", c->name);
	else if (c->written)
		printf("%s: CRL number %lld, %zu revoked, next update %s", c->name, (long long)c->number, c->entries,
		       "");
	if (c->can_sign && c->written) {
		time_t t = (time_t)c->next_update;
		struct tm tm;
		char buf[32] = "";
		if (gmtime_r(&t, &tm))
			strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("%s\n  %s\n  %s\n", buf, c->der_path, c->pem_path);
	} else if (c->can_sign)
		printf("%s: CRL number %lld is current\n", c->name, (long long)c->number);
	return 0;
}

static int crl_publish(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "if-due", no_argument, NULL, 'd' }, { NULL, 0, NULL, 0 } };
	struct store *st;
	char err[512] = "";
	int help = 0, if_due = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, crl_publish_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if_due = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, crl_publish_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_crl_publish(st, !if_due, published_one, NULL, err, sizeof err);
	store_close(st);
	if (rc < 0) {
		cli_error("crl publish: %s", err);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

static const char crl_settings_usage[] =
	"usage: opencapf crl settings [--days N] [--superseded-grace DURATION] [--url URL]\n\n"
	"Show or change the CRL settings: --days, the days from thisUpdate to nextUpdate\n"
	"(1 to 366, default 7; CRLs are signed again at half of it); --superseded-grace,\n"
	"how long a phone's previous LSC stays valid after the phone confirmed storing\n"
	"a new one (0 to 90 days: 0, 3600, 30m, 12h, 7d; default 0, revoked at once);\n"
	"--url http://HOST:PORT, opencapfd's HTTP server as servers reach it: new LSCs\n"
	"then carry URL/crl/<CAPF CN>.crl as CRL distribution point and URL/ocsp as OCSP\n"
	"location (from opencapfd's next start); --url \"\" for none (the default).\n";

/* "3600", "30m", "12h", "7d", "2w" in seconds; -1 for anything else. */
static int64_t parse_duration(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	static const struct { char c; int64_t mult; } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
								  { 'd', 86400 }, { 'w', 604800 } };

	if (end == s || v < 0 || v > 1000000000LL)
		return -1;
	if (!*end)
		return v;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (end[0] == units[i].c && !end[1])
			return v * units[i].mult;
	return -1;
}

static int crl_settings(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "days", required_argument, NULL, 'd' },
					      { "superseded-grace", required_argument, NULL, 'g' },
					      { "url", required_argument, NULL, 'u' },
					      { NULL, 0, NULL, 0 } };
	struct store *st;
	char err[512] = "", url[200], *end;
	const char *new_url = NULL;
	int help = 0, days = -1, c;
	int64_t grace = -1;

	while ((c = cli_getopt(cli, argc, argv, "", opts, crl_settings_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'd' && ((days = (int)strtol(optarg, &end, 10)) < 1 || *end || days > 366)) {
			cli_error("--days %s: give a number of days from 1 to 366", optarg);
			return EXIT_USAGE;
		}
		if (c == 'u')
			new_url = optarg;
		if (c == 'g' && (grace = parse_duration(optarg)) < 0) {
			cli_error("--superseded-grace %s: give seconds or a duration such as 30m, 12h, 7d", optarg);
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, crl_settings_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if ((days != -1 || grace != -1 || new_url) &&
	    admin_crl_settings(st, cli->actor, days, grace, new_url, err, sizeof err) < 0) {
		store_close(st);
		cli_error("crl settings: %s", err);
		return strncmp(err, "cannot", 6) ? EXIT_USAGE : EXIT_FAIL;
	}
	admin_crl_url(st, url, sizeof url);
	printf("crl_days %d\nsuperseded_grace %lld seconds\nrevocation_url %s\n", admin_crl_days(st),
	       (long long)admin_crl_superseded_grace(st), url[0] ? url : "(none: LSCs carry no CRL or OCSP URL)");
	store_close(st);
	return EXIT_OK;
}

int cmd_crl(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "show", crl_show, "the published CRLs and what they list" },
		{ "publish", crl_publish, "sign and write the CRLs into the TFTP folder" },
		{ "settings", crl_settings, "CRL validity and the superseded LSC's grace period" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "crl", cmds, argc, argv);
}
