/*
 * cli.c: option parsing, dispatch and store opening shared by the
 * `opencapf` subcommands, so each one reports errors the same way.
 */
#include "cmd/opencapf/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/signer_client.h"
#include "signer/signer_p11.h"
#include "signer/signer_proc.h"
#include "signer/signer_provider.h"
#include "store/store.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("opencapf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *cmds,
		 int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "usage: opencapf %s SUBCOMMAND [OPTIONS]\n\nSubcommands:\n", group);
		for (const struct cli_command *c = cmds; c->name; c++)
			fprintf(out, "  %-14s %s\n", c->name, c->summary);
		fprintf(out, "\n'opencapf %s SUBCOMMAND --help' describes one.\n", group);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (const struct cli_command *c = cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0) {
			optind = 0; /* the subcommand parses its own options afresh */
			return c->run(cli, argc - 1, argv + 1);
		}
	cli_error("unknown subcommand '%s %s' (see 'opencapf %s --help')", group, argv[1], group);
	return EXIT_USAGE;
}

/* "--model needs a value" or "unknown option '--modle'", naming the option
 * as typed (getopt's optopt is the option's code, not its name). */
static void report_bad_option(char **argv, const struct option *all, int missing_value)
{
	const char *typed = optind > 0 ? argv[optind - 1] : "";

	if (missing_value) {
		for (size_t i = 0; all[i].name; i++)
			if (all[i].val == optopt && all[i].has_arg == required_argument && optopt > 0x7f) {
				cli_error("%s: --%s needs a value", argv[0], all[i].name);
				return;
			}
		if (strncmp(typed, "--", 2) == 0 && text_valid(typed))
			cli_error("%s: %s needs a value", argv[0], typed);
		else if (optopt > 0x20 && optopt < 0x7f)
			cli_error("%s: -%c needs a value", argv[0], optopt);
		else
			cli_error("%s: an option needs a value", argv[0]);
		return;
	}
	if (optopt > 0x20 && optopt < 0x7f && strncmp(typed, "--", 2) != 0)
		cli_error("%s: unknown option '-%c'", argv[0], optopt);
	else
		cli_error("%s: unknown option '%s'", argv[0], text_valid(typed) ? typed : "?");
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage, int *help)
{
	struct option all[48];
	size_t n = 0;
	int c;

	for (; longopts && longopts[n].name && n < 44; n++)
		all[n] = longopts[n];
	all[n++] = (struct option){ "state", required_argument, NULL, 0x1000 };
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ NULL, 0, NULL, 0 };

	for (;;) {
		char so[64];
		snprintf(so, sizeof so, ":h%s", shortopts ? shortopts : "");
		opterr = 0;
		c = getopt_long(argc, argv, so, all, NULL);
		if (c == 0x1000) {
			cli->state_dir = optarg;
			continue;
		}
		if (c == 'h') {
			fputs(usage, stdout);
			*help = 1;
			return -1;
		}
		if (c == '?' || c == ':') {
			report_bad_option(argv, all, c == ':');
			fputs(usage, stderr);
			return '?';
		}
		return c;
	}
}

int cli_expect_args(int argc, char **argv, int want_min, int want_max, const char *usage)
{
	int n = argc - optind;

	if (n < want_min || n > want_max) {
		cli_error("%s: expected %s argument%s, got %d", argv[0],
			  want_min == want_max ? (want_min == 0 ? "no" : want_min == 1 ? "one" : "two")
					       : "one or more", want_max == 1 ? "" : "s", n);
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

/* A state made with `init --key-store`: the keys this command makes (capf
 * regenerate, csr --new-key, service certificates) go into that token too. */
static int key_store_of_state(struct store *st)
{
	char uri[1024], err[ERRLEN];

	if (store_setting_get(st, SIGNER_P11_STORE_SETTING, uri, sizeof uri) != 0 || !uri[0])
		return 0;
	if (signer_p11_set_store(uri, err, sizeof err) < 0) {
		cli_error("the state's key store: %s", err);
		return -1;
	}
	return 0;
}

/* A running daemon's signer (its door, STATE/signer.sock): the keys of
 * keys/ are used, made and saved there; without one (no daemon, or not
 * allowed in), the command opens them itself. */
static void signer_of_daemon(const struct cli *cli)
{
	static struct signer_client *door;
	char path[4200], keys[4200], err[ERRLEN];

	if (door || snprintf(path, sizeof path, "%s/%s", cli->state_dir, SIGNER_DOOR_SOCKET) >= (int)sizeof path ||
	    access(path, F_OK) != 0)
		return;
	if (!(door = signer_door_connect(path, err, sizeof err))) {
		if (errno != ECONNREFUSED) /* refused: a socket left by a daemon that was killed */
			fprintf(stderr, "opencapf: warning: %s: the command opens the key files itself\n", err);
		return;
	}
	if (signer_provider_load(err, sizeof err) < 0) {
		signer_client_free(door);
		door = NULL;
		return;
	}
	snprintf(keys, sizeof keys, "%s/keys", cli->state_dir);
	signer_client_install_admin(door, keys);
}

int cli_open_store(struct cli *cli, struct store **st)
{
	char err[ERRLEN];

	if (store_open(cli->state_dir, STORE_OPEN_EXISTING, st, err, sizeof err) < 0) {
		cli_error("%s", err);
		return -1;
	}
	if (key_store_of_state(*st) < 0) {
		store_close(*st);
		*st = NULL;
		return -1;
	}
	signer_of_daemon(cli);
	return 0;
}
