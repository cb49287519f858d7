/*
 * cmd_trust.c: `opencapf trust list|show|add`: the named trust stores
 * (CallManager-trust, CAPF-trust, manufacturing, ...) and their certificates.
 */
#include "cmd/opencapf/cli.h"

#include <string.h>

#include "pki/pki.h"

static int print_store_name(const char *name, const char *desc, void *arg)
{
	(void)arg;
	printf("%-20s %s\n", name, desc);
	return 0;
}

static const char list_usage[] = "usage: opencapf trust list\n\nList the trust stores.\n";

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
	rc = store_trust_names(st, print_store_name, NULL) == 0 ? EXIT_OK : EXIT_FAIL;
	store_close(st);
	return rc;
}

struct show_ctx {
	int count;
};

static int print_trust_cert(const struct cert_row *r, void *arg)
{
	struct show_ctx *ctx = arg;
	char na[40];

	fmt_time_utc(r->not_after, na, sizeof na);
	printf("%s\n  issuer   %s\n  serial   %s\n  valid to %s%s\n  sha256   %s\n", r->subject, r->issuer,
	       r->serial, na, r->not_after < now_utc() ? " (EXPIRED)" : "", r->sha256);
	ctx->count++;
	return 0;
}

static int trust_exists(struct store *st, const char *name)
{
	struct cert_row dummy;
	(void)dummy;
	return store_trust_each(st, name, NULL, NULL);
}

static const char show_usage[] =
	"usage: opencapf trust show STORE\n\nThe certificates of a trust store.\n";

static int trust_show(struct cli *cli, int argc, char **argv)
{
	struct show_ctx ctx = { 0 };
	struct store *st;
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
	rc = store_trust_each(st, argv[optind], print_trust_cert, &ctx);
	if (rc > 0)
		cli_error("no trust store named '%s' (see 'opencapf trust list')", argv[optind]);
	else if (rc == 0)
		printf("%d certificate%s in %s\n", ctx.count, ctx.count == 1 ? "" : "s", argv[optind]);
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static const char add_usage[] =
	"usage: opencapf trust add STORE FILE\n\n"
	"Add the certificates of FILE (PEM, one or a bundle, or DER) to a trust store.\n";

static int add_certs(struct store *st, struct cli *cli, const char *store_name, STACK_OF(X509) *certs)
{
	for (int i = 0; i < sk_X509_num(certs); i++) {
		struct pki_cert_info info;
		uint8_t *der = NULL;
		size_t len;
		char detail[800];
		int rc;

		if (pki_cert_info(sk_X509_value(certs, i), &info) < 0 ||
		    pki_cert_to_der(sk_X509_value(certs, i), &der, &len) < 0)
			return -1;
		rc = store_trust_add(st, store_name, der, len, info.sha256, info.subject, "");
		OPENSSL_free(der);
		if (rc < 0)
			return -1;
		snprintf(detail, sizeof detail, "{\"sha256\":\"%s\",\"subject\":\"%s\"}", info.sha256, info.subject);
		if (rc == 0 && store_audit(st, cli->actor, "trust.add", store_name, detail) < 0)
			return -1;
		printf("%s %s\n", rc == 0 ? "added" : "already present:", info.subject);
	}
	return 0;
}

static int trust_add(struct cli *cli, int argc, char **argv)
{
	STACK_OF(X509) *certs;
	struct store *st;
	char err[ERRLEN];
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, add_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 2, 2, add_usage) < 0)
		return EXIT_USAGE;
	if (!(certs = pki_certs_load(argv[optind + 1], err, sizeof err))) {
		cli_error("trust add: %s", err);
		return EXIT_FAIL;
	}
	if (cli_open_store(cli, &st) < 0)
		goto out;
	if (trust_exists(st, argv[optind]) > 0) {
		cli_error("no trust store named '%s' (see 'opencapf trust list')", argv[optind]);
	} else if (store_begin(st) == 0 && add_certs(st, cli, argv[optind], certs) == 0 &&
		   store_commit(st) == 0) {
		rc = EXIT_OK;
	} else {
		store_rollback(st);
		cli_error("trust add: cannot add to %s: %s", argv[optind], store_errmsg(st));
	}
	store_close(st);
out:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int cmd_trust(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "list", trust_list, "list the trust stores" },
		{ "show", trust_show, "the certificates of a trust store" },
		{ "add", trust_add, "add certificates from a file to a trust store" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "trust", cmds, argc, argv);
}
