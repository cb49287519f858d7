/*
 * cmd_phone.c: `opencapf phone add|set|op|show|list|remove`: a phone's CAPF
 * settings (phone-certificates.md §4), its pending operation and what CAPF
 * knows of its certificates. Every change is audited without secrets.
 */
#include "cmd/opencapf/cli.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/opencapf/phone_view.h"

static const char settings_help[] =
	"  --auth MODE          null | string | lsc-first | mic-first (default null)\n"
	"  --auth-string DIGITS authentication string for --auth string (4-10 digits)\n"
	"  --key-order ORDER    rsa | ec | ec-rsa (EC preferred, RSA backup); default rsa\n"
	"  --rsa-bits N         512, 1024, 2048 (default), 3072, 4096\n"
	"  --ec-bits N          256 (default), 384, 521\n"
	"  --model MODEL        phone model, e.g. 7962\n"
	"  --description TEXT   free text\n";

static const struct option settings_opts[] = {
	{ "auth", required_argument, NULL, 'a' },
	{ "auth-string", required_argument, NULL, 's' },
	{ "key-order", required_argument, NULL, 'k' },
	{ "rsa-bits", required_argument, NULL, 'r' },
	{ "ec-bits", required_argument, NULL, 'e' },
	{ "model", required_argument, NULL, 'm' },
	{ "description", required_argument, NULL, 'd' },
	{ NULL, 0, NULL, 0 },
};

static int valid_auth_string(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 10)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static int parse_int_in(const char *s, const int *allowed, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		return -1;
	for (; *allowed; allowed++)
		if (*allowed == v) {
			*out = (int)v;
			return 0;
		}
	return -1;
}

/* Apply one settings option to `p`; -1 (message printed) on a bad value. */
static int apply_setting(struct phone *p, int opt, const char *val)
{
	static const int rsa_sizes[] = { 512, 1024, 2048, 3072, 4096, 0 };
	static const int ec_sizes[] = { 256, 384, 521, 0 };

	switch (opt) {
	case 'a':
		if (auth_mode_parse(val, &p->auth) == 0)
			return 0;
		cli_error("--auth %s: expected null, string, lsc-first or mic-first", val);
		return -1;
	case 's':
		if (valid_auth_string(val)) {
			snprintf(p->auth_string, sizeof p->auth_string, "%s", val);
			return 0;
		}
		cli_error("--auth-string: expected 4 to 10 digits");
		return -1;
	case 'k':
		if (key_order_parse(val, &p->key_order) == 0)
			return 0;
		cli_error("--key-order %s: expected rsa, ec or ec-rsa", val);
		return -1;
	case 'r':
		if (parse_int_in(val, rsa_sizes, &p->rsa_bits) == 0)
			return 0;
		cli_error("--rsa-bits %s: expected 512, 1024, 2048, 3072 or 4096", val);
		return -1;
	case 'e':
		if (parse_int_in(val, ec_sizes, &p->ec_bits) == 0)
			return 0;
		cli_error("--ec-bits %s: expected 256, 384 or 521", val);
		return -1;
	case 'm':
		snprintf(p->model, sizeof p->model, "%s", val);
		return 0;
	case 'd':
		snprintf(p->description, sizeof p->description, "%s", val);
		return 0;
	}
	return -1;
}

static int check_consistent(const struct phone *p)
{
	if (p->auth == AUTH_STRING && !p->auth_string[0]) {
		cli_error("--auth string needs --auth-string DIGITS");
		return -1;
	}
	return 0;
}

static int check_name(const char *name)
{
	if (devname_valid(name))
		return 0;
	cli_error("'%s' is not a device name: expected SEP followed by 12 upper-case hex digits "
		  "(e.g. SEP001122334455)", name);
	return -1;
}

/* Parse NAME and settings options; the caller provides the starting phone. */
static int parse_settings(struct cli *cli, int argc, char **argv, const char *usage,
			  struct phone *p, int *help, int *changed)
{
	int c;

	*changed = 0;
	while ((c = cli_getopt(cli, argc, argv, "", settings_opts, usage, help)) != -1) {
		if (c == '?' || apply_setting(p, c, optarg) < 0)
			return -1;
		(*changed)++;
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
	int help = 0, changed, rc = EXIT_FAIL;

	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, add_usage, &p, &help, &changed) < 0)
		return EXIT_USAGE;
	if (help) {
		fputs(settings_help, stdout);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, add_usage) < 0 || check_name(argv[optind]) < 0 ||
	    check_consistent(&p) < 0)
		return EXIT_USAGE;
	snprintf(p.name, sizeof p.name, "%s", argv[optind]);
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
	char *name;
	int help = 0, changed, rc = EXIT_FAIL;

	/* Parse once into a scratch phone to validate, then apply to the stored one. */
	phone_defaults(&p, "");
	if (parse_settings(cli, argc, argv, set_usage, &p, &help, &changed) < 0)
		return EXIT_USAGE;
	if (help) {
		fputs(settings_help, stdout);
		return EXIT_OK;
	}
	if (cli_expect_args(argc, argv, 1, 1, set_usage) < 0 || check_name(argv[optind]) < 0)
		return EXIT_USAGE;
	if (!changed) {
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
	parse_settings(cli, argc, argv, set_usage, &p, &help, &changed);
	if (check_consistent(&p) < 0 || save_phone(st, cli, "phone.set", &before, &p) < 0)
		goto out;
	printf("phone %s updated\n", name);
	rc = EXIT_OK;
out:
	store_close(st);
	return rc;
}

static const char op_usage[] =
	"usage: opencapf phone op NAME install|delete|troubleshoot|none [--by \"YYYY-MM-DD HH:MM\"]\n\n"
	"Schedule the phone's certificate operation. The phone performs it the next\n"
	"time it contacts CAPF, before the deadline (UTC) given with --by.\n"
	"  --by TIME   operation completes by (default: 1 day from now)\n";

static int phone_op(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "by", required_argument, NULL, 'b' }, { NULL, 0, NULL, 0 } };
	struct phone before, p;
	struct store *st;
	enum capf_op op;
	int64_t deadline = now_utc() + 86400;
	int help = 0, c, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, op_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (parse_time_utc(optarg, &deadline) < 0) {
			cli_error("phone op: --by %s: expected \"YYYY-MM-DD HH:MM\" (UTC)", optarg);
			return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 2, 2, op_usage) < 0 || check_name(argv[optind]) < 0)
		return EXIT_USAGE;
	if (capf_op_parse(argv[optind + 1], &op) < 0) {
		cli_error("phone op: '%s' is not an operation: expected install, delete, troubleshoot or none",
			  argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (op != OP_NONE && deadline <= now_utc())
		fprintf(stderr, "opencapf: warning: the deadline is already past; the operation will fail "
				"with \"%s\"\n", STATUS_LATE);
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (load_phone(st, argv[optind], &before) < 0)
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
	"usage: opencapf phone list [--json]\n\n"
	"List phones with their operation, status and LSC.\n";

static int phone_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct store *st;
	int help = 0, json = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, list_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		json = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, list_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = phone_print_list(st, json) == 0 ? EXIT_OK : EXIT_FAIL;
	store_close(st);
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
	if (cli_expect_args(argc, argv, 1, 1, remove_usage) < 0)
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

int cmd_phone(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "add", phone_add, "add a phone with its CAPF settings" },
		{ "set", phone_set, "change a phone's CAPF settings" },
		{ "op", phone_op, "schedule install, delete, troubleshoot, or none" },
		{ "show", phone_show, "settings, status, history and certificates of a phone" },
		{ "list", phone_list, "list phones" },
		{ "remove", phone_remove, "remove a phone" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "phone", cmds, argc, argv);
}
