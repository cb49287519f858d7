/*
 * cmd_trust.c: `opencapf trust list|show|add|remove|export`: the named trust
 * stores (CallManager-trust, CAPF-trust, manufacturing, phone-vpn-trust,
 * 802.1x) and their certificates.
 *
 * Removal is guarded (phone-certificates.md §6): a certificate that phones'
 * LSCs or MICs still chain through (admin/trust.c) is not removed
 * without --force, nor the current CAPF certificate from CAPF-trust or
 * CallManager-trust; a forced removal is its own audit action. Export lives
 * in cmd_trust_export.c.
 */
#include "cmd/opencapf/cmd_trust.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/trust.h"
#include "pki/pki.h"

/* ---- list ---- */

static int print_store_name(const char *name, const char *desc, void *arg)
{
	int n = store_trust_count(arg, name);

	printf("%-20s %3d certificate%s  %s\n", name, n, n == 1 ? " " : "s", desc);
	return n < 0 ? -1 : 0;
}

static const char list_usage[] =
	"usage: opencapf trust list\n\nList the trust stores, with how many certificates each holds.\n";

static int trust_list(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, list_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, list_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = store_trust_names(st, print_store_name, st) == 0 ? EXIT_OK : EXIT_FAIL;
	if (rc != EXIT_OK)
		cli_error("trust list: %s", store_errmsg(st));
	store_close(st);
	return rc;
}

/* ---- show ---- */

struct show_ctx {
	int count;
	const struct trust_usage *u;
	int nu;
};

static void print_usage_line(const struct trust_usage *u)
{
	printf("  phones   %d LSC%s, %d MIC%s chain to it", u->lsc_phones, u->lsc_phones == 1 ? "" : "s",
	       u->mic_phones, u->mic_phones == 1 ? "" : "s");
	for (int i = 0; i < u->nnames; i++)
		printf("%s%s", i ? ", " : " (", u->names[i]);
	printf("%s\n", u->nnames ? (u->phones > u->nnames ? ", ...)" : ")") : "");
}

static int print_trust_cert(const struct cert_row *r, void *arg)
{
	struct show_ctx *ctx = arg;
	char nb[40], na[40], sha1[80];

	fmt_time_utc(r->not_before, nb, sizeof nb);
	fmt_time_utc(r->not_after, na, sizeof na);
	pki_fingerprint_der(r->der, r->derlen, "sha1", 0, sha1, sizeof sha1);
	printf("%s\n  issuer   %s\n  serial   %s\n  valid    %s to %s%s\n  sha1     %s\n  sha256   %s\n",
	       r->subject, r->issuer, r->serial, nb, na, r->not_after < now_utc() ? " (EXPIRED)" : "", sha1,
	       r->sha256);
	if (r->note[0])
		printf("  note     %s\n", r->note);
	if (ctx->count < ctx->nu)
		print_usage_line(&ctx->u[ctx->count]);
	ctx->count++;
	return 0;
}

static const char show_usage[] =
	"usage: opencapf trust show STORE\n\n"
	"The certificates of a trust store: subject, issuer, serial, validity, SHA-1 and\n"
	"SHA-256 fingerprints, what each is there for, and how many phones' LSCs and MICs\n"
	"chain to it (with the first phone names).\n";

static int trust_show(struct cli *cli, int argc, char **argv)
{
	struct show_ctx ctx = { 0 };
	struct trust_usage *u = NULL;
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, show_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, show_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = trust_usage_compute(st, argv[optind], &u, &ctx.nu, err, sizeof err);
	ctx.u = u;
	if (rc == 0)
		rc = store_trust_each(st, argv[optind], print_trust_cert, &ctx);
	if (rc > 0)
		cli_error("no trust store named '%s' (see 'opencapf trust list')", argv[optind]);
	else if (rc < 0)
		cli_error("trust show: %s", err[0] ? err : store_errmsg(st));
	else
		printf("%d certificate%s in %s\n", ctx.count, ctx.count == 1 ? "" : "s", argv[optind]);
	free(u);
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

/* ---- add ---- */

static const char add_usage[] =
	"usage: opencapf trust add STORE FILE [--note TEXT]\n\n"
	"Add the certificates of FILE (PEM, one or a bundle, or DER) to a trust store,\n"
	"e.g. the vendor's manufacturing CA certificates to 'manufacturing'.\n\n"
	"  --note TEXT  a note kept with each certificate added (shown by 'trust show')\n";

static int trust_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "note", required_argument, NULL, 'n' }, { NULL, 0, NULL, 0 } };
	struct admin_trust_result res;
	STACK_OF(X509) *certs;
	const char *note = NULL;
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, add_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		note = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 2, 2, add_usage) < 0)
		return EXIT_USAGE;
	if (!(certs = pki_certs_load(argv[optind + 1], err, sizeof err))) {
		cli_error("trust add: %s", err);
		return EXIT_FAIL;
	}
	if (cli_open_store(cli, &st) == 0) {
		c = admin_trust_add(st, cli->actor, argv[optind], certs, note, &res, err, sizeof err);
		if (c == ADMIN_TRUST_NO_STORE)
			cli_error("%s (see 'opencapf trust list')", err);
		else if (c != 0)
			cli_error("trust add: cannot add to %s: %s", argv[optind], err);
		for (int i = 0; i < res.n; i++)
			printf("%s %s\n", res.items[i].changed ? "added" : "already present:", res.items[i].subject);
		rc = c == 0 ? EXIT_OK : EXIT_FAIL;
		admin_trust_result_free(&res);
		store_close(st);
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* ---- remove ---- */

static const char remove_usage[] =
	"usage: opencapf trust remove STORE FINGERPRINT|FILE [--force]\n\n"
	"Remove a certificate from a trust store: the one whose SHA-256 fingerprint\n"
	"starts with FINGERPRINT (8 hex digits or more, ':' allowed), or every\n"
	"certificate of FILE. Refused while phones' LSCs or MICs chain through it (the\n"
	"count and the first phone names are printed: they would fail TLS with \"unknown\n"
	"CA\" or CAPF authentication with \"Invalid LSC\"), and for the current CAPF\n"
	"certificate in CAPF-trust or CallManager-trust.\n\n"
	"  --force  remove it anyway (the audit log records the forced removal)\n";

/* The wanted fingerprints: from FILE's certificates, or the argument itself. */
static int wanted_fingerprints(const char *arg, char (**fps)[80], int *n)
{
	STACK_OF(X509) *certs;
	struct stat sb;
	char err[ERRLEN];

	*n = 0;
	if (stat(arg, &sb) == 0) {
		if (!(certs = pki_certs_load(arg, err, sizeof err))) {
			cli_error("trust remove: %s", err);
			return -1;
		}
		*fps = calloc((size_t)sk_X509_num(certs) + 1, sizeof **fps);
		for (int i = 0; *fps && i < sk_X509_num(certs); i++)
			pki_fingerprint(sk_X509_value(certs, i), "sha256", 0, (*fps)[(*n)++], sizeof **fps);
		sk_X509_pop_free(certs, X509_free);
		return *fps ? 0 : -1;
	}
	*fps = calloc(1, sizeof **fps);
	if (!*fps)
		return -1;
	if (trust_fp_normalize(arg, (*fps)[0], sizeof **fps) < 0) {
		cli_error("trust remove: '%s' is neither a file nor a SHA-256 fingerprint (8 hex digits or more)", arg);
		free(*fps);
		*fps = NULL;
		return -1;
	}
	*n = 1;
	return 0;
}

static int trust_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct admin_trust_result res;
	char (*fps)[80] = NULL, err[1400];
	struct store *st;
	int help = 0, c, force = 0, nfp = 0, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, remove_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		force = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 2, 2, remove_usage) < 0)
		return EXIT_USAGE;
	if (wanted_fingerprints(argv[optind + 1], &fps, &nfp) < 0)
		return EXIT_FAIL;
	if (cli_open_store(cli, &st) == 0) {
		c = admin_trust_remove(st, cli->actor, argv[optind], (const char (*)[80])fps, nfp, force,
				       "use --force", &res, err, sizeof err);
		if (c == ADMIN_TRUST_NO_STORE)
			cli_error("%s (see 'opencapf trust list')", err);
		else if (c != 0)
			cli_error("trust remove: %s", err);
		for (int i = 0; i < res.n; i++)
			if (res.items[i].changed)
				printf("removed %s from %s%s\n", res.items[i].subject, argv[optind],
				       res.items[i].forced ? " (forced)" : "");
		rc = c == 0 ? EXIT_OK : EXIT_FAIL;
		admin_trust_result_free(&res);
		store_close(st);
	}
	free(fps);
	return rc;
}

int cmd_trust(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "list", trust_list, "list the trust stores" },
		{ "show", trust_show, "the certificates of a trust store and the phones chaining to each" },
		{ "add", trust_add, "add certificates from a file to a trust store" },
		{ "remove", trust_remove, "remove a certificate (refused while phones depend on it)" },
		{ "export", trust_export, "write a store as a PEM bundle or a hashed directory" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "trust", cmds, argc, argv);
}
