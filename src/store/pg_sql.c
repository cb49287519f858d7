/*
 * pg_sql.c: the store's statement text, written for SQLite, turned into
 * PostgreSQL's, once per prepared statement (the result is cached with it).
 *
 * The store keeps its SQL portable where it can; what differs is rewritten
 * here, outside string literals only:
 *   ?N / ?             -> $k, numbered in order of first use (PostgreSQL
 *                         wants every $k typed, so unused ?N get no number
 *                         and binding them is ignored, see pg_sql.map)
 *   BEGIN IMMEDIATE    -> BEGIN and the store's advisory lock: writers
 *                         take turns across every node as they do on
 *                         SQLite, so each read-then-write the store does in
 *                         a transaction sees what the previous writer
 *                         committed (lock_timeout plays busy_timeout)
 *   INSERT OR IGNORE   -> INSERT ... ON CONFLICT DO NOTHING
 *   instr(a, b)        -> strpos(a, b)
 *   x GLOB ?N          -> x ~ oc_glob($k)   (pg_schema.c)
 *   json_each(?N)      -> json_array_elements_text(CAST($k AS json))
 *   LIMIT ?N           -> LIMIT NULLIF($k, -1)   (SQLite: -1 is no limit)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "store/pg_internal.h"

struct xlate {
	const char *p;       /* input position */
	struct buf out;
	struct pg_sql *r;
	int ignore;          /* INSERT OR IGNORE seen */
	char *err;
	size_t errlen;
};

static int word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncasecmp(p, w, n) == 0 && !(isalnum((unsigned char)p[n]) || p[n] == '_');
}

static void put(struct xlate *x, const char *s)
{
	buf_put(&x->out, s, strlen(s));
}

/* A parameter token at x->p (?N or ?): emits $k; -1 on a bad number. */
static int param(struct xlate *x)
{
	const char *p = x->p + 1;
	long n = 0;
	char num[16];

	if (isdigit((unsigned char)*p)) {
		n = strtol(p, (char **)&p, 10);
	} else {
		/* A bare ? is one more than the largest number so far. */
		for (int i = PG_MAX_PARAMS; i > 0; i--)
			if (x->r->map[i]) {
				n = i;
				break;
			}
		n++;
	}
	if (n < 1 || n > PG_MAX_PARAMS) {
		seterr(x->err, x->errlen, "parameter number out of range in a statement");
		return -1;
	}
	if (!x->r->map[n])
		x->r->map[n] = (unsigned char)++x->r->nparams;
	snprintf(num, sizeof num, "$%d", x->r->map[n]);
	put(x, num);
	x->p = p;
	return 0;
}

static void skip_space(struct xlate *x)
{
	while (isspace((unsigned char)*x->p))
		x->p++;
}

/* `prefix` ?N `suffix`, the parameter after optional space. */
static int wrap_param(struct xlate *x, size_t skip, const char *prefix, const char *suffix)
{
	x->p += skip;
	skip_space(x);
	if (*x->p != '?') {
		seterr(x->err, x->errlen, "a statement uses %s with something else than a parameter", prefix);
		return -1;
	}
	put(x, prefix);
	if (param(x) < 0)
		return -1;
	put(x, suffix);
	return 0;
}

/* The rewrite that starts at x->p, if any: 1 done, 0 none, -1 error. */
static int rewrite(struct xlate *x)
{
	const char *p = x->p;

	if (word_at(p, "BEGIN") && word_at(p + 5 + strspn(p + 5, " \t\n"), "IMMEDIATE")) {
		put(x, "BEGIN; SELECT pg_advisory_xact_lock(" PG_WRITE_LOCK ")");
		x->p = p + 5 + strspn(p + 5, " \t\n") + 9;
		return 1;
	}
	if (word_at(p, "INSERT") && word_at(p + 6 + strspn(p + 6, " \t\n"), "OR")) {
		const char *q = p + 6 + strspn(p + 6, " \t\n") + 2;

		q += strspn(q, " \t\n");
		if (!word_at(q, "IGNORE")) {
			seterr(x->err, x->errlen, "INSERT OR ... other than IGNORE has no PostgreSQL form here");
			return -1;
		}
		put(x, "INSERT");
		x->ignore = 1;
		x->p = q + 6;
		return 1;
	}
	if (strncasecmp(p, "instr(", 6) == 0) {
		put(x, "strpos(");
		x->p += 6;
		return 1;
	}
	if (word_at(p, "GLOB"))
		return wrap_param(x, 4, "~ oc_glob(", ")") < 0 ? -1 : 1;
	if (strncasecmp(p, "json_each(", 10) == 0) {
		if (wrap_param(x, 10, "json_array_elements_text(CAST(", " AS json)") < 0)
			return -1;
		return 1;
	}
	if (word_at(p, "LIMIT") && p[5 + strspn(p + 5, " \t\n")] == '?')
		return wrap_param(x, 5, "LIMIT NULLIF(", ", -1)") < 0 ? -1 : 1;
	return 0;
}

static int is_control(const char *s)
{
	static const char *const words[] = { "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END" };

	s += strspn(s, " \t\n");
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (word_at(s, words[i]))
			return 1;
	return 0;
}

/* One token of input: a literal or identifier copied whole, a parameter,
 * a rewrite, or one character. */
static int step(struct xlate *x)
{
	const char *p = x->p;
	int rc;

	if (*p == '\'' || *p == '"') {
		const char *q = p + 1;

		while (*q && !(*q == *p && q[1] != *p))
			q += (*q == *p) ? 2 : 1;
		if (*q)
			q++;
		buf_put(&x->out, p, (size_t)(q - p));
		x->p = q;
		return 0;
	}
	if (*p == '?')
		return param(x);
	if ((p == x->r->sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) && (rc = rewrite(x)) != 0)
		return rc < 0 ? -1 : 0;
	if (isalnum((unsigned char)*p) || *p == '_') {
		const char *q = p;

		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		buf_put(&x->out, p, (size_t)(q - p));
		x->p = q;
		return 0;
	}
	buf_put_u8(&x->out, (uint8_t)*p);
	x->p++;
	return 0;
}

int pg_sql_translate(const char *in, struct pg_sql *out, char *err, size_t errlen)
{
	struct xlate x = { .p = in, .r = out, .err = err, .errlen = errlen };
	size_t n;

	memset(out, 0, sizeof *out);
	out->sql = (char *)in;   /* only compared with x.p: the start of the text */
	buf_init(&x.out);
	while (*x.p)
		if (step(&x) < 0) {
			buf_free(&x.out);
			out->sql = NULL;
			return -1;
		}
	/* ON CONFLICT DO NOTHING goes before a trailing ';' and space. */
	n = x.out.len;
	while (n > 0 && (isspace(x.out.data[n - 1]) || x.out.data[n - 1] == ';'))
		n--;
	x.out.len = n;
	if (x.ignore)
		put(&x, " ON CONFLICT DO NOTHING");
	buf_put_u8(&x.out, 0);
	if (x.out.failed) {
		buf_free(&x.out);
		out->sql = NULL;
		seterr(err, errlen, "out of memory");
		return -1;
	}
	out->sql = (char *)x.out.data;   /* ours now: the caller frees it */
	out->control = is_control(out->sql);
	return 0;
}

int pg_is_uri(const char *s)
{
	return s && (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}
