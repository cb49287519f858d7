/*
 * cmd_trust.h: the `opencapf trust` subcommands, split by role:
 *   cmd_trust.c         list, show, add, remove, and the dispatch table
 *   cmd_trust_export.c  export (PEM bundle, hashed directory)
 */
#ifndef OPENCAPF_CMD_TRUST_H
#define OPENCAPF_CMD_TRUST_H

#include "cmd/opencapf/cli.h"

int trust_export(struct cli *cli, int argc, char **argv);

#endif
