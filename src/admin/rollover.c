/*
 * rollover.c: scheduling many phones at once: the filter-driven schedule
 * with its default deadline, and a CAPF rollover's choice of phones (those
 * whose LSC came from an older CAPF certificate).
 */
#include "admin/phones.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

int admin_phones_schedule(struct store *st, const struct phone_filter *f, struct phone_schedule *ps,
			  phone_row_fn fn, void *arg, size_t *count)
{
	if (ps->op == OP_NONE)
		ps->deadline = 0;
	else if (!ps->deadline)
		ps->deadline = admin_default_deadline(now_utc());
	return store_phone_schedule(st, f, ps, fn, arg, count);
}

struct pick_ctx {
	struct store *st;
	char **names;
	size_t n, cap;
	int skipped;
	int failed;
	void (*on_skip)(const struct phone *p, void *arg);
	void *arg;
};

static int pick_phone(const struct cert_row *r, void *arg)
{
	struct pick_ctx *c = arg;
	struct phone p;
	char **grown;

	if (store_phone_get(c->st, r->phone, &p) != 0)
		return 0;   /* removed meanwhile */
	if (p.op != OP_NONE && p.op != OP_INSTALL) {
		if (c->on_skip)
			c->on_skip(&p, c->arg);
		c->skipped++;
		return 0;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		if (!(grown = realloc(c->names, c->cap * sizeof *grown)))
			return c->failed = -1;
		c->names = grown;
	}
	if (!(c->names[c->n] = strdup(r->phone)))
		return c->failed = -1;
	c->n++;
	return 0;
}

static int pick_cert(const struct capf_row *r, void *arg)
{
	struct pick_ctx *c = arg;

	if (!strcmp(r->state, "current"))
		return 0;
	return store_lsc_by_capf_each(c->st, r->sha256, pick_phone, c) == 0 ? 0 : -1;
}

/* Pick the phones and schedule them, inside the caller's transaction. */
static int pick_and_schedule(struct pick_ctx *c, struct phone_schedule *ps, phone_row_fn fn, void *arg,
			     size_t *count)
{
	struct phone_filter f;

	if (store_capf_each(c->st, pick_cert, c) != 0 || c->failed)
		return -1;
	if (c->n == 0)
		return 0;
	phone_filter_init(&f);
	f.names = (const char *const *)c->names;
	f.n_names = c->n;
	return admin_phones_schedule(c->st, &f, ps, fn, arg, count);
}

int admin_rollover_schedule(struct store *st, struct phone_schedule *ps, phone_row_fn fn, void *arg,
			    void (*skipped)(const struct phone *p, void *arg), size_t *count, int *nskipped)
{
	struct pick_ctx c = { .st = st, .on_skip = skipped, .arg = arg };
	int rc = -1;

	*count = 0;
	ps->op = OP_INSTALL;
	ps->action = "phone.op";
	ps->note = "CAPF rollover: LSC from an older CAPF certificate";
	if (store_begin(st) == 0) {
		rc = pick_and_schedule(&c, ps, fn, arg, count);
		if (rc == 0 && store_commit(st) < 0)
			rc = -1;
		if (rc != 0)
			store_rollback(st);
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.names[i]);
	free(c.names);
	*nskipped = c.skipped;
	return c.failed ? -2 : rc == 0 ? 0 : -1;
}
