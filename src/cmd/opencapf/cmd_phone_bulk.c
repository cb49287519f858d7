/*
 * cmd_phone_bulk.c: the `opencapf phone` commands that act on every phone a
 * selector picks (phone_select_opts.c): `phone op OP [NAME...] [SELECTORS]`,
 * `phone export` (CSV, in the columns `phone import` reads) and
 * `phone auth-strings generate`.
 *
 * Invariants:
 *  - A change is one transaction (all phones or none) with one audit row
 *    per phone changed; with no condition at all it needs --all.
 *  - Authentication strings leave the database only on explicit request
 *    (export --with-auth-strings, auth-strings generate), into files
 *    created 0600; such exports are audited too (without the strings).
 */
#include "cmd/opencapf/cmd_phone.h"
#include "admin/auth_strings.h"
#include "admin/phones.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- op on every phone a selector picks ---- */

struct op_print {
	struct table *t;
	int64_t now;
};

static int op_preview(const struct phone_row *r, void *arg)
{
	struct op_print *o = arg;
	char lsc[40] = "none", t[40];
	const char *cells[5];

	if (r->lsc.present) {
		fmt_time_utc(r->lsc.not_after, t, sizeof t);
		t[10] = '\0';
		snprintf(lsc, sizeof lsc, "%s%s", r->lsc.not_after < o->now ? "expired " : "", t);
	}
	cells[0] = r->phone.name;
	cells[1] = r->phone.model[0] ? r->phone.model : "-";
	cells[2] = capf_op_name(r->phone.op);
	cells[3] = r->phone.status[0] ? r->phone.status : "-";
	cells[4] = lsc;
	return table_add(o->t, cells);
}

int phone_op_by_selector(struct cli *cli, struct phone_selector *sel, enum capf_op op, int64_t deadline,
			 const char *note, int dry_run)
{
	static const struct table_col cols[] = {
		{ "NAME", 15, 0, 0 }, { "MODEL", 5, 16, 2 }, { "OPERATION", 7, 12, 0 },
		{ "STATUS", 8, 60, 0 }, { "LSC", 4, 18, 1 },
	};
	struct phone_schedule ps = { .op = op, .deadline = op == OP_NONE ? 0 : deadline, .actor = cli->actor,
				     .action = "phone.op", .note = note, .dry_run = dry_run, .all = sel->all };
	struct op_print pr = { .now = now_utc() };
	struct store *st;
	char what[256], by[40];
	size_t n = 0;
	int rc;

	if (phone_filter_is_empty(&sel->f) && !sel->all) {
		cli_error("phone op %s: no phone selected: give NAMEs or selectors, or --all for every phone",
			  capf_op_name(op));
		return EXIT_USAGE;
	}
	phone_filter_describe(&sel->f, what, sizeof what);
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (phone_names_missing(st, sel) < 0) {
		store_close(st);
		return EXIT_FAIL;
	}
	if (dry_run && !(pr.t = table_new(cols, 5))) {
		cli_error("out of memory");
		store_close(st);
		return EXIT_FAIL;
	}
	rc = admin_phones_schedule(st, &sel->f, &ps, dry_run ? op_preview : NULL, &pr, &n);
	if (rc != 0) {
		table_print_free(pr.t, NULL, 0);
		cli_error("cannot schedule %s on the selected phones (%s): %s; nothing changed", capf_op_name(op),
			  what, rc < 0 ? store_errmsg(st) : "out of memory");
		store_close(st);
		return EXIT_FAIL;
	}
	store_close(st);
	fmt_time_utc(ps.deadline, by, sizeof by);
	if (dry_run) {
		if (n)
			table_print_free(pr.t, stdout, terminal_width());
		else
			table_print_free(pr.t, NULL, 0);
		printf("dry run: would schedule %s on %zu phone%s (%s)%s%s; nothing changed\n", capf_op_label(op), n,
		       n == 1 ? "" : "s", what, op == OP_NONE ? "" : ", completes by ", op == OP_NONE ? "" : by);
	} else if (n == 0)
		printf("no phone matches (%s): nothing changed\n", what);
	else if (op == OP_NONE)
		printf("%zu phone%s: no pending operation (%s)\n", n, n == 1 ? "" : "s", what);
	else
		printf("%zu phone%s: %s pending, completes by %s (%s)\n", n, n == 1 ? "" : "s", capf_op_label(op), by,
		       what);
	return EXIT_OK;
}

/* ---- export ---- */

static const char export_usage[] =
	"usage: opencapf phone export [NAME...] [SELECTORS] [--with-auth-strings] [--out FILE]\n\n"
	"Write phones as CSV, in the columns 'phone import' reads, to standard output\n"
	"or FILE. Authentication strings are secrets: the auth_string column stays\n"
	"empty unless --with-auth-strings (then FILE is created mode 0600 and the\n"
	"export is audited).\n"
	"  --with-auth-strings  include the authentication strings\n"
	"  --out FILE           write FILE atomically instead of standard output\n\n";

struct export_ctx {
	struct buf b;
	int with_auth;
	size_t n;
	const char *out;
};

static int export_opt(int c, const char *arg, void *p)
{
	struct export_ctx *x = p;

	if (c == 'w')
		x->with_auth = 1;
	else if (c == 'o')
		x->out = arg;
	return 0;
}

static int export_row(const struct phone_row *r, void *arg)
{
	struct export_ctx *x = arg;

	phone_csv_write_row(&x->b, &r->phone, x->with_auth);
	x->n++;
	return x->b.failed ? -1 : 0;
}

static int write_output(const char *path, const struct buf *b, mode_t mode)
{
	char err[ERRLEN];

	if (!path || strcmp(path, "-") == 0) {
		if (fwrite(b->data, 1, b->len, stdout) != b->len || fflush(stdout) != 0) {
			cli_error("cannot write standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (write_file_atomic(path, b->data, b->len, mode, err, sizeof err) < 0) {
		cli_error("%s", err);
		return -1;
	}
	return 0;
}

int phone_export(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "with-auth-strings", no_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct export_ctx x = { .with_auth = 0 };
	struct phone_selector sel;
	struct store *st = NULL;
	int help = 0, rc = EXIT_USAGE;

	buf_init(&x.b);
	phone_selector_init(&sel);
	if (phone_parse_selector_cmd(cli, argc, argv, own, export_usage, &sel, &help, export_opt, &x) < 0)
		goto out;
	rc = EXIT_OK;
	if (help)
		goto out;
	rc = EXIT_FAIL;
	if (cli_open_store(cli, &st) < 0)
		goto out;
	phone_csv_write_header(&x.b, x.with_auth);
	if (store_phone_select(st, &sel.f, export_row, &x) != 0) {
		cli_error("cannot export phones: %s", x.b.failed ? "out of memory" : store_errmsg(st));
		goto out;
	}
	if (x.with_auth) {
		/* Audited before the secrets leave (without them). */
		char what[256], *detail;
		json_t *o;
		phone_filter_describe(&sel.f, what, sizeof what);
		o = json_pack("{s:s, s:I, s:b, s:s}", "filter", what, "count", (json_int_t)x.n, "auth_strings", 1,
			      "out", x.out ? x.out : "-");
		detail = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (store_audit(st, cli->actor, "phone.export", x.out ? x.out : "-", detail ? detail : "{}") < 0) {
			free(detail);
			cli_error("cannot write the audit log: %s; nothing exported", store_errmsg(st));
			goto out;
		}
		free(detail);
	}
	if (write_output(x.out, &x.b, x.with_auth ? 0600 : 0644) < 0)
		goto out;
	if (x.out)
		fprintf(stderr, "exported %zu phone%s to %s%s\n", x.n, x.n == 1 ? "" : "s", x.out,
			x.with_auth ? " (with authentication strings, mode 0600)" : "");
	rc = EXIT_OK;
out:
	if (st)
		store_close(st);
	if (x.b.data)
		OPENSSL_cleanse(x.b.data, x.b.cap);
	buf_free(&x.b);
	phone_selector_free(&sel);
	return rc;
}

/* ---- generated authentication strings ---- */

static const char gen_usage[] =
	"usage: opencapf phone auth-strings generate [NAME...] [SELECTORS] [--length N]\n"
	"                                            [--out FILE.csv] [--dry-run]\n\n"
	"Give every selected phone a new random authentication string (digits, from\n"
	"the OpenSSL random generator, uniformly) and set its mode to 'string'. The\n"
	"strings are written as CSV (name,auth_string) for the people who type them in:\n"
	"to FILE (created mode 0600, before the change is committed) or standard\n"
	"output. One transaction; one audit entry per phone (never the string).\n"
	"  --length N   digits per string, 4 to 10 (default 8)\n"
	"  --out FILE   write the strings there instead of standard output\n"
	"  --dry-run    list the phones that would get a string, change nothing\n\n";

struct gen_ctx {
	int length;
	const char *out;
	int dry_run;
	char (*names)[64];
	size_t n, cap;
	int oom;
};

static int gen_opt(int c, const char *arg, void *p)
{
	struct gen_ctx *g = p;
	char *end;
	long v;

	if (c == 'o') {
		g->out = arg;
		return 0;
	}
	if (c == 'n') {
		g->dry_run = 1;
		return 0;
	}
	v = strtol(arg, &end, 10);
	if (!*arg || *end || v < 4 || v > 10) {
		cli_error("--length: expected 4 to 10 digits");
		return -1;
	}
	g->length = (int)v;
	return 0;
}

static int gen_collect(const struct phone_row *r, void *arg)
{
	struct gen_ctx *g = arg;

	if (g->n == g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 256;
		char (*nn)[64] = realloc(g->names, ncap * sizeof *nn);
		if (!nn) {
			g->oom = 1;
			return -1;
		}
		g->names = nn;
		g->cap = ncap;
	}
	snprintf(g->names[g->n++], 64, "%s", r->phone.name);
	return 0;
}

struct gen_out {
	struct cli *cli;
	struct gen_ctx *g;
	struct buf *csv;
};

static int gen_emit(const char *name, const char *auth_string, void *arg)
{
	struct gen_out *o = arg;

	csv_put(o->csv, name, 1);
	csv_put(o->csv, auth_string, 0);
	csv_end(o->csv);
	return o->csv->failed ? -1 : 0;
}

/* The file first: if it cannot be written, nothing changes. */
static int gen_ready(void *arg)
{
	struct gen_out *o = arg;

	return o->g->out && write_output(o->g->out, o->csv, 0600) < 0 ? -1 : 0;
}

static int gen_apply(struct cli *cli, struct store *st, struct gen_ctx *g, struct buf *csv)
{
	struct gen_out o = { cli, g, csv };
	char err[ERRLEN];
	int rc;

	csv_put(csv, "name", 1);
	csv_put(csv, "auth_string", 0);
	csv_end(csv);
	rc = admin_auth_strings_generate(st, cli->actor, (const char (*)[64])g->names, g->n, g->length, gen_emit,
					 gen_ready, &o, err, sizeof err);
	if (rc == 0)
		return 0;
	cli_error("%s", err);
	if (rc == ADMIN_AUTH_NOT_COMMITTED && g->out)
		unlink(g->out);
	return -1;
}

static int auth_strings_generate(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "length", required_argument, NULL, 'l' },
		{ "out", required_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct gen_ctx g = { .length = ADMIN_AUTH_STRING_DEFAULT_LENGTH };
	struct phone_selector sel;
	struct store *st = NULL;
	struct buf csv;
	char what[256];
	int help = 0, rc = EXIT_USAGE;

	buf_init(&csv);
	phone_selector_init(&sel);
	if (phone_parse_selector_cmd(cli, argc, argv, own, gen_usage, &sel, &help, gen_opt, &g) < 0)
		goto out;
	rc = EXIT_OK;
	if (help)
		goto out;
	rc = EXIT_USAGE;
	if (phone_filter_is_empty(&sel.f) && !sel.all) {
		cli_error("auth-strings generate: no phone selected: give NAMEs or selectors, or --all");
		goto out;
	}
	rc = EXIT_FAIL;
	if (cli_open_store(cli, &st) < 0)
		goto out;
	if (phone_names_missing(st, &sel) < 0)
		goto out;
	if (store_phone_select(st, &sel.f, gen_collect, &g) != 0) {
		cli_error("cannot select phones: %s", g.oom ? "out of memory" : store_errmsg(st));
		goto out;
	}
	phone_filter_describe(&sel.f, what, sizeof what);
	if (g.dry_run) {
		for (size_t i = 0; i < g.n; i++)
			printf("%s\n", g.names[i]);
		printf("dry run: would generate %zu authentication string%s of %d digits (%s); nothing changed\n",
		       g.n, g.n == 1 ? "" : "s", g.length, what);
		rc = EXIT_OK;
		goto out;
	}
	if (g.n == 0) {
		printf("no phone matches (%s): nothing changed\n", what);
		rc = EXIT_OK;
		goto out;
	}
	if (gen_apply(cli, st, &g, &csv) < 0)
		goto out;
	if (!g.out && write_output(NULL, &csv, 0600) < 0)
		goto out; /* committed already: say so */
	fprintf(stderr, "generated %zu authentication string%s (%d digits, mode 'string')%s%s%s\n", g.n,
		g.n == 1 ? "" : "s", g.length, g.out ? "; written to " : "", g.out ? g.out : "",
		g.out ? " (mode 0600)" : "");
	rc = EXIT_OK;
out:
	if (st)
		store_close(st);
	if (csv.data)
		OPENSSL_cleanse(csv.data, csv.cap);
	buf_free(&csv);
	free(g.names);
	phone_selector_free(&sel);
	return rc;
}

int phone_auth_strings(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "generate", auth_strings_generate, "random authentication strings for selected phones" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "phone auth-strings", cmds, argc, argv);
}
