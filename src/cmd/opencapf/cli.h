/*
 * cli.h: what the `opencapf` subcommands share: the table of commands, the
 * state-directory option, opening the store with a clear error, and output
 * helpers. Each cmd_*.c file implements one group of subcommands.
 */
#ifndef OPENCAPF_CLI_H
#define OPENCAPF_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "common/util.h"
#include "store/store.h"

#define DEFAULT_STATE_DIR "/var/lib/opencapf"

struct cli {
	const char *state_dir;   /* --state, OPENCAPF_STATE, or the default */
	char actor[64];          /* "cli:USER" for the audit log */
};

struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *summary;
};

/* Exit codes shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Run one of a group's subcommands: argv[0] is the group ("phone"),
 * argv[1] the subcommand ("add"). Prints the group's help for -h. */
int cli_dispatch(struct cli *cli, const char *group, const struct cli_command *cmds,
		 int argc, char **argv);

/* getopt_long over a subcommand's own options, always accepting --state DIR
 * and -h/--help (prints `usage` and returns 1 for the caller to exit 0).
 * Returns the option character, -1 at the end, '?' on error (message
 * printed, caller exits 2). */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *longopts, const char *usage, int *help);

int cli_open_store(struct cli *cli, struct store **st);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reject stray positional arguments beyond `want`. */
int cli_expect_args(int argc, char **argv, int want_min, int want_max, const char *usage);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_capf(struct cli *cli, int argc, char **argv);
int cmd_phone(struct cli *cli, int argc, char **argv);
int cmd_trust(struct cli *cli, int argc, char **argv);
int cmd_itl(struct cli *cli, int argc, char **argv);
int cmd_ctl(struct cli *cli, int argc, char **argv);
int cmd_tvs(struct cli *cli, int argc, char **argv);
int cmd_report(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_diagnose(struct cli *cli, int argc, char **argv);
int cmd_register(struct cli *cli, int argc, char **argv);
int cmd_pcap(struct cli *cli, int argc, char **argv);
int cmd_token(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_provision(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
int cmd_store(struct cli *cli, int argc, char **argv);
int cmd_completion(struct cli *cli, int argc, char **argv);
/* The top-level command table (main.c), for generated shell completion. */
extern const struct cli_command *const cli_command_table;
int cmd_sign(struct cli *cli, int argc, char **argv);
int cmd_sgn(struct cli *cli, int argc, char **argv);
int cmd_cert(struct cli *cli, int argc, char **argv);
int cmd_crl(struct cli *cli, int argc, char **argv);

#endif
