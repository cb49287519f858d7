/*
 * store_select.c: phones selected by a filter (store_search.h), in one SQL
 * query: store_phone_select hands each phone with its current LSC and MIC
 * to a callback, store_phone_count counts them. What a filter means as
 * text is store_filter.c's; what is done to a selection is the caller's
 * (store_schedule.c schedules operations on it).
 *
 * Invariants:
 *  - One query per selection: phones LEFT JOIN their current LSC and MIC
 *    (phone_certs' primary key makes each join an index lookup), never a
 *    query per phone. The WHERE clause is assembled from constant fragments;
 *    every value is bound (the explicit name list as one JSON array, read
 *    back with json_each, so its length is not limited by SQLite's maximum
 *    number of parameters).
 *  - The phone's columns come first, in the order of the one phone row
 *    codec (store_phone_row.c), which reads them.
 *  - The row handed to callbacks (it holds the authentication string) lives
 *    on the heap only during the walk and is cleared before it is freed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

#define CERT_COLUMNS(a)                                                                               \
	a "phone, " a "source, " a "serial, " a "subject, " a "issuer, " a "issuer_sha256, " a "sha256, " \
	a "not_before, " a "not_after, " a "time"
#define CERT_NCOLUMNS 10

#define SELECT_COLUMNS STORE_PHONE_COLUMNS("p.") ", " CERT_COLUMNS("l.") ", " CERT_COLUMNS("m.") " "
#define COL_LSC STORE_PHONE_NCOLUMNS
#define COL_MIC (COL_LSC + CERT_NCOLUMNS)

#define SELECT_FROM                                                                   \
	"FROM phones p "                                                              \
	"LEFT JOIN phone_certs l ON l.phone = p.name AND l.kind = 'lsc' "             \
	"LEFT JOIN phone_certs m ON m.phone = p.name AND m.kind = 'mic' WHERE 1 = 1"

/* Parameter numbers are fixed per condition, so the fragments stay constant. */
enum {
	P_NAMES = 1, P_GLOB, P_MODEL, P_NOW, P_SOON, P_ISSUER_HEX, P_ISSUER_TEXT, P_AUTH, P_OP, P_STATUS,
};

/* ---- the query ---- */

/* The issuer condition, normalised: hex is the fingerprint prefix (or ""). */
static void issuer_hex(const char *text, char *hex, size_t cap)
{
	size_t n = 0;

	hex[0] = '\0';
	for (const char *p = text; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || n + 1 >= cap) {
			hex[0] = '\0';
			return;
		}
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	hex[n] = '\0';
	if (n < 8)
		hex[0] = '\0';
}

static void add(struct buf *sql, const char *frag)
{
	buf_put(sql, frag, strlen(frag));
}

/* The explicit names as one JSON array (NUL-terminated), for json_each. */
static void names_to_json(const struct phone_filter *f, struct buf *names_json)
{
	buf_put_u8(names_json, '[');
	for (size_t i = 0; i < f->n_names; i++) {
		char q[160];
		store_json_str(q, sizeof q, f->names[i]);
		if (i)
			buf_put_u8(names_json, ',');
		buf_put(names_json, q, strlen(q));
	}
	buf_put(names_json, "]", 2); /* with the NUL */
}

static int add_lsc_state(struct store *st, const struct phone_filter *f, struct buf *sql)
{
	switch (f->lsc) {
	case LSC_ANY: break;
	case LSC_NONE: add(sql, " AND l.phone IS NULL"); break;
	case LSC_INSTALLED: add(sql, " AND l.phone IS NOT NULL AND l.not_after >= ?4"); break;
	case LSC_EXPIRED: add(sql, " AND l.phone IS NOT NULL AND l.not_after < ?4"); break;
	case LSC_EXPIRING: add(sql, " AND l.phone IS NOT NULL AND l.not_after >= ?4 AND l.not_after < ?5"); break;
	default: return store_fail(st, "unknown LSC state in a phone filter");
	}
	return 0;
}

/* The conditions on the phone's own columns. */
static void add_phone_conditions(const struct phone_filter *f, struct buf *sql)
{
	if (f->has_auth)
		add(sql, " AND p.auth_mode = ?8");
	if (f->has_op)
		add(sql, " AND p.operation = ?9");
	if (f->status && f->status[0]) {
		if (strcasecmp(f->status, "none") == 0)
			add(sql, " AND p.status = ''");
		else
			add(sql, " AND instr(lower(p.status), lower(?10)) > 0");
	}
}

/* Builds "SELECT ... WHERE ..." into sql (a buf) and the JSON name list. */
static int build_query(struct store *st, const struct phone_filter *f, const char *head, const char *tail,
		       struct buf *sql, struct buf *names_json)
{
	add(sql, head);
	add(sql, SELECT_FROM);
	if (f->names && f->n_names) {
		add(sql, " AND p.name IN (SELECT value FROM json_each(?1))");
		names_to_json(f, names_json);
	}
	if (f->name_glob && f->name_glob[0])
		add(sql, " AND p.name GLOB ?2");
	if (f->model && f->model[0])
		add(sql, " AND p.model = ?3");
	if (add_lsc_state(st, f, sql) < 0)
		return -1;
	if (f->lsc_issuer && f->lsc_issuer[0])
		add(sql, " AND l.phone IS NOT NULL AND ((?6 <> '' AND substr(lower(l.issuer_sha256), 1, length(?6)) = ?6)"
			 " OR instr(lower(l.issuer), lower(?7)) > 0)");
	add_phone_conditions(f, sql);
	if (tail)
		add(sql, tail);
	buf_put_u8(sql, 0);
	if (sql->failed || names_json->failed)
		return store_fail(st, "out of memory");
	return 0;
}

static void bind_filter(struct store_stmt *s, const struct phone_filter *f, const struct buf *names_json)
{
	int64_t now = f->now ? f->now : now_utc();
	char hex[80];

	/* Unused parameter numbers are refused (SQLite's SQLITE_RANGE), harmlessly. */
	if (f->names && f->n_names)
		stmt_bind_text(s, P_NAMES, (const char *)names_json->data);
	if (f->name_glob)
		store_bind_text(s, P_GLOB, f->name_glob);
	if (f->model)
		store_bind_text(s, P_MODEL, f->model);
	stmt_bind_int64(s, P_NOW, now);
	stmt_bind_int64(s, P_SOON, now + (int64_t)store_filter_expiring_days(f) * 86400);
	if (f->lsc_issuer) {
		issuer_hex(f->lsc_issuer, hex, sizeof hex);
		store_bind_text(s, P_ISSUER_HEX, hex);
		store_bind_text(s, P_ISSUER_TEXT, f->lsc_issuer);
	}
	if (f->has_auth)
		store_bind_text(s, P_AUTH, auth_mode_name(f->auth));
	if (f->has_op)
		store_bind_text(s, P_OP, capf_op_name(f->op));
	if (f->status)
		store_bind_text(s, P_STATUS, f->status);
}

static struct store_stmt *prepare_filter(struct store *st, const struct phone_filter *f, const char *head,
				    const char *tail, struct buf *names_json)
{
	struct buf sql;
	struct store_stmt *s = NULL;

	buf_init(&sql);
	if (build_query(st, f, head, tail, &sql, names_json) == 0) {
		s = store_prepare(st, (const char *)sql.data);
		if (s)
			bind_filter(s, f, names_json);
	}
	buf_free(&sql);
	return s;
}

/* ---- reading ---- */

static void read_brief(struct store_stmt *s, int col, struct phone_cert_brief *c)
{
	memset(c, 0, sizeof *c);
	if (stmt_col_null(s, col))
		return;
	c->present = 1;
	store_col_text(s, col + 1, c->source, sizeof c->source);
	store_col_text(s, col + 2, c->serial, sizeof c->serial);
	store_col_text(s, col + 3, c->subject, sizeof c->subject);
	store_col_text(s, col + 4, c->issuer, sizeof c->issuer);
	store_col_text(s, col + 5, c->issuer_sha256, sizeof c->issuer_sha256);
	store_col_text(s, col + 6, c->sha256, sizeof c->sha256);
	c->not_before = stmt_col_int64(s, col + 7);
	c->not_after = stmt_col_int64(s, col + 8);
	c->time = stmt_col_int64(s, col + 9);
}

/* Walks the selection's rows into r, calling fn for each. */
static int select_walk(struct store *st, struct store_stmt *s, struct phone_row *r, phone_row_fn fn, void *arg)
{
	int rc, stop = 0;

	while ((rc = stmt_step(s)) == STORE_ROW) {
		if (store_phone_read(st, s, &r->phone) < 0)
			return -1;
		read_brief(s, COL_LSC, &r->lsc);
		read_brief(s, COL_MIC, &r->mic);
		if (fn && (stop = fn(r, arg)) != 0)
			return stop;
	}
	if (rc != STORE_DONE)
		return store_sqlfail(st, "cannot select phones");
	return 0;
}

int store_phone_select(struct store *st, const struct phone_filter *f, phone_row_fn fn, void *arg)
{
	struct buf names;
	struct store_stmt *s;
	struct phone_row *r;
	int stop = -1;

	r = malloc(sizeof *r);
	if (!r)
		return store_fail(st, "out of memory");
	buf_init(&names);
	s = prepare_filter(st, f, "SELECT " SELECT_COLUMNS, " ORDER BY p.name", &names);
	if (s) {
		stop = select_walk(st, s, r, fn, arg);
		store_finish(st, s);
	}
	/* The auth string was on the heap: do not leave it there. */
	memset(r, 0, sizeof *r);
	free(r);
	buf_free(&names);
	return stop;
}

int64_t store_phone_count(struct store *st, const struct phone_filter *f)
{
	struct buf names;
	struct store_stmt *s;
	int64_t n = -1;

	buf_init(&names);
	s = prepare_filter(st, f, "SELECT count(*) ", NULL, &names);
	if (s) {
		if (stmt_step(s) == STORE_ROW)
			n = stmt_col_int64(s, 0);
		else
			store_sqlfail(st, "cannot count phones");
		store_finish(st, s);
	}
	buf_free(&names);
	return n;
}
