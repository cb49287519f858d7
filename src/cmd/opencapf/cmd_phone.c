/*
 * cmd_phone.c: `opencapf phone add|set|op|show|list|remove|import|export|
 * auth-strings`: a phone's CAPF settings (phone-certificates.md §4), its
 * pending operation and what CAPF knows of its certificates, one phone at a
 * time or the whole fleet at once. This file has add, set, op, show, list,
 * remove and the dispatch table; cmd_phone.h says where the rest is.
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
#include "admin/revoke.h"
#include "cmd/opencapf/cmd_phone.h"

#include "admin/phone_settings.h"
#include "admin/phones.h"

#include <stdlib.h>
#include <string.h>

/* The settings options' help: what each takes, and (for add) its default. */
static const struct {
	const char *opt, *what, *dflt;
} settings_help[] = {
	{ "--auth MODE", "null | string | lsc-first | mic-first", "null" },
	{ "--auth-string DIGITS", "authentication string for --auth string (4-10 digits)", NULL },
	{ "--key-order ORDER", "rsa | ec | ec-rsa (EC preferred, RSA backup)", "rsa" },
	{ "--rsa-bits N", "512, 1024, 2048, 3072, 4096", "2048" },
	{ "--ec-bits N", "256, 384, 521", "256" },
	{ "--model MODEL", "phone model, e.g. 7962", NULL },
	{ "--description TEXT", "free text", NULL },
	{ "--operation OP", "certificate operation: none | install | delete | troubleshoot", NULL },
	{ "--by TIME", "operation completes by \"YYYY-MM-DD HH:MM\" UTC", "in 1 day" },
};

/* For `add` with the defaults; for `set`, where an option not given keeps its value, without. */
static void print_settings_help(int with_defaults)
{
	for (size_t i = 0; i < sizeof settings_help / sizeof settings_help[0]; i++)
		printf("  %-20s %s%s%s%s\n", settings_help[i].opt, settings_help[i].what,
		       with_defaults && settings_help[i].dflt ? " (default " : "",
		       with_defaults && settings_help[i].dflt ? settings_help[i].dflt : "",
		       with_defaults && settings_help[i].dflt ? ")" : "");
}

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
	unsigned bits;   /* 1u << PSET_* of each setting given */
};

/* The setting behind each option of settings_opts, in the same order. */
static const enum phone_setting settings_of_opts[] = {
	PSET_AUTH, PSET_AUTH_STRING, PSET_KEY_ORDER, PSET_RSA_BITS, PSET_EC_BITS,
	PSET_MODEL, PSET_DESCRIPTION, PSET_OPERATION, PSET_DEADLINE,
};

/* Apply one settings option to `p` with the core's rule (admin/phone_settings.c);
 * -1 (message printed) on a bad value. */
static int apply_setting(struct phone *p, int opt, const char *val, struct settings_given *g)
{
	for (size_t i = 0; i < sizeof settings_of_opts / sizeof settings_of_opts[0]; i++) {
		enum phone_setting s = settings_of_opts[i];
		const char *rule;
		int quiet = s == PSET_AUTH_STRING || s == PSET_MODEL || s == PSET_DESCRIPTION;

		if (settings_opts[i].val != opt)
			continue;
		if (!(rule = phone_setting_set(s, val, p))) {
			g->bits |= 1u << s;
			g->op |= s == PSET_OPERATION;
			g->by |= s == PSET_DEADLINE;
			return 0;
		}
		cli_error("--%s%s%s: %s", settings_opts[i].name, quiet ? "" : " ", quiet ? "" : text_valid(val) ? val : "?",
			  rule);
		return -1;
	}
	return -1;
}

void phone_settle_operation(struct phone *p, const struct phone *before, int op_given, int by_given)
{
	admin_phone_settle(p, before, (op_given ? ADMIN_GIVEN_OP : 0u) | (by_given ? ADMIN_GIVEN_BY : 0u));
}

static void no_auth_string_error(void)
{
	cli_error("--auth string needs --auth-string DIGITS (or 'opencapf phone auth-strings generate')");
}

static int check_consistent(const struct phone *p, unsigned given)
{
	if (p->auth == AUTH_STRING && !p->auth_string[0]) {
		no_auth_string_error();
		return -1;
	}
	if (phone_settings_check_auth(p, given)) {
		cli_error("--auth-string: %s (add --auth string)", phone_settings_check_auth(p, given));
		return -1;
	}
	return 0;
}

/* A device name argument made canonical in place ("sep00-11-22-33-44-55"
 * and "00:11:22:33:44:55" become SEP001122334455); -1 (printed) if it is none. */
static int check_name(char **arg)
{
	static char canonical[16];

	if (devname_normalize(*arg, canonical, sizeof canonical) == 0) {
		*arg = canonical;
		return 0;
	}
	if (devname_valid(*arg))
		return 0;
	cli_error("'%s' is not a device name: expected " DEVNAME_RULE, text_valid(*arg) ? *arg : "?");
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

static unsigned given_bits(const struct settings_given *g)
{
	return (g->op ? ADMIN_GIVEN_OP : 0u) | (g->by ? ADMIN_GIVEN_BY : 0u);
}

/* A core call's failure in the CLI's words (the store's reason in err). */
static int report_failure(int rc, const char *name, const char *what, const char *err)
{
	if (rc == ADMIN_PHONE_NOT_FOUND)
		cli_error("no phone named %s (see 'opencapf phone list')", name);
	else if (rc == ADMIN_PHONE_EXISTS)
		cli_error("phone %s already exists (use 'opencapf phone set')", name);
	else if (rc == ADMIN_PHONE_NO_AUTH_STRING) {
		no_auth_string_error();
		return EXIT_USAGE;
	} else
		cli_error("cannot %s phone %s: %s", what, name, err);
	return EXIT_FAIL;
}

static const char add_usage[] =
	"usage: opencapf phone add NAME [OPTIONS]\n\n"
	"Add a phone with its CAPF settings. NAME is the device name: SEP and the\n"
	"MAC address's 12 hex digits (a MAC address or lower case is rewritten so),\n"
	"or a soft client's CSF, BOT, TCT or TAB and up to 12 upper-case letters\n"
	"and digits.\n\n";

static int phone_add(struct cli *cli, int argc, char **argv)
{
	struct phone p;
	struct store *st;
	struct settings_given g;
	char err[512];
	int help = 0, rc = EXIT_FAIL;

	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, add_usage, &p, &help, &g) < 0)
		return EXIT_USAGE;
	if (help) {
		print_settings_help(1);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, add_usage) < 0 || check_name(&argv[optind]) < 0 ||
	    check_consistent(&p, g.bits) < 0)
		return EXIT_USAGE;
	snprintf(p.name, sizeof p.name, "%s", argv[optind]);
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_phone_add(st, cli->actor, &p, given_bits(&g), &p, err, sizeof err);
	if (rc == ADMIN_PHONE_OK) {
		warn_past_deadline(&p);
		printf("phone %s added (%s)\n", p.name, auth_mode_label(p.auth));
		rc = EXIT_OK;
	} else
		rc = report_failure(rc, p.name, "add", err);
	store_close(st);
	return rc;
}

static const char set_usage[] =
	"usage: opencapf phone set NAME [OPTIONS]\n\n"
	"Change a phone's CAPF settings; options not given keep their value.\n\n";

/* What `phone set` hands the core: its arguments, parsed again onto the stored phone. */
struct set_args {
	struct cli *cli;
	int argc;
	char **argv;
};

static int set_change(struct phone *p, void *arg, unsigned *given, char *err, size_t errlen)
{
	struct set_args *a = arg;
	struct settings_given g;
	int help = 0;

	const char *problem;

	optind = 0;
	parse_settings(a->cli, a->argc, a->argv, set_usage, p, &help, &g);
	*given = given_bits(&g);
	if ((problem = phone_settings_check_auth(p, g.bits))) {
		seterr(err, errlen, "%s (its mode is %s: add --auth string)", problem, auth_mode_name(p->auth));
		return -1;
	}
	return 0;
}

static int phone_set(struct cli *cli, int argc, char **argv)
{
	struct set_args a = { cli, argc, argv };
	struct phone p;
	struct store *st;
	struct settings_given g;
	char err[512], *name;
	int help = 0, rc;

	/* Parse once into a scratch phone to validate; the core applies them to the stored one. */
	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, set_usage, &p, &help, &g) < 0)
		return EXIT_USAGE;
	if (help) {
		print_settings_help(0);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, set_usage) < 0 || check_name(&argv[optind]) < 0)
		return EXIT_USAGE;
	if (!g.count) {
		cli_error("phone set: nothing to change (see 'opencapf phone set --help')");
		return EXIT_USAGE;
	}
	name = argv[optind];
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_phone_update(st, cli->actor, name, set_change, &a, NULL, &p, err, sizeof err);
	if (rc == ADMIN_PHONE_OK) {
		warn_past_deadline(&p);
		printf("phone %s updated\n", name);
		rc = EXIT_OK;
	} else
		rc = report_failure(rc, name, "update", err);
	store_close(st);
	return rc;
}

/* ---- op: one phone, or every phone a selector picks (cmd_phone_bulk.c) ---- */

static const char op_usage[] =
	"usage: opencapf phone op NAME install|delete|troubleshoot|none [--by TIME]\n"
	"       opencapf phone op install|delete|troubleshoot|none [NAME...] [SELECTORS]\n"
	"                         [--by TIME] [--note TEXT] [--dry-run]\n\n"
	"Schedule the certificate operation of one phone, or of every phone the\n"
	"selectors pick (one transaction, one audit entry per phone). A phone performs\n"
	"it the next time it contacts CAPF, before the deadline (UTC) given with --by.\n"
	"  --by TIME    operation completes by \"YYYY-MM-DD HH:MM\" (default: 1 day from now)\n"
	"  --note TEXT  why (selector form): kept in each phone's audit entry\n"
	"  --dry-run    list the phones that would change, change nothing\n\n";

static int op_one(struct cli *cli, const char *name, enum capf_op op, int64_t deadline)
{
	struct phone p;
	struct store *st;
	char err[512], by[40];
	int rc;

	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_phone_schedule(st, cli->actor, name, op, deadline, &p, err, sizeof err);
	store_close(st);
	if (rc != ADMIN_PHONE_OK)
		return report_failure(rc, name, "update", err);
	if (op == OP_NONE)
		printf("phone %s: no pending operation\n", p.name);
	else {
		fmt_time_utc(p.deadline, by, sizeof by);
		printf("phone %s: %s pending, completes by %s\n", p.name, capf_op_label(op), by);
	}
	return EXIT_OK;
}

static int phone_op(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "by", required_argument, NULL, 'b' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "note", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct option opts[40];
	const char *note = NULL;
	struct phone_selector sel;
	enum capf_op op;
	int64_t deadline = admin_default_deadline(now_utc());
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
		else if (c == 't' && (!text_valid(optarg) || strlen(optarg) > 200)) {
			cli_error("phone op: --note: expected printable text of at most 200 bytes");
			goto out;
		} else if (c == 't')
			note = optarg;
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
		rc = phone_op_by_selector(cli, &sel, op, deadline, note, dry_run);
		goto out;
	}
	/* One phone: NAME OP. */
	if (used_selector || dry_run || note) {
		cli_error("phone op: selectors, --note and --dry-run go with the form 'phone op OP [NAME...] [SELECTORS]'");
		goto out;
	}
	if (cli_expect_args(argc, argv, 2, 2, op_usage) < 0 || check_name(&argv[optind]) < 0)
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

/* Load NAME to show it; prints the error. */
static int load_phone(struct store *st, const char *name, struct phone *p)
{
	int rc = store_phone_get(st, name, p);

	if (rc > 0)
		cli_error("no phone named %s (see 'opencapf phone list')", name);
	else if (rc < 0)
		cli_error("cannot read phone %s: %s", name, store_errmsg(st));
	return rc == 0 ? 0 : -1;
}

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
	if (cli_expect_args(argc, argv, 1, 1, show_usage) < 0 || check_name(&argv[optind]) < 0)
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
	if (phone_parse_selector_cmd(cli, argc, argv, own, list_usage, &sel, &help, flag_opt, &json) < 0)
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
	"Remove a phone. Its issued certificates stay on record; those that are\n"
	"not expired or revoked yet are revoked (cessationOfOperation), and each\n"
	"is named. Refused while an operation is pending unless --force.\n";

static int phone_remove(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
	struct admin_revoked revoked;
	struct phone p;
	struct store *st;
	char err[512];
	int help = 0, force = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, remove_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		force = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, remove_usage) < 0 || check_name(&argv[optind]) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_phone_remove_revoking(st, cli->actor, argv[optind], force, &p, &revoked, err, sizeof err);
	store_close(st);
	if (rc == ADMIN_PHONE_OK) {
		cli_print_revoked(&revoked);
		printf("phone %s removed%s\n", p.name, revoked.n ? "" : " (it held no unrevoked LSC of ours)");
		return EXIT_OK;
	}
	if (rc == ADMIN_PHONE_PENDING) {
		cli_error("phone %s has a pending %s operation; use --force to remove it anyway",
			  p.name, capf_op_name(p.op));
		return EXIT_FAIL;
	}
	return report_failure(rc, argv[optind], "remove", err);
}

int cmd_phone(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "add", phone_add, "add a phone with its CAPF settings" },
		{ "set", phone_set, "change a phone's CAPF settings" },
		{ "op", phone_op, "schedule install, delete, troubleshoot, or none (one phone or many)" },
		{ "show", phone_show, "settings, status, history and certificates of a phone" },
		{ "list", phone_list, "list and search phones" },
		{ "remove", phone_remove, "remove a phone (revoking the LSCs issued to it)" },
		{ "revoke", phone_revoke, "revoke the LSC a phone holds" },
		{ "import", phone_import, "add or change phones from a CSV file (all or nothing)" },
		{ "export", phone_export, "write phones as CSV" },
		{ "auth-strings", phone_auth_strings, "generate random authentication strings" },
		{ "config", phone_config_cmd, "the CAPF part of the phone's SEP<MAC>.cnf.xml, alone or merged" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "phone", cmds, argc, argv);
}
