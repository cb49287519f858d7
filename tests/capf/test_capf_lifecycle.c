/*
 * test_capf_lifecycle.c: the CAPF certificate's life (capf/capf_lifecycle.c)
 * and trust-store usage counts (capf/trust_usage.c) on real states in
 * temporary folders: regenerate keeps the previous certificate trusted and
 * its key on disk; one previous at a time, retired only when no phone holds
 * an LSC from it (or by force, audited); CSR with the CA extensions; import
 * refuses certificates phones would reject and certificates for other keys,
 * and places the issuing chain; usage follows chains through a store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/capf_lifecycle.h"
#include "admin/trust_usage.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"

struct fx {
	char tmp[64];
	char dir[128];
	struct store *st;
};

static int setup(void **state)
{
	struct capf_ca_params p = { .kind = PKI_KEY_EC, .bits = 256, .days = 365, .lsc_days = 365 };
	struct capf_ca_summary sum;
	struct fx *f = calloc(1, sizeof *f);
	char err[ERRLEN];

	assert_non_null(f);
	snprintf(f->tmp, sizeof f->tmp, "/tmp/opencapf-lifecycle.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->dir, sizeof f->dir, "%s/state", f->tmp);
	snprintf(p.org.o, sizeof p.org.o, "Example");
	snprintf(p.org.c, sizeof p.org.c, "NZ");
	assert_int_equal(capf_ca_create_state(f->dir, &p, "test", &sum, err, sizeof err), 0);
	assert_int_equal(store_open(f->dir, STORE_OPEN_EXISTING, &f->st, err, sizeof err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	remove_tree(f->tmp);
	free(f);
	return 0;
}

static void current_sha(struct store *st, char out[80])
{
	struct capf_row r;

	assert_int_equal(store_capf_current(st, &r), 0);
	snprintf(out, 80, "%s", r.sha256);
	capf_row_free(&r);
}

/* An LSC for `name` from the current CAPF certificate, recorded as installed. */
static void install_lsc(struct store *st, const char *name)
{
	struct phone p;
	struct signer *s;
	EVP_PKEY *k;
	X509 *lsc;
	uint8_t *der = NULL;
	size_t len;
	char err[ERRLEN], sha[80];

	if (store_phone_get(st, name, &p) == 1) {
		phone_defaults(&p, name);
		assert_int_equal(store_phone_insert(st, &p), 0);
	}
	assert_non_null(s = capf_ca_signer(st, err, sizeof err));
	assert_non_null(k = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err));
	assert_non_null(lsc = pki_lsc_issue(s, name, k, 30, err, sizeof err));
	assert_int_equal(pki_cert_to_der(lsc, &der, &len), 0);
	current_sha(st, sha);
	assert_int_equal(store_capf_complete_install(st, name, der, len, sha, NULL), 0);
	OPENSSL_free(der);
	X509_free(lsc);
	EVP_PKEY_free(k);
	signer_free(s);
}

struct note_find {
	const char *sha;
	char note[128];
	int found;
};

static int find_note(const struct cert_row *r, void *arg)
{
	struct note_find *n = arg;

	if (!strcmp(r->sha256, n->sha)) {
		n->found = 1;
		snprintf(n->note, sizeof n->note, "%s", r->note);
	}
	return 0;
}

static int in_store(struct store *st, const char *store_name, const char *sha, char *note)
{
	struct note_find n = { .sha = sha };

	assert_int_equal(store_trust_each(st, store_name, find_note, &n), 0);
	if (note)
		strcpy(note, n.note);
	return n.found;
}

static void assert_key_file(const char *dir, const char *name)
{
	char path[300];
	struct stat sb;

	snprintf(path, sizeof path, "%s/keys/%s", dir, name);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

struct audit_find {
	const char *action;
	int n;
};

static int count_action(const struct audit_entry *e, void *arg)
{
	struct audit_find *a = arg;

	a->n += !strcmp(e->action, a->action);
	return 0;
}

static int audited(struct store *st, const char *action)
{
	struct audit_find a = { action, 0 };

	assert_int_equal(store_audit_each(st, 0, count_action, &a), 0);
	return a.n;
}

/* ---- regenerate ---- */

static void test_regenerate_keeps_previous(void **state)
{
	struct fx *f = *state;
	struct capf_regen_params p = { .kind = PKI_KEY_RSA };
	struct capf_change ch;
	struct capf_row prev;
	char old[80], now[80], err[ERRLEN], note[128], holders[200];

	install_lsc(f->st, "SEP000000000001");
	current_sha(f->st, old);
	assert_int_equal(capf_ca_regenerate(f->st, &p, "test", &ch, err, sizeof err), 0);
	current_sha(f->st, now);
	assert_string_not_equal(old, now);
	assert_string_equal(ch.new_sha256, now);
	assert_string_equal(ch.old_sha256, old);
	assert_int_equal(ch.old_lsc_phones, 1);
	assert_string_equal(ch.new_key, "EC P-256");   /* like the current key by default */
	assert_int_equal(store_capf_previous(f->st, &prev), 0);
	assert_string_equal(prev.sha256, old);
	capf_row_free(&prev);
	assert_true(in_store(f->st, TRUST_CAPF, old, note));
	assert_string_equal(note, "CAPF certificate (previous)");
	assert_true(in_store(f->st, TRUST_CAPF, now, note));
	assert_string_equal(note, "CAPF certificate");
	assert_true(in_store(f->st, TRUST_8021X, now, NULL));
	assert_true(in_store(f->st, TRUST_PHONE_VPN, old, NULL));
	assert_false(in_store(f->st, TRUST_MANUFACTURING, now, NULL));
	assert_key_file(f->dir, "capf-1.key");
	assert_key_file(f->dir, "capf-2.key");
	assert_int_equal(capf_ca_lsc_holders(f->st, old, holders, sizeof holders), 1);
	assert_string_equal(holders, "1 phone (SEP000000000001)");
	assert_int_equal(audited(f->st, "capf.regenerate"), 1);
}

static void test_one_previous_at_a_time(void **state)
{
	struct fx *f = *state;
	struct capf_regen_params p = { .kind = PKI_KEY_RSA };
	struct capf_change ch;
	struct capf_row row;
	char first[80], second[80], now[80], err[ERRLEN];

	current_sha(f->st, first);
	install_lsc(f->st, "SEP000000000002");
	assert_int_equal(capf_ca_regenerate(f->st, &p, "test", &ch, err, sizeof err), 0);
	current_sha(f->st, second);
	/* a second regenerate would retire `first`, which a phone still needs */
	assert_int_equal(capf_ca_regenerate(f->st, &p, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "SEP000000000002"));
	assert_non_null(strstr(err, "--force"));
	current_sha(f->st, now);
	assert_string_equal(now, second);       /* nothing changed */
	assert_true(in_store(f->st, TRUST_CALLMANAGER, first, NULL));
	/* forced: retired, out of every store, audited as forced */
	assert_int_equal(capf_ca_regenerate(f->st, &(struct capf_regen_params){ .force = 1 }, "test", &ch, err,
					    sizeof err), 0);
	assert_string_equal(ch.retired_sha256, first);
	assert_int_equal(ch.retired_lsc_phones, 1);
	assert_int_equal(ch.old_lsc_phones, 0);
	assert_false(in_store(f->st, TRUST_CALLMANAGER, first, NULL));
	assert_false(in_store(f->st, TRUST_CAPF, first, NULL));
	assert_int_equal(store_capf_find(f->st, first, &row), 0);
	assert_string_equal(row.state, "retired");
	capf_row_free(&row);
	assert_int_equal(audited(f->st, "capf.retire.forced"), 1);
	assert_key_file(f->dir, "capf-1.key");  /* old keys are never deleted */
	assert_key_file(f->dir, "capf-3.key");
}

/* ---- retire ---- */

static void test_retire(void **state)
{
	struct fx *f = *state;
	struct capf_regen_params p = { 0 };
	struct capf_retire_result r;
	struct capf_change ch;
	struct capf_row row;
	char old[80], err[ERRLEN];

	current_sha(f->st, old);
	install_lsc(f->st, "SEP000000000003");
	install_lsc(f->st, "SEP000000000004");
	assert_int_equal(capf_ca_retire(f->st, NULL, 0, "test", &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "no previous"));
	assert_int_equal(capf_ca_regenerate(f->st, &p, "test", &ch, err, sizeof err), 0);
	assert_int_equal(ch.old_lsc_phones, 2);
	/* the current certificate cannot be retired */
	assert_int_equal(capf_ca_retire(f->st, ch.new_sha256, 0, "test", &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "current"));
	assert_int_equal(capf_ca_retire(f->st, NULL, 0, "test", &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "2 phones (SEP000000000003, SEP000000000004)"));
	/* the phones move to the new certificate: now it can go */
	install_lsc(f->st, "SEP000000000003");
	install_lsc(f->st, "SEP000000000004");
	assert_int_equal(capf_ca_retire(f->st, "zz", 0, "test", &r, err, sizeof err), -1);
	assert_int_equal(capf_ca_retire(f->st, old, 0, "test", &r, err, sizeof err), 0);
	assert_int_equal(r.stores, 4);
	assert_int_equal(r.forced, 0);
	assert_int_equal(store_capf_find(f->st, old, &row), 0);
	assert_string_equal(row.state, "retired");
	capf_row_free(&row);
	assert_int_equal(audited(f->st, "capf.retire"), 1);
	assert_int_equal(capf_ca_retire(f->st, NULL, 0, "test", &r, err, sizeof err), -1);
}

/* ---- CSR and import ---- */

struct root {
	EVP_PKEY *key;
	X509 *cert;
};

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	if (!value)
		return 1;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = e && X509_add_ext(x, e, -1) == 1;
	X509_EXTENSION_free(e);
	return ok;
}

static X509 *make_cert(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *subject_key, const X509_NAME *subject,
		       const char *bc, const char *ku)
{
	X509 *x = X509_new();

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)random());
	X509_set_subject_name(x, subject);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, subject_key);
	assert_true(add_ext(x, issuer ? issuer : x, NID_basic_constraints, bc));
	assert_true(add_ext(x, issuer ? issuer : x, NID_key_usage, ku));
	assert_true(add_ext(x, x, NID_subject_key_identifier, "hash"));
	assert_true(add_ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid"));
	assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static void make_root(struct root *r)
{
	char err[ERRLEN];
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test Root CA", -1, -1, 0);
	assert_non_null(r->key = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err));
	r->cert = make_cert(NULL, r->key, r->key, n, "critical,CA:TRUE", "critical,keyCertSign,cRLSign");
	X509_NAME_free(n);
}

static X509_REQ *csr(struct store *st, int new_key)
{
	char *pem = NULL, err[ERRLEN], subject[512];
	size_t len;
	BIO *b;
	X509_REQ *req;

	assert_int_equal(capf_ca_csr(st, new_key, PKI_KEY_EC, 0, "test", &pem, &len, subject, sizeof subject, err,
				     sizeof err), 0);
	assert_non_null(strstr(subject, "CN=CAPF-"));
	assert_non_null(b = BIO_new_mem_buf(pem, (int)len));
	assert_non_null(req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL));
	BIO_free(b);
	OPENSSL_free(pem);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	return req;
}

static void test_csr_asks_for_ca_extensions(void **state)
{
	struct fx *f = *state;
	STACK_OF(X509_EXTENSION) *exts;
	X509_REQ *req = csr(f->st, 0);
	X509 *cur;
	char err[ERRLEN];
	int found = 0;

	assert_int_equal(capf_ca_load(f->st, &cur, NULL, err, sizeof err), 0);
	assert_int_equal(X509_NAME_cmp(X509_REQ_get_subject_name(req), X509_get_subject_name(cur)), 0);
	assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), X509_get0_pubkey(cur)), 1);
	assert_non_null(exts = X509_REQ_get_extensions(req));
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));

		found += (nid == NID_basic_constraints || nid == NID_key_usage) && X509_EXTENSION_get_critical(e);
	}
	assert_int_equal(found, 2);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_free(cur);
	X509_REQ_free(req);
}

static void test_import(void **state)
{
	struct fx *f = *state;
	struct capf_change ch;
	struct root r;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_REQ *req = csr(f->st, 0);
	EVP_PKEY *other;
	X509 *bad, *good, *wrong_key;
	char err[ERRLEN], note[128], root_sha[80], old[80];
	const X509_NAME *subj = X509_REQ_get_subject_name(req);

	make_root(&r);
	current_sha(f->st, old);
	pki_fingerprint(r.cert, "sha256", 0, root_sha, sizeof root_sha);
	/* what phones would refuse, refused */
	bad = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), subj, NULL, "critical,digitalSignature");
	assert_int_equal(capf_ca_import(f->st, bad, NULL, 0, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "CA:TRUE"));
	X509_free(bad);
	bad = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), subj, "critical,CA:TRUE",
			"critical,digitalSignature,keyCertSign");
	assert_int_equal(capf_ca_import(f->st, bad, NULL, 0, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "pathlen"));
	X509_free(bad);
	bad = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), subj, "critical,CA:TRUE,pathlen:0",
			"critical,keyCertSign");
	assert_int_equal(capf_ca_import(f->st, bad, NULL, 0, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "digitalSignature"));
	X509_free(bad);
	/* a certificate for a key that is not ours */
	assert_non_null(other = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err));
	wrong_key = make_cert(r.cert, r.key, other, subj, "critical,CA:TRUE,pathlen:0",
			      "critical,digitalSignature,keyCertSign");
	assert_int_equal(capf_ca_import(f->st, wrong_key, NULL, 0, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "not for a CAPF key"));
	/* right certificate, but its issuer is nowhere */
	good = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), subj, "critical,CA:TRUE,pathlen:0",
			 "critical,digitalSignature,keyCertSign");
	assert_int_equal(capf_ca_import(f->st, good, NULL, 0, "test", &ch, err, sizeof err), -1);
	assert_non_null(strstr(err, "--chain"));
	current_sha(f->st, err);
	assert_string_equal(err, old);
	/* with the chain: current, chain placed, LSCs chain to the root */
	X509_up_ref(r.cert);
	sk_X509_push(chain, r.cert);
	assert_int_equal(capf_ca_import(f->st, good, chain, 0, "test", &ch, err, sizeof err), 0);
	assert_int_equal(ch.new_self_signed, 0);
	assert_string_equal(ch.old_sha256, old);
	assert_true(in_store(f->st, TRUST_CAPF, root_sha, note));
	assert_string_equal(note, "CAPF issuing CA");
	assert_true(in_store(f->st, TRUST_CALLMANAGER, root_sha, NULL));
	assert_int_equal(capf_ca_import(f->st, good, chain, 0, "test", &ch, err, sizeof err), -1);
	install_lsc(f->st, "SEP000000000005");
	{
		struct cert_row lsc;
		X509 *x, *capf;

		assert_int_equal(store_phone_lsc(f->st, "SEP000000000005", 1, &lsc), 0);
		assert_non_null(x = pki_cert_from_der(lsc.der, lsc.derlen, err, sizeof err));
		assert_int_equal(capf_ca_load(f->st, &capf, NULL, err, sizeof err), 0);
		assert_true(pki_cert_signed_by(x, capf));
		assert_true(pki_cert_signed_by(capf, r.cert));
		X509_free(capf);
		X509_free(x);
		cert_row_free(&lsc);
	}
	assert_int_equal(audited(f->st, "capf.import"), 1);
	X509_free(good);
	X509_free(wrong_key);
	EVP_PKEY_free(other);
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(req);
	X509_free(r.cert);
	EVP_PKEY_free(r.key);
}

static void test_import_new_key(void **state)
{
	struct fx *f = *state;
	struct capf_change ch;
	struct root r;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_REQ *req = csr(f->st, 1);
	X509 *cert, *cur;
	char err[ERRLEN], setting[64];

	make_root(&r);
	assert_int_equal(store_setting_get(f->st, "capf_csr_key", setting, sizeof setting), 0);
	assert_string_equal(setting, "capf-2.key");
	assert_key_file(f->dir, "capf-2.key");
	cert = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), X509_REQ_get_subject_name(req),
			 "critical,CA:TRUE,pathlen:0", "critical,digitalSignature,keyCertSign");
	X509_up_ref(r.cert);
	sk_X509_push(chain, r.cert);
	assert_int_equal(capf_ca_import(f->st, cert, chain, 0, "test", &ch, err, sizeof err), 0);
	assert_int_equal(capf_ca_load(f->st, &cur, NULL, err, sizeof err), 0);
	assert_int_equal(X509_cmp(cur, cert), 0);
	X509_free(cur);
	/* the signer uses the new key */
	install_lsc(f->st, "SEP000000000006");
	assert_int_equal(store_setting_get(f->st, "capf_csr_key", setting, sizeof setting), 0);
	assert_string_equal(setting, "");
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(req);
	X509_free(r.cert);
	EVP_PKEY_free(r.key);
}

/* ---- trust usage ---- */

static struct trust_usage *usage_of(struct trust_usage *u, int n, const char *sha)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(u[i].sha256, sha))
			return &u[i];
	fail_msg("certificate %s not in the usage list", sha);
	return NULL;
}

static void test_trust_usage(void **state)
{
	struct fx *f = *state;
	struct trust_usage *u = NULL, *e;
	struct root mfg;
	X509 *mic;
	EVP_PKEY *k;
	uint8_t *der = NULL;
	size_t len;
	char err[ERRLEN], mfg_sha[80], capf[80];
	int n;
	X509_NAME *name = X509_NAME_new();

	make_root(&mfg);
	pki_fingerprint(mfg.cert, "sha256", 0, mfg_sha, sizeof mfg_sha);
	assert_int_equal(pki_cert_to_der(mfg.cert, &der, &len), 0);
	assert_int_equal(store_trust_add(f->st, TRUST_MANUFACTURING, der, len, NULL, NULL, "test"), 0);
	OPENSSL_free(der);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"SEP000000000007", -1, -1, 0);
	assert_non_null(k = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err));
	mic = make_cert(mfg.cert, mfg.key, k, name, "critical,CA:FALSE", "critical,digitalSignature");
	install_lsc(f->st, "SEP000000000007");
	install_lsc(f->st, "SEP000000000008");
	assert_int_equal(pki_cert_to_der(mic, &der, &len), 0);
	assert_int_equal(store_seen_cert(f->st, "SEP000000000007", "mic", der, len), 0);
	OPENSSL_free(der);

	assert_int_equal(trust_usage_compute(f->st, TRUST_MANUFACTURING, &u, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(u[0].mic_phones, 1);
	assert_int_equal(u[0].lsc_phones, 0);
	assert_string_equal(u[0].names[0], "SEP000000000007");
	free(u);
	current_sha(f->st, capf);
	assert_int_equal(trust_usage_compute(f->st, TRUST_CAPF, &u, &n, err, sizeof err), 0);
	e = usage_of(u, n, capf);
	assert_int_equal(e->lsc_phones, 2);
	assert_int_equal(e->phones, 2);
	assert_int_equal(e->nnames, 2);
	free(u);
	assert_int_equal(trust_usage_compute(f->st, "no-such-store", &u, &n, err, sizeof err), 1);
	X509_NAME_free(name);
	X509_free(mic);
	EVP_PKEY_free(k);
	X509_free(mfg.cert);
	EVP_PKEY_free(mfg.key);
}

/* A chain root -> CAPF (outside CA) -> LSC counts the phone on both. */
static void test_trust_usage_follows_chain(void **state)
{
	struct fx *f = *state;
	struct capf_change ch;
	struct trust_usage *u = NULL;
	struct root r;
	STACK_OF(X509) *chain = sk_X509_new_null();
	X509_REQ *req = csr(f->st, 0);
	X509 *cert;
	char err[ERRLEN], root_sha[80], capf[80];
	int n;

	make_root(&r);
	pki_fingerprint(r.cert, "sha256", 0, root_sha, sizeof root_sha);
	cert = make_cert(r.cert, r.key, X509_REQ_get0_pubkey(req), X509_REQ_get_subject_name(req),
			 "critical,CA:TRUE,pathlen:0", "critical,digitalSignature,keyCertSign");
	X509_up_ref(r.cert);
	sk_X509_push(chain, r.cert);
	assert_int_equal(capf_ca_import(f->st, cert, chain, 0, "test", &ch, err, sizeof err), 0);
	install_lsc(f->st, "SEP000000000009");
	current_sha(f->st, capf);
	assert_int_equal(trust_usage_compute(f->st, TRUST_CALLMANAGER, &u, &n, err, sizeof err), 0);
	assert_int_equal(usage_of(u, n, root_sha)->lsc_phones, 1);
	assert_int_equal(usage_of(u, n, capf)->lsc_phones, 1);
	/* same key and subject: the old self-signed certificate verifies it too */
	assert_int_equal(usage_of(u, n, ch.old_sha256)->lsc_phones, 1);
	free(u);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	X509_REQ_free(req);
	X509_free(r.cert);
	EVP_PKEY_free(r.key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regenerate_keeps_previous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_previous_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csr_asks_for_ca_extensions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_new_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trust_usage_follows_chain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
