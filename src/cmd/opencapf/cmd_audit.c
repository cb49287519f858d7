/*
 * cmd_audit.c: `opencapf audit`: read the audit log: who changed what and
 * when (every interface: the CLI, the daemon's CAPF sessions, the API), with
 * before/after details, filtered by actor, action, object and time.
 *
 * The log holds no secrets (store.h): phone changes carry settings with
 * "auth_string_set" only, CAPF sessions their outcome and serials. Reading
 * it is read-only: this command never writes.
 */
#include "cmd/opencapf/cli.h"

#include <stdlib.h>
#include <string.h>

#include "admin/audit_json.h"
#include "cmd/opencapf/phone_view.h"

#define AUDIT_DEFAULT_LIMIT 100

static const char audit_usage[] =
	"usage: opencapf audit [--actor A] [--action PREFIX] [--object NAME] [--since TIME]\n"
	"                      [--until TIME] [--limit N] [--oldest-first] [--json]\n\n"
	"Show the audit log, newest first: time, actor (cli:USER, capf, ...), action\n"
	"(phone.add, phone.op, phone.import, capf.install, ...), object and detail\n"
	"(JSON: before/after, outcome). Filters combine with AND.\n"
	"  --actor A        entries by this actor, e.g. cli:alice or capf\n"
	"  --action PREFIX  actions starting with PREFIX, e.g. phone. or capf.install\n"
	"  --object NAME    entries about NAME (a shell pattern when it holds * ? [)\n"
	"  --since TIME     from TIME: \"YYYY-MM-DD[ HH:MM[:SS]]\" UTC, or an age such\n"
	"                   as 30m, 12h, 7d (minutes, hours, days ago)\n"
	"  --until TIME     before TIME (same forms)\n"
	"  --limit N        at most N entries (default 100; 0: all)\n"
	"  --oldest-first   oldest entries first\n"
	"  --json           a JSON array; details as JSON objects\n";


struct audit_out {
	int json;
	size_t n;
	struct table *t;
};

static int audit_row(const struct audit_entry *e, void *arg)
{
	struct audit_out *o = arg;
	char t[40];

	fmt_time_utc(e->time, t, sizeof t);
	if (o->json) {
		json_t *row = admin_audit_json(e);
		int rc;

		if (!row)
			return -2;
		fputs(o->n ? ",\n" : "\n", stdout);
		rc = json_dumpf(row, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		json_decref(row);
		if (rc < 0)
			return -2;
	} else {
		/* no control character from the log to the terminal (text_escape_controls) */
		char actor[256], object[512], detail[4096];
		const char *cells[5];
		t[19] = '\0'; /* no " UTC" in the table: the heading says so */
		text_escape_controls(actor, sizeof actor, e->actor, strlen(e->actor));
		text_escape_controls(object, sizeof object, e->object, strlen(e->object));
		text_escape_controls(detail, sizeof detail, e->detail, strlen(e->detail));
		cells[0] = t;
		cells[1] = actor;
		cells[2] = e->action;
		cells[3] = e->object[0] ? object : "-";
		cells[4] = e->detail[0] ? detail : "-";
		if (table_add(o->t, cells) < 0)
			return -2;
	}
	o->n++;
	return 0;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "action", required_argument, NULL, 'c' },
		{ "object", required_argument, NULL, 'o' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "limit", required_argument, NULL, 'l' },
		{ "oldest-first", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct table_col cols[] = {
		{ "TIME (UTC)", 19, 19, 0 }, { "ACTOR", 5, 20, 2 }, { "ACTION", 8, 24, 0 },
		{ "OBJECT", 8, 40, 0 },      { "DETAIL", 10, 0, 1 },
	};
	struct audit_filter f = { .limit = AUDIT_DEFAULT_LIMIT };
	struct audit_out o = { 0 };
	struct store *st;
	char *end;
	long v;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, audit_usage, &help)) != -1) {
		switch (c) {
		case 'a': f.actor = optarg; break;
		case 'c': f.action_prefix = optarg; break;
		case 'o': f.object = optarg; break;
		case 's':
		case 'u':
			if (parse_time_or_age(optarg, c == 's' ? &f.since : &f.until) < 0) {
				cli_error("audit: --%s %s: expected \"YYYY-MM-DD[ HH:MM]\" (UTC) or an age like 7d",
					  c == 's' ? "since" : "until", text_valid(optarg) ? optarg : "?");
				return EXIT_USAGE;
			}
			break;
		case 'l':
			v = strtol(optarg, &end, 10);
			if (!*optarg || *end || v < 0 || v > 100000000) {
				cli_error("audit: --limit: expected a number (0: all)");
				return EXIT_USAGE;
			}
			f.limit = (int)v;
			break;
		case 'f': f.oldest_first = 1; break;
		case 'j': o.json = 1; break;
		default: return EXIT_USAGE;
		}
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, audit_usage) < 0)
		return EXIT_USAGE;
	if (f.since && f.until && f.until <= f.since) {
		cli_error("audit: --until must be later than --since");
		return EXIT_USAGE;
	}
	if (!o.json && !(o.t = table_new(cols, 5))) {
		cli_error("out of memory");
		return EXIT_FAIL;
	}
	if (cli_open_store(cli, &st) < 0) {
		table_print_free(o.t, NULL, 0);
		return EXIT_FAIL;
	}
	if (o.json)
		fputs("[", stdout);
	rc = store_audit_select(st, &f, audit_row, &o);
	if (o.json)
		fputs(o.n ? "\n]\n" : "]\n", stdout);
	if (rc != 0) {
		table_print_free(o.t, NULL, 0);
		cli_error("audit: %s", rc == -2 ? "cannot write the output" : store_errmsg(st));
		store_close(st);
		return EXIT_FAIL;
	}
	store_close(st);
	if (!o.json) {
		table_print_free(o.t, stdout, terminal_width());
		if (f.limit > 0 && o.n == (size_t)f.limit)
			printf("(the %zu %s; --limit N or --limit 0 for more)\n", o.n,
			       f.oldest_first ? "oldest" : "newest");
	}
	if (fflush(stdout) != 0) {
		cli_error("audit: cannot write the output");
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
