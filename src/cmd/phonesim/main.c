/*
 * main.c: `phonesim`, a Cisco IP phone emulator for testing opencapf: a test
 * manufacturing CA, phones with their MIC, and the phone side of one CAPF
 * session over TLS. Git-style subcommands, each with its own --help.
 */
#include "cmd/phonesim/phonesim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signer/signer_p11.h"

static const struct ps_command commands[] = {
	{ "mfg-ca", cmd_mfg_ca, "create a test manufacturing CA (mfg-ca create DIR)" },
	{ "init", cmd_init, "create a phone folder with a MIC from a manufacturing CA" },
	{ "trust", cmd_trust, "set the CAPF certificate the phone trusts" },
	{ "capf", cmd_capf, "run one CAPF session against a server (install/fetch/delete LSC)" },
	{ "itl", cmd_itl, "install an ITL file (verified) into the phone" },
	{ "tvs", cmd_tvs, "ask TVS about certificates (trusting the ITL's TVS certificate)" },
	{ "boot", cmd_boot, "boot against a file server: ITL, signed config, then CAPF by itself" },
	{ "register", cmd_register, "TLS to call control with the LSC, else the MIC; console lines of §3" },
	{ "show", cmd_show, "show a phone: name, model, MIC, LSC, trusted CAPF" },
	{ "export", cmd_export, "write the phone's certificate, key and chain as PEM files" },
	{ "load", cmd_load, "drive many emulated phones through CAPF (or TVS) sessions at once" },
	{ "load-limit", cmd_load_limit, "measure a server's LSC signing and TLS handshake cost" },
	{ "load-ceiling", cmd_load_ceiling, "serve CAPF installs doing only the handshake, messages and signature (a ceiling)" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: phonesim COMMAND [ARGS...]\n\n"
		"A Cisco IP phone emulator: MIC, LSC store and the phone side of CAPF.\n\n"
		"Commands:\n");
	for (const struct ps_command *c = commands; c->name; c++)
		fprintf(out, "  %-8s %s\n", c->name, c->summary);
	fprintf(out, "\nOptions:\n"
		"  -h, --help    this help; 'phonesim COMMAND --help' describes a command\n"
		"  --version     print the version\n"
		"  --state DIR   accepted for symmetry with opencapf and ignored\n\n"
		"Exit status: 0 success, 1 usage or local error, 2 the server ended the\n"
		"session with an error, 3 connection/TLS failure, 4 protocol error,\n"
		"5 deliberate hang-up (--misbehave disconnect-*), 6 boot: configuration\n"
		"missing, refused or not decrypted. See phonesim(1).\n");
}

int main(int argc, char **argv)
{
	char err[ERRLEN];
	int i = 1;

	/* load-limit and load-ceiling sign with a state's CAPF key, which may be in a token */
	if (signer_p11_install(err, sizeof err) < 0)
		fprintf(stderr, "phonesim: %s\n", err);

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return PS_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("phonesim %s\n", OPENCAPF_VERSION);
			return PS_EXIT_OK;
		}
		if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			i += 2;
			continue;
		}
		if (strncmp(argv[i], "--state=", 8) == 0) {
			i++;
			continue;
		}
		ps_error("unknown option '%s' (see 'phonesim --help')", argv[i]);
		return PS_EXIT_LOCAL;
	}
	if (i >= argc) {
		usage(stderr);
		return PS_EXIT_LOCAL;
	}
	for (const struct ps_command *c = commands; c->name; c++)
		if (strcmp(c->name, argv[i]) == 0) {
			optind = 0; /* the command parses its own options afresh */
			return c->run(argc - i, argv + i);
		}
	ps_error("unknown command '%s' (see 'phonesim --help')", argv[i]);
	return PS_EXIT_LOCAL;
}
