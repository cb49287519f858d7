/*
 * main.c: `opencapf`, the administrator's command line. Git-style
 * subcommands over the same state directory the daemon uses (SQLite WAL lets
 * both work at once).
 */
#include "cmd/opencapf/cli.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "signer/signer_p11.h"
#include "store/store.h"

static const struct cli_command commands[] = {
	{ "init", cmd_init, "create the state directory and the CAPF CA" },
	{ "capf", cmd_capf, "the CAPF certificate: show, cert, regenerate, csr, import, rollover, retire" },
	{ "phone", cmd_phone, "phones: add, set, show, list, remove, import, export; schedule CAPF operations" },
	{ "cert", cmd_cert, "LSCs by serial: revoke" },
	{ "crl", cmd_crl, "the CRLs of the CAPF certificates: show, publish" },
	{ "trust", cmd_trust, "trust stores: list, show, add, guarded remove, export for servers" },
	{ "itl", cmd_itl, "ITL files: build, show (verify), publish; the SAST/TFTP signer" },
	{ "ctl", cmd_ctl, "CTL files: build, show (verify)" },
	{ "tvs", cmd_tvs, "TVS: certificates with roles and TTL; the TVS certificate" },
	{ "report", cmd_report, "the CAPF report: LSC, MIC, operation and status of phones" },
	{ "audit", cmd_audit, "read the audit log: who changed what, when" },
	{ "diagnose", cmd_diagnose, "why a phone's certificate is accepted or refused, and the fix" },
	{ "register", cmd_register, "the registration TLS check's log (register log)" },
	{ "pcap", cmd_pcap, "TLS handshakes in a capture: which certificate each phone sent" },
	{ "token", cmd_token, "API tokens for opencapfd's admin API and web UI" },
	{ "check", cmd_check, "monitoring: certificates and LSCs expiring, overdue operations, listeners" },
	{ "backup", cmd_backup, "write a backup archive: database snapshot and keys, optionally encrypted" },
	{ "restore", cmd_restore, "restore a backup archive into a new state" },
	{ "store", cmd_store, "store migrate URI: move the state's database into PostgreSQL" },
	{ "completion", cmd_completion, "print a bash or zsh completion script (from this table)" },
	{ "provision", cmd_provision, "phones' configuration files: the CAPF part merged, signed, published" },
	{ "sign", cmd_sign, "sign provisioning files (.sgn) with the SAST/TFTP key" },
	{ "sgn", cmd_sgn, "signed and encrypted provisioning files: show, verify, strip" },
	{ NULL, NULL, NULL },
};
const struct cli_command *const cli_command_table = commands;

static void usage(FILE *out)
{
	fprintf(out, "usage: opencapf [--state DIR] [--store URI] COMMAND [ARGS...]\n\n"
		"The open certificate authority for Cisco IP phones: administration.\n\n"
		"Commands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nOptions:\n"
		"  --state DIR   state directory (default $OPENCAPF_STATE, else %s)\n"
		"  --store URI   the database in PostgreSQL (postgresql://...; default $OPENCAPF_STORE,\n"
		"                else DIR/store.uri, else SQLite in DIR)\n"
		"  -h, --help    this help; 'opencapf COMMAND --help' for a command\n"
		"  --version     print the version\n", DEFAULT_STATE_DIR);
}

static void cli_set_actor(struct cli *cli)
{
	const char *user = getenv("SUDO_USER");
	struct passwd *pw;

	if (!user || !*user) {
		pw = getpwuid(getuid());
		user = pw ? pw->pw_name : "unknown";
	}
	snprintf(cli->actor, sizeof cli->actor, "cli:%s", user);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'U' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	char err[ERRLEN];
	int c;

	log_init("opencapf", 0);
	if (signer_p11_install(err, sizeof err) < 0) /* key files may name keys in a PKCS#11 token */
		cli_error("%s", err);
	cli.state_dir = getenv("OPENCAPF_STATE");
	if (!cli.state_dir || !*cli.state_dir)
		cli.state_dir = DEFAULT_STATE_DIR;
	cli_set_actor(&cli);

	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's': cli.state_dir = optarg; break;
		case 'U':
			if (store_set_uri(optarg) < 0) {
				cli_error("--store %s: expected a postgresql:// URI", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("opencapf %s\n", OPENCAPF_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (const struct cli_command *cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0) {
			int first = optind;
			optind = 0; /* the command parses its own options afresh */
			return cmd->run(&cli, argc - first, argv + first);
		}
	cli_error("unknown command '%s' (see 'opencapf --help')", argv[optind]);
	return EXIT_USAGE;
}
