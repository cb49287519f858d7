/*
 * cmd_phone_import.c: `opencapf phone import FILE.csv`: the options, reading
 * the file (or standard input) and the wording of the result. The import's
 * rules (all or nothing, FILE:LINE problems, --update, the transaction and
 * its audit rows) are the administration core's: admin/phone_import.h.
 * The file may hold authentication strings: its bytes are wiped here when
 * the import is done.
 */
#include "cmd/opencapf/cmd_phone.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/phone_import.h"

#define IMPORT_MAX_BYTES ((size_t)256 * 1024 * 1024)

static const char import_usage[] =
	"usage: opencapf phone import FILE.csv [--update] [--dry-run]\n\n"
	"Add phones from a CSV file (RFC 4180; '-' reads standard input). The first\n"
	"line names the columns, in any order; only 'name' is required:\n"
	"  name, model, description, auth (null|string|lsc-first|mic-first),\n"
	"  auth_string, key_order (rsa|ec|ec-rsa), rsa_bits, ec_bits,\n"
	"  operation (none|install|delete|troubleshoot), deadline (\"YYYY-MM-DD HH:MM\" UTC)\n"
	"Empty cells take the defaults (for phones being updated: keep their value);\n"
	"an operation without a deadline completes within a day.\n"
	"All or nothing: every bad line is reported as FILE:LINE: ..., and then\n"
	"nothing is imported. One transaction; one audit entry per phone changed.\n"
	"  --update     phones that exist already are changed (else they are an error)\n"
	"  --dry-run    check the file and report what would change, change nothing\n";

static int read_input(const char *path, uint8_t **data, size_t *len)
{
	char err[ERRLEN];

	if (strcmp(path, "-") != 0) {
		if (read_file(path, IMPORT_MAX_BYTES, data, len, err, sizeof err) < 0) {
			cli_error("%s", err);
			return -1;
		}
		return 0;
	}
	{
		struct buf b;
		uint8_t chunk[65536];
		size_t n;

		buf_init(&b);
		while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
			buf_put(&b, chunk, n);
			if (b.len > IMPORT_MAX_BYTES) {
				cli_error("standard input: more than %zu bytes", IMPORT_MAX_BYTES);
				buf_free(&b);
				return -1;
			}
		}
		buf_put_u8(&b, 0);
		if (b.failed || ferror(stdin)) {
			cli_error("cannot read standard input");
			buf_free(&b);
			return -1;
		}
		*data = b.data;
		*len = b.len - 1;
	}
	return 0;
}

/* Say how the import ended: an exit code. */
static int import_report(int rc, const char *file, int dry_run, const struct admin_import_result *r,
			 const char *err)
{
	if (r->problems.len)
		fwrite(r->problems.data, 1, r->problems.len, stderr);
	if (rc == ADMIN_IMPORT_OK && r->warnings.len) {
		fputs("opencapf: warning: ", stderr);
		for (size_t i = 0; i < r->warnings.len; i++) {
			fputc(r->warnings.data[i], stderr);
			if (r->warnings.data[i] == '\n' && i + 1 < r->warnings.len)
				fputs("opencapf: warning: ", stderr);
		}
	}
	switch (rc) {
	case ADMIN_IMPORT_OK:
		if (dry_run)
			printf("dry run: %s is valid: would add %zu, update %zu, leave %zu unchanged; nothing changed\n",
			       file, r->added, r->updated, r->unchanged);
		else
			printf("imported %s: %zu added, %zu updated, %zu unchanged\n", file, r->added, r->updated,
			       r->unchanged);
		return EXIT_OK;
	case ADMIN_IMPORT_BAD_HEADER:
		cli_error("%s: nothing imported", file);
		return EXIT_FAIL;
	case ADMIN_IMPORT_BAD_LINES:
		cli_error("%s: %zu bad line%s: nothing imported", file, r->bad_lines, r->bad_lines == 1 ? "" : "s");
		return EXIT_FAIL;
	case ADMIN_IMPORT_FAILED:
		cli_error("%s", err);
		return EXIT_FAIL;
	default: /* ADMIN_IMPORT_EMPTY: the problem line says it all */
		return EXIT_FAIL;
	}
}

int phone_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "update", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin_import_result res;
	struct store *st = NULL;
	uint8_t *data = NULL;
	size_t len;
	const char *file;
	char err[ERRLEN] = "";
	int help = 0, update = 0, dry_run = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, import_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'u')
			update = 1;
		else
			dry_run = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, import_usage) < 0)
		return EXIT_USAGE;
	file = strcmp(argv[optind], "-") ? argv[optind] : "(stdin)";
	if (read_input(argv[optind], &data, &len) < 0)
		return EXIT_FAIL;
	rc = EXIT_FAIL;
	if (cli_open_store(cli, &st) == 0) {
		int r = admin_phone_import(st, cli->actor, data, len, file, update, dry_run, &res, err, sizeof err);
		rc = import_report(r, file, dry_run, &res, err);
		admin_import_result_free(&res);
		store_close(st);
	}
	/* The file may hold authentication strings. */
	OPENSSL_cleanse(data, len);
	free(data);
	return rc;
}
