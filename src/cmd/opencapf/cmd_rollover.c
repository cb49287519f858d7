/*
 * cmd_rollover.c: `opencapf capf rollover status|schedule`: moving the
 * phones to a new CAPF certificate (phone-certificates.md §6).
 *
 * Old LSCs stay signed by the old CAPF key. `status` says, for each CAPF
 * certificate this state ever had, how many phones still hold an LSC we
 * issued under it, and which; `schedule` puts Install/Upgrade on exactly the
 * phones whose LSC came from a certificate other than the current one, with
 * the phone bulk machinery (store_search.h: one transaction, one audit row
 * per phone). Only when no phone is left does status say the previous
 * certificate can be retired.
 */
#include "cmd/opencapf/cmd_capf.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "admin/capf_lifecycle.h"
#include "admin/phones.h"
#include "store/store_search.h"

/* ---- status ---- */

static const char status_usage[] =
	"usage: opencapf capf rollover status [--json]\n\n"
	"For each CAPF certificate (current, previous, retired): how many phones still\n"
	"hold an LSC issued under it, and which. Says when the previous certificate can\n"
	"be retired.\n\n"
	"  --json  one JSON object: {\"certificates\":[{state, cn, sha256, not_after, phones:[...]}],\n"
	"          \"phones_on_older\": N, \"can_retire\": true|false}\n";

struct status_ctx {
	struct store *st;
	json_t *certs;
	int on_older;            /* phones on a certificate other than the current one */
	int on_previous;
	int has_previous;
	char previous_cn[128];
	int failed;
};

static int push_phone(const struct cert_row *r, void *arg)
{
	return json_array_append_new(arg, json_string(r->phone)) == 0 ? 0 : -1;
}

static void cert_summary(const struct capf_row *r, struct pki_cert_info *info)
{
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);

	memset(info, 0, sizeof *info);
	snprintf(info->cn, sizeof info->cn, "(unreadable certificate)");
	if (x)
		pki_cert_info(x, info);
	X509_free(x);
}

static int status_cert(const struct capf_row *r, void *arg)
{
	struct status_ctx *c = arg;
	struct pki_cert_info info;
	json_t *phones = json_array();
	char na[40];
	int n;

	cert_summary(r, &info);
	fmt_time_utc(info.not_after, na, sizeof na);
	if (!phones || store_lsc_by_capf_each(c->st, r->sha256, push_phone, phones) != 0) {
		json_decref(phones);
		c->failed = 1;
		return -1;
	}
	n = (int)json_array_size(phones);
	if (strcmp(r->state, "current") != 0)
		c->on_older += n;
	if (!strcmp(r->state, "previous")) {
		c->has_previous = 1;
		c->on_previous = n;
		snprintf(c->previous_cn, sizeof c->previous_cn, "%s", info.cn);
	}
	json_array_append_new(c->certs, json_pack("{s:s, s:s, s:s, s:s, s:o}", "state", r->state, "cn", info.cn,
						  "sha256", r->sha256, "not_after", na, "phones", phones));
	return 0;
}

static void print_status_text(const struct status_ctx *c)
{
	size_t i, j;
	json_t *cert, *name;

	json_array_foreach(c->certs, i, cert) {
		json_t *phones = json_object_get(cert, "phones");
		size_t n = json_array_size(phones);

		printf("%-9s %s  SHA-256 %.16s...  valid until %s: %zu phone%s\n",
		       json_string_value(json_object_get(cert, "state")),
		       json_string_value(json_object_get(cert, "cn")),
		       json_string_value(json_object_get(cert, "sha256")),
		       json_string_value(json_object_get(cert, "not_after")), n, n == 1 ? "" : "s");
		json_array_foreach(phones, j, name)
			printf("  %s\n", json_string_value(name));
	}
	printf("\n");
	if (c->on_older)
		printf("%d phone%s still hold%s LSCs from older CAPF certificates: 'opencapf capf rollover "
		       "schedule' re-installs exactly those.\n", c->on_older, c->on_older == 1 ? "" : "s",
		       c->on_older == 1 ? "s" : "");
	if (c->has_previous && c->on_previous == 0)
		printf("No phone holds an LSC from the previous certificate %s: it can be retired "
		       "('opencapf capf retire').\n", c->previous_cn);
	else if (c->has_previous)
		printf("The previous certificate %s cannot be retired yet.\n", c->previous_cn);
	else if (!c->on_older)
		printf("Every phone's LSC comes from the current CAPF certificate.\n");
}

static int rollover_status(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct status_ctx c = { 0 };
	int help = 0, ch, json = 0, rc = EXIT_FAIL;

	while ((ch = cli_getopt(cli, argc, argv, "", opts, status_usage, &help)) != -1) {
		if (ch == '?')
			return EXIT_USAGE;
		json = 1;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 0, 0, status_usage) < 0)
		return EXIT_USAGE;
	if (cli_open_store(cli, &c.st) < 0)
		return EXIT_FAIL;
	c.certs = json_array();
	if (!c.certs || store_capf_each(c.st, status_cert, &c) != 0 || c.failed) {
		cli_error("capf rollover status: %s", store_errmsg(c.st));
	} else if (json) {
		json_t *o = json_pack("{s:O, s:i, s:b}", "certificates", c.certs, "phones_on_older", c.on_older,
				      "can_retire", c.has_previous && c.on_previous == 0);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
		rc = EXIT_OK;
	} else {
		print_status_text(&c);
		rc = EXIT_OK;
	}
	json_decref(c.certs);
	store_close(c.st);
	return rc;
}

/* ---- schedule ---- */

static const char schedule_usage[] =
	"usage: opencapf capf rollover schedule [--by \"YYYY-MM-DD HH:MM\"] [--dry-run]\n\n"
	"Schedule Install/Upgrade on exactly the phones whose current LSC was issued\n"
	"under a CAPF certificate other than the current one (the phones 'rollover\n"
	"status' lists), so they get an LSC from the current certificate. Phones with\n"
	"another pending operation (delete, troubleshoot) are left alone and named.\n\n"
	"  --by TIME   operation completes by (UTC; default: 1 day from now)\n"
	"  --dry-run   only say which phones would be scheduled\n";

static int print_scheduled(const struct phone_row *r, void *arg)
{
	printf("%s %s\n", *(const int *)arg ? "would schedule" : "scheduled", r->phone.name);
	return 0;
}

static void print_skipped(const struct phone *p, void *arg)
{
	(void)arg;
	printf("skipped %s: %s pending\n", p->name, capf_op_label(p->op));
}

static int parse_schedule(struct cli *cli, int argc, char **argv, struct phone_schedule *ps, int *help)
{
	static const struct option opts[] = {
		{ "by", required_argument, NULL, 'b' }, { "dry-run", no_argument, NULL, 'n' }, { NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, "", opts, schedule_usage, help)) != -1) {
		if (ch == '?')
			return -1;
		if (ch == 'n')
			ps->dry_run = 1;
		if (ch == 'b' && parse_time_utc(optarg, &ps->deadline) < 0) {
			cli_error("capf rollover schedule: --by %s: expected \"YYYY-MM-DD HH:MM\" (UTC)",
				  text_valid(optarg) ? optarg : "?");
			return -1;
		}
	}
	if (*help)
		return 0;
	if (ps->deadline && ps->deadline <= now_utc())
		fprintf(stderr, "opencapf: warning: the deadline is already past; the operations will fail "
				"with \"%s\"\n", STATUS_LATE);
	return cli_expect_args(argc, argv, 0, 0, schedule_usage);
}

static int rollover_schedule(struct cli *cli, int argc, char **argv)
{
	struct phone_schedule ps = { .actor = cli->actor };
	struct store *st;
	size_t count = 0;
	int help = 0, skipped = 0, rc;

	if (parse_schedule(cli, argc, argv, &ps, &help) < 0)
		return EXIT_USAGE;
	if (help)
		return EXIT_OK;
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	rc = admin_rollover_schedule(st, &ps, print_scheduled, &ps.dry_run, print_skipped, &count, &skipped);
	if (rc != 0)
		cli_error("capf rollover schedule: %s", rc == -2 ? "out of memory" : store_errmsg(st));
	else if (count == 0)
		printf("no phone holds an LSC from an older CAPF certificate: nothing to schedule%s\n",
		       skipped ? " (apart from the skipped phones)" : "");
	else
		printf("%zu phone%s %s for Install/Upgrade%s\n", count, count == 1 ? "" : "s",
		       ps.dry_run ? "would be scheduled" : "scheduled",
		       skipped ? "; skipped phones keep their operation" : "");
	store_close(st);
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}

int capf_rollover(struct cli *cli, int argc, char **argv)
{
	static const struct cli_command cmds[] = {
		{ "status", rollover_status, "phones still holding LSCs from each CAPF certificate" },
		{ "schedule", rollover_schedule, "re-install LSCs on exactly those phones" },
		{ NULL, NULL, NULL },
	};
	return cli_dispatch(cli, "capf rollover", cmds, argc, argv);
}
