/*
 * cmd_revoke.c: `opencapf phone revoke NAME`, `opencapf cert revoke SERIAL`
 * and `opencapf crl show|publish`: argument parsing and wording around the
 * administration core (admin/revoke.h, admin/crl.h).
 */
#include <stdio.h>
#include <string.h>

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
