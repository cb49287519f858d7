/*
 * store_audit.c: the audit log: who changed what, when. Appending a row,
 * and reading rows back: the newest ones (store_audit_each) or those a
 * filter selects (store_audit_select, store_search.h).
 *
 * Invariants:
 *  - Rows are appended, never updated (schema trigger); ids grow with time,
 *    so "newest first" is ORDER BY id DESC.
 *  - No secrets: callers pass names, serials and fingerprints. The store's
 *    own rows (CAPF completions) are built from fields that cannot hold an
 *    authentication string.
 *  - detail is JSON; store_json_str is the one escaper the store uses to
 *    put text into it.
 */
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_search.h"

void store_json_str(char *out, size_t outcap, const char *s)
{
	size_t o = 0;

	if (outcap < 3) {
		if (outcap)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		char esc[8];
		size_t n;

		if (*p == '"' || *p == '\\')
			n = (size_t)snprintf(esc, sizeof esc, "\\%c", *p);
		else if (*p < 0x20)
			n = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
		else {
			esc[0] = (char)*p;
			n = 1;
		}
		if (o + n + 2 > outcap) {
			/* Truncated, but still valid JSON: do not leave half
			 * of a UTF-8 sequence behind. */
			while (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
				o--;
			if (o > 1 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
				o--;
			break;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
}

int store_audit(struct store *st, const char *actor, const char *action, const char *object,
		const char *detail)
{
	struct store_stmt *s;

	if (!actor || !actor[0] || !action || !action[0])
		return store_fail(st, "an audit entry needs an actor and an action");
	s = store_prepare(st, STORE_AUDIT_SQL_INSERT);
	if (!s)
		return -1;
	stmt_bind_int64(s, 1, now_utc());
	store_bind_text(s, 2, actor);
	store_bind_text(s, 3, action);
	store_bind_text(s, 4, object);
	store_bind_text(s, 5, detail);
	return store_run(st, s, "cannot write the audit log");
}

#define AUDIT_COLUMNS "SELECT id, time, actor, action, object, detail FROM audit_log "

/* Calls fn for each row of s (AUDIT_COLUMNS), then finishes s. */
static int audit_walk(struct store *st, struct store_stmt *s, int (*fn)(const struct audit_entry *e, void *arg),
		      void *arg)
{
	struct audit_entry e;
	int rc, stop = 0;

	while ((rc = stmt_step(s)) == STORE_ROW) {
		memset(&e, 0, sizeof e);
		e.id = stmt_col_int64(s, 0);
		e.time = stmt_col_int64(s, 1);
		store_col_text(s, 2, e.actor, sizeof e.actor);
		store_col_text(s, 3, e.action, sizeof e.action);
		store_col_text(s, 4, e.object, sizeof e.object);
		store_col_text(s, 5, e.detail, sizeof e.detail);
		if (fn && (stop = fn(&e, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot read the audit log");
	store_finish(st, s);
	return stop;
}

int store_audit_each(struct store *st, int limit, int (*fn)(const struct audit_entry *e, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, AUDIT_COLUMNS "ORDER BY id DESC LIMIT ?1");

	if (!s)
		return -1;
	stmt_bind_int(s, 1, limit > 0 ? limit : -1);
	return audit_walk(st, s, fn, arg);
}

#define AUDIT_SELECT                                                                          \
	AUDIT_COLUMNS                                                                         \
	"WHERE (?1 = '' OR actor = ?1) "                                                      \
	"AND (?2 = '' OR substr(action, 1, length(?2)) = ?2) "                                \
	"AND (?3 = '' OR (?4 = 1 AND object GLOB ?3) OR (?4 = 0 AND object = ?3)) "           \
	"AND (?5 = 0 OR time >= ?5) AND (?6 = 0 OR time < ?6) "

int store_audit_select(struct store *st, const struct audit_filter *f,
		       int (*fn)(const struct audit_entry *e, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, f->oldest_first ? AUDIT_SELECT "ORDER BY id ASC LIMIT ?7"
							    : AUDIT_SELECT "ORDER BY id DESC LIMIT ?7");
	const char *obj = f->object ? f->object : "";

	if (!s)
		return -1;
	store_bind_text(s, 1, f->actor);
	store_bind_text(s, 2, f->action_prefix);
	store_bind_text(s, 3, obj);
	stmt_bind_int(s, 4, strpbrk(obj, "*?[") != NULL);
	stmt_bind_int64(s, 5, f->since);
	stmt_bind_int64(s, 6, f->until);
	stmt_bind_int(s, 7, f->limit > 0 ? f->limit : -1);
	return audit_walk(st, s, fn, arg);
}
