/*
 * store.h: the state directory and its SQLite database, behind one narrow
 * interface (so a PostgreSQL backend can serve several daemon nodes later).
 *
 * Layout of a state directory:
 *   DIR/opencapf.db      SQLite, WAL mode, versioned schema (PRAGMA user_version)
 *   DIR/keys/            0700; private keys 0600 (capf-<id>.key, ...)
 *   DIR/certs/           0755; public PEMs for convenience
 *
 * Invariants:
 *  - issued_certs rows are never updated or deleted (triggers refuse it):
 *    every LSC ever issued stays on record.
 *  - an LSC is recorded (status 'delivered') before it is sent to the phone
 *    (store_capf_lsc_delivered), and confirmed in the same transaction that
 *    marks the operation done (store_capf_complete_install).
 *  - a phone's pending operation is claimed by one session at a time.
 *  - the audit log never holds secrets (authentication strings, keys).
 *  - one `struct store` per thread; SQLite's busy timeout serialises writers.
 *
 * Errors: 0 / -1 with an err sentence; lookups return 1 for "not found".
 * Iterators (*_each): rows are valid only during the callback; they return 0
 * after the last row, the callback's value if it returned non-zero (which
 * stops the walk), -1 on a database error. fn may be NULL.
 */
#ifndef OPENCAPF_STORE_H
#define OPENCAPF_STORE_H

#include <stddef.h>
#include <stdint.h>

#define STORE_DB_NAME "opencapf.db"
#define STORE_SCHEMA_VERSION 6

struct store;

enum store_open_mode {
	STORE_OPEN_EXISTING,   /* fail with a clear error if there is no initialised state */
	STORE_OPEN_CREATE,     /* create DIR, keys/, the database and schema (must not exist yet) */
};
int store_open(const char *dir, enum store_open_mode mode, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_dir(const struct store *st);
/* Where the state's database is: by default DIR/opencapf.db (SQLite). A
 * postgresql:// URI keeps it in PostgreSQL instead (keys/ and the other
 * files stay in DIR, per node). The URI in force, first found: the one
 * given here (--store, the daemon's `store` setting; NULL to forget it),
 * $OPENCAPF_STORE, DIR/store.uri (written by a create with a URI). */
#define STORE_URI_FILE "store.uri"
int store_set_uri(const char *uri);     /* -1: not a URI this build can open */
/* The daemon's node name (before it opens its stores). On PostgreSQL each
 * connection then shows the node alive (a shared advisory lock, gone with
 * the connection), and an operation claimed by a node with no connection
 * left (killed, cut off) may be claimed by another node at once instead of
 * when the claim lapses. */
void store_set_node(const char *node);
/* Changes made elsewhere: a descriptor that becomes readable when another
 * node or process committed a change to the CAPF or service certificates,
 * trust stores, TVS entries or revocations (PostgreSQL: LISTEN on this
 * connection); -1 on SQLite, which has no such signal (poll instead). Call
 * store_watch_drain when it is readable: 1 a change came, 0 none. The
 * descriptor may change after a reconnection: keep polling as well. */
int store_watch_fd(struct store *st);
int store_watch_drain(struct store *st);
/* 1 when dir's database is in PostgreSQL (the URI in force into uri), 0
 * when it is SQLite, -1 (err) for a URI that is not one. */
int store_uri_in_force(const char *dir, char *uri, size_t cap, char *err, size_t errlen);
/* "sqlite" or "postgresql": the backend of an open store. */
const char *store_backend_name(const struct store *st);
/* Path of a file in keys/ (no check that it exists). */
int store_key_path(const struct store *st, const char *name, char *out, size_t outcap);

int store_begin(struct store *st);      /* BEGIN IMMEDIATE */
int store_commit(struct store *st);
void store_rollback(struct store *st);
const char *store_errmsg(struct store *st);
/* PRAGMA quick_check + foreign_key_check (cost grows with the database:
 * for `opencapf diagnose`, not for every open). */
int store_check(struct store *st, char *err, size_t errlen);

/* ---- settings (key/value, e.g. "lsc_days", "org") ---- */
int store_setting_get(struct store *st, const char *key, char *out, size_t outcap); /* 1 = absent */
int store_setting_set(struct store *st, const char *key, const char *value);

/* ---- phones ---- */

enum auth_mode { AUTH_NULL, AUTH_STRING, AUTH_LSC_FIRST, AUTH_MIC_FIRST };
enum key_order { KEY_ORDER_RSA, KEY_ORDER_EC, KEY_ORDER_EC_RSA };
enum capf_op { OP_NONE, OP_INSTALL, OP_DELETE, OP_TROUBLESHOOT };

const char *auth_mode_name(enum auth_mode m);     /* "null", "string", "lsc-first", "mic-first" */
const char *auth_mode_label(enum auth_mode m);    /* "By Null String", ... vendor words */
int auth_mode_parse(const char *s, enum auth_mode *m);
const char *key_order_name(enum key_order k);     /* "rsa", "ec", "ec-rsa" */
const char *key_order_label(enum key_order k);    /* "RSA Only", "EC Only", "EC Preferred, RSA Backup" */
int key_order_parse(const char *s, enum key_order *k);
const char *capf_op_name(enum capf_op o);         /* "none", "install", "delete", "troubleshoot" */
const char *capf_op_label(enum capf_op o);        /* "No Pending Operation", "Install/Upgrade", ... */
int capf_op_parse(const char *s, enum capf_op *o);

/* Vendor status words (phone-certificates.md §4). */
#define STATUS_PENDING "Pending"
#define STATUS_UPGRADE_SUCCESS "Upgrade Success"
#define STATUS_DELETE_SUCCESS "Delete Success"
#define STATUS_TROUBLESHOOT_SUCCESS "Troubleshoot Success"
#define STATUS_LATE "Upgrade Failed: User Initiated Request Late/Timeout"

struct phone {
	char name[64];
	char model[32];
	char description[128];
	enum auth_mode auth;
	char auth_string[33];        /* secret: never log, never audit */
	enum key_order key_order;
	int rsa_bits;                /* 512..4096 */
	int ec_bits;                 /* 256, 384, 521 */
	enum capf_op op;
	int64_t deadline;            /* 0 = none */
	char status[128];            /* "" when nothing happened yet */
	int auth_failures;           /* consecutive failed authentications */
	int64_t locked_until;        /* lockout after repeated failures */
	int64_t last_contact;
	int64_t created;
	int64_t updated;
};
void phone_defaults(struct phone *p, const char *name);

int store_phone_insert(struct store *st, const struct phone *p);   /* -1 if it exists */
int store_phone_update(struct store *st, const struct phone *p);   /* -1 if it does not */
int store_phone_get(struct store *st, const char *name, struct phone *out); /* 1 = not found */
int store_phone_delete(struct store *st, const char *name);          /* 1 = not found */
/* Calls fn for each phone, ordered by name; stops early if fn returns non-zero. */
int store_phone_each(struct store *st, int (*fn)(const struct phone *p, void *arg), void *arg);

/* ---- attempt history (every CAPF session about a known phone) ---- */

struct history_entry {
	int64_t time;            /* the latest occurrence */
	char peer[64];
	char operation[16];
	char auth_mode[16];
	char outcome[128];      /* the status word it led to, or "Failed" */
	char reason[256];
	int count;               /* identical failures coalesced into this row (reading) */
	int64_t first_time;      /* the first of them (reading) */
	char claim[48];          /* writing: the session's operation claim, freed by the completions */
	int64_t claim_until;     /* writing: when that claim lapses */
	char serial[130];        /* writing: the LSC a failed session had delivered, for the audit */
};
#define HISTORY_KEEP 1000    /* rows kept per phone; older ones are pruned as failures come */
/* Append an entry. A failure identical to the newest entry from the same
 * peer (operation, mode, outcome, reason) is coalesced into it (count + 1,
 * time = now): returns 1 then, 0 for a new row. */
int store_history_add(struct store *st, const char *phone, const struct history_entry *h);
/* Newest first; limit <= 0: all. */
int store_history_each(struct store *st, const char *phone, int limit,
		       int (*fn)(const struct history_entry *h, void *arg), void *arg);

/* ---- certificates ---- */

/* Every LSC issued (never overwritten). capf_sha256 names the CAPF cert that signed it. */
struct cert_row {
	int64_t id;
	char phone[64];
	char kind[8];            /* "lsc" or "mic" */
	char serial[130];
	char subject[512];
	char issuer[512];
	int64_t not_before, not_after;
	char sha256[80];
	char issuer_sha256[80];  /* issued_certs: the CAPF cert used */
	int64_t time;            /* issued / seen */
	uint8_t *der;            /* malloc'd when requested, else NULL */
	size_t derlen;
	char note[128];          /* trust_certs: the note given when added */
};
void cert_row_free(struct cert_row *r);

/* The phone's current LSC as far as we know (installed by us, or seen in a
 * troubleshoot / authentication), 1 if none. with_der: fill der. */
int store_phone_lsc(struct store *st, const char *phone, int with_der, struct cert_row *out);
/* Last MIC seen for the phone, 1 if none. */
int store_phone_mic(struct store *st, const char *phone, int with_der, struct cert_row *out);
/* Oldest first; phone NULL or "": every phone. der filled (valid during the call). */
int store_issued_each(struct store *st, const char *phone,
		      int (*fn)(const struct cert_row *r, void *arg), void *arg);

/* Every phone's current certificates (LSC as far as we know, last MIC
 * seen), by phone name then kind; kind NULL or "": both. der filled (valid
 * during the call); issuer_sha256 is set for LSCs we issued. */
int store_phone_certs_each(struct store *st, const char *kind,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg);
/* Phones whose current LSC we issued under the CAPF certificate capf_sha256,
 * by name (der not filled). */
int store_lsc_by_capf_each(struct store *st, const char *capf_sha256,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg);
/* How many phones hold an LSC issued under capf_sha256; -1 on error. */
int store_lsc_by_capf_count(struct store *st, const char *capf_sha256);

/* Record a certificate presented by the phone (troubleshoot or authentication). */
int store_seen_cert(struct store *st, const char *phone, const char *kind, const uint8_t *der, size_t len);

/* LSCs recorded and sent to the phone but never confirmed by it, oldest
 * first (der not filled); phone NULL or "": every phone. */
int store_unconfirmed_each(struct store *st, const char *phone,
			   int (*fn)(const struct cert_row *r, void *arg), void *arg);
/* How many such certificates there are; -1 on error. */
int store_unconfirmed_count(struct store *st);
/* 1 and the row (der not filled) if we issued the certificate with this
 * SHA-256; *confirmed says whether the phone confirmed storing it. */
int store_issued_find(struct store *st, const char *sha256, struct cert_row *out, int *confirmed);

/* ---- claiming CAPF operations (one operation, one certificate) ---- */

/* Claim the phone's pending operation `op` for one session until `until`:
 * 0 claimed; 1 not free (another session's claim is live, or the operation
 * is no longer `op`); -1 error. */
int store_capf_claim(struct store *st, const char *phone, enum capf_op op, const char *claim, int64_t until);
/* Free a claim (a session that ends without completing anything). */
int store_capf_release(struct store *st, const char *phone, const char *claim);
/* Free every claim of `node` ("<node>/..."): a daemon starting again. */
int store_capf_release_node_claims(struct store *st, const char *node);

/* ---- string-authentication lockouts, per phone and source address ---- */

/* Until when the address `peer` is locked out of `phone` (0: not locked). */
int store_auth_locked_until(struct store *st, const char *phone, const char *peer, int64_t *until);
struct auth_lockout {
	char source[80];         /* an address; an IPv6 one as its /64 */
	int failures, lockouts;
	int64_t locked_until, time;
};
int store_auth_lockouts_each(struct store *st, const char *phone,
			     int (*fn)(const struct auth_lockout *l, void *arg), void *arg);

/* ---- completing CAPF operations (each one transaction) ---- */

/* Record an LSC as issued and delivered, before it is sent: after this
 * returns, the certificate is on record whatever happens to the session
 * (issued_certs, status 'delivered'; audit "capf.issue"). With h->claim set,
 * the session claims the phone's pending install until h->claim_until in the
 * same transaction; if another live claim holds it, nothing is recorded (-1). */
int store_capf_lsc_delivered(struct store *st, const char *phone, const uint8_t *lsc_der, size_t len,
			     const char *capf_sha256, const struct history_entry *h);

/* The phone confirmed storing the LSC: it is marked confirmed (recorded
 * if it was not yet), becomes the current LSC, the operation is cleared,
 * status "Upgrade Success", history appended, audit appended, claim freed:
 * all or nothing. With h->claim set, the claim must still be the phone's. */
int store_capf_complete_install(struct store *st, const char *phone, const uint8_t *lsc_der, size_t len,
				const char *capf_sha256, const struct history_entry *h);
/* The LSC is forgotten as current (stays in issued_certs), status "Delete Success". */
int store_capf_complete_delete(struct store *st, const char *phone, const struct history_entry *h);
/* Certificate(s) recorded as seen, status "Troubleshoot Success". der may be NULL. */
int store_capf_complete_troubleshoot(struct store *st, const char *phone, const char *kind,
				     const uint8_t *der, size_t len, const struct history_entry *h);
/* A failed or interrupted attempt: history appended (identical failures
 * coalesced: no audit row then); status set when `status` is not NULL;
 * when auth_failed, the failure counter of (phone, h->peer) is bumped and
 * after `max_failures` that source is locked out for `lockout_seconds`,
 * doubled with each further lockout (at most a day); last_contact set;
 * the session's claim (h->claim) freed. */
int store_capf_attempt_failed(struct store *st, const char *phone, const struct history_entry *h,
			      const char *status, int auth_failed, int max_failures, int lockout_seconds);

/* ---- CAPF certificates (current and previous) ---- */

struct capf_row {
	int64_t id;
	char state[12];          /* "current", "previous", "retired" */
	char key_file[128];      /* name inside keys/ */
	char sha256[80];
	int64_t created;
	uint8_t *der;
	size_t derlen;
};
void capf_row_free(struct capf_row *r);
int store_capf_current(struct store *st, struct capf_row *out);       /* 1 = none */
/* Add a new current CAPF certificate; the old current becomes "previous",
 * the old previous "retired". sha256 NULL or "": computed from der. */
int store_capf_add(struct store *st, const uint8_t *der, size_t len, const char *key_file, const char *sha256);
/* Newest first (der filled, valid during the call). */
int store_capf_each(struct store *st, int (*fn)(const struct capf_row *r, void *arg), void *arg);
/* The CAPF certificate with this fingerprint (der copied), 1 = none. */
int store_capf_find(struct store *st, const char *sha256, struct capf_row *out);
/* The previous CAPF certificate (der copied), 1 = none. */
int store_capf_previous(struct store *st, struct capf_row *out);
/* Mark a previous certificate retired (nothing is deleted). 0 done, 1 it
 * was already retired; -1 for the current one or an unknown fingerprint. */
int store_capf_retire(struct store *st, const char *sha256);

/* ---- trust stores ---- */

#define TRUST_CALLMANAGER "CallManager-trust"
#define TRUST_CAPF "CAPF-trust"
#define TRUST_MANUFACTURING "manufacturing"
#define TRUST_PHONE_VPN "phone-vpn-trust"
#define TRUST_8021X "802.1x"

int store_trust_create(struct store *st, const char *name, const char *description); /* 1 = already there */
/* 0 added, 1 already there. */
int store_trust_add(struct store *st, const char *store_name, const uint8_t *der, size_t len,
		    const char *sha256, const char *subject, const char *note);
int store_trust_remove(struct store *st, const char *store_name, const char *sha256); /* 1 = absent */
/* Each certificate of a store (der filled), in the order added; 1 = no such store. */
int store_trust_each(struct store *st, const char *store_name,
		     int (*fn)(const struct cert_row *r, void *arg), void *arg);
int store_trust_names(struct store *st, int (*fn)(const char *name, const char *desc, void *arg), void *arg);
/* Number of certificates in a store (0 for an unknown one), -1 on error. */
int store_trust_count(struct store *st, const char *store_name);
/* The stores holding the certificate, by name. */
int store_trust_stores_of(struct store *st, const char *sha256,
			  int (*fn)(const char *store_name, void *arg), void *arg);
/* Set the note of the certificate in every store that holds it. */
int store_trust_set_note(struct store *st, const char *sha256, const char *note);
/* Remove the certificate from every store; *removed (may be NULL) counts stores. */
int store_trust_remove_everywhere(struct store *st, const char *sha256, int *removed);

/* ---- audit log (no secrets) ---- */

struct audit_entry {
	int64_t id;
	int64_t time;
	char actor[64];          /* "cli:root", "capf", "api:token-3" */
	char action[64];         /* "phone.add", "capf.session", "init" */
	char object[128];
	char detail[1024];       /* JSON: before/after, outcome */
};
int store_audit(struct store *st, const char *actor, const char *action, const char *object,
		const char *detail);
/* A JSON string value (quoted, escaped, truncated to fit) for audit details. */
void store_json_str(char *out, size_t outcap, const char *s);
/* Newest first; limit <= 0: all. */
int store_audit_each(struct store *st, int limit, int (*fn)(const struct audit_entry *e, void *arg), void *arg);

#endif
