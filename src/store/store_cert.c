/*
 * store_cert.c: the certificates of phones (every LSC we issued, the
 * current LSC and last MIC of each phone, every certificate a phone
 * presented) and the completion of CAPF operations.
 *
 * Invariants:
 *  - issued_certs is append-only (schema triggers). An LSC goes into it
 *    (status 'delivered') in a committed transaction before a byte of it is
 *    sent, so no crash or hang-up can leave a phone holding a certificate we
 *    have no record of; it becomes 'confirmed', and the phone's current LSC,
 *    in the same transaction that marks the phone's operation done, so there
 *    is no recorded "Upgrade Success" without the certificate either.
 *  - Recording a delivery and confirming it both require the session's
 *    operation claim (store_claim.c) to be live: one operation, at most one
 *    confirmed certificate.
 *  - phone_certs holds at most one row per phone and kind: the LSC the phone
 *    holds as far as we know (installed by us, or presented by the phone)
 *    and the last MIC it presented. A presented certificate that is one we
 *    issued keeps source 'issued' and the CAPF fingerprint it was signed by.
 *  - Each store_capf_complete_* / store_capf_attempt_failed call is one
 *    transaction (a SAVEPOINT when the caller already holds one): phone
 *    row, certificate rows, history row and audit row, all or nothing.
 *  - Audit details carry outcome, reason and serial, never the
 *    authentication string (the history entry has no field for it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "store/store_internal.h"
#include "store/store_revoke.h"

/* The columns read_cert reads, of issued_certs and of phone_certs (der last, to be added). */
#define ISSUED_CERT_COLUMNS \
	"id, phone, 'lsc', serial, subject, issuer, not_before, not_after, sha256, issuer_sha256, time"
#define PHONE_CERT_COLUMNS \
	"rowid, phone, kind, serial, subject, issuer, not_before, not_after, sha256, issuer_sha256, time"

enum der_mode { DER_NONE, DER_BORROW, DER_COPY };

static int read_cert(struct store *st, struct store_stmt *s, struct cert_row *r, enum der_mode mode)
{
	const void *der;
	int n;

	memset(r, 0, sizeof *r);
	r->id = stmt_col_int64(s, 0);
	store_col_text(s, 1, r->phone, sizeof r->phone);
	store_col_text(s, 2, r->kind, sizeof r->kind);
	store_col_text(s, 3, r->serial, sizeof r->serial);
	store_col_text(s, 4, r->subject, sizeof r->subject);
	store_col_text(s, 5, r->issuer, sizeof r->issuer);
	r->not_before = stmt_col_int64(s, 6);
	r->not_after = stmt_col_int64(s, 7);
	store_col_text(s, 8, r->sha256, sizeof r->sha256);
	store_col_text(s, 9, r->issuer_sha256, sizeof r->issuer_sha256);
	r->time = stmt_col_int64(s, 10);
	if (mode == DER_NONE)
		return 0;
	der = stmt_col_blob(s, 11);
	n = stmt_col_bytes(s, 11);
	if (mode == DER_BORROW) {
		r->der = (uint8_t *)der;     /* valid until the next step */
		r->derlen = (size_t)n;
		return 0;
	}
	r->der = malloc(n > 0 ? (size_t)n : 1);
	if (!r->der)
		return store_fail(st, "out of memory");
	if (n > 0)
		memcpy(r->der, der, (size_t)n);
	r->derlen = (size_t)n;
	return 0;
}

void cert_row_free(struct cert_row *r)
{
	if (!r)
		return;
	free(r->der);
	r->der = NULL;
	r->derlen = 0;
}

static int phone_cert(struct store *st, const char *phone, const char *kind, int with_der, struct cert_row *out)
{
	struct store_stmt *s = store_prepare(st, "SELECT " PHONE_CERT_COLUMNS ", der FROM phone_certs "
					    "WHERE phone = ?1 AND kind = ?2");
	int rc;

	memset(out, 0, sizeof *out);
	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, kind);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		rc = read_cert(st, s, out, with_der ? DER_COPY : DER_NONE);
	else if (rc == STORE_DONE)
		rc = 1;
	else
		rc = store_sqlfail(st, "cannot read the phone's certificate");
	store_finish(st, s);
	return rc;
}

int store_phone_lsc(struct store *st, const char *phone, int with_der, struct cert_row *out)
{
	return phone_cert(st, phone, "lsc", with_der, out);
}

int store_phone_mic(struct store *st, const char *phone, int with_der, struct cert_row *out)
{
	return phone_cert(st, phone, "mic", with_der, out);
}

/* Each row of a certificate query whose one parameter is `param` (the
 * columns of read_cert, der last when mode is not DER_NONE). */
static int cert_walk(struct store *st, const char *sql, const char *param, enum der_mode mode, const char *what,
		     int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	struct store_stmt *s = store_prepare(st, sql);
	struct cert_row r;
	int rc, stop = 0;

	if (!s)
		return -1;
	store_bind_text(s, 1, param);
	while ((rc = stmt_step(s)) == STORE_ROW) {
		read_cert(st, s, &r, mode);
		if (fn && (stop = fn(&r, arg)) != 0)
			break;
	}
	if (!stop && rc != STORE_DONE)
		stop = store_sqlfail(st, what);
	store_finish(st, s);
	return stop;
}

int store_issued_each(struct store *st, const char *phone,
		      int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	return cert_walk(st, "SELECT " ISSUED_CERT_COLUMNS ", der FROM issued_certs WHERE ?1 = '' OR phone = ?1 "
			     "ORDER BY id",
			 phone, DER_BORROW, "cannot list issued certificates", fn, arg);
}

int store_phone_certs_each(struct store *st, const char *kind,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	return cert_walk(st, "SELECT " PHONE_CERT_COLUMNS ", der FROM phone_certs WHERE ?1 = '' OR kind = ?1 "
			     "ORDER BY phone, kind",
			 kind, DER_BORROW, "cannot list the phones' certificates", fn, arg);
}

int store_unconfirmed_each(struct store *st, const char *phone,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	return cert_walk(st, "SELECT " ISSUED_CERT_COLUMNS " FROM issued_certs "
			     "WHERE status = 'delivered' AND (?1 = '' OR phone = ?1) ORDER BY id",
			 phone, DER_NONE, "cannot list unconfirmed certificates", fn, arg);
}

int store_unconfirmed_count(struct store *st)
{
	struct store_stmt *s = store_prepare(st, "SELECT count(*) FROM issued_certs WHERE status = 'delivered'");
	int n = -1;

	if (!s)
		return -1;
	if (stmt_step(s) == STORE_ROW)
		n = stmt_col_int(s, 0);
	else
		store_sqlfail(st, "cannot count unconfirmed certificates");
	store_finish(st, s);
	return n;
}

int store_issued_find(struct store *st, const char *sha256, struct cert_row *out, int *confirmed)
{
	struct store_stmt *s = store_prepare(st, "SELECT " ISSUED_CERT_COLUMNS ", status FROM issued_certs "
					    "WHERE sha256 = ?1");
	int rc;

	memset(out, 0, sizeof *out);
	*confirmed = 0;
	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	rc = stmt_step(s);
	if (rc == STORE_ROW) {
		read_cert(st, s, out, DER_NONE);
		*confirmed = strcmp((const char *)stmt_col_text(s, 11), "confirmed") == 0;
	} else if (rc != STORE_DONE)
		store_sqlfail(st, "cannot look up issued certificates");
	store_finish(st, s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

/* source = 'issued' keeps a phone's LSC that only looks like ours out. */
#define LSC_BY_CAPF_WHERE "FROM phone_certs WHERE kind = 'lsc' AND source = 'issued' AND issuer_sha256 = ?1"

int store_lsc_by_capf_each(struct store *st, const char *capf_sha256,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg)
{
	return cert_walk(st, "SELECT " PHONE_CERT_COLUMNS " " LSC_BY_CAPF_WHERE " ORDER BY phone",
			 capf_sha256, DER_NONE, "cannot list the phones holding LSCs", fn, arg);
}

int store_lsc_by_capf_count(struct store *st, const char *capf_sha256)
{
	struct store_stmt *s = store_prepare(st, "SELECT count(*) " LSC_BY_CAPF_WHERE);
	int n = -1;

	if (!s)
		return -1;
	store_bind_text(s, 1, capf_sha256);
	if (stmt_step(s) == STORE_ROW)
		n = stmt_col_int(s, 0);
	else
		store_sqlfail(st, "cannot count the phones holding LSCs");
	store_finish(st, s);
	return n;
}

/* ---- recording certificates ---- */

static int set_phone_cert(struct store *st, const char *phone, const char *kind, const char *source,
			  const struct store_certinfo *ci, const char *issuer_sha256, int64_t when,
			  const uint8_t *der, size_t len)
{
	struct store_stmt *s = store_prepare(st, "INSERT INTO phone_certs (phone, kind, source, serial, subject, issuer, "
					    "not_before, not_after, sha256, issuer_sha256, time, der) "
					    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) "
					    "ON CONFLICT (phone, kind) DO UPDATE SET source = excluded.source, "
					    "serial = excluded.serial, subject = excluded.subject, "
					    "issuer = excluded.issuer, not_before = excluded.not_before, "
					    "not_after = excluded.not_after, sha256 = excluded.sha256, "
					    "issuer_sha256 = excluded.issuer_sha256, time = excluded.time, "
					    "der = excluded.der");

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, source);
	store_bind_text(s, 4, ci->serial);
	store_bind_text(s, 5, ci->subject);
	store_bind_text(s, 6, ci->issuer);
	stmt_bind_int64(s, 7, ci->not_before);
	stmt_bind_int64(s, 8, ci->not_after);
	store_bind_text(s, 9, ci->sha256);
	store_bind_text(s, 10, issuer_sha256);
	stmt_bind_int64(s, 11, when);
	stmt_bind_blob(s, 12, der, (int)len);
	return store_run(st, s, "cannot record the phone's certificate");
}

/* 1 and the signing CAPF's fingerprint if we issued the certificate. */
static int issued_by_us(struct store *st, const char *sha256, char *capf_sha256, size_t cap)
{
	struct store_stmt *s = store_prepare(st, "SELECT issuer_sha256 FROM issued_certs WHERE sha256 = ?1");
	int rc;

	capf_sha256[0] = '\0';
	if (!s)
		return -1;
	store_bind_text(s, 1, sha256);
	rc = stmt_step(s);
	if (rc == STORE_ROW)
		store_col_text(s, 0, capf_sha256, cap);
	else if (rc != STORE_DONE)
		store_sqlfail(st, "cannot look up issued certificates");
	store_finish(st, s);
	return rc == STORE_ROW ? 1 : rc == STORE_DONE ? 0 : -1;
}

static int valid_kind(const char *kind)
{
	return kind && (!strcmp(kind, "lsc") || !strcmp(kind, "mic"));
}

int store_seen_cert_locked(struct store *st, const char *phone, const char *kind, const uint8_t *der,
			   size_t len, int64_t when, struct store_certinfo *ci)
{
	char capf_sha256[80];
	struct store_stmt *s;
	int ours, rc;

	if (!valid_kind(kind))
		return store_fail(st, "certificate kind must be lsc or mic, not %s", kind ? kind : "(none)");
	if (store_cert_parse(der, len, ci) < 0)
		return store_fail(st, "the %s presented by %s is not an X.509 certificate", kind, phone);
	s = store_prepare(st, "INSERT INTO seen_certs (phone, kind, sha256, first_seen, time, der) "
			      "VALUES (?1, ?2, ?3, ?4, ?4, ?5) ON CONFLICT (phone, kind, sha256) "
			      "DO UPDATE SET time = excluded.time, count = seen_certs.count + 1");
	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, kind);
	store_bind_text(s, 3, ci->sha256);
	stmt_bind_int64(s, 4, when);
	stmt_bind_blob(s, 5, der, (int)len);
	rc = stmt_step(s);
	store_finish(st, s);
	if (rc == STORE_CONSTRAINT_FK)
		return store_fail(st, "no phone named %s", phone);
	if (rc != STORE_DONE)
		return store_fail(st, "cannot record the presented certificate: %s", store_errstr(st, rc));
	ours = issued_by_us(st, ci->sha256, capf_sha256, sizeof capf_sha256);
	if (ours < 0)
		return -1;
	return set_phone_cert(st, phone, kind, ours ? "issued" : "seen", ci, capf_sha256, when, der, len);
}

int store_seen_cert(struct store *st, const char *phone, const char *kind, const uint8_t *der, size_t len)
{
	struct store_certinfo ci;
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, store_seen_cert_locked(st, phone, kind, der, len, now_utc(), &ci));
}

/* ---- completing CAPF operations ---- */

/* The pieces every completion shares: the history entry it appends (with
 * the outcome defaulted to the status word) and the audit row. */
struct completion {
	struct history_entry h;
	struct phone p;
	int64_t when;
};

static int completion_start(struct store *st, const char *phone, const struct history_entry *h,
			    const char *outcome, struct completion *c, int need_phone)
{
	int rc;

	memset(c, 0, sizeof *c);
	if (h)
		c->h = *h;
	if (!c->h.outcome[0] && outcome)
		snprintf(c->h.outcome, sizeof c->h.outcome, "%s", outcome);
	c->when = c->h.time ? c->h.time : now_utc();
	c->h.time = c->when;
	rc = store_phone_get(st, phone, &c->p);
	if (rc > 0 && need_phone)
		return store_fail(st, "no phone named %s", phone);
	return rc;
}

/* A finished operation: nothing pending, authentication counter cleared. */
static void operation_done(struct completion *c, const char *status)
{
	c->p.op = OP_NONE;
	c->p.deadline = 0;
	snprintf(c->p.status, sizeof c->p.status, "%s", status);
	c->p.auth_failures = 0;
	c->p.last_contact = c->when;
}

static int completion_audit(struct store *st, const char *phone, const char *action, const char *outcome,
			    const struct completion *c, const char *serial, const char *extra)
{
	/* Sized so that the whole detail fits struct audit_entry (1024). */
	char o[200], r[520], sn[140], detail[1024];

	store_json_str(o, sizeof o, outcome);
	store_json_str(r, sizeof r, c->h.reason);
	store_json_str(sn, sizeof sn, serial ? serial : "");
	snprintf(detail, sizeof detail, "{\"outcome\":%s,\"reason\":%s,\"serial\":%s%s}", o, r, sn,
		 extra ? extra : "");
	return store_audit(st, "capf", action, phone, detail);
}

/* The issued_certs row: inserted as `status`, or, when it is already there
 * as delivered and status is 'confirmed', marked confirmed. */
static int issued_record(struct store *st, const char *phone, const struct store_certinfo *ci,
			 const char *capf_sha256, int64_t when, const uint8_t *der, size_t len, const char *status)
{
	struct store_stmt *s = store_prepare(st, "INSERT INTO issued_certs (phone, serial, subject, issuer, not_before, "
					    "not_after, sha256, issuer_sha256, time, der, status) "
					    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
					    "ON CONFLICT (sha256) DO UPDATE SET status = excluded.status "
					    "WHERE issued_certs.status = 'delivered' AND excluded.status = 'confirmed'");

	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, ci->serial);
	store_bind_text(s, 3, ci->subject);
	store_bind_text(s, 4, ci->issuer);
	stmt_bind_int64(s, 5, ci->not_before);
	stmt_bind_int64(s, 6, ci->not_after);
	store_bind_text(s, 7, ci->sha256);
	store_bind_text(s, 8, capf_sha256);
	stmt_bind_int64(s, 9, when);
	stmt_bind_blob(s, 10, der, (int)len);
	store_bind_text(s, 11, status);
	return store_run(st, s, "cannot record the issued certificate");
}

/* The delivered row becomes confirmed; one that was never recorded (a
 * caller without delivery records) is recorded as confirmed. */
static int issued_confirm(struct store *st, const char *phone, const struct store_certinfo *ci,
			  const char *capf_sha256, int64_t when, const uint8_t *der, size_t len)
{
	struct store_stmt *s = store_prepare(st, "UPDATE issued_certs SET status = 'confirmed' "
					    "WHERE sha256 = ?1 AND status = 'delivered'");

	if (!s)
		return -1;
	store_bind_text(s, 1, ci->sha256);
	if (store_run(st, s, "cannot confirm the issued certificate") < 0)
		return -1;
	if (store_changes(st) > 0)
		return 0;
	return issued_record(st, phone, ci, capf_sha256, when, der, len, "confirmed");
}

/* The session takes (or keeps) the phone's install before anything is sent. */
static int claim_install(struct store *st, const char *phone, const struct history_entry *h)
{
	int rc;

	if (!h || !h->claim[0])
		return 0;
	rc = store_claim_take_locked(st, phone, OP_INSTALL, h->claim, h->claim_until);
	if (rc > 0)
		return store_fail(st, "another session holds the pending install of %s", phone);
	return rc;
}

static int lsc_delivered(struct store *st, const char *phone, const uint8_t *der, size_t len,
			 const char *capf_sha256, const struct history_entry *h, const struct store_certinfo *ci)
{
	int64_t when = h && h->time ? h->time : now_utc();

	/* No audit row: issued_certs is itself the append-only record, and the
	 * session's end (capf.install, or capf.failed with the serial) is audited. */
	if (claim_install(st, phone, h) < 0)
		return -1;
	return issued_record(st, phone, ci, capf_sha256, when, der, len, "delivered");
}

typedef int (*lsc_record_fn)(struct store *st, const char *phone, const uint8_t *der, size_t len,
			     const char *capf_sha256, const struct history_entry *h, const struct store_certinfo *ci);

/* One transaction recording an LSC we issued (its fields read without decoding its key). */
static int lsc_transaction(struct store *st, const char *phone, const uint8_t *der, size_t len,
			   const char *capf_sha256, const struct history_entry *h, lsc_record_fn fn)
{
	struct store_certinfo ci;
	struct store_tx tx;

	if (store_cert_parse_fields(der, len, &ci) < 0)
		return store_fail(st, "the LSC for %s is not an X.509 certificate", phone);
	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, fn(st, phone, der, len, capf_sha256, h, &ci));
}

int store_capf_lsc_delivered(struct store *st, const char *phone, const uint8_t *lsc_der, size_t len,
			     const char *capf_sha256, const struct history_entry *h)
{
	return lsc_transaction(st, phone, lsc_der, len, capf_sha256, h, lsc_delivered);
}

/* What every completed operation does besides its own rows. */
static int completion_finish(struct store *st, const char *phone, struct completion *c, const char *status)
{
	operation_done(c, status);
	if (store_phone_write(st, &c->p) < 0 || store_history_add(st, phone, &c->h) < 0)
		return -1;
	/* Lockouts only ever count string-authentication failures. */
	return c->p.auth == AUTH_STRING && c->h.peer[0] ? store_auth_success_locked(st, phone, c->h.peer) : 0;
}

/* The install's claim, taken with its delivery, is still this session's:
 * free it (one statement checks and frees). */
static int claim_finish(struct store *st, const char *phone, const struct history_entry *h)
{
	int freed;

	if (!h || !h->claim[0])
		return 0;
	freed = store_claim_release_locked(st, phone, h->claim);
	if (freed == 0)
		return store_fail(st, "the session no longer holds the operation of %s (another session took it over)",
				  phone);
	return freed < 0 ? -1 : 0;
}

/* The phone's current LSC, when we issued it and it is not `keep_sha256`,
 * is revoked for `reason` (a confirmed upgrade supersedes it, a completed
 * delete ends it), in the completion's transaction. */
static int revoke_current_lsc(struct store *st, const char *phone, const char *keep_sha256, int reason,
			      int64_t when)
{
	struct cert_row cur;
	int rc = phone_cert(st, phone, "lsc", 0, &cur);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!cur.issuer_sha256[0] || (keep_sha256 && strcmp(cur.sha256, keep_sha256) == 0))
		return 0;
	if (reason == REVOKE_SUPERSEDED) {
		char v[32];
		if (store_setting_get(st, REVOKE_SETTING_SUPERSEDED_GRACE, v, sizeof v) == 0 && atoll(v) > 0)
			when += atoll(v);   /* in effect once the grace period is over */
	}
	return store_revoke_locked(st, "capf", cur.serial, cur.issuer_sha256, phone, reason, when) < 0 ? -1 : 0;
}

static int complete_install(struct store *st, const char *phone, const uint8_t *der, size_t len,
			    const char *capf_sha256, const struct history_entry *h, const struct store_certinfo *ci)
{
	struct completion c;
	int rc = completion_start(st, phone, h, STATUS_UPGRADE_SUCCESS, &c, 0);

	if (rc < 0 || (rc == 0 && claim_finish(st, phone, h) < 0))
		return -1;
	if (issued_confirm(st, phone, ci, capf_sha256, c.when, der, len) < 0)
		return -1;
	if (rc > 0)
		/* The phone was removed while its session ran: the certificate
		 * it now holds is still on record, and the audit says why
		 * nothing else changed. */
		return completion_audit(st, phone, "capf.install", "phone removed during the session", &c,
					ci->serial, NULL);
	if (revoke_current_lsc(st, phone, ci->sha256, REVOKE_SUPERSEDED, c.when) < 0 ||
	    set_phone_cert(st, phone, "lsc", "issued", ci, capf_sha256, c.when, der, len) < 0 ||
	    completion_finish(st, phone, &c, STATUS_UPGRADE_SUCCESS) < 0)
		return -1;
	return completion_audit(st, phone, "capf.install", c.h.outcome, &c, ci->serial, NULL);
}

int store_capf_complete_install(struct store *st, const char *phone, const uint8_t *lsc_der, size_t len,
				const char *capf_sha256, const struct history_entry *h)
{
	return lsc_transaction(st, phone, lsc_der, len, capf_sha256, h, complete_install);
}

static int complete_delete(struct store *st, const char *phone, const struct history_entry *h)
{
	struct completion c;
	struct cert_row lsc;
	struct store_stmt *s;
	int rc;

	if (completion_start(st, phone, h, STATUS_DELETE_SUCCESS, &c, 1) != 0)
		return -1;
	rc = store_phone_lsc(st, phone, 0, &lsc);
	if (rc < 0)
		return -1;
	if (rc == 0 && revoke_current_lsc(st, phone, NULL, REVOKE_CESSATION, c.when) < 0)
		return -1;
	s = store_prepare(st, "DELETE FROM phone_certs WHERE phone = ?1 AND kind = 'lsc'");
	if (!s)
		return -1;
	store_bind_text(s, 1, phone);
	if (store_run(st, s, "cannot forget the phone's LSC") < 0)
		return -1;
	if (completion_finish(st, phone, &c, STATUS_DELETE_SUCCESS) < 0)
		return -1;
	return completion_audit(st, phone, "capf.delete", c.h.outcome, &c, rc == 0 ? lsc.serial : "", NULL);
}

int store_capf_complete_delete(struct store *st, const char *phone, const struct history_entry *h)
{
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, complete_delete(st, phone, h));
}

static int complete_troubleshoot(struct store *st, const char *phone, const char *kind, const uint8_t *der,
				 size_t len, const struct history_entry *h)
{
	struct completion c;
	struct store_certinfo ci;
	char extra[64] = "";

	memset(&ci, 0, sizeof ci);
	if (completion_start(st, phone, h, STATUS_TROUBLESHOOT_SUCCESS, &c, 1) != 0)
		return -1;
	if (der && len) {
		if (store_seen_cert_locked(st, phone, kind, der, len, c.when, &ci) < 0)
			return -1;
		snprintf(extra, sizeof extra, ",\"kind\":\"%s\"", kind);   /* kind is lsc or mic */
	}
	if (completion_finish(st, phone, &c, STATUS_TROUBLESHOOT_SUCCESS) < 0)
		return -1;
	return completion_audit(st, phone, "capf.troubleshoot", c.h.outcome, &c, ci.serial, extra);
}

int store_capf_complete_troubleshoot(struct store *st, const char *phone, const char *kind,
				     const uint8_t *der, size_t len, const struct history_entry *h)
{
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, complete_troubleshoot(st, phone, kind, der, len, h));
}

/* The audit detail of a failed string authentication: the counter, or the lockout it started. */
static int auth_failure(struct store *st, const char *phone, const struct completion *c, int max_failures,
			int lockout_seconds, char *extra, size_t cap)
{
	int64_t locked_until;
	int failures;

	if (store_auth_failure_locked(st, phone, c->h.peer, max_failures, lockout_seconds, c->when, &failures,
				      &locked_until) < 0)
		return -1;
	if (locked_until)
		snprintf(extra, cap, ",\"auth_failed\":true,\"locked_until\":%lld", (long long)locked_until);
	else
		snprintf(extra, cap, ",\"auth_failed\":true,\"auth_failures\":%d", failures);
	return 0;
}

static int attempt_failed(struct store *st, const char *phone, const struct history_entry *h,
			  const char *status, int auth_failed, int max_failures, int lockout_seconds)
{
	struct completion c;
	char extra[96] = "";
	int coalesced;

	if (completion_start(st, phone, h, status ? status : "Failed", &c, 1) != 0)
		return -1;
	if (status)
		snprintf(c.p.status, sizeof c.p.status, "%s", status);
	if (auth_failed && auth_failure(st, phone, &c, max_failures, lockout_seconds, extra, sizeof extra) < 0)
		return -1;
	c.p.last_contact = c.when;
	if (store_phone_write(st, &c.p) < 0 || store_claim_release_locked(st, phone, c.h.claim) < 0)
		return -1;
	coalesced = store_history_add(st, phone, &c.h);
	if (coalesced < 0)
		return -1;
	/* A repeat of the same failure from the same peer is counted in its
	 * history row; the audit keeps the first of the run. */
	return coalesced ? 0 : completion_audit(st, phone, "capf.failed", c.h.outcome, &c, c.h.serial, extra);
}

int store_capf_attempt_failed(struct store *st, const char *phone, const struct history_entry *h,
			      const char *status, int auth_failed, int max_failures, int lockout_seconds)
{
	struct store_tx tx;

	if (store_tx_open(st, &tx) < 0)
		return -1;
	return store_tx_close(st, &tx, attempt_failed(st, phone, h, status, auth_failed, max_failures,
						      lockout_seconds));
}
