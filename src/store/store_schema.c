/*
 * store_schema.c: the database schema, as a list of migrations.
 *
 * store_migrations[v - 1] turns a version v-1 database into version v; the
 * opener (store_db.c) runs the missing ones in one transaction and then sets
 * PRAGMA user_version. Rules for whoever adds version 2:
 *  - never edit a script that has shipped: append a new one;
 *  - bump STORE_SCHEMA_VERSION in store.h to the new length of the list;
 *  - a migration must not need user input, and must leave issued_certs
 *    rows untouched (the triggers below refuse UPDATE and DELETE).
 *
 * Enums are stored as their text names (auth_mode_name() etc.) with CHECK
 * constraints, so the database is readable with the sqlite3 shell and a bad
 * value cannot get in by a side door. Times are unix seconds (UTC).
 */
#include "store/store_internal.h"

static const char schema_v1[] =
	/* "OCAP": how store_open recognises its own databases. */
	"PRAGMA application_id = 1329807696;\n"

	"CREATE TABLE settings (\n"
	"  key   TEXT PRIMARY KEY NOT NULL,\n"
	"  value TEXT NOT NULL\n"
	");\n"

	"CREATE TABLE phones (\n"
	"  name          TEXT PRIMARY KEY NOT NULL CHECK (length(name) BETWEEN 1 AND 63),\n"
	"  model         TEXT NOT NULL DEFAULT '' CHECK (length(model) < 32),\n"
	"  description   TEXT NOT NULL DEFAULT '' CHECK (length(description) < 128),\n"
	"  auth_mode     TEXT NOT NULL DEFAULT 'null'\n"
	"                CHECK (auth_mode IN ('null', 'string', 'lsc-first', 'mic-first')),\n"
	"  auth_string   TEXT NOT NULL DEFAULT '' CHECK (length(auth_string) <= 32),\n"
	"  key_order     TEXT NOT NULL DEFAULT 'rsa' CHECK (key_order IN ('rsa', 'ec', 'ec-rsa')),\n"
	"  rsa_bits      INTEGER NOT NULL DEFAULT 2048 CHECK (rsa_bits BETWEEN 512 AND 4096),\n"
	"  ec_bits       INTEGER NOT NULL DEFAULT 256 CHECK (ec_bits IN (256, 384, 521)),\n"
	"  operation     TEXT NOT NULL DEFAULT 'none'\n"
	"                CHECK (operation IN ('none', 'install', 'delete', 'troubleshoot')),\n"
	"  deadline      INTEGER NOT NULL DEFAULT 0,\n"
	"  status        TEXT NOT NULL DEFAULT '' CHECK (length(status) < 128),\n"
	"  auth_failures INTEGER NOT NULL DEFAULT 0 CHECK (auth_failures >= 0),\n"
	"  locked_until  INTEGER NOT NULL DEFAULT 0,\n"
	"  last_contact  INTEGER NOT NULL DEFAULT 0,\n"
	"  created       INTEGER NOT NULL,\n"
	"  updated       INTEGER NOT NULL\n"
	");\n"

	/* Every CAPF session about a known phone. */
	"CREATE TABLE phone_history (\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  phone     TEXT NOT NULL REFERENCES phones (name) ON DELETE CASCADE,\n"
	"  time      INTEGER NOT NULL,\n"
	"  peer      TEXT NOT NULL DEFAULT '',\n"
	"  operation TEXT NOT NULL DEFAULT '',\n"
	"  auth_mode TEXT NOT NULL DEFAULT '',\n"
	"  outcome   TEXT NOT NULL DEFAULT '',\n"
	"  reason    TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE INDEX phone_history_phone_time ON phone_history (phone, time);\n"

	/* Every LSC ever issued. No foreign key to phones on purpose: the
	 * record outlives the phone's configuration. */
	"CREATE TABLE issued_certs (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  phone         TEXT NOT NULL,\n"
	"  serial        TEXT NOT NULL,\n"
	"  subject       TEXT NOT NULL,\n"
	"  issuer        TEXT NOT NULL,\n"
	"  not_before    INTEGER NOT NULL,\n"
	"  not_after     INTEGER NOT NULL,\n"
	"  sha256        TEXT NOT NULL UNIQUE,\n"
	"  issuer_sha256 TEXT NOT NULL DEFAULT '',\n"
	"  time          INTEGER NOT NULL,\n"
	"  der           BLOB NOT NULL\n"
	");\n"
	"CREATE INDEX issued_certs_phone ON issued_certs (phone, id);\n"
	"CREATE INDEX issued_certs_serial ON issued_certs (serial);\n"
	"CREATE TRIGGER issued_certs_no_update BEFORE UPDATE ON issued_certs\n"
	"BEGIN SELECT RAISE(ABORT, 'issued certificates are permanent'); END;\n"
	"CREATE TRIGGER issued_certs_no_delete BEFORE DELETE ON issued_certs\n"
	"BEGIN SELECT RAISE(ABORT, 'issued certificates are permanent'); END;\n"

	/* The phone's current LSC and last seen MIC: one row per phone and kind.
	 * source 'issued': we installed it (also when a seen certificate is one
	 * of ours); 'seen': the phone presented it. */
	"CREATE TABLE phone_certs (\n"
	"  phone         TEXT NOT NULL REFERENCES phones (name) ON DELETE CASCADE,\n"
	"  kind          TEXT NOT NULL CHECK (kind IN ('lsc', 'mic')),\n"
	"  source        TEXT NOT NULL CHECK (source IN ('issued', 'seen')),\n"
	"  serial        TEXT NOT NULL,\n"
	"  subject       TEXT NOT NULL,\n"
	"  issuer        TEXT NOT NULL,\n"
	"  not_before    INTEGER NOT NULL,\n"
	"  not_after     INTEGER NOT NULL,\n"
	"  sha256        TEXT NOT NULL,\n"
	"  issuer_sha256 TEXT NOT NULL DEFAULT '',\n"
	"  time          INTEGER NOT NULL,\n"
	"  der           BLOB NOT NULL,\n"
	"  PRIMARY KEY (phone, kind)\n"
	");\n"

	/* Distinct certificates each phone presented, with first and last sight. */
	"CREATE TABLE seen_certs (\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  phone      TEXT NOT NULL REFERENCES phones (name) ON DELETE CASCADE,\n"
	"  kind       TEXT NOT NULL CHECK (kind IN ('lsc', 'mic')),\n"
	"  sha256     TEXT NOT NULL,\n"
	"  first_seen INTEGER NOT NULL,\n"
	"  time       INTEGER NOT NULL,\n"
	"  count      INTEGER NOT NULL DEFAULT 1,\n"
	"  der        BLOB NOT NULL,\n"
	"  UNIQUE (phone, kind, sha256)\n"
	");\n"

	"CREATE TABLE capf_certs (\n"
	"  id       INTEGER PRIMARY KEY,\n"
	"  state    TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),\n"
	"  key_file TEXT NOT NULL CHECK (length(key_file) BETWEEN 1 AND 127 AND instr(key_file, '/') = 0),\n"
	"  sha256   TEXT NOT NULL UNIQUE,\n"
	"  created  INTEGER NOT NULL,\n"
	"  der      BLOB NOT NULL\n"
	");\n"
	"CREATE UNIQUE INDEX capf_certs_one_current ON capf_certs (state) WHERE state = 'current';\n"
	"CREATE UNIQUE INDEX capf_certs_one_previous ON capf_certs (state) WHERE state = 'previous';\n"

	"CREATE TABLE trust_stores (\n"
	"  name        TEXT PRIMARY KEY NOT NULL,\n"
	"  description TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE TABLE trust_certs (\n"
	"  store      TEXT NOT NULL REFERENCES trust_stores (name) ON DELETE CASCADE,\n"
	"  sha256     TEXT NOT NULL,\n"
	"  subject    TEXT NOT NULL,\n"
	"  issuer     TEXT NOT NULL DEFAULT '',\n"
	"  serial     TEXT NOT NULL DEFAULT '',\n"
	"  not_before INTEGER NOT NULL DEFAULT 0,\n"
	"  not_after  INTEGER NOT NULL DEFAULT 0,\n"
	"  der        BLOB NOT NULL,\n"
	"  note       TEXT NOT NULL DEFAULT '',\n"
	"  added      INTEGER NOT NULL,\n"
	"  PRIMARY KEY (store, sha256)\n"
	");\n"

	/* Append-only: no UPDATE (and, from version 5, no DELETE). */
	"CREATE TABLE audit_log (\n"
	"  id     INTEGER PRIMARY KEY,\n"
	"  time   INTEGER NOT NULL,\n"
	"  actor  TEXT NOT NULL,\n"
	"  action TEXT NOT NULL,\n"
	"  object TEXT NOT NULL DEFAULT '',\n"
	"  detail TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log\n"
	"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n";

/* Version 2 (TVS, ITL): the certificates the Trust Verification Service
 * vouches for, and the service certificates of the state other than CAPF's.
 *  - tvs_certs: one row per certificate (SHA-256 of its DER), with the roles
 *    TVS answers (comma-separated decimal ids in ascending order, e.g.
 *    "1,4" for CCM and CAPF) and the TTL phones may cache the answer for
 *    (NULL: the daemon's [tvs] ttl). source 'service' marks the rows opencapf
 *    keeps in step with its own CAPF, TVS and TFTP certificates; 'admin' the
 *    ones added with `opencapf tvs add`.
 *  - service_certs: the current SAST/TFTP signer ('sast') and TVS ('tvs')
 *    certificates, their key files in keys/. */
static const char schema_v2[] =
	"CREATE TABLE tvs_certs (\n"
	"  sha256     TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),\n"
	"  subject    TEXT NOT NULL,\n"
	"  issuer     TEXT NOT NULL DEFAULT '',\n"
	"  serial     TEXT NOT NULL DEFAULT '',\n"
	"  not_before INTEGER NOT NULL DEFAULT 0,\n"
	"  not_after  INTEGER NOT NULL DEFAULT 0,\n"
	"  roles      TEXT NOT NULL CHECK (length(roles) BETWEEN 1 AND 255),\n"
	"  ttl        INTEGER CHECK (ttl IS NULL OR ttl BETWEEN 0 AND 4294967295),\n"
	"  source     TEXT NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'service')),\n"
	"  note       TEXT NOT NULL DEFAULT '',\n"
	"  added      INTEGER NOT NULL,\n"
	"  der        BLOB NOT NULL\n"
	");\n"

	"CREATE TABLE service_certs (\n"
	"  name     TEXT PRIMARY KEY NOT NULL CHECK (name IN ('sast', 'tvs')),\n"
	"  key_file TEXT NOT NULL CHECK (length(key_file) BETWEEN 1 AND 127 AND instr(key_file, '/') = 0),\n"
	"  sha256   TEXT NOT NULL,\n"
	"  created  INTEGER NOT NULL,\n"
	"  der      BLOB NOT NULL\n"
	");\n";

/* Version 3: the registration TLS check (store_register.h).
 *  - register_log: one row per TLS connection to the registration check
 *    listener: which certificate the phone presented (kind by the rules of
 *    src/diag/classify.h and the rule that matched), whether CallManager-trust
 *    accepted it, and the TLS alert sent when not. No foreign key to phones:
 *    a refused phone may be one this state does not know. The daemon prunes
 *    old rows itself (store_register_add keeps the newest 100000). */
static const char schema_v3[] =
	"CREATE TABLE register_log (\n"
	"  id          INTEGER PRIMARY KEY,\n"
	"  time        INTEGER NOT NULL,\n"
	"  peer        TEXT NOT NULL DEFAULT '',\n"
	"  phone       TEXT NOT NULL DEFAULT '',\n"
	"  cert_kind   TEXT NOT NULL CHECK (cert_kind IN ('lsc', 'mic', 'unknown', 'none')),\n"
	"  rule        TEXT NOT NULL DEFAULT '',\n"
	"  subject     TEXT NOT NULL DEFAULT '',\n"
	"  issuer      TEXT NOT NULL DEFAULT '',\n"
	"  serial      TEXT NOT NULL DEFAULT '',\n"
	"  sha256      TEXT NOT NULL DEFAULT '',\n"
	"  result      TEXT NOT NULL CHECK (result IN ('accepted', 'refused', 'failed')),\n"
	"  alert       TEXT NOT NULL DEFAULT '',\n"
	"  reason      TEXT NOT NULL DEFAULT '',\n"
	"  tls_version TEXT NOT NULL DEFAULT '',\n"
	"  cipher      TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE INDEX register_log_phone ON register_log (phone, id);\n";

/* Version 4 (admin API): who may use the HTTP API (store_api.h).
 *  - api_tokens: one row per token created with `opencapf token create`;
 *    hash is the SHA-256 (hex) of the whole token text, never the token;
 *    a revoked token stays listed and is never valid again.
 *  - api_sessions: browser sessions opened with a token on the login page;
 *    hash is the SHA-256 of the cookie value; they end with their token.
 *  - login_failures: one row per failed login (client address, time), for
 *    rate limiting; rows older than a day are pruned as new ones come. */
static const char schema_v4[] =
	"CREATE TABLE api_tokens (\n"
	"  id        INTEGER PRIMARY KEY,\n"
	"  hash      TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),\n"
	"  role      TEXT NOT NULL CHECK (role IN ('admin', 'read')),\n"
	"  label     TEXT NOT NULL DEFAULT '' CHECK (length(label) < 128),\n"
	"  created   INTEGER NOT NULL,\n"
	"  last_used INTEGER NOT NULL DEFAULT 0,\n"
	"  revoked   INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))\n"
	");\n"

	"CREATE TABLE api_sessions (\n"
	"  id       INTEGER PRIMARY KEY,\n"
	"  hash     TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),\n"
	"  token_id INTEGER NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,\n"
	"  created  INTEGER NOT NULL,\n"
	"  expires  INTEGER NOT NULL,\n"
	"  peer     TEXT NOT NULL DEFAULT ''\n"
	");\n"
	"CREATE INDEX api_sessions_token ON api_sessions (token_id);\n"

	"CREATE TABLE login_failures (\n"
	"  id     INTEGER PRIMARY KEY,\n"
	"  source TEXT NOT NULL,\n"
	"  time   INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX login_failures_source_time ON login_failures (source, time);\n";

/* Version 5 (CA invariants).
 *  - issued_certs.status: 'delivered' from the moment an LSC is recorded,
 *    before it is sent to the phone; 'confirmed' once the phone said it
 *    stored it (then it is the phone's current LSC in phone_certs). Rows of
 *    earlier versions were recorded after confirmation. The only change an
 *    issued certificate may ever see is delivered -> confirmed; the trigger
 *    refuses every other UPDATE, and every DELETE as before.
 *  - phones.op_claim / op_claim_until: the CAPF session that owns the
 *    phone's pending operation ("<node>/<random>"), so that one operation
 *    yields one certificate; a claim past op_claim_until is free again, and
 *    a daemon frees its own node's claims when it starts.
 *  - phone_history and register_log coalesce repeated identical failures:
 *    count and first_time (time is the latest).
 *  - auth_lockouts: string-authentication failures and lockouts per phone
 *    and source address, so that an attacker locks out only itself.
 *  - the audit log refuses DELETE as it refuses UPDATE. */
static const char schema_v5[] =
	"ALTER TABLE issued_certs ADD COLUMN status TEXT NOT NULL DEFAULT 'confirmed'\n"
	"  CHECK (status IN ('delivered', 'confirmed'));\n"
	"DROP TRIGGER issued_certs_no_update;\n"
	"CREATE TRIGGER issued_certs_no_update BEFORE UPDATE ON issued_certs\n"
	"WHEN NOT (OLD.status = 'delivered' AND NEW.status = 'confirmed' AND NEW.id IS OLD.id\n"
	"  AND NEW.phone IS OLD.phone AND NEW.serial IS OLD.serial AND NEW.subject IS OLD.subject\n"
	"  AND NEW.issuer IS OLD.issuer AND NEW.not_before IS OLD.not_before\n"
	"  AND NEW.not_after IS OLD.not_after AND NEW.sha256 IS OLD.sha256\n"
	"  AND NEW.issuer_sha256 IS OLD.issuer_sha256 AND NEW.time IS OLD.time AND NEW.der IS OLD.der)\n"
	"BEGIN SELECT RAISE(ABORT, 'issued certificates are permanent'); END;\n"

	"ALTER TABLE phones ADD COLUMN op_claim TEXT NOT NULL DEFAULT '';\n"
	"ALTER TABLE phones ADD COLUMN op_claim_until INTEGER NOT NULL DEFAULT 0;\n"

	"ALTER TABLE phone_history ADD COLUMN count INTEGER NOT NULL DEFAULT 1;\n"
	"ALTER TABLE phone_history ADD COLUMN first_time INTEGER NOT NULL DEFAULT 0;\n"
	"CREATE INDEX phone_history_phone_id ON phone_history (phone, id);\n"
	"ALTER TABLE register_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1;\n"
	"ALTER TABLE register_log ADD COLUMN first_time INTEGER NOT NULL DEFAULT 0;\n"
	"CREATE INDEX register_log_peer ON register_log (peer, id);\n"
	"CREATE INDEX register_log_result ON register_log (result, id);\n"

	"CREATE TABLE auth_lockouts (\n"
	"  phone        TEXT NOT NULL REFERENCES phones (name) ON DELETE CASCADE,\n"
	"  source       TEXT NOT NULL,\n"
	"  failures     INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),\n"
	"  lockouts     INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),\n"
	"  locked_until INTEGER NOT NULL DEFAULT 0,\n"
	"  time         INTEGER NOT NULL,\n"
	"  PRIMARY KEY (phone, source)\n"
	");\n"

	"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log\n"
	"BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;\n";

/* Version 6 (revocation).
 *  - revocations: one row per revoked LSC (serial as in issued_certs, the
 *    SHA-256 of the CAPF certificate that issued it, the phone it was issued
 *    to, when, and the RFC 5280 CRLReason code). Permanent like
 *    issued_certs: the triggers refuse UPDATE and DELETE.
 *  - crl_state: per CAPF certificate, the number of the last CRL signed and
 *    the newest revocation it covered, with its thisUpdate/nextUpdate. */
static const char schema_v6[] =
	"CREATE TABLE revocations (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  serial        TEXT NOT NULL CHECK (length(serial) BETWEEN 1 AND 129),\n"
	"  issuer_sha256 TEXT NOT NULL CHECK (length(issuer_sha256) = 64),\n"
	"  phone         TEXT NOT NULL DEFAULT '',\n"
	"  time          INTEGER NOT NULL,\n"
	"  reason        INTEGER NOT NULL CHECK (reason IN (0, 1, 3, 4, 5)),\n"
	"  UNIQUE (issuer_sha256, serial)\n"
	");\n"
	"CREATE INDEX revocations_phone ON revocations (phone);\n"
	"CREATE TRIGGER revocations_no_update BEFORE UPDATE ON revocations\n"
	"BEGIN SELECT RAISE(ABORT, 'revocations are permanent'); END;\n"
	"CREATE TRIGGER revocations_no_delete BEFORE DELETE ON revocations\n"
	"BEGIN SELECT RAISE(ABORT, 'revocations are permanent'); END;\n"

	"CREATE TABLE crl_state (\n"
	"  capf_sha256     TEXT PRIMARY KEY NOT NULL CHECK (length(capf_sha256) = 64),\n"
	"  number          INTEGER NOT NULL CHECK (number >= 1),\n"
	"  last_revocation INTEGER NOT NULL DEFAULT 0,\n"
	"  this_update     INTEGER NOT NULL DEFAULT 0,\n"
	"  next_update     INTEGER NOT NULL DEFAULT 0\n"
	");\n";

const char *const store_migrations[] = {
	schema_v1,
	schema_v2,
	schema_v3,
	schema_v4,
	schema_v5,
	schema_v6,
};

const int store_migration_count = (int)(sizeof store_migrations / sizeof store_migrations[0]);

_Static_assert(sizeof store_migrations / sizeof store_migrations[0] == STORE_SCHEMA_VERSION,
	       "STORE_SCHEMA_VERSION must equal the number of migrations");
