/*
 * phones.c: one phone's add, update, remove and scheduling (phones.h): each
 * a transaction that reads the phone, writes it and appends one audit row
 * with phone_audit_detail's before/after shape, whoever asked (CLI or API).
 */
#include "admin/phones.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/phone_json.h"
#include "admin/revoke.h"
#include "common/util.h"

int64_t admin_default_deadline(int64_t now)
{
	return now + ADMIN_DEFAULT_DEADLINE_SECONDS;
}

void admin_phone_settle(struct phone *p, const struct phone *before, unsigned given)
{
	if (!(given & (ADMIN_GIVEN_OP | ADMIN_GIVEN_BY)))
		return;
	if (p->op == OP_NONE) {
		if (before && before->op == OP_NONE) {
			/* Already none: keep the last outcome ("Upgrade Success"). */
			p->deadline = before->deadline;
			snprintf(p->status, sizeof p->status, "%s", before->status);
		} else {
			p->deadline = 0;
			p->status[0] = '\0';
		}
		return;
	}
	if (!(given & ADMIN_GIVEN_BY)) {
		if (before && before->op == p->op && before->deadline)
			p->deadline = before->deadline;
		else
			p->deadline = admin_default_deadline(now_utc());
	}
	if (!before || before->op != p->op || before->deadline != p->deadline)
		snprintf(p->status, sizeof p->status, "%s", STATUS_PENDING);
}

static int audit_phone(struct store *st, const char *actor, const char *action, const struct phone *before,
		       const struct phone *after)
{
	char *detail = phone_audit_detail(before, after);
	int rc = store_audit(st, actor, action, after ? after->name : before->name, detail ? detail : "{}");

	free(detail);
	return rc;
}

/* Roll back and return rc, with the store's reason in err for a store failure. */
static int fail(struct store *st, int rc, char *err, size_t errlen)
{
	if (rc == ADMIN_PHONE_STORE)
		snprintf(err, errlen, "%s", store_errmsg(st));
	store_rollback(st);
	return rc;
}

/* Read NAME inside the open transaction. */
static int load(struct store *st, const char *name, struct phone *p)
{
	int rc = store_phone_get(st, name, p);

	return rc == 0 ? ADMIN_PHONE_OK : rc > 0 ? ADMIN_PHONE_NOT_FOUND : ADMIN_PHONE_STORE;
}

/* Begin the transaction and read NAME in it; rolled back unless OK. */
static int begin_load(struct store *st, const char *name, struct phone *p, char *err, size_t errlen)
{
	int rc;

	if (store_begin(st) != 0)
		return fail(st, ADMIN_PHONE_STORE, err, errlen);
	if ((rc = load(st, name, p)) != ADMIN_PHONE_OK)
		return fail(st, rc, err, errlen);
	return ADMIN_PHONE_OK;
}

/* Write after (update, or delete when NULL), audit, commit; re-read into result. */
static int finish(struct store *st, const char *actor, const char *action, const struct phone *before,
		  const struct phone *after, struct phone *result, char *err, size_t errlen)
{
	int rc = after ? store_phone_update(st, after) : store_phone_delete(st, before->name);

	if (rc != 0 || audit_phone(st, actor, action, before, after) != 0 || store_commit(st) != 0)
		return fail(st, ADMIN_PHONE_STORE, err, errlen);
	if (after && result && store_phone_get(st, after->name, result) != 0)
		*result = *after;
	return ADMIN_PHONE_OK;
}

int admin_phone_add(struct store *st, const char *actor, const struct phone *p, unsigned given,
		    struct phone *result, char *err, size_t errlen)
{
	struct phone n = *p, old;
	int rc;

	admin_phone_settle(&n, NULL, given);
	if (n.auth == AUTH_STRING && !n.auth_string[0])
		return ADMIN_PHONE_NO_AUTH_STRING;
	if (store_begin(st) != 0)
		return fail(st, ADMIN_PHONE_STORE, err, errlen);
	if ((rc = load(st, n.name, &old)) != ADMIN_PHONE_NOT_FOUND)
		return fail(st, rc == ADMIN_PHONE_OK ? ADMIN_PHONE_EXISTS : rc, err, errlen);
	if (store_phone_insert(st, &n) != 0 || audit_phone(st, actor, "phone.add", NULL, &n) != 0 ||
	    store_commit(st) != 0)
		return fail(st, ADMIN_PHONE_STORE, err, errlen);
	if (result && store_phone_get(st, n.name, result) != 0)
		*result = n;
	return ADMIN_PHONE_OK;
}

int admin_phone_update(struct store *st, const char *actor, const char *name, admin_phone_change_fn change,
		       void *arg, struct phone *before, struct phone *result, char *err, size_t errlen)
{
	struct phone old, p;
	unsigned given = 0;
	int rc;

	if ((rc = begin_load(st, name, &old, err, errlen)) != ADMIN_PHONE_OK)
		return rc;
	if (before)
		*before = old;
	p = old;
	if (change(&p, arg, &given, err, errlen) != 0)
		return fail(st, ADMIN_PHONE_INVALID, err, errlen);
	admin_phone_settle(&p, &old, given);
	if (p.auth == AUTH_STRING && !p.auth_string[0])
		return fail(st, ADMIN_PHONE_NO_AUTH_STRING, err, errlen);
	return finish(st, actor, "phone.set", &old, &p, result, err, errlen);
}

static int revoked_one(const struct cert_row *r, void *arg)
{
	admin_revoked_add(arg, r, REVOKE_CESSATION, now_utc());
	return 0;
}

int admin_phone_remove_revoking(struct store *st, const char *actor, const char *name, int force,
				struct phone *removed, struct admin_revoked *revoked, char *err, size_t errlen)
{
	struct phone p;
	int rc;

	if (revoked)
		memset(revoked, 0, sizeof *revoked);
	if ((rc = begin_load(st, name, &p, err, errlen)) != ADMIN_PHONE_OK)
		return rc;
	if (removed)
		*removed = p;
	if (p.op != OP_NONE && !force)
		return fail(st, ADMIN_PHONE_PENDING, err, errlen);
	/* What the phone may still hold stops being valid with it. */
	if (store_revoke_phone_locked(st, actor, name, REVOKE_CESSATION, now_utc(), revoked_one, revoked) < 0)
		return fail(st, ADMIN_PHONE_STORE, err, errlen);
	return finish(st, actor, "phone.remove", &p, NULL, NULL, err, errlen);
}

int admin_phone_remove(struct store *st, const char *actor, const char *name, int force, struct phone *removed,
		       char *err, size_t errlen)
{
	return admin_phone_remove_revoking(st, actor, name, force, removed, NULL, err, errlen);
}

int admin_phone_schedule(struct store *st, const char *actor, const char *name, enum capf_op op,
			 int64_t deadline, struct phone *result, char *err, size_t errlen)
{
	struct phone before, p;
	int rc;

	if ((rc = begin_load(st, name, &before, err, errlen)) != ADMIN_PHONE_OK)
		return rc;
	p = before;
	p.op = op;
	p.deadline = op == OP_NONE ? 0 : deadline ? deadline : admin_default_deadline(now_utc());
	snprintf(p.status, sizeof p.status, "%s", op == OP_NONE ? "" : STATUS_PENDING);
	return finish(st, actor, "phone.op", &before, &p, result, err, errlen);
}
