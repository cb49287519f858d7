/*
 * phone_view.c: text, table and JSON output of phones for `opencapf phone
 * show|list` and `report` (the JSON shapes are admin/phone_json.c's), and
 * the phone selector options every fleet command shares.
 *
 * Lists are one query (store_phone_select joins each phone's current
 * certificates), streamed: JSON arrays are written element by element, and
 * only tables are held in memory (to size their columns).
 */
#include "cmd/opencapf/phone_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "admin/provision.h"
#include "cmd/opencapf/cli.h"
#include "common/json_util.h"
#include "common/util.h"

int phone_print_json(struct store *st, const struct phone *p)
{
	json_t *o = phone_full_json(st, p, 50);
	int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	putchar('\n');
	json_decref(o);
	return rc;
}

static void print_cert(const char *label, const struct cert_row *r)
{
	char na[40];

	fmt_time_utc(r->not_after, na, sizeof na);
	printf("%-22s serial %s\n", label, r->serial);
	printf("%-22s issuer %s\n", "", r->issuer);
	printf("%-22s valid until %s%s\n", "", na, r->not_after < now_utc() ? " (EXPIRED)" : "");
}

static int print_history_line(const struct history_entry *h, void *arg)
{
	char t[40];

	(void)arg;
	fmt_time_utc(h->time, t, sizeof t);
	printf("  %s  %-15s %-12s %-9s %s%s%s", t, h->peer, h->operation, h->auth_mode, h->outcome,
	       h->reason[0] ? ": " : "", h->reason);
	if (h->count > 1) {
		fmt_time_utc(h->first_time, t, sizeof t);
		printf(" (%d times since %s)", h->count, t);
	}
	putchar('\n');
	return 0;
}

static int print_unconfirmed(const struct cert_row *r, void *arg)
{
	char t[40];

	(void)arg;
	fmt_time_utc(r->time, t, sizeof t);
	printf("Unconfirmed LSC:       serial %s\n", r->serial);
	printf("%-22s sent %s; the phone never confirmed storing it\n", "",
	       t);
	return 0;
}

static int print_lockout(const struct auth_lockout *l, void *arg)
{
	char t[40];

	(void)arg;
	if (l->locked_until <= now_utc())
		return 0;
	fmt_time_utc(l->locked_until, t, sizeof t);
	printf("  Locked out:                %s until %s (repeated authentication failures from there)\n",
	       l->source, t);
	return 0;
}

static void print_provisioning(struct store *st, const char *name)
{
	struct provision_state ps;
	char err[512], t[40] = "never";

	if (provision_phone_state(st, name, &ps, err, sizeof err) < 0)
		return;
	if (ps.published)
		fmt_time_utc(ps.published, t, sizeof t);
	printf("Configuration:               %s, published %s%s%s%s\n", ps.has_template ? "template" : "no template", t,
	       ps.encrypted ? ", encrypted" : ", signed", ps.encrypted_to[0] ? " to " : "", ps.encrypted_to);
}

int phone_print_text(struct store *st, const struct phone *p)
{
	struct cert_row r;
	char t[40];

	printf("Device Name:                 %s\n", p->name);
	if (p->model[0])
		printf("Model:                       %s\n", p->model);
	if (p->description[0])
		printf("Description:                 %s\n", p->description);
	printf("CAPF Information\n");
	printf("  Certificate Operation:     %s\n", capf_op_label(p->op));
	printf("  Authentication Mode:       %s\n", auth_mode_label(p->auth));
	if (p->auth == AUTH_STRING)
		printf("  Authentication String:     (set)\n");
	printf("  Key Order:                 %s\n", key_order_label(p->key_order));
	printf("  RSA Key Size (Bits):       %d\n", p->rsa_bits);
	printf("  EC Key Size (Bits):        %d\n", p->ec_bits);
	if (p->deadline) {
		fmt_time_utc(p->deadline, t, sizeof t);
		printf("  Operation Completes By:    %s\n", t);
	}
	printf("  Certificate Operation Status: %s\n", p->status[0] ? p->status : "None");
	if (p->locked_until > now_utc()) {
		fmt_time_utc(p->locked_until, t, sizeof t);
		printf("  Locked until:              %s (repeated authentication failures)\n", t);
	}
	store_auth_lockouts_each(st, p->name, print_lockout, NULL);
	if (store_phone_lsc(st, p->name, 0, &r) == 0) {
		print_cert("LSC:", &r);
		cert_row_free(&r);
	} else
		printf("LSC:                   none\n");
	store_unconfirmed_each(st, p->name, print_unconfirmed, NULL);
	if (store_phone_mic(st, p->name, 0, &r) == 0) {
		print_cert("MIC (last seen):", &r);
		cert_row_free(&r);
	}
	print_provisioning(st, p->name);
	printf("History (newest first):\n");
	return store_history_each(st, p->name, 20, print_history_line, NULL);
}

/* ---- tables ---- */

struct table {
	const struct table_col *cols;
	int ncols;
	char **cells;               /* nrows * ncols */
	size_t nrows, cap;
	int failed;
};

struct table *table_new(const struct table_col *cols, int ncols)
{
	struct table *t = calloc(1, sizeof *t);

	if (t) {
		t->cols = cols;
		t->ncols = ncols;
	}
	return t;
}

int table_add(struct table *t, const char *const *cells)
{
	if (t->failed)
		return -1;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 64;
		char **nc = realloc(t->cells, ncap * (size_t)t->ncols * sizeof *nc);
		if (!nc) {
			t->failed = 1;
			return -1;
		}
		t->cells = nc;
		t->cap = ncap;
	}
	for (int i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "-");
		if (!c) {
			for (int j = 0; j < i; j++)
				free(t->cells[t->nrows * (size_t)t->ncols + (size_t)j]);
			t->failed = 1;
			return -1;
		}
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = c;
	}
	t->nrows++;
	return 0;
}

/* Display width: code points (UTF-8 continuation bytes do not count). */
static int text_width(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Print s in exactly w columns (padded unless last), cut with '~'. */
static void put_cell(FILE *out, const char *s, int w, int last)
{
	int n = text_width(s);

	if (n <= w) {
		fputs(s, out);
		if (!last)
			fprintf(out, "%*s", w - n, "");
		return;
	}
	if (w <= 0)
		return;
	{
		int cp = 0;
		const char *p = s;
		/* w-1 code points, then the marker. */
		while (*p) {
			if (((unsigned char)*p & 0xc0) != 0x80) {
				if (cp == w - 1)
					break;
				cp++;
			}
			p++;
		}
		fwrite(s, 1, (size_t)(p - s), out);
		fputc('~', out);
	}
}

static int layout(const struct table *t, const int *visible, int *w, int width)
{
	int total = 0, nvis = 0;

	for (int i = 0; i < t->ncols; i++) {
		if (!visible[i])
			continue;
		w[i] = text_width(t->cols[i].title);
		for (size_t r = 0; r < t->nrows; r++) {
			int n = text_width(t->cells[r * (size_t)t->ncols + (size_t)i]);
			if (n > w[i])
				w[i] = n;
		}
		if (t->cols[i].max > 0 && w[i] > t->cols[i].max)
			w[i] = t->cols[i].max;
		total += w[i];
		nvis++;
	}
	total += 2 * (nvis > 0 ? nvis - 1 : 0);
	if (width <= 0)
		return 1;
	/* Shrink the widest shrinkable column, one column of text at a time. */
	while (total > width) {
		int best = -1;
		for (int i = 0; i < t->ncols; i++)
			if (visible[i] && w[i] > t->cols[i].min && (best < 0 || w[i] - t->cols[i].min > w[best] - t->cols[best].min))
				best = i;
		if (best < 0)
			return 0;
		w[best]--;
		total--;
	}
	return 1;
}

void table_print_free(struct table *t, FILE *out, int width)
{
	int visible[32], w[32];

	if (!t)
		return;
	if (!out || t->failed || t->ncols > 32)
		goto out;
	for (int i = 0; i < t->ncols; i++)
		visible[i] = 1;
	while (!layout(t, visible, w, width)) {
		int drop = -1;
		for (int i = 0; i < t->ncols; i++)
			if (visible[i] && t->cols[i].drop > 0 && (drop < 0 || t->cols[i].drop > t->cols[drop].drop))
				drop = i;
		if (drop < 0)
			break; /* nothing left to drop: the minimum widths it is */
		visible[drop] = 0;
	}
	{
		int last = -1;
		for (int i = 0; i < t->ncols; i++)
			if (visible[i])
				last = i;
		for (size_t r = 0; r <= t->nrows; r++) {
			int first = 1;
			for (int i = 0; i < t->ncols; i++) {
				if (!visible[i])
					continue;
				if (!first)
					fputs("  ", out);
				first = 0;
				put_cell(out, r == 0 ? t->cols[i].title : t->cells[(r - 1) * (size_t)t->ncols + (size_t)i],
					 w[i], i == last);
			}
			fputc('\n', out);
		}
	}
out:
	for (size_t k = 0; k < t->nrows * (size_t)t->ncols; k++)
		free(t->cells[k]);
	free(t->cells);
	free(t);
}

int terminal_width(void)
{
	struct winsize ws;
	const char *c;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	c = getenv("COLUMNS");
	if (c && *c) {
		char *end;
		long v = strtol(c, &end, 10);
		if (*end == '\0' && v >= 20 && v <= 10000)
			return (int)v;
	}
	return 0;
}

/* ---- lists ---- */

struct list_ctx {
	struct table *t;
	int json;
	size_t n;
	int64_t now;
};

/* "none", "2027-01-31", "expired 2024-01-31" */
static void lsc_cell(const struct phone_cert_brief *c, int64_t now, char *out, size_t cap)
{
	char t[40];

	if (!c->present) {
		snprintf(out, cap, "none");
		return;
	}
	fmt_time_utc(c->not_after, t, sizeof t);
	t[10] = '\0';
	snprintf(out, cap, "%s%s", c->not_after < now ? "expired " : "", t);
}

static int list_one(const struct phone_row *r, void *arg)
{
	struct list_ctx *ctx = arg;
	const struct phone *p = &r->phone;

	if (ctx->json) {
		json_t *o = phone_row_json(r); /* the API's list element, the same shape */
		fputs(ctx->n ? ",\n" : "\n", stdout);
		if (json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(o);
			return -1;
		}
		json_decref(o);
	} else {
		char lsc[40];
		const char *cells[6];
		lsc_cell(&r->lsc, ctx->now, lsc, sizeof lsc);
		cells[0] = p->name;
		cells[1] = p->model[0] ? p->model : "-";
		cells[2] = auth_mode_name(p->auth);
		cells[3] = capf_op_name(p->op);
		cells[4] = p->status[0] ? p->status : "-";
		cells[5] = lsc;
		if (table_add(ctx->t, cells) < 0)
			return -1;
	}
	ctx->n++;
	return 0;
}

int phone_print_list(struct store *st, const struct phone_filter *f, int json)
{
	static const struct table_col cols[] = {
		{ "NAME", 15, 0, 0 },   { "MODEL", 5, 16, 3 },     { "AUTH", 4, 9, 2 },
		{ "OPERATION", 7, 12, 0 }, { "STATUS", 8, 60, 0 }, { "LSC", 4, 18, 1 },
	};
	struct list_ctx ctx = { .json = json, .now = f->now ? f->now : now_utc() };
	int rc;

	if (!json && !(ctx.t = table_new(cols, 6))) {
		cli_error("out of memory");
		return -1;
	}
	if (json)
		fputs("[", stdout);
	rc = store_phone_select(st, f, list_one, &ctx);
	if (json)
		fputs(ctx.n ? "\n]\n" : "]\n", stdout);
	else {
		/* A failed walk prints no partial table. */
		table_print_free(ctx.t, rc == 0 ? stdout : NULL, terminal_width());
	}
	if (rc != 0) {
		cli_error("cannot list phones: %s", rc < 0 ? store_errmsg(st) : "out of memory");
		return -1;
	}
	if (!json)
		printf("%zu phone%s\n", ctx.n, ctx.n == 1 ? "" : "s");
	return 0;
}

/* ---- selectors ---- */

enum {
	SEL_NAME = 0x2001, SEL_NAMES, SEL_MODEL, SEL_LSC_STATUS, SEL_EXPIRING_DAYS, SEL_LSC_ISSUER, SEL_AUTH,
	SEL_OPERATION, SEL_STATUS, SEL_ALL,
};

const struct option phone_selector_opts[] = {
	{ "name", required_argument, NULL, SEL_NAME },
	{ "names", required_argument, NULL, SEL_NAMES },
	{ "model", required_argument, NULL, SEL_MODEL },
	{ "lsc-status", required_argument, NULL, SEL_LSC_STATUS },
	{ "expiring-days", required_argument, NULL, SEL_EXPIRING_DAYS },
	{ "lsc-issuer", required_argument, NULL, SEL_LSC_ISSUER },
	{ "auth", required_argument, NULL, SEL_AUTH },
	{ "operation", required_argument, NULL, SEL_OPERATION },
	{ "status", required_argument, NULL, SEL_STATUS },
	{ "all", no_argument, NULL, SEL_ALL },
	{ NULL, 0, NULL, 0 },
};

const char phone_selector_help[] =
	"Selecting phones (conditions combine with AND):\n"
	"  NAME...                 these phones (positional device names)\n"
	"  --names A,B,C           these phones\n"
	"  --name PATTERN          names matching a shell pattern, e.g. 'SEP0011*'\n"
	"  --model MODEL           phones of this model, e.g. 7962\n"
	"  --lsc-status STATE      none | installed | expired | expiring\n"
	"                          (installed: an LSC that has not expired)\n"
	"  --expiring-days N       window of 'expiring' (default 30; implies expiring)\n"
	"  --lsc-issuer TEXT       LSC issued by this CAPF certificate: a SHA-256\n"
	"                          fingerprint prefix (8+ hex digits), or text of the\n"
	"                          LSC issuer name, e.g. CAPF-0a1b2c3d\n"
	"  --auth MODE             null | string | lsc-first | mic-first\n"
	"  --operation OP          none | install | delete | troubleshoot\n"
	"  --status TEXT           status containing TEXT (e.g. Failed); 'none': no status\n"
	"  --all                   every phone (needed where a change has no condition)\n";

void phone_selector_init(struct phone_selector *sel)
{
	memset(sel, 0, sizeof *sel);
	phone_filter_init(&sel->f);
}

void phone_selector_free(struct phone_selector *sel)
{
	for (size_t i = 0; i < sel->n_names; i++)
		free(sel->names[i]);
	free(sel->names);
	sel->names = NULL;
	sel->n_names = sel->cap_names = 0;
	sel->f.names = NULL;
	sel->f.n_names = 0;
}

static int selector_add_name(struct phone_selector *sel, const char *name, size_t len)
{
	char buf[64], canonical[16];

	if (len == 0)
		return 0;
	if (len >= sizeof buf) {
		cli_error("'%.20s...' is not a device name", name);
		return -1;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	if (devname_normalize(buf, canonical, sizeof canonical) == 0)
		snprintf(buf, sizeof buf, "%s", canonical);
	else if (!devname_valid(buf)) {
		cli_error("'%s' is not a device name: expected " DEVNAME_RULE,
			  text_valid(buf) ? buf : "?");
		return -1;
	}
	if (sel->n_names == sel->cap_names) {
		size_t ncap = sel->cap_names ? sel->cap_names * 2 : 16;
		char **nn = realloc(sel->names, ncap * sizeof *nn);
		if (!nn) {
			cli_error("out of memory");
			return -1;
		}
		sel->names = nn;
		sel->cap_names = ncap;
	}
	if (!(sel->names[sel->n_names] = strdup(buf))) {
		cli_error("out of memory");
		return -1;
	}
	sel->n_names++;
	sel->f.names = (const char *const *)sel->names;
	sel->f.n_names = sel->n_names;
	return 0;
}

int phone_selector_add_names(struct phone_selector *sel, int n, char **names)
{
	for (int i = 0; i < n; i++)
		if (selector_add_name(sel, names[i], strlen(names[i])) < 0)
			return -1;
	return 0;
}

/* The value rules are the store's (phone_filter_set, the API's too); the
 * option names are phone_selector_opts'. */
int phone_selector_opt(struct phone_selector *sel, int c, const char *arg)
{
	char err[ERRLEN];
	int rc;

	switch (c) {
	case SEL_NAMES:
		for (const char *p = arg; *p;) {
			size_t len = strcspn(p, ", \t\n");
			if (selector_add_name(sel, p, len) < 0)
				return -1;
			p += len;
			p += strspn(p, ", \t\n");
		}
		return 1;
	case SEL_ALL:
		sel->all = 1;
		return 1;
	}
	for (const struct option *o = phone_selector_opts; o->name; o++) {
		if (o->val != c)
			continue;
		rc = phone_filter_set(&sel->f, o->name, arg, err, sizeof err);
		if (rc < 0)
			cli_error("--%s: %s", o->name, err);
		return rc;
	}
	return 0;
}

void phone_selector_merge_opts(struct option *out, size_t cap, const struct option *opts)
{
	size_t n = 0;

	for (; opts && opts[0].name && n + 1 < cap; opts++)
		out[n++] = *opts;
	for (const struct option *o = phone_selector_opts; o->name && n + 1 < cap; o++)
		out[n++] = *o;
	out[n] = (struct option){ NULL, 0, NULL, 0 };
}
