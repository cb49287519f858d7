/*
 * cmd_phone.c: `opencapf phone add|set|op|show|list|remove|import|export|
 * auth-strings`: a phone's CAPF settings (phone-certificates.md §4), its
 * pending operation and what CAPF knows of its certificates, one phone at a
 * time or the whole fleet at once.
 *
 * Invariants:
 *  - Every change is audited, without secrets, in the transaction that
 *    makes it: one audit row per phone changed (bulk changes included), so
 *    `opencapf audit --object NAME` tells a phone's whole story. An import
 *    adds one summary row (action phone.import.done) with its counts.
 *  - Fleet changes (op by selector, import, generated authentication
 *    strings) are one transaction: all phones or none.
 *  - A change with no condition at all (every phone) needs --all.
 *  - Authentication strings leave the database only on explicit request
 *    (export --with-auth-strings, auth-strings generate), into files
 *    created 0600; such exports are audited too (without the strings).
 */
#include "cmd/opencapf/cli.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/opencapf/phone_view.h"

#define IMPORT_MAX_BYTES ((size_t)256 * 1024 * 1024)

static const char settings_help[] =
	"  --auth MODE          null | string | lsc-first | mic-first (default null)\n"
	"  --auth-string DIGITS authentication string for --auth string (4-10 digits)\n"
	"  --key-order ORDER    rsa | ec | ec-rsa (EC preferred, RSA backup); default rsa\n"
	"  --rsa-bits N         512, 1024, 2048 (default), 3072, 4096\n"
	"  --ec-bits N          256 (default), 384, 521\n"
	"  --model MODEL        phone model, e.g. 7962\n"
	"  --description TEXT   free text\n"
	"  --operation OP       certificate operation: none | install | delete | troubleshoot\n"
	"  --by TIME            operation completes by \"YYYY-MM-DD HH:MM\" UTC (default: in 1 day)\n";

static const struct option settings_opts[] = {
	{ "auth", required_argument, NULL, 'a' },
	{ "auth-string", required_argument, NULL, 's' },
	{ "key-order", required_argument, NULL, 'k' },
	{ "rsa-bits", required_argument, NULL, 'r' },
	{ "ec-bits", required_argument, NULL, 'e' },
	{ "model", required_argument, NULL, 'm' },
	{ "description", required_argument, NULL, 'd' },
	{ "operation", required_argument, NULL, 'o' },
	{ "by", required_argument, NULL, 'b' },
	{ NULL, 0, NULL, 0 },
};

/* What a settings parse changed beyond the plain fields. */
struct settings_given {
	int count;
	int op, by;
};

/* Apply one settings option to `p`; -1 (message printed) on a bad value. */
static int apply_setting(struct phone *p, int opt, const char *val, struct settings_given *g)
{
	switch (opt) {
	case 'a':
		if (auth_mode_parse(val, &p->auth) == 0)
			return 0;
		cli_error("--auth %s: expected null, string, lsc-first or mic-first", text_valid(val) ? val : "?");
		return -1;
	case 's':
		if (phone_valid_auth_string(val)) {
			snprintf(p->auth_string, sizeof p->auth_string, "%s", val);
			return 0;
		}
		cli_error("--auth-string: expected 4 to 10 digits");
		return -1;
	case 'k':
		if (key_order_parse(val, &p->key_order) == 0)
			return 0;
		cli_error("--key-order %s: expected rsa, ec or ec-rsa", text_valid(val) ? val : "?");
		return -1;
	case 'r':
		if (phone_parse_rsa_bits(val, &p->rsa_bits) == 0)
			return 0;
		cli_error("--rsa-bits %s: expected 512, 1024, 2048, 3072 or 4096", text_valid(val) ? val : "?");
		return -1;
	case 'e':
		if (phone_parse_ec_bits(val, &p->ec_bits) == 0)
			return 0;
		cli_error("--ec-bits %s: expected 256, 384 or 521", text_valid(val) ? val : "?");
		return -1;
	case 'm':
		if (!text_valid(val) || strlen(val) >= sizeof p->model) {
			cli_error("--model: expected printable text of at most %zu bytes", sizeof p->model - 1);
			return -1;
		}
		snprintf(p->model, sizeof p->model, "%s", val);
		return 0;
	case 'd':
		if (!text_valid(val) || strlen(val) >= sizeof p->description) {
			cli_error("--description: expected printable text of at most %zu bytes",
				  sizeof p->description - 1);
			return -1;
		}
		snprintf(p->description, sizeof p->description, "%s", val);
		return 0;
	case 'o':
		if (capf_op_parse(val, &p->op) == 0) {
			g->op = 1;
			return 0;
		}
		cli_error("--operation %s: expected none, install, delete or troubleshoot", text_valid(val) ? val : "?");
		return -1;
	case 'b':
		if (parse_time_utc(val, &p->deadline) == 0) {
			g->by = 1;
			return 0;
		}
		cli_error("--by %s: expected \"YYYY-MM-DD HH:MM\" (UTC)", text_valid(val) ? val : "?");
		return -1;
	}
	return -1;
}

/* The operation fields after --operation / --by (or the import's cells):
 * none clears the deadline and status of a pending operation (and leaves
 * a phone that had none as it was); a new or re-timed operation is
 * Pending, by default for a day. `before` may be NULL (a new phone). */
static void settle_operation(struct phone *p, const struct phone *before, int op_given, int by_given)
{
	int64_t now = now_utc();

	if (!op_given && !by_given)
		return;
	if (p->op == OP_NONE) {
		if (before && before->op == OP_NONE) {
			/* Already none: keep the last outcome ("Upgrade Success"). */
			p->deadline = before->deadline;
			snprintf(p->status, sizeof p->status, "%s", before->status);
		} else {
			p->deadline = 0;
			p->status[0] = '\0';
		}
		return;
	}
	if (!by_given) {
		if (before && before->op == p->op && before->deadline)
			p->deadline = before->deadline;
		else
			p->deadline = now + 86400;
	}
	if (!before || before->op != p->op || before->deadline != p->deadline)
		snprintf(p->status, sizeof p->status, "%s", STATUS_PENDING);
}

static int check_consistent(const struct phone *p)
{
	if (p->auth == AUTH_STRING && !p->auth_string[0]) {
		cli_error("--auth string needs --auth-string DIGITS (or 'opencapf phone auth-strings generate')");
		return -1;
	}
	return 0;
}

static int check_name(const char *name)
{
	if (devname_valid(name))
		return 0;
	cli_error("'%s' is not a device name: expected SEP followed by 12 upper-case hex digits "
		  "(e.g. SEP001122334455)", text_valid(name) ? name : "?");
	return -1;
}

static void warn_past_deadline(const struct phone *p)
{
	if (p->op != OP_NONE && p->deadline && p->deadline <= now_utc())
		fprintf(stderr, "opencapf: warning: the deadline is already past; the operation will fail "
				"with \"%s\"\n", STATUS_LATE);
}

/* Parse settings options; the caller provides the starting phone. */
static int parse_settings(struct cli *cli, int argc, char **argv, const char *usage,
			  struct phone *p, int *help, struct settings_given *g)
{
	int c;

	memset(g, 0, sizeof *g);
	while ((c = cli_getopt(cli, argc, argv, "", settings_opts, usage, help)) != -1) {
		if (c == '?' || apply_setting(p, c, optarg, g) < 0)
			return -1;
		g->count++;
	}
	if (g->by && !g->op) {
		cli_error("--by needs --operation (or use 'opencapf phone op NAME OP --by TIME')");
		return -1;
	}
	return 0;
}

static int audit_phone(struct store *st, struct cli *cli, const char *action,
		       const struct phone *before, const struct phone *after)
{
	char *detail = phone_audit_detail(before, after);
	int rc = store_audit(st, cli->actor, action, after ? after->name : before->name,
			     detail ? detail : "{}");
	free(detail);
	return rc;
}

static const char add_usage[] =
	"usage: opencapf phone add NAME [OPTIONS]\n\n"
	"Add a phone (NAME is SEP + 12 upper-case hex digits) with its CAPF settings.\n\n";

static int phone_add(struct cli *cli, int argc, char **argv)
{
	struct phone p;
	struct store *st;
	struct settings_given g;
	int help = 0, rc = EXIT_FAIL;

	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, add_usage, &p, &help, &g) < 0)
		return EXIT_USAGE;
	if (help) {
		fputs(settings_help, stdout);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, add_usage) < 0 || check_name(argv[optind]) < 0 ||
	    check_consistent(&p) < 0)
		return EXIT_USAGE;
	snprintf(p.name, sizeof p.name, "%s", argv[optind]);
	settle_operation(&p, NULL, g.op, g.by);
	warn_past_deadline(&p);
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (store_begin(st) == 0 && store_phone_insert(st, &p) == 0 &&
	    audit_phone(st, cli, "phone.add", NULL, &p) == 0 && store_commit(st) == 0) {
		printf("phone %s added (%s)\n", p.name, auth_mode_label(p.auth));
		rc = EXIT_OK;
	} else {
		store_rollback(st);
		struct phone old;
		if (store_phone_get(st, p.name, &old) == 0)
			cli_error("phone %s already exists (use 'opencapf phone set')", p.name);
		else
			cli_error("cannot add phone %s: %s", p.name, store_errmsg(st));
	}
	store_close(st);
	return rc;
}

/* Load NAME for a change; prints the error. */
static int load_phone(struct store *st, const char *name, struct phone *p)
{
	int rc = store_phone_get(st, name, p);

	if (rc > 0)
		cli_error("no phone named %s (see 'opencapf phone list')", name);
	else if (rc < 0)
		cli_error("cannot read phone %s: %s", name, store_errmsg(st));
	return rc == 0 ? 0 : -1;
}

static int save_phone(struct store *st, struct cli *cli, const char *action,
		      const struct phone *before, const struct phone *after)
{
	if (store_begin(st) == 0 && store_phone_update(st, after) == 0 &&
	    audit_phone(st, cli, action, before, after) == 0 && store_commit(st) == 0)
		return 0;
	store_rollback(st);
	cli_error("cannot update phone %s: %s", after->name, store_errmsg(st));
	return -1;
}

static const char set_usage[] =
	"usage: opencapf phone set NAME [OPTIONS]\n\n"
	"Change a phone's CAPF settings; options not given keep their value.\n\n";

static int phone_set(struct cli *cli, int argc, char **argv)
{
	struct phone before, p;
	struct store *st;
	struct settings_given g;
	char *name;
	int help = 0, rc = EXIT_FAIL;

	/* Parse once into a scratch phone to validate, then apply to the stored one. */
	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, set_usage, &p, &help, &g) < 0)
		return EXIT_USAGE;
	if (help) {
		fputs(settings_help, stdout);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, set_usage) < 0 || check_name(argv[optind]) < 0)
		return EXIT_USAGE;
	if (!g.count) {
		cli_error("phone set: nothing to change (see 'opencapf phone set --help')");
		return EXIT_USAGE;
	}
	name = argv[optind];
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (load_phone(st, name, &before) < 0)
		goto out;
	p = before;
	optind = 0;
	parse_settings(cli, argc, argv, set_usage, &p, &help, &g);
	settle_operation(&p, &before, g.op, g.by);
	if (check_consistent(&p) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	warn_past_deadline(&p);
	if (save_phone(st, cli, "phone.set", &before, &p) < 0)
		goto out;
	printf("phone %s updated\n", name);
	rc = EXIT_OK;
out:
	store_close(st);
	return rc;
}

/* ---- name sets ---- */

/* A set of device names (open addressing) with a line number each: the
 * duplicates of an import, the explicit names of a selector. */
struct name_slot {
	char name[16];
	size_t line;                /* 0: empty slot */
	int found;
};
struct name_set {
	struct name_slot *slot;
	size_t cap, n;
};

static size_t name_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* 0 added; the earlier line when already there; (size_t)-1 out of memory. */
static size_t name_set_add(struct name_set *ns, const char *name, size_t line)
{
	size_t i;

	if ((ns->n + 1) * 2 > ns->cap) {
		struct name_set bigger = { NULL, ns->cap ? ns->cap * 2 : 1024, 0 };
		bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
		if (!bigger.slot)
			return (size_t)-1;
		for (size_t k = 0; k < ns->cap; k++)
			if (ns->slot[k].line)
				name_set_add(&bigger, ns->slot[k].name, ns->slot[k].line);
		free(ns->slot);
		*ns = bigger;
	}
	for (i = name_hash(name) & (ns->cap - 1); ns->slot[i].line; i = (i + 1) & (ns->cap - 1))
		if (strcmp(ns->slot[i].name, name) == 0)
			return ns->slot[i].line;
	snprintf(ns->slot[i].name, sizeof ns->slot[i].name, "%s", name);
	ns->slot[i].line = line;
	ns->n++;
	return 0;
}

static struct name_slot *name_set_find(const struct name_set *ns, const char *name)
{
	if (!ns->cap)
		return NULL;
	for (size_t i = name_hash(name) & (ns->cap - 1); ns->slot[i].line; i = (i + 1) & (ns->cap - 1))
		if (strcmp(ns->slot[i].name, name) == 0)
			return &ns->slot[i];
	return NULL;
}

/* ---- op: one phone, or every phone a selector picks ---- */

static const char op_usage[] =
	"usage: opencapf phone op NAME install|delete|troubleshoot|none [--by TIME]\n"
	"       opencapf phone op install|delete|troubleshoot|none [NAME...] [SELECTORS]\n"
	"                         [--by TIME] [--dry-run]\n\n"
	"Schedule the certificate operation of one phone, or of every phone the\n"
	"selectors pick (one transaction, one audit entry per phone). A phone performs\n"
	"it the next time it contacts CAPF, before the deadline (UTC) given with --by.\n"
	"  --by TIME    operation completes by \"YYYY-MM-DD HH:MM\" (default: 1 day from now)\n"
	"  --dry-run    list the phones that would change, change nothing\n\n";

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

static int mark_found(const struct phone_row *r, void *arg)
{
	struct name_slot *slot = name_set_find(arg, r->phone.name);

	if (slot)
		slot->found = 1;
	return 0;
}

/* Explicit names that are not phones: an error before anything changes. */
static int names_missing(struct store *st, const struct phone_selector *sel)
{
	struct name_set want = { NULL, 0, 0 };
	struct phone_filter only;
	int missing = 0;

	if (!sel->n_names)
		return 0;
	for (size_t i = 0; i < sel->n_names; i++)
		if (name_set_add(&want, sel->names[i], i + 1) == (size_t)-1) {
			cli_error("out of memory");
			free(want.slot);
			return -1;
		}
	phone_filter_init(&only);
	only.names = (const char *const *)sel->names;
	only.n_names = sel->n_names;
	if (store_phone_select(st, &only, mark_found, &want) != 0) {
		cli_error("cannot read phones: %s", store_errmsg(st));
		free(want.slot);
		return -1;
	}
	for (size_t i = 0; i < sel->n_names; i++) {
		struct name_slot *slot = name_set_find(&want, sel->names[i]);
		if (slot && !slot->found && slot->line == i + 1) {
			cli_error("no phone named %s (see 'opencapf phone list')", sel->names[i]);
			missing++;
		}
	}
	free(want.slot);
	return missing ? -1 : 0;
}

static int op_by_selector(struct cli *cli, struct phone_selector *sel, enum capf_op op, int64_t deadline,
			  int dry_run)
{
	static const struct table_col cols[] = {
		{ "NAME", 15, 0, 0 }, { "MODEL", 5, 16, 2 }, { "OPERATION", 7, 12, 0 },
		{ "STATUS", 8, 60, 0 }, { "LSC", 4, 18, 1 },
	};
	struct phone_schedule ps = { .op = op, .deadline = op == OP_NONE ? 0 : deadline, .actor = cli->actor,
				     .action = "phone.op", .dry_run = dry_run, .all = sel->all };
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
	if (names_missing(st, sel) < 0) {
		store_close(st);
		return EXIT_FAIL;
	}
	if (dry_run && !(pr.t = table_new(cols, 5))) {
		cli_error("out of memory");
		store_close(st);
		return EXIT_FAIL;
	}
	rc = store_phone_schedule(st, &sel->f, &ps, dry_run ? op_preview : NULL, &pr, &n);
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

static int op_one(struct cli *cli, const char *name, enum capf_op op, int64_t deadline)
{
	struct phone before, p;
	struct store *st;
	int rc = EXIT_FAIL;

	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (load_phone(st, name, &before) < 0)
		goto out;
	p = before;
	p.op = op;
	p.deadline = op == OP_NONE ? 0 : deadline;
	snprintf(p.status, sizeof p.status, "%s", op == OP_NONE ? "" : STATUS_PENDING);
	if (save_phone(st, cli, "phone.op", &before, &p) < 0)
		goto out;
	if (op == OP_NONE)
		printf("phone %s: no pending operation\n", p.name);
	else {
		char by[40];
		fmt_time_utc(p.deadline, by, sizeof by);
		printf("phone %s: %s pending, completes by %s\n", p.name, capf_op_label(op), by);
	}
	rc = EXIT_OK;
out:
	store_close(st);
	return rc;
}

static int phone_op(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct option opts[40];
	struct phone_selector sel;
	enum capf_op op;
	int64_t deadline = now_utc() + 86400;
	int help = 0, c, dry_run = 0, by_given = 0, used_selector = 0, rc = EXIT_USAGE;

	phone_selector_init(&sel);
	phone_selector_merge_opts(opts, sizeof opts / sizeof opts[0], own);
	while ((c = cli_getopt(cli, argc, argv, "", opts, op_usage, &help)) != -1) {
		int s;
		if (c == '?')
			goto out;
		if ((s = phone_selector_opt(&sel, c, optarg)) < 0)
			goto out;
		if (s) {
			used_selector = 1;
			continue;
		}
		if (c == 'n')
			dry_run = 1;
		else if (parse_time_utc(optarg, &deadline) < 0) {
			cli_error("phone op: --by %s: expected \"YYYY-MM-DD HH:MM\" (UTC)", text_valid(optarg) ? optarg : "?");
			goto out;
		} else
			by_given = 1;
	}
	if (help) {
		fputs(phone_selector_help, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (optind >= argc) {
		cli_error("phone op: expected an operation (and NAME or selectors)");
		fputs(op_usage, stderr);
		goto out;
	}
	if (capf_op_parse(argv[optind], &op) == 0) {
		/* Selector form: OP [NAME...] [selectors]. */
		if (phone_selector_add_names(&sel, argc - optind - 1, argv + optind + 1) < 0)
			goto out;
		if (op == OP_NONE && by_given) {
			cli_error("phone op none: --by makes no sense without an operation");
			goto out;
		}
		if (op != OP_NONE && deadline <= now_utc() && !dry_run)
			fprintf(stderr, "opencapf: warning: the deadline is already past; the operations will fail "
					"with \"%s\"\n", STATUS_LATE);
		rc = op_by_selector(cli, &sel, op, deadline, dry_run);
		goto out;
	}
	/* One phone: NAME OP. */
	if (used_selector || dry_run) {
		cli_error("phone op: selectors and --dry-run go with the form 'phone op OP [NAME...] [SELECTORS]'");
		goto out;
	}
	if (cli_expect_args(argc, argv, 2, 2, op_usage) < 0 || check_name(argv[optind]) < 0)
		goto out;
	if (capf_op_parse(argv[optind + 1], &op) < 0) {
		cli_error("phone op: '%s' is not an operation: expected install, delete, troubleshoot or none",
			  text_valid(argv[optind + 1]) ? argv[optind + 1] : "?");
		goto out;
	}
	if (op != OP_NONE && deadline <= now_utc())
		fprintf(stderr, "opencapf: warning: the deadline is already past; the operation will fail "
				"with \"%s\"\n", STATUS_LATE);
	rc = op_one(cli, argv[optind], op, deadline);
out:
	phone_selector_free(&sel);
	return rc;
}

/* ---- show, list, remove ---- */

static const char show_usage[] =
	"usage: opencapf phone show NAME [--json]\n\n"
	"Show a phone's CAPF settings, operation and status, the history of its CAPF\n"
	"sessions, its current LSC and the certificates it last presented.\n";

static int phone_show(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct phone p;
	struct store *st;
	int help = 0, json = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, show_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		json = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, show_usage) < 0 || check_name(argv[optind]) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (load_phone(st, argv[optind], &p) == 0)
		rc = (json ? phone_print_json(st, &p) : phone_print_text(st, &p)) == 0 ? EXIT_OK : EXIT_FAIL;
	store_close(st);
	return rc;
}

static const char list_usage[] =
	"usage: opencapf phone list [NAME...] [SELECTORS] [--json]\n\n"
	"List phones with their model, authentication mode, operation, status and\n"
	"LSC expiry; the table fits the terminal. --json prints every field.\n\n";

/* Parse selectors (+ --json) for list-like commands. */
static int parse_selector_cmd(struct cli *cli, int argc, char **argv, const struct option *own,
			      const char *usage, struct phone_selector *sel, int *help,
			      int (*on_opt)(int c, const char *arg, void *ctx), void *ctx)
{
	struct option opts[40];
	int c;

	phone_selector_merge_opts(opts, sizeof opts / sizeof opts[0], own);
	while ((c = cli_getopt(cli, argc, argv, "", opts, usage, help)) != -1) {
		int s;
		if (c == '?')
			return -1;
		if ((s = phone_selector_opt(sel, c, optarg)) < 0)
			return -1;
		if (!s && on_opt(c, optarg, ctx) < 0)
			return -1;
	}
	if (*help) {
		fputs(phone_selector_help, stdout);
		return 0;
	}
	return phone_selector_add_names(sel, argc - optind, argv + optind);
}

static int flag_opt(int c, const char *arg, void *ctx)
{
	(void)c;
	(void)arg;
	*(int *)ctx = 1;
	return 0;
}

static int phone_list(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct phone_selector sel;
	struct store *st;
	int help = 0, json = 0, rc = EXIT_USAGE;

	phone_selector_init(&sel);
	if (parse_selector_cmd(cli, argc, argv, own, list_usage, &sel, &help, flag_opt, &json) < 0)
		goto out;
	rc = EXIT_OK;
	if (help)
		goto out;
	rc = EXIT_FAIL;
	if (cli_open_store(cli, &st) < 0)
		goto out;
	rc = phone_print_list(st, &sel.f, json) == 0 ? EXIT_OK : EXIT_FAIL;
	store_close(st);
out:
	phone_selector_free(&sel);
	return rc;
}

static const char remove_usage[] =
	"usage: opencapf phone remove NAME [--force]\n\n"
	"Remove a phone. Its issued certificates stay on record. Refused while an\n"
	"operation is pending unless --force.\n";

static int phone_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct phone p;
	struct store *st;
	int help = 0, force = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, remove_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		force = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, remove_usage) < 0 || check_name(argv[optind]) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (load_phone(st, argv[optind], &p) < 0)
		goto out;
	if (p.op != OP_NONE && !force) {
		cli_error("phone %s has a pending %s operation; use --force to remove it anyway",
			  p.name, capf_op_name(p.op));
		goto out;
	}
	if (store_begin(st) == 0 && store_phone_delete(st, p.name) == 0 &&
	    audit_phone(st, cli, "phone.remove", &p, NULL) == 0 && store_commit(st) == 0) {
		printf("phone %s removed\n", p.name);
		rc = EXIT_OK;
	} else {
		store_rollback(st);
		cli_error("cannot remove phone %s: %s", p.name, store_errmsg(st));
	}
out:
	store_close(st);
	return rc;
}

/* ---- import ---- */

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
	const char *cell = phone_csv_cell(&im->map, rec, PCSV_NAME);
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
	settle_operation(&p, exists ? &before : NULL, !!(given & (1u << PCSV_OPERATION)),
			 !!(given & (1u << PCSV_DEADLINE)));
	if ((given & (1u << PCSV_DEADLINE)) && p.op == OP_NONE && !(given & (1u << PCSV_OPERATION))) {
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

static int phone_import(struct cli *cli, int argc, char **argv)
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

static int phone_export(struct cli *cli, int argc, char **argv)
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
	if (parse_selector_cmd(cli, argc, argv, own, export_usage, &sel, &help, export_opt, &x) < 0)
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

/* Uniform random digits: bytes >= 250 are redrawn, so each digit is
 * exactly 1/10 (250 = 25 * 10). */
static int random_digits(char *out, int n)
{
	unsigned char pool[64];
	size_t used = sizeof pool;

	for (int i = 0; i < n;) {
		if (used == sizeof pool) {
			if (RAND_bytes(pool, sizeof pool) != 1)
				return -1;
			used = 0;
		}
		if (pool[used] < 250)
			out[i++] = (char)('0' + pool[used] % 10);
		used++;
	}
	out[n] = '\0';
	OPENSSL_cleanse(pool, sizeof pool);
	return 0;
}

static int gen_apply(struct cli *cli, struct store *st, struct gen_ctx *g, struct buf *csv)
{
	struct store_bulk *b;
	char *detail;

	if (store_bulk_begin(st, &b) < 0) {
		cli_error("cannot start the change: %s", store_errmsg(st));
		return -1;
	}
	csv_put(csv, "name", 1);
	csv_put(csv, "auth_string", 0);
	csv_end(csv);
	for (size_t i = 0; i < g->n; i++) {
		struct phone before, p;
		int rc = store_bulk_get(b, g->names[i], &before);
		if (rc != 0) {
			cli_error("cannot read phone %s: %s", g->names[i], rc > 0 ? "it was removed meanwhile"
										: store_errmsg(st));
			goto fail;
		}
		p = before;
		p.auth = AUTH_STRING;
		if (random_digits(p.auth_string, g->length) < 0) {
			cli_error("the random generator failed");
			goto fail;
		}
		detail = phone_audit_detail_with(&before, &p, "auth_string", json_string("generated"));
		rc = store_bulk_update(b, &p) == 0 &&
		     store_bulk_audit(b, cli->actor, "phone.auth-string", p.name, detail ? detail : "{}") == 0;
		free(detail);
		if (!rc) {
			cli_error("cannot change phone %s: %s", p.name, store_errmsg(st));
			OPENSSL_cleanse(&p, sizeof p);
			goto fail;
		}
		csv_put(csv, p.name, 1);
		csv_put(csv, p.auth_string, 0);
		csv_end(csv);
		OPENSSL_cleanse(&p, sizeof p);
		OPENSSL_cleanse(&before, sizeof before);
	}
	if (csv->failed) {
		cli_error("out of memory");
		goto fail;
	}
	/* The file first: if it cannot be written, nothing changes. */
	if (g->out && write_output(g->out, csv, 0600) < 0)
		goto fail;
	if (store_bulk_end(b, 1) < 0) {
		cli_error("cannot commit: %s; nothing changed", store_errmsg(st));
		if (g->out)
			unlink(g->out);
		return -1;
	}
	return 0;
fail:
	store_bulk_end(b, 0);
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
	struct gen_ctx g = { .length = 8 };
	struct phone_selector sel;
	struct store *st = NULL;
	struct buf csv;
	char what[256];
	int help = 0, rc = EXIT_USAGE;

	buf_init(&csv);
	phone_selector_init(&sel);
	if (parse_selector_cmd(cli, argc, argv, own, gen_usage, &sel, &help, gen_opt, &g) < 0)
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
	if (names_missing(st, &sel) < 0)
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

static int phone_auth_strings(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "generate", auth_strings_generate, "random authentication strings for selected phones" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "phone auth-strings", cmds, argc, argv);
}

int cmd_phone(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "add", phone_add, "add a phone with its CAPF settings" },
		{ "set", phone_set, "change a phone's CAPF settings" },
		{ "op", phone_op, "schedule install, delete, troubleshoot, or none (one phone or many)" },
		{ "show", phone_show, "settings, status, history and certificates of a phone" },
		{ "list", phone_list, "list and search phones" },
		{ "remove", phone_remove, "remove a phone" },
		{ "import", phone_import, "add or change phones from a CSV file (all or nothing)" },
		{ "export", phone_export, "write phones as CSV" },
		{ "auth-strings", phone_auth_strings, "generate random authentication strings" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "phone", cmds, argc, argv);
}
