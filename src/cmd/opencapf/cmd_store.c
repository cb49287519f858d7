/*
 * cmd_store.c: `opencapf store migrate URI`: the state's SQLite database
 * copied into PostgreSQL, after which the state uses PostgreSQL (the first
 * node of a cluster). Refused while a daemon serves the state.
 */
#include "cmd/opencapf/cli.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_copy.h"
#include "store/store_lock.h"

static const char store_usage[] =
	"usage: opencapf store migrate URI\n\n"
	"Copy the state's SQLite database (STATE/opencapf.db) into a new state in the\n"
	"PostgreSQL database at URI (postgresql://...; it must hold no opencapf state),\n"
	"in one transaction, keeping every row and id, then use it: STATE/store.uri\n"
	"names URI from now on. The SQLite file is kept as it was. Stop opencapfd first.\n";

static void progress(const char *table, int64_t rows, void *arg)
{
	(void)arg;
	printf("  %-15s %" PRId64 " rows\n", table, rows);
}

static int migrate(struct cli *cli, const char *uri)
{
	char err[ERRLEN];
	int fd = -1;

	if (strncmp(uri, "postgresql://", 13) && strncmp(uri, "postgres://", 11)) {
		cli_error("store migrate: %s is not a postgresql:// URI", uri);
		return EXIT_USAGE;
	}
	if (store_lock_state(cli->state_dir, &fd, err, sizeof err) < 0) {
		cli_error("store migrate: %s", err);
		return EXIT_FAIL;
	}
	printf("copying %s into PostgreSQL:\n", cli->state_dir);
	if (store_migrate_to(cli->state_dir, uri, progress, NULL, err, sizeof err) < 0) {
		cli_error("store migrate: %s", err);
		close(fd);
		return EXIT_FAIL;
	}
	close(fd);
	printf("%s now uses PostgreSQL (%s/%s); %s/%s is kept as it was\n", cli->state_dir, cli->state_dir,
	       STORE_URI_FILE, cli->state_dir, STORE_DB_NAME);
	return EXIT_OK;
}

int cmd_store(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	int help = 0;

	if (argc < 2 || strcmp(argv[1], "migrate")) {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			fputs(store_usage, stdout);
			return EXIT_OK;
		}
		fputs(store_usage, stderr);
		return EXIT_USAGE;
	}
	argc--;
	argv++;
	while (cli_getopt(cli, argc, argv, "", opts, store_usage, &help) != -1)
		if (!help)
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, store_usage) < 0)
		return EXIT_USAGE;
	return migrate(cli, argv[optind]);
}
