/*
 * cmd_capf.h: the `opencapf capf` subcommands, split by role:
 *   cmd_capf.c       show, cert, and the dispatch table
 *   cmd_capf_life.c  regenerate, csr, import, retire (the certificate's life)
 *   cmd_rollover.c   rollover status|schedule (moving phones to the new one)
 */
#ifndef OPENCAPF_CMD_CAPF_H
#define OPENCAPF_CMD_CAPF_H

#include "cmd/opencapf/cli.h"
#include "pki/pki.h"

int capf_regenerate(struct cli *cli, int argc, char **argv);
int capf_csr(struct cli *cli, int argc, char **argv);
int capf_import(struct cli *cli, int argc, char **argv);
int capf_retire(struct cli *cli, int argc, char **argv);
int capf_rollover(struct cli *cli, int argc, char **argv);

/* Parse --days (1..36500) and --key for a CAPF key (rsa:2048+, ec:p256/p384).
 * 0, or -1 with the message printed. */
int capf_parse_days(const char *cmd, const char *s, int *days);
int capf_parse_key(const char *cmd, const char *s, enum pki_key_kind *kind, int *bits);

#endif
