/*
 * cmd_report.c: `opencapf report`: the CAPF report (phone-certificates.md
 * §8): one row per phone with its model, operation, status, authentication
 * mode, current LSC (serial, issuer, expiry), last seen MIC (issuer,
 * expiry) and last CAPF contact; as a table that fits the terminal, CSV or
 * JSON. It takes the same selectors as `phone list`.
 *
 * The rows and the summary come from the administration core
 * (admin/report.h), the same numbers the API's report and dashboard give;
 * this file only formats them. CSV and JSON are streamed row by row, so a
 * report over tens of thousands of phones needs no more memory than one
 * row. The table adds a summary of the selection at its end.
 */
#include "cmd/opencapf/cli.h"

#include <stdlib.h>
#include <string.h>

#include "admin/report.h"
#include "cmd/opencapf/phone_view.h"

enum report_format { FMT_TABLE, FMT_CSV, FMT_JSON };

static const char report_usage[] =
	"usage: opencapf report [NAME...] [SELECTORS] [--format table|csv|json]\n\n"
	"The CAPF report: one row per phone with name, model, operation, status,\n"
	"authentication mode, LSC serial, issuer and expiry, last seen MIC issuer and\n"
	"expiry, and the last CAPF contact. The table fits the terminal (less useful\n"
	"columns give way first) and ends with a summary; CSV and JSON hold every field.\n"
	"  --format F   table (default), csv or json\n"
	"  --csv, --json  short for --format csv / json\n\n";

struct report {
	enum report_format fmt;
	struct table *t;
	struct buf line;
	size_t n;
	struct admin_report_summary sum;
};

/* Empty for no time, else "2026-11-24 18:23:30 UTC". */
static void time_text(int64_t t, char *out, size_t cap)
{
	if (t)
		fmt_time_utc(t, out, cap);
	else if (cap)
		out[0] = '\0';
}

/* The CN of an RFC 4514 name ("CN=CAPF-0a1b2c3d,OU=..."), else the name. */
static void short_name(const char *dn, char *out, size_t cap)
{
	const char *p = dn;
	size_t n = 0;

	for (;;) {
		if (strncmp(p, "CN=", 3) == 0) {
			p += 3;
			while (*p && *p != ',' && n + 1 < cap) {
				if (*p == '\\' && p[1])
					p++;
				out[n++] = *p++;
			}
			out[n] = '\0';
			return;
		}
		/* next RDN: skip to an unescaped ',' */
		while (*p && *p != ',') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (!*p)
			break;
		p++;
	}
	snprintf(out, cap, "%s", dn);
}

static json_t *time_or_null(int64_t t)
{
	char s[40];

	if (!t)
		return json_null();
	fmt_time_utc(t, s, sizeof s);
	return json_string(s);
}

static int report_json(struct report *r, const struct phone_row *row, const char *lsc_state)
{
	const struct phone *p = &row->phone;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "name", p->name, "model", p->model,
			      "operation", capf_op_name(p->op), "operation_label", capf_op_label(p->op),
			      "status", p->status, "auth", auth_mode_name(p->auth), "deadline",
			      time_or_null(p->deadline), "lsc_state", lsc_state);
	int rc;

	if (!o)
		return -1;
	json_object_set_new(o, "lsc", phone_cert_brief_json(&row->lsc));
	json_object_set_new(o, "mic", phone_cert_brief_json(&row->mic));
	json_object_set_new(o, "last_contact", time_or_null(p->last_contact));
	fputs(r->n ? ",\n" : "\n", stdout);
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return rc;
}

static const char *const csv_columns[] = {
	"name", "model", "operation", "status", "auth", "deadline", "lsc_state", "lsc_serial", "lsc_issuer",
	"lsc_issuer_sha256", "lsc_not_after", "mic_serial", "mic_issuer", "mic_not_after", "last_contact",
};

static int report_csv(struct report *r, const struct phone_row *row, const char *lsc_state)
{
	const struct phone *p = &row->phone;
	char dl[40], lna[40], mna[40], lc[40];

	time_text(p->deadline, dl, sizeof dl);
	time_text(row->lsc.present ? row->lsc.not_after : 0, lna, sizeof lna);
	time_text(row->mic.present ? row->mic.not_after : 0, mna, sizeof mna);
	time_text(p->last_contact, lc, sizeof lc);
	buf_reset(&r->line);
	csv_put(&r->line, p->name, 1);
	csv_put(&r->line, p->model, 0);
	csv_put(&r->line, capf_op_name(p->op), 0);
	csv_put(&r->line, p->status, 0);
	csv_put(&r->line, auth_mode_name(p->auth), 0);
	csv_put(&r->line, dl, 0);
	csv_put(&r->line, lsc_state, 0);
	csv_put(&r->line, row->lsc.serial, 0);
	csv_put(&r->line, row->lsc.issuer, 0);
	csv_put(&r->line, row->lsc.issuer_sha256, 0);
	csv_put(&r->line, lna, 0);
	csv_put(&r->line, row->mic.serial, 0);
	csv_put(&r->line, row->mic.issuer, 0);
	csv_put(&r->line, mna, 0);
	csv_put(&r->line, lc, 0);
	csv_end(&r->line);
	if (r->line.failed || fwrite(r->line.data, 1, r->line.len, stdout) != r->line.len)
		return -1;
	return 0;
}

/* Dates only in the table: "2027-01-31". */
static void date_text(int64_t t, char *out, size_t cap)
{
	char s[40];

	if (!t) {
		snprintf(out, cap, "-");
		return;
	}
	fmt_time_utc(t, s, sizeof s);
	s[10] = '\0';
	snprintf(out, cap, "%s", s);
}

static int report_table(struct report *r, const struct phone_row *row, const char *lsc_state)
{
	const struct phone *p = &row->phone;
	char lna[24], mna[24], lc[40], liss[160], miss[160], lsc[40];
	const char *cells[11];

	date_text(row->lsc.present ? row->lsc.not_after : 0, lna, sizeof lna);
	date_text(row->mic.present ? row->mic.not_after : 0, mna, sizeof mna);
	if (p->last_contact) {
		fmt_time_utc(p->last_contact, lc, sizeof lc);
		lc[16] = '\0'; /* minutes */
	} else
		snprintf(lc, sizeof lc, "never");
	short_name(row->lsc.issuer, liss, sizeof liss);
	short_name(row->mic.issuer, miss, sizeof miss);
	snprintf(lsc, sizeof lsc, "%s%s%s", lsc_state, row->lsc.present ? " " : "",
		 row->lsc.present ? lna : "");
	cells[0] = p->name;
	cells[1] = p->model[0] ? p->model : "-";
	cells[2] = capf_op_name(p->op);
	cells[3] = p->status[0] ? p->status : "-";
	cells[4] = auth_mode_name(p->auth);
	cells[5] = lsc;
	cells[6] = row->lsc.present ? row->lsc.serial : "-";
	cells[7] = row->lsc.present ? liss : "-";
	cells[8] = row->mic.present ? miss : "-";
	cells[9] = row->mic.present ? mna : "-";
	cells[10] = lc;
	return table_add(r->t, cells);
}

static int report_row(const struct admin_report_row *ar, void *arg)
{
	struct report *r = arg;
	const char *lsc_state = admin_report_lsc_text(ar->lsc_state);
	int rc;

	switch (r->fmt) {
	case FMT_JSON: rc = report_json(r, ar->row, lsc_state); break;
	case FMT_CSV: rc = report_csv(r, ar->row, lsc_state); break;
	default: rc = report_table(r, ar->row, lsc_state); break;
	}
	if (rc < 0)
		return -2; /* output failure, not a database one */
	r->n++;
	return 0;
}

static void print_summary(const struct admin_report_summary *s)
{
	printf("%lld phone%s: %lld with a valid LSC (%lld expiring within %d days), %lld expired, %lld without; "
	       "%lld pending operation%s, %lld failed\n",
	       (long long)s->total, s->total == 1 ? "" : "s", (long long)s->installed, (long long)s->expiring,
	       s->expiring_days, (long long)s->expired, (long long)s->none, (long long)s->pending,
	       s->pending == 1 ? "" : "s", (long long)s->failed);
	if (s->unconfirmed > 0)
		printf("%lld LSC%s sent but never confirmed by the phone ('phone show NAME' lists them)\n",
		       (long long)s->unconfirmed, s->unconfirmed == 1 ? "" : "s");
}

static int format_opt(int c, const char *arg, enum report_format *fmt)
{
	if (c == 'j') {
		*fmt = FMT_JSON;
		return 0;
	}
	if (c == 'c') {
		*fmt = FMT_CSV;
		return 0;
	}
	if (!strcmp(arg, "table"))
		*fmt = FMT_TABLE;
	else if (!strcmp(arg, "csv"))
		*fmt = FMT_CSV;
	else if (!strcmp(arg, "json"))
		*fmt = FMT_JSON;
	else {
		cli_error("report: --format %s: expected table, csv or json", text_valid(arg) ? arg : "?");
		return -1;
	}
	return 0;
}

int cmd_report(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "csv", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct table_col cols[] = {
		{ "NAME", 15, 0, 0 },        { "MODEL", 5, 16, 5 },        { "OPERATION", 7, 12, 0 },
		{ "STATUS", 8, 48, 0 },      { "AUTH", 4, 9, 4 },          { "LSC", 8, 20, 0 },
		{ "LSC SERIAL", 8, 34, 7 },  { "LSC ISSUER", 8, 24, 3 },   { "MIC ISSUER", 8, 24, 8 },
		{ "MIC NOT AFTER", 10, 13, 9 }, { "LAST CONTACT", 10, 16, 6 },
	};
	struct option opts[40];
	struct phone_selector sel;
	struct report r = { .fmt = FMT_TABLE };
	struct store *st = NULL;
	int help = 0, c, rc = EXIT_USAGE, walk;

	phone_selector_init(&sel);
	buf_init(&r.line);
	phone_selector_merge_opts(opts, sizeof opts / sizeof opts[0], own);
	while ((c = cli_getopt(cli, argc, argv, "", opts, report_usage, &help)) != -1) {
		int s;
		if (c == '?' || (s = phone_selector_opt(&sel, c, optarg)) < 0)
			goto out;
		if (!s && format_opt(c, optarg, &r.fmt) < 0)
			goto out;
	}
	if (help) {
		fputs(phone_selector_help, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (phone_selector_add_names(&sel, argc - optind, argv + optind) < 0)
		goto out;
	rc = EXIT_FAIL;
	sel.f.now = now_utc();
	if (r.fmt == FMT_TABLE && !(r.t = table_new(cols, 11))) {
		cli_error("out of memory");
		goto out;
	}
	if (cli_open_store(cli, &st) < 0)
		goto out;
	if (r.fmt == FMT_CSV) {
		for (size_t i = 0; i < sizeof csv_columns / sizeof csv_columns[0]; i++)
			csv_put(&r.line, csv_columns[i], i == 0);
		csv_end(&r.line);
		fwrite(r.line.data, 1, r.line.len, stdout);
	} else if (r.fmt == FMT_JSON)
		fputs("[", stdout);
	walk = admin_report_each(st, &sel.f, report_row, &r, &r.sum);
	if (r.fmt == FMT_JSON)
		fputs(r.n ? "\n]\n" : "]\n", stdout);
	if (walk != 0) {
		table_print_free(r.t, NULL, 0);
		r.t = NULL;
		cli_error("report: %s", walk == -2 ? "cannot write the output" : store_errmsg(st));
		goto out;
	}
	if (r.fmt == FMT_TABLE) {
		table_print_free(r.t, stdout, terminal_width());
		r.t = NULL;
		print_summary(&r.sum);
	}
	if (fflush(stdout) != 0) {
		cli_error("report: cannot write the output");
		goto out;
	}
	rc = EXIT_OK;
out:
	table_print_free(r.t, NULL, 0);
	if (st)
		store_close(st);
	buf_free(&r.line);
	phone_selector_free(&sel);
	return rc;
}
