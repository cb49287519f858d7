/*
 * cmd_phone.h: the `opencapf phone` subcommands, split by role:
 *   cmd_phone.c          add, set, op, show, list, remove, the settings
 *                        options and the dispatch table
 *   cmd_phone_bulk.c     every phone a selector picks: op on many phones,
 *                        export, auth-strings generate
 *   cmd_phone_import.c   import (a CSV file, all or nothing)
 *   phone_select_opts.c  the selector command line of list, op, export and
 *                        auth-strings; sets of device names
 */
#ifndef OPENCAPF_CMD_PHONE_H
#define OPENCAPF_CMD_PHONE_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/opencapf/cli.h"
#include "cmd/opencapf/phone_view.h"

int phone_import(struct cli *cli, int argc, char **argv);
int phone_export(struct cli *cli, int argc, char **argv);
int phone_auth_strings(struct cli *cli, int argc, char **argv);
int phone_config_cmd(struct cli *cli, int argc, char **argv);
/* cmd_revoke.c: `phone revoke NAME`; the lines saying what was revoked. */
int phone_revoke(struct cli *cli, int argc, char **argv);
struct admin_revoked;
void cli_print_revoked(const struct admin_revoked *rv);
/* `phone op OP [NAME...] [SELECTORS]` once parsed: an exit code. */
int phone_op_by_selector(struct cli *cli, struct phone_selector *sel, enum capf_op op, int64_t deadline,
			 const char *note, int dry_run);

/* The operation fields after --operation / --by (or the import's cells):
 * none clears the deadline and status of a pending operation (and leaves
 * a phone that had none as it was); a new or re-timed operation is
 * Pending, by default for a day. `before` may be NULL (a new phone). */
void phone_settle_operation(struct phone *p, const struct phone *before, int op_given, int by_given);

/* ---- phone_select_opts.c ---- */

/* Explicit names that are not phones: an error before anything changes. */
int phone_names_missing(struct store *st, const struct phone_selector *sel);

/* Parse selectors, positional names and the command's own options `own`
 * (each given to on_opt with ctx) for list-like commands; --help prints the
 * selector help. */
int phone_parse_selector_cmd(struct cli *cli, int argc, char **argv, const struct option *own,
			     const char *usage, struct phone_selector *sel, int *help,
			     int (*on_opt)(int c, const char *arg, void *ctx), void *ctx);

#endif
