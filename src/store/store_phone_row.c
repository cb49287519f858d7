/*
 * store_phone_row.c: the one codec of a whole phone row. Every query that
 * reads or writes a complete row of phones (store_phone.c, store_select.c,
 * store_bulk.c) uses the column list of store_internal.h
 * (STORE_PHONE_COLUMNS), this reader and this binder, so a column is added
 * in one place.
 *
 * The enums are stored by name (store_enums.c); a name this program does
 * not know makes the read fail rather than guess.
 */
#include <string.h>

#include "store/store_internal.h"

void store_phone_bind(struct store_stmt *s, const struct phone *p, int64_t created, int64_t updated)
{
	store_bind_text(s, 1, p->name);
	store_bind_text(s, 2, p->model);
	store_bind_text(s, 3, p->description);
	store_bind_text(s, 4, auth_mode_name(p->auth));
	store_bind_text(s, 5, p->auth_string);
	store_bind_text(s, 6, key_order_name(p->key_order));
	stmt_bind_int(s, 7, p->rsa_bits);
	stmt_bind_int(s, 8, p->ec_bits);
	store_bind_text(s, 9, capf_op_name(p->op));
	stmt_bind_int64(s, 10, p->deadline);
	store_bind_text(s, 11, p->status);
	stmt_bind_int(s, 12, p->auth_failures);
	stmt_bind_int64(s, 13, p->locked_until);
	stmt_bind_int64(s, 14, p->last_contact);
	stmt_bind_int64(s, 15, created);
	stmt_bind_int64(s, 16, updated);
}

int store_phone_read(struct store *st, struct store_stmt *s, struct phone *p)
{
	char auth[16], order[16], op[16];

	memset(p, 0, sizeof *p);
	store_col_text(s, 0, p->name, sizeof p->name);
	store_col_text(s, 1, p->model, sizeof p->model);
	store_col_text(s, 2, p->description, sizeof p->description);
	store_col_text(s, 3, auth, sizeof auth);
	store_col_text(s, 4, p->auth_string, sizeof p->auth_string);
	store_col_text(s, 5, order, sizeof order);
	p->rsa_bits = stmt_col_int(s, 6);
	p->ec_bits = stmt_col_int(s, 7);
	store_col_text(s, 8, op, sizeof op);
	p->deadline = stmt_col_int64(s, 9);
	store_col_text(s, 10, p->status, sizeof p->status);
	p->auth_failures = stmt_col_int(s, 11);
	p->locked_until = stmt_col_int64(s, 12);
	p->last_contact = stmt_col_int64(s, 13);
	p->created = stmt_col_int64(s, 14);
	p->updated = stmt_col_int64(s, 15);
	if (auth_mode_parse(auth, &p->auth) < 0 || key_order_parse(order, &p->key_order) < 0 ||
	    capf_op_parse(op, &p->op) < 0)
		return store_fail(st, "phone %s has a setting this program does not know", p->name);
	return 0;
}
