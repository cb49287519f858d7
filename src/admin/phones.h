/*
 * phones.h: one phone's add, update, remove and operation scheduling, the
 * one sequence behind `opencapf phone add|set|remove|op NAME` and the HTTP
 * API's POST/PATCH/DELETE /api/v1/phones[/NAME] and its /operation.
 *
 * Each call is one transaction with one audit row (action phone.add,
 * phone.set, phone.remove or phone.op; object = the device name; detail =
 * phone_audit_detail(before, after)). Nothing here prints: the result code
 * says what went wrong, err holds the store's reason when there is one, and
 * the caller words it (the CLI's and the API's sentences differ).
 */
#ifndef OPENCAPF_ADMIN_PHONES_H
#define OPENCAPF_ADMIN_PHONES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_search.h"

/* An operation scheduled without a deadline completes by now + this. */
#define ADMIN_DEFAULT_DEADLINE_SECONDS 86400

/* What a call can end with. */
enum admin_phone_rc {
	ADMIN_PHONE_OK = 0,
	ADMIN_PHONE_STORE = -1,      /* the store failed; err says why */
	ADMIN_PHONE_EXISTS = -2,     /* add: the name is taken */
	ADMIN_PHONE_NOT_FOUND = -3,  /* no phone by that name */
	ADMIN_PHONE_PENDING = -4,    /* remove: an operation is pending and no force */
	ADMIN_PHONE_NO_AUTH_STRING = -5, /* auth "string" without an auth string */
	ADMIN_PHONE_INVALID = -6,    /* the change callback refused; err says why */
};

/* Bits of what a change gave beyond the plain settings. */
#define ADMIN_GIVEN_OP 1u            /* an operation */
#define ADMIN_GIVEN_BY 2u            /* a deadline */

/* now + ADMIN_DEFAULT_DEADLINE_SECONDS. */
int64_t admin_default_deadline(int64_t now);

/* Settle p's deadline and status after its operation was (maybe) changed:
 * none clears both (or keeps the last outcome if it was none already); an
 * operation without a deadline keeps the old one if unchanged, else gets
 * the default; a changed operation or deadline is "Pending". */
void admin_phone_settle(struct phone *p, const struct phone *before, unsigned given);

/* Add p (settled here with `given`); *result gets the stored phone. */
int admin_phone_add(struct store *st, const char *actor, const struct phone *p, unsigned given,
		    struct phone *result, char *err, size_t errlen);

/* Changes a loaded phone: returns 0 and sets *given, or -1 with err. */
typedef int (*admin_phone_change_fn)(struct phone *p, void *arg, unsigned *given, char *err, size_t errlen);

/* Load NAME, apply change, settle, store; *before and *result may be NULL. */
int admin_phone_update(struct store *st, const char *actor, const char *name, admin_phone_change_fn change,
		       void *arg, struct phone *before, struct phone *result, char *err, size_t errlen);

/* Remove NAME (refused while an operation is pending unless force);
 * *removed gets the phone as it was (also on ADMIN_PHONE_PENDING). Every
 * unexpired LSC issued to it that is not revoked yet is revoked
 * (cessationOfOperation) in the same transaction. */
int admin_phone_remove(struct store *st, const char *actor, const char *name, int force, struct phone *removed,
		       char *err, size_t errlen);
/* The same; *revoked (may be NULL) says which certificates it revoked. */
struct admin_revoked;
int admin_phone_remove_revoking(struct store *st, const char *actor, const char *name, int force,
				struct phone *removed, struct admin_revoked *revoked, char *err, size_t errlen);

/* Give NAME operation op, due by deadline (0: the default; ignored for
 * none), status "Pending" ("" and no deadline for none). */
int admin_phone_schedule(struct store *st, const char *actor, const char *name, enum capf_op op,
			 int64_t deadline, struct phone *result, char *err, size_t errlen);

/* ---- many phones at once ---- */

/* Every phone matching f gets ps's operation (store_phone_schedule: one
 * transaction, one audit row per phone); a deadline of 0 with an operation
 * becomes the default one (the result is in ps->deadline). */
int admin_phones_schedule(struct store *st, const struct phone_filter *f, struct phone_schedule *ps,
			  phone_row_fn fn, void *arg, size_t *count);

/* A CAPF rollover's scheduling (phone-certificates.md §6): Install/Upgrade
 * on exactly the phones whose current LSC was issued under a CAPF
 * certificate other than the current one, in one transaction. A phone with
 * another operation pending (delete, troubleshoot) keeps it and is passed to
 * skipped (may be NULL); fn sees each phone scheduled. *count = phones
 * scheduled (or that would be, with ps->dry_run), *nskipped = phones
 * skipped. ps->op, action and note are set here. 0, -1 (store_errmsg) or -2 (out
 * of memory); nothing is written unless 0. */
int admin_rollover_schedule(struct store *st, struct phone_schedule *ps, phone_row_fn fn, void *arg,
			    void (*skipped)(const struct phone *p, void *arg), size_t *count, int *nskipped);

#endif
