/*
 * store_search.c: phones at fleet scale (store_search.h): selection by
 * filter, scheduling an operation on a selection, a bulk writer for imports,
 * and filtered reads of the audit log.
 *
 * Invariants:
 *  - One query per selection: phones LEFT JOIN their current LSC and MIC
 *    (phone_certs' primary key makes each join an index lookup), never a
 *    query per phone. The WHERE clause is assembled from constant fragments;
 *    every value is bound (the explicit name list as one JSON array, read
 *    back with json_each, so its length is not limited by SQLite's maximum
 *    number of parameters).
 *  - store_phone_schedule reads the selection first and writes afterwards,
 *    inside one transaction, so the selection cannot change under it and a
 *    failure or an aborting callback leaves every phone as it was.
 *  - The audit rows written here carry the operation, deadline, status,
 *    filter and the caller's note: nothing that can hold an authentication
 *    string.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

/* ---- names ---- */

static const char *const lsc_state_names[] = { "any", "none", "installed", "expired", "expiring" };

const char *lsc_state_name(enum lsc_state s)
{
	if ((unsigned)s < sizeof lsc_state_names / sizeof lsc_state_names[0])
		return lsc_state_names[s];
	return "?";
}

int lsc_state_parse(const char *s, enum lsc_state *out)
{
	for (size_t i = 0; s && i < sizeof lsc_state_names / sizeof lsc_state_names[0]; i++)
		if (strcmp(s, lsc_state_names[i]) == 0) {
			*out = (enum lsc_state)i;
			return 0;
		}
	return -1;
}

void phone_filter_init(struct phone_filter *f)
{
	memset(f, 0, sizeof *f);
	f->lsc = LSC_ANY;
}

int phone_filter_is_empty(const struct phone_filter *f)
{
	return !(f->names && f->n_names) && !(f->name_glob && f->name_glob[0]) && !(f->model && f->model[0]) &&
	       f->lsc == LSC_ANY && !(f->lsc_issuer && f->lsc_issuer[0]) && !f->has_auth && !f->has_op &&
	       !(f->status && f->status[0]);
}

static int filter_text(const char *value, size_t max, char *err, size_t errlen)
{
	if (!text_valid(value) || strlen(value) > max) {
		seterr(err, errlen, "expected printable text of at most %zu bytes", max);
		return -1;
	}
	return 0;
}

int phone_filter_set(struct phone_filter *f, const char *name, const char *value, char *err, size_t errlen)
{
	char key[24];
	const char *shown = value && text_valid(value) && strlen(value) <= 40 ? value : "?";
	char *end;
	long v;
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof key; i++)
		key[i] = name[i] == '_' ? '-' : name[i];
	key[i] = '\0';
	if (!value)
		value = "";
	if (!strcmp(key, "name") || !strcmp(key, "model") || !strcmp(key, "status") || !strcmp(key, "lsc-issuer")) {
		size_t max = key[0] == 'n' ? 63 : key[0] == 'm' ? 31 : key[0] == 's' ? 127 : 200;
		if (filter_text(value, max, err, errlen) < 0)
			return -1;
		if (key[0] == 'n')
			f->name_glob = value;
		else if (key[0] == 'm')
			f->model = value;
		else if (key[0] == 's')
			f->status = value;
		else
			f->lsc_issuer = *value ? value : NULL;
		return 1;
	}
	if (!strcmp(key, "lsc-status")) {
		if (lsc_state_parse(value, &f->lsc) < 0) {
			seterr(err, errlen, "expected none, installed, expired or expiring, not '%s'", shown);
			return -1;
		}
		return 1;
	}
	if (!strcmp(key, "expiring-days")) {
		v = strtol(value, &end, 10);
		if (!*value || *end || v < 1 || v > 36500) {
			seterr(err, errlen, "expected a number of days from 1 to 36500");
			return -1;
		}
		f->expiring_days = (int)v;
		if (f->lsc == LSC_ANY)
			f->lsc = LSC_EXPIRING;
		return 1;
	}
	if (!strcmp(key, "auth")) {
		if (auth_mode_parse(value, &f->auth) < 0) {
			seterr(err, errlen, "expected null, string, lsc-first or mic-first, not '%s'", shown);
			return -1;
		}
		f->has_auth = 1;
		return 1;
	}
	if (!strcmp(key, "operation")) {
		if (capf_op_parse(value, &f->op) < 0) {
			seterr(err, errlen, "expected none, install, delete or troubleshoot, not '%s'", shown);
			return -1;
		}
		f->has_op = 1;
		return 1;
	}
	return 0;
}

static int expiring_days(const struct phone_filter *f)
{
	return f->expiring_days > 0 ? f->expiring_days : PHONE_FILTER_DEFAULT_EXPIRING_DAYS;
}

/* Append "key=value" to out, space-separated, never overflowing. */
static void describe_add(char *out, size_t outcap, const char *key, const char *value)
{
	size_t n = strlen(out);

	if (n + 1 >= outcap)
		return;
	snprintf(out + n, outcap - n, "%s%s=%s", n ? " " : "", key, value);
}

void phone_filter_describe(const struct phone_filter *f, char *out, size_t outcap)
{
	char tmp[160];

	if (!outcap)
		return;
	out[0] = '\0';
	if (f->names && f->n_names) {
		if (f->n_names == 1)
			snprintf(tmp, sizeof tmp, "%s", f->names[0]);
		else
			snprintf(tmp, sizeof tmp, "%s,...(%zu)", f->names[0], f->n_names);
		describe_add(out, outcap, "names", tmp);
	}
	if (f->name_glob && f->name_glob[0])
		describe_add(out, outcap, "name", f->name_glob);
	if (f->model && f->model[0])
		describe_add(out, outcap, "model", f->model);
	if (f->lsc == LSC_EXPIRING) {
		snprintf(tmp, sizeof tmp, "expiring<%dd", expiring_days(f));
		describe_add(out, outcap, "lsc", tmp);
	} else if (f->lsc != LSC_ANY)
		describe_add(out, outcap, "lsc", lsc_state_name(f->lsc));
	if (f->lsc_issuer && f->lsc_issuer[0])
		describe_add(out, outcap, "lsc-issuer", f->lsc_issuer);
	if (f->has_auth)
		describe_add(out, outcap, "auth", auth_mode_name(f->auth));
	if (f->has_op)
		describe_add(out, outcap, "operation", capf_op_name(f->op));
	if (f->status && f->status[0])
		describe_add(out, outcap, "status", f->status);
	if (!out[0])
		snprintf(out, outcap, "all");
}

/* ---- the selection query ---- */

#define SELECT_COLUMNS                                                                                   \
	"p.name, p.model, p.description, p.auth_mode, p.auth_string, p.key_order, p.rsa_bits, p.ec_bits, " \
	"p.operation, p.deadline, p.status, p.auth_failures, p.locked_until, p.last_contact, p.created, "    \
	"p.updated, "                                                                                      \
	"l.phone, l.source, l.serial, l.subject, l.issuer, l.issuer_sha256, l.sha256, l.not_before, "      \
	"l.not_after, l.time, "                                                                            \
	"m.phone, m.source, m.serial, m.subject, m.issuer, m.issuer_sha256, m.sha256, m.not_before, "      \
	"m.not_after, m.time "
#define COL_LSC 16
#define COL_MIC 26

#define SELECT_FROM                                                                   \
	"FROM phones p "                                                              \
	"LEFT JOIN phone_certs l ON l.phone = p.name AND l.kind = 'lsc' "             \
	"LEFT JOIN phone_certs m ON m.phone = p.name AND m.kind = 'mic' WHERE 1"

/* Parameter numbers are fixed per condition, so the fragments stay constant. */
enum {
	P_NAMES = 1, P_GLOB, P_MODEL, P_NOW, P_SOON, P_ISSUER_HEX, P_ISSUER_TEXT, P_AUTH, P_OP, P_STATUS,
};

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

/* Builds "SELECT ... WHERE ..." into sql (a buf) and the JSON name list. */
static int build_query(struct store *st, const struct phone_filter *f, const char *head, const char *tail,
		       struct buf *sql, struct buf *names_json)
{
	buf_put(sql, head, strlen(head));
	buf_put(sql, SELECT_FROM, strlen(SELECT_FROM));
#define ADD(frag) buf_put(sql, frag, strlen(frag))
	if (f->names && f->n_names) {
		ADD(" AND p.name IN (SELECT value FROM json_each(?1))");
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
	if (f->name_glob && f->name_glob[0])
		ADD(" AND p.name GLOB ?2");
	if (f->model && f->model[0])
		ADD(" AND p.model = ?3");
	switch (f->lsc) {
	case LSC_ANY: break;
	case LSC_NONE: ADD(" AND l.phone IS NULL"); break;
	case LSC_INSTALLED: ADD(" AND l.phone IS NOT NULL AND l.not_after >= ?4"); break;
	case LSC_EXPIRED: ADD(" AND l.phone IS NOT NULL AND l.not_after < ?4"); break;
	case LSC_EXPIRING: ADD(" AND l.phone IS NOT NULL AND l.not_after >= ?4 AND l.not_after < ?5"); break;
	default: return store_fail(st, "unknown LSC state in a phone filter");
	}
	if (f->lsc_issuer && f->lsc_issuer[0])
		ADD(" AND l.phone IS NOT NULL AND ((?6 <> '' AND substr(lower(l.issuer_sha256), 1, length(?6)) = ?6)"
		    " OR instr(lower(l.issuer), lower(?7)) > 0)");
	if (f->has_auth)
		ADD(" AND p.auth_mode = ?8");
	if (f->has_op)
		ADD(" AND p.operation = ?9");
	if (f->status && f->status[0]) {
		if (strcasecmp(f->status, "none") == 0)
			ADD(" AND p.status = ''");
		else
			ADD(" AND instr(lower(p.status), lower(?10)) > 0");
	}
	if (tail)
		ADD(tail);
#undef ADD
	buf_put_u8(sql, 0);
	if (sql->failed || names_json->failed)
		return store_fail(st, "out of memory");
	return 0;
}

static void bind_filter(sqlite3_stmt *s, const struct phone_filter *f, const struct buf *names_json)
{
	int64_t now = f->now ? f->now : now_utc();
	char hex[80];

	/* Unused parameter numbers answer SQLITE_RANGE, which is harmless. */
	if (f->names && f->n_names)
		sqlite3_bind_text(s, P_NAMES, (const char *)names_json->data, -1, SQLITE_STATIC);
	if (f->name_glob)
		store_bind_text(s, P_GLOB, f->name_glob);
	if (f->model)
		store_bind_text(s, P_MODEL, f->model);
	sqlite3_bind_int64(s, P_NOW, now);
	sqlite3_bind_int64(s, P_SOON, now + (int64_t)expiring_days(f) * 86400);
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

static sqlite3_stmt *prepare_filter(struct store *st, const struct phone_filter *f, const char *head,
				    const char *tail, struct buf *names_json)
{
	struct buf sql;
	sqlite3_stmt *s = NULL;

	buf_init(&sql);
	if (build_query(st, f, head, tail, &sql, names_json) == 0) {
		s = store_prepare(st, (const char *)sql.data);
		if (s)
			bind_filter(s, f, names_json);
	}
	buf_free(&sql);
	return s;
}

static void read_brief(sqlite3_stmt *s, int col, struct phone_cert_brief *c)
{
	memset(c, 0, sizeof *c);
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return;
	c->present = 1;
	store_col_text(s, col + 1, c->source, sizeof c->source);
	store_col_text(s, col + 2, c->serial, sizeof c->serial);
	store_col_text(s, col + 3, c->subject, sizeof c->subject);
	store_col_text(s, col + 4, c->issuer, sizeof c->issuer);
	store_col_text(s, col + 5, c->issuer_sha256, sizeof c->issuer_sha256);
	store_col_text(s, col + 6, c->sha256, sizeof c->sha256);
	c->not_before = sqlite3_column_int64(s, col + 7);
	c->not_after = sqlite3_column_int64(s, col + 8);
	c->time = sqlite3_column_int64(s, col + 9);
}

/* The 16 phone columns in PHONE order, from column 0. */
static int read_phone_cols(struct store *st, sqlite3_stmt *s, struct phone *p)
{
	char auth[16], order[16], op[16];

	memset(p, 0, sizeof *p);
	store_col_text(s, 0, p->name, sizeof p->name);
	store_col_text(s, 1, p->model, sizeof p->model);
	store_col_text(s, 2, p->description, sizeof p->description);
	store_col_text(s, 3, auth, sizeof auth);
	store_col_text(s, 4, p->auth_string, sizeof p->auth_string);
	store_col_text(s, 5, order, sizeof order);
	p->rsa_bits = sqlite3_column_int(s, 6);
	p->ec_bits = sqlite3_column_int(s, 7);
	store_col_text(s, 8, op, sizeof op);
	p->deadline = sqlite3_column_int64(s, 9);
	store_col_text(s, 10, p->status, sizeof p->status);
	p->auth_failures = sqlite3_column_int(s, 11);
	p->locked_until = sqlite3_column_int64(s, 12);
	p->last_contact = sqlite3_column_int64(s, 13);
	p->created = sqlite3_column_int64(s, 14);
	p->updated = sqlite3_column_int64(s, 15);
	if (auth_mode_parse(auth, &p->auth) < 0 || key_order_parse(order, &p->key_order) < 0 ||
	    capf_op_parse(op, &p->op) < 0)
		return store_fail(st, "phone %s has a setting this program does not know", p->name);
	return 0;
}

int store_phone_select(struct store *st, const struct phone_filter *f, phone_row_fn fn, void *arg)
{
	struct buf names;
	sqlite3_stmt *s;
	struct phone_row *r;
	int rc, stop = 0;

	r = malloc(sizeof *r);
	if (!r)
		return store_fail(st, "out of memory");
	buf_init(&names);
	s = prepare_filter(st, f, "SELECT " SELECT_COLUMNS, " ORDER BY p.name", &names);
	if (!s) {
		buf_free(&names);
		free(r);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (read_phone_cols(st, s, &r->phone) < 0) {
			stop = -1;
			break;
		}
		read_brief(s, COL_LSC, &r->lsc);
		read_brief(s, COL_MIC, &r->mic);
		if (fn && (stop = fn(r, arg)) != 0)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = store_sqlfail(st, "cannot select phones");
	store_finish(st, s);
	/* The auth string was on the heap: do not leave it there. */
	memset(r, 0, sizeof *r);
	free(r);
	buf_free(&names);
	return stop;
}

int64_t store_phone_count(struct store *st, const struct phone_filter *f)
{
	struct buf names;
	sqlite3_stmt *s;
	int64_t n = -1;

	buf_init(&names);
	s = prepare_filter(st, f, "SELECT count(*) ", NULL, &names);
	if (s) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		else
			store_sqlfail(st, "cannot count phones");
		store_finish(st, s);
	}
	buf_free(&names);
	return n;
}

/* ---- scheduling ---- */

struct sched_item {
	char name[64];
	enum capf_op op;
	int64_t deadline;
	char status[128];
};

struct sched_ctx {
	struct sched_item *items;
	size_t n, cap;
	phone_row_fn fn;
	void *arg;
	int oom;
};

static int sched_collect(const struct phone_row *r, void *arg)
{
	struct sched_ctx *c = arg;
	int rc;

	if (c->fn && (rc = c->fn(r, c->arg)) != 0)
		return rc;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct sched_item *ni = realloc(c->items, ncap * sizeof *ni);
		if (!ni) {
			c->oom = 1;
			return -1;
		}
		c->items = ni;
		c->cap = ncap;
	}
	snprintf(c->items[c->n].name, sizeof c->items[c->n].name, "%s", r->phone.name);
	c->items[c->n].op = r->phone.op;
	c->items[c->n].deadline = r->phone.deadline;
	snprintf(c->items[c->n].status, sizeof c->items[c->n].status, "%s", r->phone.status);
	c->n++;
	return 0;
}

static int dry_count(const struct phone_row *r, void *arg)
{
	struct sched_ctx *c = arg;
	int rc;

	if (c->fn && (rc = c->fn(r, c->arg)) != 0)
		return rc;
	c->n++;
	return 0;
}

/* {"operation":"install","deadline":"2026-.. UTC","status":"Pending"} */
static void sched_state_json(char *out, size_t cap, enum capf_op op, int64_t deadline, const char *status)
{
	char t[40], dq[64], sq[300];

	if (deadline) {
		fmt_time_utc(deadline, t, sizeof t);
		store_json_str(dq, sizeof dq, t);
	} else
		snprintf(dq, sizeof dq, "null");
	store_json_str(sq, sizeof sq, status);
	snprintf(out, cap, "{\"operation\":\"%s\",\"deadline\":%s,\"status\":%s}", capf_op_name(op), dq, sq);
}

static int sched_write(struct store *st, const struct sched_ctx *c, const struct phone_schedule *ps,
		       const char *filter_text)
{
	sqlite3_stmt *up, *au;
	const char *status = ps->op == OP_NONE ? "" : STATUS_PENDING;
	int64_t now = now_utc();
	int64_t deadline = ps->op == OP_NONE ? 0 : ps->deadline ? ps->deadline : now + 86400;
	char after[400], before[400], fq[300], nq[300], detail[1024];
	int rc = 0;

	up = store_prepare(st, "UPDATE phones SET operation = ?1, deadline = ?2, status = ?3, updated = ?4 "
			       "WHERE name = ?5");
	au = store_prepare(st, "INSERT INTO audit_log (time, actor, action, object, detail) "
			       "VALUES (?1, ?2, ?3, ?4, ?5)");
	if (!up || !au) {
		store_finish(st, up);
		store_finish(st, au);
		return -1;
	}
	sched_state_json(after, sizeof after, ps->op, deadline, status);
	store_json_str(fq, sizeof fq, filter_text);
	store_json_str(nq, sizeof nq, ps->note ? ps->note : "");
	store_bind_text(up, 1, capf_op_name(ps->op));
	sqlite3_bind_int64(up, 2, deadline);
	store_bind_text(up, 3, status);
	sqlite3_bind_int64(up, 4, now);
	sqlite3_bind_int64(au, 1, now);
	store_bind_text(au, 2, ps->actor);
	store_bind_text(au, 3, ps->action && ps->action[0] ? ps->action : "phone.op");
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const struct sched_item *it = &c->items[i];

		store_bind_text(up, 5, it->name);
		if (sqlite3_step(up) != SQLITE_DONE)
			rc = store_sqlfail(st, "cannot schedule the operation");
		sqlite3_reset(up);
		if (rc)
			break;
		sched_state_json(before, sizeof before, it->op, it->deadline, it->status);
		snprintf(detail, sizeof detail, "{\"before\":%s,\"after\":%s,\"filter\":%s%s%s}", before, after, fq,
			 ps->note && ps->note[0] ? ",\"note\":" : "", ps->note && ps->note[0] ? nq : "");
		store_bind_text(au, 4, it->name);
		store_bind_text(au, 5, detail);
		if (sqlite3_step(au) != SQLITE_DONE)
			rc = store_sqlfail(st, "cannot write the audit log");
		sqlite3_reset(au);
	}
	store_finish(st, up);
	store_finish(st, au);
	return rc;
}

int store_phone_schedule(struct store *st, const struct phone_filter *f, const struct phone_schedule *ps,
			 phone_row_fn fn, void *arg, size_t *count)
{
	struct sched_ctx c = { .fn = fn, .arg = arg };
	struct store_tx tx;
	char filter_text[256];
	int rc;

	if (count)
		*count = 0;
	if (!ps->actor || !ps->actor[0])
		return store_fail(st, "scheduling needs an actor for the audit log");
	if ((unsigned)ps->op > OP_TROUBLESHOOT)
		return store_fail(st, "unknown operation");
	if (phone_filter_is_empty(f) && !ps->all)
		return store_fail(st, "refusing to schedule on every phone without an explicit 'all'");
	if (ps->dry_run) {
		rc = store_phone_select(st, f, dry_count, &c);
		if (count)
			*count = c.n;
		return rc;
	}
	phone_filter_describe(f, filter_text, sizeof filter_text);
	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = store_phone_select(st, f, sched_collect, &c);
	if (c.oom)
		rc = store_fail(st, "out of memory");
	if (rc == 0)
		rc = sched_write(st, &c, ps, filter_text);
	if (store_tx_close(st, &tx, rc) < 0 && rc == 0)
		rc = -1;
	if (rc == 0 && count)
		*count = c.n;
	free(c.items);
	return rc;
}

/* ---- bulk writer ---- */

struct store_bulk {
	struct store *st;
	sqlite3_stmt *get, *ins, *upd, *aud;
	int failed;
};

#define BULK_PHONE_COLUMNS                                                                     \
	"name, model, description, auth_mode, auth_string, key_order, rsa_bits, ec_bits, "      \
	"operation, deadline, status, auth_failures, locked_until, last_contact, created, updated"

int store_bulk_begin(struct store *st, struct store_bulk **out)
{
	struct store_bulk *b;

	*out = NULL;
	if (!sqlite3_get_autocommit(st->db))
		return store_fail(st, "a transaction is already open on this connection");
	b = calloc(1, sizeof *b);
	if (!b)
		return store_fail(st, "out of memory");
	b->st = st;
	if (store_exec(st, "BEGIN IMMEDIATE", "cannot start a transaction") < 0) {
		free(b);
		return -1;
	}
	b->get = store_prepare(st, "SELECT p.name, p.model, p.description, p.auth_mode, p.auth_string, "
				   "p.key_order, p.rsa_bits, p.ec_bits, p.operation, p.deadline, p.status, "
				   "p.auth_failures, p.locked_until, p.last_contact, p.created, p.updated "
				   "FROM phones p WHERE p.name = ?1");
	b->ins = b->get ? store_prepare(st, "INSERT INTO phones (" BULK_PHONE_COLUMNS ") VALUES "
					    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)")
			: NULL;
	b->upd = b->ins ? store_prepare(st, "UPDATE phones SET model = ?2, description = ?3, auth_mode = ?4, "
					    "auth_string = ?5, key_order = ?6, rsa_bits = ?7, ec_bits = ?8, "
					    "operation = ?9, deadline = ?10, status = ?11, auth_failures = ?12, "
					    "locked_until = ?13, last_contact = ?14, updated = ?16 WHERE name = ?1")
			: NULL;
	b->aud = b->upd ? store_prepare(st, "INSERT INTO audit_log (time, actor, action, object, detail) "
					    "VALUES (?1, ?2, ?3, ?4, ?5)")
			: NULL;
	if (!b->aud) {
		char keep[sizeof st->err];
		memcpy(keep, st->err, sizeof keep);
		b->failed = 1;
		store_bulk_end(b, 0);
		memcpy(st->err, keep, sizeof keep);
		return -1;
	}
	*out = b;
	return 0;
}

int store_bulk_get(struct store_bulk *b, const char *name, struct phone *out)
{
	int rc;

	sqlite3_reset(b->get);
	store_bind_text(b->get, 1, name);
	rc = sqlite3_step(b->get);
	if (rc == SQLITE_ROW)
		rc = read_phone_cols(b->st, b->get, out);
	else if (rc == SQLITE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(b->st, "cannot read the phone");
	sqlite3_reset(b->get);
	if (rc < 0)
		b->failed = 1;
	return rc;
}

static void bulk_bind_phone(sqlite3_stmt *s, const struct phone *p, int64_t created, int64_t updated)
{
	store_bind_text(s, 1, p->name);
	store_bind_text(s, 2, p->model);
	store_bind_text(s, 3, p->description);
	store_bind_text(s, 4, auth_mode_name(p->auth));
	store_bind_text(s, 5, p->auth_string);
	store_bind_text(s, 6, key_order_name(p->key_order));
	sqlite3_bind_int(s, 7, p->rsa_bits);
	sqlite3_bind_int(s, 8, p->ec_bits);
	store_bind_text(s, 9, capf_op_name(p->op));
	sqlite3_bind_int64(s, 10, p->deadline);
	store_bind_text(s, 11, p->status);
	sqlite3_bind_int(s, 12, p->auth_failures);
	sqlite3_bind_int64(s, 13, p->locked_until);
	sqlite3_bind_int64(s, 14, p->last_contact);
	sqlite3_bind_int64(s, 15, created);
	sqlite3_bind_int64(s, 16, updated);
}

int store_bulk_insert(struct store_bulk *b, const struct phone *p)
{
	int64_t now = now_utc();
	int rc;

	if (!p->name[0]) {
		b->failed = 1;
		return store_fail(b->st, "a phone needs a name");
	}
	sqlite3_reset(b->ins);
	bulk_bind_phone(b->ins, p, p->created ? p->created : now, now);
	rc = sqlite3_step(b->ins);
	if (rc != SQLITE_DONE) {
		if (sqlite3_extended_errcode(b->st->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
			store_fail(b->st, "phone %s already exists", p->name);
		else
			store_sqlfail(b->st, "cannot add the phone");
		b->failed = 1;
	}
	sqlite3_reset(b->ins);
	/* Bound copies of the auth string stay in the statement until rebound:
	 * clear them. */
	sqlite3_clear_bindings(b->ins);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_bulk_update(struct store_bulk *b, const struct phone *p)
{
	int rc;

	sqlite3_reset(b->upd);
	bulk_bind_phone(b->upd, p, 0, now_utc());
	rc = sqlite3_step(b->upd);
	if (rc != SQLITE_DONE)
		store_sqlfail(b->st, "cannot update the phone");
	else if (sqlite3_changes(b->st->db) == 0) {
		store_fail(b->st, "no phone named %s", p->name);
		rc = SQLITE_NOTFOUND;
	}
	sqlite3_reset(b->upd);
	sqlite3_clear_bindings(b->upd);
	if (rc != SQLITE_DONE) {
		b->failed = 1;
		return -1;
	}
	return 0;
}

int store_bulk_audit(struct store_bulk *b, const char *actor, const char *action, const char *object,
		     const char *detail)
{
	int rc;

	if (!actor || !actor[0] || !action || !action[0]) {
		b->failed = 1;
		return store_fail(b->st, "an audit entry needs an actor and an action");
	}
	sqlite3_reset(b->aud);
	sqlite3_bind_int64(b->aud, 1, now_utc());
	store_bind_text(b->aud, 2, actor);
	store_bind_text(b->aud, 3, action);
	store_bind_text(b->aud, 4, object);
	store_bind_text(b->aud, 5, detail);
	rc = sqlite3_step(b->aud);
	if (rc != SQLITE_DONE) {
		store_sqlfail(b->st, "cannot write the audit log");
		b->failed = 1;
	}
	sqlite3_reset(b->aud);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_bulk_end(struct store_bulk *b, int commit)
{
	struct store *st;
	int rc = -1;

	if (!b)
		return -1;
	st = b->st;
	store_finish(st, b->get);
	store_finish(st, b->ins);
	store_finish(st, b->upd);
	store_finish(st, b->aud);
	if (commit && !b->failed && store_exec(st, "COMMIT", "cannot commit") == 0)
		rc = 0;
	else if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	free(b);
	return rc;
}

/* ---- the audit log ---- */

#define AUDIT_SELECT                                                                          \
	"SELECT id, time, actor, action, object, detail FROM audit_log "                      \
	"WHERE (?1 = '' OR actor = ?1) "                                                      \
	"AND (?2 = '' OR substr(action, 1, length(?2)) = ?2) "                                \
	"AND (?3 = '' OR (?4 = 1 AND object GLOB ?3) OR (?4 = 0 AND object = ?3)) "           \
	"AND (?5 = 0 OR time >= ?5) AND (?6 = 0 OR time < ?6) "

int store_audit_select(struct store *st, const struct audit_filter *f,
		       int (*fn)(const struct audit_entry *e, void *arg), void *arg)
{
	sqlite3_stmt *s = store_prepare(st, f->oldest_first ? AUDIT_SELECT "ORDER BY id ASC LIMIT ?7"
							    : AUDIT_SELECT "ORDER BY id DESC LIMIT ?7");
	struct audit_entry e;
	const char *obj = f->object ? f->object : "";
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, f->actor);
	store_bind_text(s, 2, f->action_prefix);
	store_bind_text(s, 3, obj);
	sqlite3_bind_int(s, 4, strpbrk(obj, "*?[") != NULL);
	sqlite3_bind_int64(s, 5, f->since);
	sqlite3_bind_int64(s, 6, f->until);
	sqlite3_bind_int(s, 7, f->limit > 0 ? f->limit : -1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&e, 0, sizeof e);
		e.id = sqlite3_column_int64(s, 0);
		e.time = sqlite3_column_int64(s, 1);
		store_col_text(s, 2, e.actor, sizeof e.actor);
		store_col_text(s, 3, e.action, sizeof e.action);
		store_col_text(s, 4, e.object, sizeof e.object);
		store_col_text(s, 5, e.detail, sizeof e.detail);
		if (fn && (stop = fn(&e, arg)) != 0)
			break;
	}
	if (!stop && rc != SQLITE_DONE)
		stop = store_sqlfail(st, "cannot read the audit log");
	store_finish(st, s);
	return stop;
}
