/*
 * store_claim.c: who may act on a phone right now.
 *
 *  - Operation claims (phones.op_claim, op_claim_until). A CAPF session
 *    claims the phone's pending install with one conditional UPDATE in the
 *    transaction that records its LSC as delivered, before the LSC is sent:
 *    of two sessions for the same device (two daemons on one database, or
 *    two sessions that slipped past the daemon's in-process claims) exactly
 *    one sees its UPDATE change the row, and only it sends a certificate.
 *    Within one node the daemon's in-process claims decide, so a claim left
 *    by the same node (named before the '/') is taken over. The claim
 *    is freed by the transaction that completes the operation or records
 *    the failed attempt, by a daemon restarting (its node's claims), or it
 *    lapses at op_claim_until, which is past the longest a session may last.
 *  - String-authentication lockouts (auth_lockouts), keyed by phone and
 *    source address: failures from one address lock out that address only,
 *    so whoever knows a device name cannot keep the real phone, calling
 *    from its own address, from enrolling. Each further lockout of the same
 *    pair doubles its length (capped at a day); a completed operation from
 *    that address clears the pair.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"

#define LOCKOUT_MAX_SECONDS 86400

int store_claim_take_locked(struct store *st, const char *phone, enum capf_op op, const char *claim,
			    int64_t until)
{
	/* A claim of the same node ("<node>/...") is free to take: within a
	 * node the daemon's in-process claims (session_claims.h) already let
	 * only one session through, so such a claim is a leftover (a session
	 * whose release could not be written, e.g. on a full disk). */
#define TAKE_SQL(more)                                                                                 \
	"UPDATE phones SET op_claim = ?3, op_claim_until = ?4 WHERE name = ?1 AND operation = ?2 "     \
	"AND (op_claim = '' OR op_claim = ?3 OR op_claim_until < ?5 OR "                              \
	"substr(op_claim, 1, instr(op_claim, '/')) = substr(?3, 1, instr(?3, '/'))" more ")"
	/* Several nodes (PostgreSQL): a claim whose node is gone is free too. */
	struct store_stmt *s = store_prepare(st, st->db ? TAKE_SQL("") : TAKE_SQL(" OR oc_claim_orphaned(op_claim)"));

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, capf_op_name(op));
	store_bind_text(s, 3, claim);
	stmt_bind_int64(s, 4, until);
	stmt_bind_int64(s, 5, now_utc());
	if (store_run(st, s, "cannot claim the phone's operation") < 0)
		return -1;
	return store_changes(st) == 1 ? 0 : 1;
}

int store_capf_claim(struct store *st, const char *phone, enum capf_op op, const char *claim, int64_t until)
{
	struct store_tx tx;
	int rc;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	rc = store_claim_take_locked(st, phone, op, claim, until);
	if (store_tx_close(st, &tx, rc < 0 ? -1 : 0) < 0)
		return -1;
	return rc;
}

/* Within the caller's transaction: free the claim if it is still this one;
 * 1 freed, 0 it was not (or no longer) this one's, -1 error. */
int store_claim_release_locked(struct store *st, const char *phone, const char *claim)
{
	struct store_stmt *s;

	if (!claim || !claim[0])
		return 0;
	s = store_prepare(st, "UPDATE phones SET op_claim = '', op_claim_until = 0 "
			      "WHERE name = ?1 AND op_claim = ?2");
	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, claim);
	if (store_run(st, s, "cannot free the phone's operation claim") < 0)
		return -1;
	return store_changes(st) > 0;
}

int store_capf_release(struct store *st, const char *phone, const char *claim)
{
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, store_claim_release_locked(st, phone, claim) < 0 ? -1 : 0);
}

int store_capf_release_node_claims(struct store *st, const char *node)
{
	struct store_stmt *s = store_prepare(st, "UPDATE phones SET op_claim = '', op_claim_until = 0 "
					    "WHERE op_claim <> '' AND substr(op_claim, 1, length(?1) + 1) = ?1 || '/'");

	if (!s)
		return -1;
	store_bind_text(s, 1, node);
	if (store_run(st, s, "cannot free the operation claims of this node") < 0)
		return -1;
	return store_changes(st);
}

/* ---- lockouts ---- */

/* The address a lockout is kept for: an IPv6 host is its /64 (one
 * customer's hosts share it, and one attacker owns all of it). */
static void lockout_source(const char *peer, char *out, size_t cap)
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, peer, &a6) == 1 && !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(a6.s6_addr + 8, 0, 8);
		inet_ntop(AF_INET6, &a6, out, (socklen_t)cap);
		snprintf(out + strlen(out), cap - strlen(out), "/64");
		return;
	}
	snprintf(out, cap, "%s", peer);
}

int store_auth_locked_until(struct store *st, const char *phone, const char *peer, int64_t *until)
{
	char source[80];
	struct store_stmt *s = store_prepare(st, "SELECT locked_until FROM auth_lockouts WHERE phone = ?1 AND source = ?2");
	int rc;

	*until = 0;
	if (!s)
		return -1;
	lockout_source(peer, source, sizeof source);
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, source);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		*until = stmt_col_int64(s, 0);
	else if (rc != STORE_DONE)
		store_sqlfail(st, "cannot read the lockouts");
	store_finish(st, s);
	return rc == STORE_ROW || rc == STORE_DONE ? 0 : -1;
}

int store_auth_lockouts_each(struct store *st, const char *phone,
			     int (*fn)(const struct auth_lockout *l, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, "SELECT source, failures, lockouts, locked_until, time FROM auth_lockouts "
					    "WHERE phone = ?1 ORDER BY time DESC");
	struct auth_lockout l;
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		memset(&l, 0, sizeof l);
		store_col_text(s, 0, l.source, sizeof l.source);
		l.failures = stmt_col_int(s, 1);
		l.lockouts = stmt_col_int(s, 2);
		l.locked_until = stmt_col_int64(s, 3);
		l.time = stmt_col_int64(s, 4);
		if (fn && (stop = fn(&l, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, "cannot list the lockouts");
	store_finish(st, s);
	return stop;
}

static int64_t lockout_length(int lockout_seconds, int lockouts)
{
	int64_t len = lockout_seconds > 0 ? lockout_seconds : 0;

	for (int i = 1; i < lockouts && len < LOCKOUT_MAX_SECONDS; i++)
		len *= 2;
	return len < LOCKOUT_MAX_SECONDS ? len : LOCKOUT_MAX_SECONDS;
}

/* Within the caller's transaction: one more failure of (phone, source).
 * *locked_until is set when this failure started a lockout, else 0;
 * *failures is the count so far. */
int store_auth_failure_locked(struct store *st, const char *phone, const char *peer, int max_failures,
			      int lockout_seconds, int64_t now, int *failures, int64_t *locked_until)
{
	char source[80];
	struct store_stmt *s = store_prepare(st, "INSERT INTO auth_lockouts (phone, source, failures, time) "
					    "VALUES (?1, ?2, 1, ?3) ON CONFLICT (phone, source) "
					    "DO UPDATE SET failures = auth_lockouts.failures + 1, time = excluded.time "
					    "RETURNING failures, lockouts");
	int rc, lockouts = 0;

	*failures = 0;
	*locked_until = 0;
	if (!s)
		return -1;
	lockout_source(peer, source, sizeof source);
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, source);
	stmt_bind_int64(s, 3, now);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		*failures = stmt_col_int(s, 0);
		lockouts = stmt_col_int(s, 1);
		rc = stmt_step(s);
	}
	store_finish(st, s);
	if (rc != STORE_DONE)
		return store_fail(st, "cannot count the failed authentication: %s", store_errstr(st, rc));
	if (max_failures <= 0 || *failures < max_failures)
		return 0;
	*locked_until = now + lockout_length(lockout_seconds, lockouts + 1);
	s = store_prepare(st, "UPDATE auth_lockouts SET failures = 0, lockouts = lockouts + 1, locked_until = ?3 "
			      "WHERE phone = ?1 AND source = ?2");
	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, source);
	stmt_bind_int64(s, 3, *locked_until);
	return store_run(st, s, "cannot record the lockout");
}

/* Within the caller's transaction: (phone, source) proved itself. */
int store_auth_success_locked(struct store *st, const char *phone, const char *peer)
{
	struct store_stmt *s = store_prepare(st, "DELETE FROM auth_lockouts WHERE phone = ?1 AND source = ?2");
	char source[80];

	if (!s)
		return -1;
	lockout_source(peer, source, sizeof source);
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, source);
	return store_run(st, s, "cannot clear the lockout");
}
