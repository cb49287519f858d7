/*
 * capf_lifecycle.c: the CAPF certificate after init: regenerating it,
 * having an outside CA sign it (CSR, import), and retiring the previous one
 * once no phone depends on it (phone-certificates.md §5 and §6).
 *
 * Invariants:
 *  - Old LSCs stay signed by the old CAPF key, so the certificate being
 *    replaced stays in every trust store it was in, noted "previous", until
 *    it is retired; retiring is refused while phones still hold LSCs issued
 *    under it (their issuer_sha256), unless forced, and a forced retirement
 *    is in the audit log with the number of phones left behind.
 *  - Private keys are never deleted nor printed. A new key is written
 *    (0600, under a name no other file has) before any row names it.
 *  - Every change is one transaction: CAPF rows, trust stores, settings and
 *    the audit row, all or nothing. Files outside the database (DIR/certs,
 *    the ITL) follow the commit and cannot undo it; their failures are
 *    reported, not fatal.
 *  - The daemon is not told: it watches the current CAPF fingerprint
 *    (net/capf_listener.c) and switches by itself.
 */
#include "admin/capf_lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/itl_file.h"
#include "capf/trust_load.h"
#include "admin/trust_usage.h"
#include "common/util.h"

#define CSR_KEY_SETTING "capf_csr_key"
#define NOTE_CURRENT "CAPF certificate"
#define NOTE_PREVIOUS "CAPF certificate (previous)"
#define NOTE_CHAIN "CAPF issuing CA"
#define DEFAULT_DAYS 1825
#define MAX_STORES 32

/* ---- the phones that still hold LSCs from a CAPF certificate ---- */

struct holders {
	int n;
	char *text;
	size_t cap;
};

static int add_holder(const struct cert_row *r, void *arg)
{
	struct holders *h = arg;
	size_t used = strlen(h->text);

	if (h->n < CAPF_CHANGE_NAMES && used < h->cap)
		snprintf(h->text + used, h->cap - used, "%s%s", h->n ? ", " : "", r->phone);
	h->n++;
	return 0;
}

int capf_ca_lsc_holders(struct store *st, const char *capf_sha256, char *text, size_t textcap)
{
	char names[CAPF_CHANGE_NAMES * 66 + 8] = "";
	struct holders h = { 0, names, sizeof names };

	if (store_lsc_by_capf_each(st, capf_sha256, add_holder, &h) != 0)
		return -1;
	if (text && textcap)
		snprintf(text, textcap, "%d phone%s%s%s%s%s", h.n, h.n == 1 ? "" : "s", h.n ? " (" : "", names,
			 h.n > CAPF_CHANGE_NAMES ? ", ..." : "", h.n ? ")" : "");
	return h.n;
}

/* ---- keys and public files ---- */

/* Save `key` as keys/capf-N.key for the first N no file has yet. */
static int save_new_key(struct store *st, EVP_PKEY *key, char *name, size_t namecap, char *err, size_t errlen)
{
	char path[4200];

	for (int n = 1; n < 100000; n++) {
		snprintf(name, namecap, "capf-%d.key", n);
		if (store_key_path(st, name, path, sizeof path) < 0) {
			seterr(err, errlen, "the state path is too long");
			return -1;
		}
		if (access(path, F_OK) == 0)
			continue;
		if (errno != ENOENT) {
			seterr(err, errlen, "cannot check %s: %s", path, strerror(errno));
			return -1;
		}
		return pki_key_save(path, key, err, errlen);
	}
	seterr(err, errlen, "no free CAPF key file name in keys/");
	return -1;
}

/* DIR/certs/capf.pem (the current certificate) and capf-<fingerprint>.pem
 * (every CAPF certificate this state had, never removed). */
static void save_pems(struct store *st, X509 *cert, const char *sha256, struct capf_change *out)
{
	char path[4200], name[64];

	snprintf(name, sizeof name, "certs/capf-%.16s.pem", sha256);
	if (path_join(path, sizeof path, store_dir(st), name) < 0 ||
	    pki_cert_save_pem(path, cert, out->files_err, sizeof out->files_err) < 0 ||
	    path_join(path, sizeof path, store_dir(st), "certs/capf.pem") < 0 ||
	    pki_cert_save_pem(path, cert, out->files_err, sizeof out->files_err) < 0) {
		if (!out->files_err[0])
			seterr(out->files_err, sizeof out->files_err, "the state path is too long");
	}
}

static void publish_itl(struct store *st, int *published, char *err, size_t errlen)
{
	*published = itl_publish_from_state(st, err, errlen) == 0;
}

/* ---- trust stores ---- */

struct store_list {
	int n;
	char names[MAX_STORES][64];
};

static int list_add(const char *name, void *arg)
{
	struct store_list *l = arg;

	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return 0;
	if (l->n < MAX_STORES)
		snprintf(l->names[l->n++], sizeof l->names[0], "%s", name);
	return 0;
}

/* Add cert to every store of the list; *added counts new placements. */
static int place(struct store *st, const struct store_list *l, X509 *cert, const char *note, int *added,
		 char *err, size_t errlen)
{
	struct pki_cert_info info;
	uint8_t *der = NULL;
	size_t len;
	int rc = 0;

	if (pki_cert_info(cert, &info) < 0 || pki_cert_to_der(cert, &der, &len) < 0) {
		seterr(err, errlen, "cannot encode a certificate for the trust stores");
		return -1;
	}
	for (int i = 0; i < l->n && rc >= 0; i++) {
		rc = store_trust_add(st, l->names[i], der, len, info.sha256, info.subject, note);
		if (rc == 0 && added)
			(*added)++;
	}
	OPENSSL_free(der);
	if (rc < 0)
		seterr(err, errlen, "cannot add %s to the trust stores: %s", info.subject, store_errmsg(st));
	return rc < 0 ? -1 : 0;
}

/* ---- retiring (inside the caller's transaction) ---- */

static int retire_locked(struct store *st, const struct capf_row *row, const char *cn, int force,
			 const char *actor, struct capf_retire_result *out, char *err, size_t errlen)
{
	char holders[CAPF_CHANGE_NAMES * 66 + 64], jcn[300], detail[700];
	int n = capf_ca_lsc_holders(st, row->sha256, holders, sizeof holders);

	memset(out, 0, sizeof *out);
	snprintf(out->cn, sizeof out->cn, "%s", cn);
	snprintf(out->sha256, sizeof out->sha256, "%s", row->sha256);
	if (n < 0)
		goto dberr;
	if (n > 0 && !force) {
		seterr(err, errlen, "%s still anchors the LSCs of %s: run 'opencapf capf rollover schedule' "
				    "and let them re-enroll first, or use --force", cn, holders);
		return -1;
	}
	out->lsc_phones = n;
	out->forced = n > 0;
	if (store_trust_remove_everywhere(st, row->sha256, &out->stores) < 0 ||
	    store_capf_retire(st, row->sha256) < 0)
		goto dberr;
	store_json_str(jcn, sizeof jcn, cn);
	snprintf(detail, sizeof detail, "{\"capf\":%s,\"sha256\":\"%s\",\"forced\":%s,\"lsc_phones\":%d,"
		 "\"stores\":%d}", jcn, row->sha256, out->forced ? "true" : "false", n, out->stores);
	if (store_audit(st, actor, out->forced ? "capf.retire.forced" : "capf.retire", cn, detail) < 0)
		goto dberr;
	return 0;
dberr:
	seterr(err, errlen, "cannot retire %s: %s", cn, store_errmsg(st));
	return -1;
}

static int row_cn(const struct capf_row *row, char *cn, size_t cap)
{
	char err[ERRLEN];
	struct pki_cert_info info;
	X509 *x = pki_cert_from_der(row->der, row->derlen, err, sizeof err);

	snprintf(cn, cap, "%.16s", row->sha256);
	if (!x)
		return -1;
	if (pki_cert_info(x, &info) == 0 && info.cn[0])
		snprintf(cn, cap, "%s", info.cn);
	X509_free(x);
	return 0;
}

/* ---- making a certificate the current one ---- */

struct new_current {
	X509 *cert;
	const char *key_file;
	STACK_OF(X509) *chain;      /* may be NULL */
	int force;
	const char *actor;
	const char *action;         /* "capf.regenerate", "capf.import" */
	int clear_csr_key;
};

/* The older previous certificate makes room (one previous at a time). */
static int retire_older(struct store *st, const struct new_current *nc, struct capf_change *out,
			char *err, size_t errlen)
{
	struct capf_retire_result rr;
	struct capf_row prev;
	char cn[128];
	int rc = store_capf_previous(st, &prev);

	if (rc != 0) {
		if (rc < 0)
			seterr(err, errlen, "%s", store_errmsg(st));
		return rc < 0 ? -1 : 0;
	}
	row_cn(&prev, cn, sizeof cn);
	rc = retire_locked(st, &prev, cn, nc->force, nc->actor, &rr, err, errlen);
	if (rc < 0 && !nc->force && strlen(err) + 1 < errlen)
		seterr(err + strlen(err), errlen - strlen(err),
		       " (a state keeps one previous CAPF certificate: replacing the current one retires %s)", cn);
	capf_row_free(&prev);
	if (rc == 0) {
		snprintf(out->retired_cn, sizeof out->retired_cn, "%s", rr.cn);
		snprintf(out->retired_sha256, sizeof out->retired_sha256, "%s", rr.sha256);
		out->retired_lsc_phones = rr.lsc_phones;
	}
	return rc;
}

/* Stores that hold the current certificate, plus the two every CAPF
 * certificate must be in (phone-certificates.md §2). */
static int target_stores(struct store *st, const char *old_sha256, struct store_list *l)
{
	memset(l, 0, sizeof *l);
	list_add(TRUST_CAPF, l);
	list_add(TRUST_CALLMANAGER, l);
	return store_trust_stores_of(st, old_sha256, list_add, l) == 0 ? 0 : -1;
}

static int audit_change(struct store *st, const struct new_current *nc, const struct capf_change *out)
{
	char jcn[300], jissuer[600], detail[1024];

	store_json_str(jcn, sizeof jcn, out->new_cn);
	store_json_str(jissuer, sizeof jissuer, out->new_issuer);
	snprintf(detail, sizeof detail, "{\"capf\":%s,\"sha256\":\"%s\",\"key\":\"%s\",\"issuer\":%s,"
		 "\"previous\":\"%s\",\"previous_lsc_phones\":%d,\"retired\":\"%s\",\"chain_added\":%d}",
		 jcn, out->new_sha256, out->new_key, jissuer, out->old_sha256, out->old_lsc_phones,
		 out->retired_sha256, out->chain_added);
	return store_audit(st, nc->actor, nc->action, out->new_cn, detail);
}

static int make_current_locked(struct store *st, const struct new_current *nc, struct capf_change *out,
			       char *err, size_t errlen)
{
	struct store_list stores;
	struct capf_row old;
	uint8_t *der = NULL;
	size_t len;
	int rc = -1;

	if (store_capf_current(st, &old) != 0) {
		seterr(err, errlen, "the state has no current CAPF certificate: %s", store_errmsg(st));
		return -1;
	}
	snprintf(out->old_sha256, sizeof out->old_sha256, "%s", old.sha256);
	row_cn(&old, out->old_cn, sizeof out->old_cn);
	if (retire_older(st, nc, out, err, errlen) < 0)
		goto out;
	if (target_stores(st, old.sha256, &stores) < 0 || pki_cert_to_der(nc->cert, &der, &len) < 0 ||
	    store_capf_add(st, der, len, nc->key_file, out->new_sha256) < 0)
		goto dberr;
	if (place(st, &stores, nc->cert, NOTE_CURRENT, NULL, err, errlen) < 0)
		goto out;
	for (int i = 0; nc->chain && i < sk_X509_num(nc->chain); i++)
		if (place(st, &stores, sk_X509_value(nc->chain, i), NOTE_CHAIN, &out->chain_added, err, errlen) < 0)
			goto out;
	if (store_trust_set_note(st, old.sha256, NOTE_PREVIOUS) < 0 ||
	    (nc->clear_csr_key && store_setting_set(st, CSR_KEY_SETTING, "") < 0) ||
	    (out->old_lsc_phones = store_lsc_by_capf_count(st, old.sha256)) < 0 ||
	    audit_change(st, nc, out) < 0)
		goto dberr;
	rc = 0;
	goto out;
dberr:
	seterr(err, errlen, "cannot record the new CAPF certificate: %s", store_errmsg(st));
out:
	OPENSSL_free(der);
	capf_row_free(&old);
	return rc;
}

static void describe_new(X509 *cert, struct capf_change *out)
{
	struct pki_cert_info info;

	pki_cert_info(cert, &info);
	snprintf(out->new_cn, sizeof out->new_cn, "%s", info.cn);
	snprintf(out->new_sha256, sizeof out->new_sha256, "%s", info.sha256);
	snprintf(out->new_key, sizeof out->new_key, "%s", info.key);
	snprintf(out->new_issuer, sizeof out->new_issuer, "%s", info.issuer);
	out->new_self_signed = info.self_signed;
	fmt_time_utc(info.not_after, out->new_not_after, sizeof out->new_not_after);
}

static int make_current(struct store *st, const struct new_current *nc, struct capf_change *out,
			char *err, size_t errlen)
{
	describe_new(nc->cert, out);
	if (store_begin(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		return -1;
	}
	if (make_current_locked(st, nc, out, err, errlen) < 0) {
		store_rollback(st);
		return -1;
	}
	if (store_commit(st) < 0) {
		seterr(err, errlen, "cannot commit the new CAPF certificate: %s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	save_pems(st, nc->cert, out->new_sha256, out);
	publish_itl(st, &out->itl_published, out->itl_err, sizeof out->itl_err);
	return 0;
}

/* ---- regenerate ---- */

/* Organisation fields and key of the current certificate. */
static int current_profile(struct store *st, struct pki_org *org, enum pki_key_kind *kind, int *bits,
			   char *err, size_t errlen)
{
	X509 *cur = NULL;

	if (capf_ca_load(st, &cur, NULL, err, errlen) < 0)
		return -1;
	pki_org_from_name(X509_get_subject_name(cur), org);
	if (pki_key_info(X509_get0_pubkey(cur), kind, bits) != 0) {
		*kind = PKI_KEY_RSA;
		*bits = 2048;
	}
	X509_free(cur);
	return 0;
}

int capf_ca_regenerate(struct store *st, const struct capf_regen_params *p, const char *actor,
		       struct capf_change *out, char *err, size_t errlen)
{
	struct new_current nc = { .force = p->force, .actor = actor, .action = "capf.regenerate" };
	enum pki_key_kind kind;
	struct pki_org org;
	EVP_PKEY *key = NULL;
	char key_file[64];
	int bits, rc = -1;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	if (current_profile(st, &org, &kind, &bits, err, errlen) < 0)
		return -1;
	if (p->bits > 0) {
		kind = p->kind;
		bits = p->bits;
	}
	if (!(key = pki_key_generate(kind, bits, err, errlen)) ||
	    !(nc.cert = pki_capf_cert_create(key, &org, p->days > 0 ? p->days : DEFAULT_DAYS, err, errlen)) ||
	    save_new_key(st, key, key_file, sizeof key_file, err, errlen) < 0)
		goto out;
	nc.key_file = key_file;
	rc = make_current(st, &nc, out, err, errlen);
out:
	X509_free(nc.cert);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- CSR ---- */

static int csr_new_key(struct store *st, enum pki_key_kind kind, int bits, const char *actor,
		       EVP_PKEY **key, X509_NAME **subject, char *err, size_t errlen)
{
	enum pki_key_kind cur_kind;
	struct pki_org org;
	char key_file[64], detail[200];
	int cur_bits;

	if (current_profile(st, &org, &cur_kind, &cur_bits, err, errlen) < 0)
		return -1;
	if (bits <= 0) {
		kind = cur_kind;
		bits = cur_bits;
	}
	if (!(*key = pki_key_generate(kind, bits, err, errlen)) ||
	    !(*subject = pki_capf_subject_new(&org, err, errlen)) ||
	    save_new_key(st, *key, key_file, sizeof key_file, err, errlen) < 0)
		return -1;
	snprintf(detail, sizeof detail, "{\"new_key\":true,\"key_file\":\"%s\"}", key_file);
	if (store_begin(st) < 0 || store_setting_set(st, CSR_KEY_SETTING, key_file) < 0 ||
	    store_audit(st, actor, "capf.csr", "new key", detail) < 0 || store_commit(st) < 0) {
		seterr(err, errlen, "cannot record the CSR key: %s", store_errmsg(st));
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int csr_current_key(struct store *st, const char *actor, EVP_PKEY **key, X509_NAME **subject,
			   char *err, size_t errlen)
{
	X509 *cur = NULL;
	int rc = 0;

	if (capf_ca_load(st, &cur, key, err, errlen) < 0)
		return -1;
	if (!(*subject = X509_NAME_dup(X509_get_subject_name(cur)))) {
		seterr(err, errlen, "out of memory");
		rc = -1;
	} else if (store_audit(st, actor, "capf.csr", "current key", "{\"new_key\":false}") < 0) {
		seterr(err, errlen, "cannot write the audit log: %s", store_errmsg(st));
		rc = -1;
	}
	X509_free(cur);
	return rc;
}

int capf_ca_csr(struct store *st, int new_key, enum pki_key_kind kind, int bits, const char *actor,
		char **pem, size_t *pemlen, char *subject, size_t subjectcap, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	int rc = -1;

	*pem = NULL;
	err[0] = '\0';
	if ((new_key ? csr_new_key(st, kind, bits, actor, &key, &name, err, errlen)
		     : csr_current_key(st, actor, &key, &name, err, errlen)) < 0)
		goto out;
	if (!(req = pki_capf_csr_create(key, name, err, errlen)))
		goto out;
	if (pki_csr_to_pem(req, pem, pemlen) < 0) {
		seterr(err, errlen, "cannot encode the certificate signing request");
		goto out;
	}
	if (subject && subjectcap)
		pki_name_text(name, PKI_NAME_RFC4514, subject, subjectcap);
	rc = 0;
out:
	X509_REQ_free(req);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return rc;
}

/* ---- import ---- */

/* Which key file the certificate is for: the current key, or the pending
 * CSR key. *pending says which. */
static int import_key_file(struct store *st, X509 *cert, char *key_file, size_t cap, int *pending,
			   char *err, size_t errlen)
{
	struct capf_row cur;
	char path[4200];
	EVP_PKEY *key;
	int match = 0;

	*pending = 0;
	if (store_capf_current(st, &cur) != 0) {
		seterr(err, errlen, "the state has no current CAPF certificate");
		return -1;
	}
	snprintf(key_file, cap, "%s", cur.key_file);
	capf_row_free(&cur);
	for (int i = 0; i < 2 && !match; i++) {
		if (i == 1 && (store_setting_get(st, CSR_KEY_SETTING, key_file, cap) != 0 || !key_file[0]))
			break;
		if (store_key_path(st, key_file, path, sizeof path) < 0 || !(key = pki_key_load(path, err, errlen)))
			return -1;
		match = pki_cert_key_match(cert, key);
		EVP_PKEY_free(key);
		*pending = i == 1;
	}
	if (!match)
		seterr(err, errlen, "the certificate is not for a CAPF key of this state: its public key matches "
				    "neither the current CAPF key nor the key of 'opencapf capf csr --new-key'");
	return match ? 0 : -1;
}

/* The certificate must chain to the given issuers, or to CAPF-trust. */
static int import_check_chain(struct store *st, X509 *cert, STACK_OF(X509) *chain, char *err, size_t errlen)
{
	STACK_OF(X509) *anchors = chain;
	struct pki_cert_info info;
	char why[ERRLEN];
	int rc;

	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		if (pki_cert_info(sk_X509_value(chain, i), &info) < 0 || !info.is_ca) {
			seterr(err, errlen, "chain certificate %d (%s) is not a CA certificate", i + 1, info.subject);
			return -1;
		}
	}
	pki_cert_info(cert, &info);
	if (info.self_signed && (!chain || sk_X509_num(chain) == 0))
		return 0;
	if (!chain || sk_X509_num(chain) == 0)
		anchors = trust_load_stack(st, TRUST_CAPF);
	rc = anchors ? pki_verify_chain(cert, anchors, 0, NULL, why, sizeof why) : -1;
	if (anchors != chain)
		sk_X509_pop_free(anchors, X509_free);
	if (rc < 0)
		seterr(err, errlen, "the certificate does not chain to %s (%s)%s",
		       chain && sk_X509_num(chain) ? "the certificates of --chain" : "CAPF-trust",
		       anchors ? why : "cannot read CAPF-trust",
		       chain && sk_X509_num(chain) ? "" : ": give the issuing CA certificates with --chain FILE");
	return rc;
}

static int import_check_new(struct store *st, X509 *cert, char *err, size_t errlen)
{
	struct pki_cert_info info;
	struct capf_row row;
	int rc;

	if (pki_capf_cert_check(cert, err, errlen) < 0)
		return -1;
	pki_cert_info(cert, &info);
	rc = store_capf_find(st, info.sha256, &row);
	if (rc == 0) {
		seterr(err, errlen, "this certificate already was a CAPF certificate of this state (%s)", row.state);
		capf_row_free(&row);
		return -1;
	}
	if (rc < 0)
		seterr(err, errlen, "%s", store_errmsg(st));
	return rc < 0 ? -1 : 0;
}

int capf_ca_import(struct store *st, X509 *cert, STACK_OF(X509) *chain, int force, const char *actor,
		   struct capf_change *out, char *err, size_t errlen)
{
	struct new_current nc = { .cert = cert, .chain = chain, .force = force, .actor = actor,
				  .action = "capf.import" };
	char key_file[128];

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	if (import_check_new(st, cert, err, errlen) < 0 ||
	    import_key_file(st, cert, key_file, sizeof key_file, &nc.clear_csr_key, err, errlen) < 0 ||
	    import_check_chain(st, cert, chain, err, errlen) < 0)
		return -1;
	nc.key_file = key_file;
	return make_current(st, &nc, out, err, errlen);
}

/* ---- retire ---- */

struct find_prefix {
	char want[80];
	int matches;
	struct capf_row row;
	int copy_failed;
};

static int match_prefix(const struct capf_row *r, void *arg)
{
	struct find_prefix *f = arg;

	if (strncmp(r->sha256, f->want, strlen(f->want)) != 0)
		return 0;
	if (f->matches++ == 0) {
		f->row = *r;
		f->row.der = malloc(r->derlen ? r->derlen : 1);
		if (!f->row.der)
			f->copy_failed = 1;
		else
			memcpy(f->row.der, r->der, r->derlen);
	}
	return 0;
}

static int find_to_retire(struct store *st, const char *sha256, struct capf_row *row, char *err, size_t errlen)
{
	struct find_prefix f = { .matches = 0 };
	int rc;

	if (!sha256 || !sha256[0]) {
		rc = store_capf_previous(st, row);
		if (rc > 0)
			seterr(err, errlen, "there is no previous CAPF certificate to retire");
		return rc == 0 ? 0 : -1;
	}
	if (trust_fp_normalize(sha256, f.want, sizeof f.want) < 0) {
		seterr(err, errlen, "'%s' is not a SHA-256 fingerprint (at least 8 hex digits)", sha256);
		return -1;
	}
	if (store_capf_each(st, match_prefix, &f) < 0 || f.copy_failed) {
		seterr(err, errlen, "cannot list CAPF certificates: %s", f.copy_failed ? "out of memory"
										       : store_errmsg(st));
		free(f.matches ? f.row.der : NULL);
		return -1;
	}
	if (f.matches != 1) {
		seterr(err, errlen, f.matches ? "fingerprint %s matches several CAPF certificates"
					      : "no CAPF certificate has fingerprint %s", sha256);
		free(f.matches ? f.row.der : NULL);
		return -1;
	}
	*row = f.row;
	return 0;
}

int capf_ca_retire(struct store *st, const char *sha256, int force, const char *actor,
		   struct capf_retire_result *out, char *err, size_t errlen)
{
	struct capf_row row;
	char cn[128];
	int rc = -1;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	if (find_to_retire(st, sha256, &row, err, errlen) < 0)
		return -1;
	row_cn(&row, cn, sizeof cn);
	if (strcmp(row.state, "previous") != 0) {
		seterr(err, errlen, !strcmp(row.state, "current")
			? "%s is the current CAPF certificate: regenerate or import another one first"
			: "%s is already retired", cn);
		goto out;
	}
	if (store_begin(st) < 0) {
		seterr(err, errlen, "%s", store_errmsg(st));
		goto out;
	}
	if (retire_locked(st, &row, cn, force, actor, out, err, errlen) < 0 || store_commit(st) < 0) {
		if (!err[0])
			seterr(err, errlen, "cannot commit: %s", store_errmsg(st));
		store_rollback(st);
		goto out;
	}
	publish_itl(st, &out->itl_published, out->itl_err, sizeof out->itl_err);
	rc = 0;
out:
	capf_row_free(&row);
	return rc;
}

void capf_import_split(STACK_OF(X509) *certs, X509 **cert, STACK_OF(X509) *chain)
{
	*cert = sk_X509_shift(certs);
	while (sk_X509_num(certs) > 0) {
		X509 *x = sk_X509_shift(certs);
		if (!sk_X509_push(chain, x))
			X509_free(x);
	}
	sk_X509_free(certs);
}

int capf_key_spec_parse(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen)
{
	char e[ERRLEN];

	if (pki_key_parse_spec(spec, kind, bits, e, sizeof e) < 0 || (*kind == PKI_KEY_RSA && *bits < 2048) ||
	    (*kind == PKI_KEY_EC && *bits > 384)) {
		seterr(err, errlen, "%s: the CAPF key must be rsa:2048, rsa:3072, rsa:4096, ec:p256 or ec:p384", spec);
		return -1;
	}
	return 0;
}
