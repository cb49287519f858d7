/*
 * cmd_token.c: `opencapf token create|list|revoke`: the API tokens scripts
 * and browsers use with opencapfd's admin API (docs/api.md).
 *
 * A token is printed once, alone on the last line of `create`'s output, so
 * that `TOKEN=$(opencapf token create --role read | tail -1)` works; the
 * state keeps only its SHA-256 (store_api.h). Roles: admin (may change
 * anything the API offers) and read (may only look). Revoking a token also
 * ends the browser sessions opened with it. Both are audited, without the
 * token.
 */
#include "cmd/opencapf/cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/opencapf/phone_view.h"
#include "admin/tokens.h"

static const char create_usage[] =
	"usage: opencapf token create --role admin|read [--label TEXT]\n\n"
	"Create an API token for opencapfd's admin API and web UI. The token is shown\n"
	"once, alone on the last line; keep it secret (the state holds only its hash).\n"
	"  --role R      admin (may change things) or read (may only look); required\n"
	"  --label TEXT  what the token is for, e.g. \"prometheus\" or \"alice\"\n";

static int token_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' }, { "label", required_argument, NULL, 'l' }, { NULL, 0, NULL, 0 },
	};
	char text[API_SECRET_TEXT_MAX], err[ERRLEN];
	const char *label = "";
	enum api_role role = API_ROLE_READ;
	struct api_token t;
	struct store *st;
	int help = 0, c, have_role = 0, rc = EXIT_FAIL;

	while ((c = cli_getopt(cli, argc, argv, "", opts, create_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'r' && api_role_parse(optarg, &role) < 0) {
			cli_error("token create: --role %s: expected admin or read", text_valid(optarg) ? optarg : "?");
			return EXIT_USAGE;
		}
		have_role |= c == 'r';
		if (c == 'l')
			label = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, create_usage) < 0)
		return EXIT_USAGE;
	if (!have_role) {
		cli_error("token create: --role admin|read is required");
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	c = admin_token_create(st, cli->actor, role, label, &t, text, sizeof text, err, sizeof err);
	if (c == 0) {
		printf("token %lld created (role %s%s%s); it is shown only now:\n", (long long)t.id,
		       api_role_name(role), label[0] ? ", label " : "", label);
		printf("%s\n", text);
		rc = EXIT_OK;
	} else {
		cli_error("token create: %s%s", c == ADMIN_TOKEN_INVALID ? "--" : "", err);
		rc = c == ADMIN_TOKEN_INVALID ? EXIT_USAGE : EXIT_FAIL;
	}
	memset(text, 0, sizeof text);
	store_close(st);
	return rc;
}

static const char list_usage[] =
	"usage: opencapf token list [--json]\n\n"
	"List the API tokens: id, role, label, created, last used, revoked. The tokens\n"
	"themselves cannot be shown: only their hashes are kept.\n";

static int print_token(const struct api_token *t, void *arg)
{
	char created[40], used[40] = "never";

	fmt_time_utc(t->created, created, sizeof created);
	if (t->last_used)
		fmt_time_utc(t->last_used, used, sizeof used);
	if (arg) {
		json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:s, s:b}", "id", (json_int_t)t->id, "role",
						     api_role_name(t->role), "label", t->label, "created", created,
						     "last_used", t->last_used ? used : "", "revoked", t->revoked));
		return 0;
	}
	printf("%-5lld %-6s %-8s %-24s %-24s %s\n", (long long)t->id, api_role_name(t->role),
	       t->revoked ? "revoked" : "active", created, used, t->label);
	return 0;
}

static int token_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct store *st;
	json_t *arr = NULL;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, list_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		arr = arr ? arr : json_array();
	}
	if (help || cli_expect_args(argc, argv, 0, 0, list_usage) < 0) {
		json_decref(arr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0) {
		json_decref(arr);
		return EXIT_FAIL;
	}
	if (!arr)
		printf("%-5s %-6s %-8s %-24s %-24s %s\n", "ID", "ROLE", "STATE", "CREATED", "LAST USED", "LABEL");
	rc = store_api_token_each(st, print_token, arr);
	if (rc != 0)
		cli_error("token list: %s", store_errmsg(st));
	else if (arr) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		putchar('\n');
	}
	json_decref(arr);
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

static const char revoke_usage[] =
	"usage: opencapf token revoke ID\n\n"
	"Revoke an API token (see 'opencapf token list'): it stops working at once, and\n"
	"so do the browser sessions opened with it.\n";

static int token_revoke(struct cli *cli, int argc, char **argv)
{
	char err[ERRLEN];
	struct store *st;
	char *end;
	long long id;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", NULL, revoke_usage, &help)) != -1)
		if (c == '?')
			return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, revoke_usage) < 0)
		return EXIT_USAGE;
	id = strtoll(argv[optind], &end, 10);
	if (!*argv[optind] || *end || id <= 0) {
		cli_error("token revoke: '%s' is not a token id (see 'opencapf token list')",
			  text_valid(argv[optind]) ? argv[optind] : "?");
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_token_revoke(st, cli->actor, id, err, sizeof err);
	if (rc == ADMIN_TOKEN_NOT_FOUND)
		cli_error("token revoke: %s (see 'opencapf token list')", err);
	else if (rc != 0)
		cli_error("token revoke: %s", err);
	else
		printf("token %lld revoked\n", id);
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int cmd_token(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "create", token_create, "create an API token (shown once)" },
		{ "list", token_list, "list the API tokens" },
		{ "revoke", token_revoke, "revoke an API token" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "token", cmds, argc, argv);
}
