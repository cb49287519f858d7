/*
 * cmd_phone_import.c: `opencapf phone import FILE.csv`: add phones, or with
 * --update change them, from a CSV file in the columns `phone export`
 * writes (phone_csv.c reads the cells).
 *
 * Invariants:
 *  - All or nothing: every bad line is reported as FILE:LINE: ... and then
 *    nothing is imported; the changes are one transaction.
 *  - One audit row per phone changed (action phone.import, with its
 *    FILE:LINE), and one summary row (phone.import.done) with the counts.
 *  - The file may hold authentication strings: its bytes are wiped when
 *    the import is done.
 */
#include "cmd/opencapf/cmd_phone.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

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

static int phone_same(const struct phone *a, const struct phone *b)
{
	return !strcmp(a->model, b->model) && !strcmp(a->description, b->description) && a->auth == b->auth &&
	       !strcmp(a->auth_string, b->auth_string) && a->key_order == b->key_order &&
	       a->rsa_bits == b->rsa_bits && a->ec_bits == b->ec_bits && a->op == b->op &&
	       a->deadline == b->deadline && !strcmp(a->status, b->status);
}

struct import {
	struct cli *cli;
	const char *file;
	struct store_bulk *bulk;
	struct phone_csv_map map;
	struct name_set names;
	int update, dry_run;
	size_t errors, added, updated, unchanged;
	int fatal;
};

static void import_error(struct import *im, size_t line, const char *msg)
{
	fprintf(stderr, "%s:%zu: %s\n", im->file, line, msg);
	im->errors++;
}

static int all_empty(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++)
		for (const char *p = rec->field[i]; *p; p++)
			if (*p != ' ' && *p != '\t')
				return 0;
	return 1;
}

static void import_row(struct import *im, const struct csv_record *rec, struct store *st)
{
	struct phone before, p;
	char name[64], err[1024], msg[1200];
	const char *cell = phone_csv_cell(&im->map, rec, PSET_NAME);
	unsigned given;
	size_t first;
	int exists;

	snprintf(name, sizeof name, "%s", cell);
	/* Spreadsheets pad cells; names have no spaces. */
	{
		char *s = name, *e;
		while (*s == ' ' || *s == '\t')
			s++;
		memmove(name, s, strlen(s) + 1);
		e = name + strlen(name);
		while (e > name && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
	}
	if (!name[0]) {
		import_error(im, rec->line, "no name (every row needs a device name)");
		return;
	}
	if (!devname_valid(name) || strlen(cell) >= sizeof name) {
		snprintf(msg, sizeof msg, "'%s' is not a device name: expected SEP followed by 12 upper-case hex "
					  "digits", text_valid(name) && strlen(cell) < sizeof name ? name : "?");
		import_error(im, rec->line, msg);
		return;
	}
	first = name_set_add(&im->names, name, rec->line);
	if (first == (size_t)-1) {
		import_error(im, rec->line, "out of memory");
		im->fatal = 1;
		return;
	}
	if (first) {
		snprintf(msg, sizeof msg, "phone %s is also on line %zu", name, first);
		import_error(im, rec->line, msg);
		return;
	}
	exists = store_bulk_get(im->bulk, name, &before);
	if (exists < 0) {
		snprintf(msg, sizeof msg, "cannot read phone %s: %s", name, store_errmsg(st));
		import_error(im, rec->line, msg);
		im->fatal = 1;
		return;
	}
	exists = exists == 0;
	if (exists && !im->update) {
		snprintf(msg, sizeof msg, "phone %s already exists (use --update to change existing phones)", name);
		import_error(im, rec->line, msg);
		return;
	}
	if (exists)
		p = before;
	else
		phone_defaults(&p, name);
	if (phone_csv_apply(&im->map, rec, &p, &given, err, sizeof err) < 0) {
		snprintf(msg, sizeof msg, "%s: %s", name, err);
		import_error(im, rec->line, msg);
		return;
	}
	phone_settle_operation(&p, exists ? &before : NULL, !!(given & (1u << PSET_OPERATION)),
			       !!(given & (1u << PSET_DEADLINE)));
	if ((given & (1u << PSET_DEADLINE)) && p.op == OP_NONE && !(given & (1u << PSET_OPERATION))) {
		snprintf(msg, sizeof msg, "%s: a deadline without an operation", name);
		import_error(im, rec->line, msg);
		return;
	}
	if (p.auth == AUTH_STRING && !p.auth_string[0]) {
		snprintf(msg, sizeof msg, "%s: auth string needs an auth_string (4 to 10 digits; or import with "
					  "another mode and run 'opencapf phone auth-strings generate')", name);
		import_error(im, rec->line, msg);
		return;
	}
	if (im->errors || im->fatal)
		return; /* everything will be rolled back: only checking from here on */
	if (exists && phone_same(&before, &p)) {
		im->unchanged++;
		return;
	}
	if (!im->dry_run) {
		char src[300];
		char *detail;
		int rc;

		snprintf(src, sizeof src, "%s:%zu", im->file, rec->line);
		rc = exists ? store_bulk_update(im->bulk, &p) : store_bulk_insert(im->bulk, &p);
		detail = phone_audit_detail_with(exists ? &before : NULL, &p, "source", json_string(src));
		if (rc == 0)
			rc = store_bulk_audit(im->bulk, im->cli->actor, "phone.import", p.name, detail ? detail : "{}");
		free(detail);
		if (rc < 0) {
			snprintf(msg, sizeof msg, "cannot write phone %s: %s", name, store_errmsg(st));
			import_error(im, rec->line, msg);
			im->fatal = 1;
			return;
		}
	}
	if (exists)
		im->updated++;
	else
		im->added++;
}

int phone_import(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "update", no_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct import im = { .cli = cli };
	struct csv_reader rd;
	struct csv_record *rec = NULL;
	struct store *st = NULL;
	uint8_t *data = NULL;
	size_t len;
	char err[ERRLEN];
	int help = 0, c, r, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, import_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'u')
			im.update = 1;
		else
			im.dry_run = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, import_usage) < 0)
		return EXIT_USAGE;
	im.file = strcmp(argv[optind], "-") ? argv[optind] : "(stdin)";
	if (read_input(argv[optind], &data, &len) < 0)
		return EXIT_FAIL;
	rec = malloc(sizeof *rec);
	if (!rec) {
		cli_error("out of memory");
		goto out;
	}
	csv_reader_init(&rd, (const char *)data, len);
	r = csv_read(&rd, rec, err, sizeof err);
	if (r == 0) {
		fprintf(stderr, "%s:1: empty file: the first line must name the columns (e.g. name,model,auth)\n",
			im.file);
		goto out;
	}
	if (r < 0 || phone_csv_map_header(rec, &im.map, err, sizeof err) < 0) {
		fprintf(stderr, "%s:%zu: %s\n", im.file, rec->line, err);
		fprintf(stderr, "opencapf: %s: nothing imported\n", im.file);
		goto out;
	}
	if (cli_open_store(cli, &st) < 0)
		goto out;
	if (store_bulk_begin(st, &im.bulk) < 0) {
		cli_error("cannot start the import: %s", store_errmsg(st));
		goto out;
	}
	while (!im.fatal && (r = csv_read(&rd, rec, err, sizeof err)) != 0) {
		if (r < 0) {
			import_error(&im, rec->line, err);
			continue;
		}
		if (all_empty(rec))
			continue;
		import_row(&im, rec, st);
	}
	if (im.errors || im.fatal) {
		store_bulk_end(im.bulk, 0);
		im.bulk = NULL;
		fprintf(stderr, "opencapf: %s: %zu bad line%s: nothing imported\n", im.file, im.errors,
			im.errors == 1 ? "" : "s");
		goto out;
	}
	if (im.dry_run) {
		store_bulk_end(im.bulk, 0);
		im.bulk = NULL;
		printf("dry run: %s is valid: would add %zu, update %zu, leave %zu unchanged; nothing changed\n",
		       im.file, im.added, im.updated, im.unchanged);
		rc = EXIT_OK;
		goto out;
	}
	{
		json_t *sum = json_pack("{s:s, s:I, s:I, s:I, s:b}", "file", im.file, "added", (json_int_t)im.added,
					"updated", (json_int_t)im.updated, "unchanged", (json_int_t)im.unchanged,
					"update", im.update);
		char *detail = sum ? json_dumps(sum, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(sum);
		int ok = store_bulk_audit(im.bulk, cli->actor, "phone.import.done", im.file, detail ? detail : "{}") == 0;
		free(detail);
		ok = store_bulk_end(im.bulk, ok) == 0;
		im.bulk = NULL;
		if (!ok) {
			cli_error("%s: cannot commit the import: %s; nothing imported", im.file, store_errmsg(st));
			goto out;
		}
	}
	printf("imported %s: %zu added, %zu updated, %zu unchanged\n", im.file, im.added, im.updated, im.unchanged);
	rc = EXIT_OK;
out:
	if (im.bulk)
		store_bulk_end(im.bulk, 0);
	if (st)
		store_close(st);
	free(im.names.slot);
	free(rec);
	if (data) {
		/* The file may hold authentication strings. */
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return rc;
}
