/*
 * cmd_backup.c: `opencapf backup FILE` and `opencapf restore FILE`: a
 * state's database snapshot and files in one archive, optionally encrypted
 * with a passphrase from a file (admin/backup.h has the format), and back
 * into a new state.
 */
#include "cmd/opencapf/cli.h"

#include <stdlib.h>

#include "admin/backup.h"

static const char backup_usage[] =
	"usage: opencapf backup FILE [--passphrase-file F]\n\n"
	"Write a backup of the state to FILE (a new file, mode 0600): a consistent snapshot\n"
	"of the database, taken with SQLite's online backup API (safe while opencapfd runs),\n"
	"and the state's files (keys/, certs/, tftp/), with a manifest of SHA-256 checksums.\n"
	"  --passphrase-file F  encrypt it (AES-256-GCM, key from PBKDF2-SHA256) with the\n"
	"                       passphrase on the first line of F\n";

static const char restore_usage[] =
	"usage: opencapf restore FILE [--passphrase-file F]\n\n"
	"Restore a backup written by 'opencapf backup' into the state folder (--state), which\n"
	"must not exist or be empty. Truncated, altered or foreign archives are refused with\n"
	"the reason; the database's integrity is checked before the state is put in place.\n"
	"The files belong to the user who runs it: for the packaged service, restore as root and\n"
	"then 'chown -R opencapf:opencapf /var/lib/opencapf'.\n"
	"  --passphrase-file F  the passphrase of an encrypted backup (first line of F)\n";

static int parse(struct cli *cli, int argc, char **argv, const char *usage, const char **pass_file, int *help)
{
	static const struct option opts[] = {
		{ "passphrase-file", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 },
	};
	int c;

	*pass_file = NULL;
	while ((c = cli_getopt(cli, argc, argv, "", opts, usage, help)) != -1) {
		if (c != 'p')
			return -1;
		*pass_file = optarg;
	}
	if (*help || cli_expect_args(argc, argv, 1, 1, usage) < 0)
		return -1;
	return 0;
}

static int run(struct cli *cli, int argc, char **argv, int restore)
{
	struct backup_summary sum;
	const char *pass_file, *file;
	char err[ERRLEN], *pass = NULL;
	int help = 0, rc;

	if (parse(cli, argc, argv, restore ? restore_usage : backup_usage, &pass_file, &help) < 0)
		return help ? EXIT_OK : EXIT_USAGE;
	file = argv[optind];
	if (pass_file && backup_passphrase_read(pass_file, &pass, err, sizeof err) < 0) {
		cli_error("--passphrase-file: %s", err);
		return EXIT_FAIL;
	}
	rc = restore ? backup_restore(file, cli->state_dir, pass, &sum, err, sizeof err)
		     : backup_create(cli->state_dir, file, pass, &sum, err, sizeof err);
	backup_passphrase_free(pass);
	if (rc < 0) {
		cli_error("%s %s: %s", restore ? "restore" : "backup", file, err);
		return EXIT_FAIL;
	}
	if (restore)
		printf("restored %zu files from %s into %s (schema %d, integrity ok%s)\n", sum.files, file,
		       cli->state_dir, sum.schema, sum.encrypted ? ", was encrypted" : "");
	else
		printf("backup %s: %zu files, %zu bytes, schema %d, %s\n", file, sum.files, sum.bytes, sum.schema,
		       sum.encrypted ? "encrypted (AES-256-GCM)" : "not encrypted");
	return EXIT_OK;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, 0);
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
	return run(cli, argc, argv, 1);
}
