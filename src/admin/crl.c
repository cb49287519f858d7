/*
 * crl.c: building and publishing the state's CRLs (crl.h): the records
 * from the store, the CRL from pki_crl_build with the CAPF key, the files
 * written atomically into the TFTP folder.
 */
#include "admin/crl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/itl_file.h"
#include "capf/ca.h"
#include "common/util.h"
#include "pki/pki.h"
#include "pki/pki_crl.h"
#include "store/store_revoke.h"

int admin_crl_days(struct store *st)
{
	char v[32];
	int days;

	if (store_setting_get(st, CRL_SETTING_DAYS, v, sizeof v) != 0)
		return CRL_DEFAULT_DAYS;
	days = atoi(v);
	return days > 0 && days <= 366 ? days : CRL_DEFAULT_DAYS;
}

int64_t admin_crl_superseded_grace(struct store *st)
{
	char v[32];

	if (store_setting_get(st, REVOKE_SETTING_SUPERSEDED_GRACE, v, sizeof v) != 0)
		return 0;
	return atoll(v) > 0 ? atoll(v) : 0;
}

void admin_crl_url(struct store *st, char *out, size_t cap)
{
	if (store_setting_get(st, CAPF_SETTING_REVOCATION_URL, out, cap) != 0)
		out[0] = '\0';
}

/* http(s)://host[:port][/path], printable, no space, quote or comma (the
 * extension syntax), no trailing slash. */
static int url_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0)
		return 1;
	if (n >= 180 || (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) || u[n - 1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (u[i] <= ' ' || u[i] >= 0x7f || strchr("\"',;\\", u[i]))
			return 0;
	return 1;
}

int admin_crl_settings(struct store *st, const char *actor, int days, int64_t grace, const char *url, char *err,
		       size_t errlen)
{
	char d[32], g[32], u[200], uj[220], detail[400];

	if (days != -1 && (days < 1 || days > 366)) {
		seterr(err, errlen, "CRL validity %d days: give 1 to 366", days);
		return -1;
	}
	if (grace != -1 && (grace < 0 || grace > 90 * 86400)) {
		seterr(err, errlen, "grace period %lld seconds: give 0 to 90 days", (long long)grace);
		return -1;
	}
	if (url && !url_ok(url)) {
		seterr(err, errlen, "URL \"%s\": give http://HOST:PORT of opencapfd's HTTP server (no trailing slash, "
		       "no spaces, quotes or commas), or \"\" for none", url);
		return -1;
	}
	if (store_begin(st) != 0)
		goto fail;
	if (url)
		snprintf(u, sizeof u, "%s", url);
	else
		admin_crl_url(st, u, sizeof u);
	store_json_str(uj, sizeof uj, u);
	snprintf(d, sizeof d, "%d", days != -1 ? days : admin_crl_days(st));
	snprintf(g, sizeof g, "%lld", (long long)(grace != -1 ? grace : admin_crl_superseded_grace(st)));
	snprintf(detail, sizeof detail, "{\"crl_days\":%s,\"superseded_grace\":%s,\"revocation_url\":%s}", d, g, uj);
	if (store_setting_set(st, CRL_SETTING_DAYS, d) < 0 || store_setting_set(st, CAPF_SETTING_REVOCATION_URL, u) < 0 ||
	    store_setting_set(st, REVOKE_SETTING_SUPERSEDED_GRACE, g) < 0 ||
	    store_audit(st, actor, "crl.settings", "", detail) < 0 || store_commit(st) != 0) {
		store_rollback(st);
		goto fail;
	}
	return 0;
fail:
	seterr(err, errlen, "cannot store the CRL settings: %s", store_errmsg(st));
	return -1;
}

struct entries {
	struct revocation *r;
	size_t n, cap;
	int64_t until;           /* revocations in effect by then (a superseded LSC's waits for its grace) */
};

static int collect(const struct revocation *r, void *arg)
{
	struct entries *e = arg;

	if (r->time > e->until)
		return 0;
	if (e->n == e->cap) {
		struct revocation *m = realloc(e->r, (e->cap = e->cap ? e->cap * 2 : 64) * sizeof *m);
		if (!m)
			return -1;
		e->r = m;
	}
	e->r[e->n++] = *r;
	return 0;
}

/* The revocations under the CAPF certificate and a new CRL number, read
 * and taken in one transaction. */
static int take_records(struct store *st, struct admin_crl *c, struct entries *e, char *err, size_t errlen)
{
	int64_t last = 0;

	if (store_begin(st) != 0)
		goto fail;
	if (store_revocation_last_id(st, c->capf_sha256, &last) < 0 ||
	    store_revocations_each(st, c->capf_sha256, collect, e) != 0 ||
	    store_crl_next(st, c->capf_sha256, last, c->this_update, c->next_update, &c->number) < 0 ||
	    store_commit(st) != 0) {
		store_rollback(st);
		goto fail;
	}
	c->entries = e->n;
	return 0;
fail:
	seterr(err, errlen, "cannot read the revocations of %s: %s", c->name, store_errmsg(st));
	return -1;
}

static int write_both(X509_CRL *crl, const struct admin_crl *c, char *err, size_t errlen)
{
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t dlen = 0, plen = 0;
	int rc = -1;

	if (pki_crl_to_der(crl, &der, &dlen) < 0 || pki_crl_to_pem(crl, &pem, &plen) < 0)
		seterr(err, errlen, "cannot encode the CRL of %s", c->name);
	else if (itl_write_atomic(c->der_path, der, dlen, err, errlen) == 0 &&
		 itl_write_atomic(c->pem_path, (const uint8_t *)pem, plen, err, errlen) == 0)
		rc = 0;
	OPENSSL_free(der);
	OPENSSL_free(pem);
	return rc;
}

/* Sign and write the CRL of one CAPF certificate. */
static int publish_one(struct store *st, const struct capf_row *row, X509 *cert, struct admin_crl *c, char *err,
		       size_t errlen)
{
	struct entries e = { .until = 0 };
	struct pki_crl_entry *pe = NULL;
	char keypath[4300];
	EVP_PKEY *key = NULL;
	X509_CRL *crl = NULL;
	int rc = -1;

	c->this_update = now_utc();
	c->next_update = c->this_update + (int64_t)admin_crl_days(st) * 86400;
	e.until = c->this_update;
	if (store_key_path(st, row->key_file, keypath, sizeof keypath) < 0 ||
	    !(key = pki_key_load(keypath, err, errlen)) || take_records(st, c, &e, err, errlen) < 0)
		goto out;
	if (e.n && !(pe = calloc(e.n, sizeof *pe))) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < e.n; i++)
		pe[i] = (struct pki_crl_entry){ e.r[i].serial, e.r[i].time, e.r[i].reason };
	crl = pki_crl_build(cert, key, pe, e.n, c->number, c->this_update, c->next_update, err, errlen);
	if (crl && write_both(crl, c, err, errlen) == 0) {
		c->written = 1;
		rc = 0;
	}
out:
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	free(pe);
	free(e.r);
	return rc;
}

/* The cRLNumber of the published DER file, 0 when there is none. */
static int64_t published_number(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	X509_CRL *crl;
	ASN1_INTEGER *num;
	int64_t n = 0;

	if (read_file(path, 64 * 1024 * 1024, &data, &len, NULL, 0) != 0)
		return 0;
	crl = pki_crl_from_der(data, len, NULL, 0);
	num = crl ? X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL) : NULL;
	if (!num || !ASN1_INTEGER_get_int64(&n, num))
		n = 0;
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	free(data);
	return n;
}

/* Is the CRL behind the records, half-way through its life, or not on disk? */
static int due(struct store *st, struct admin_crl *c, char *err, size_t errlen)
{
	struct crl_state s;
	int64_t last;
	struct stat sb;

	if (store_crl_state(st, c->capf_sha256, &s) < 0 || store_revocation_last_id(st, c->capf_sha256, &last) < 0) {
		seterr(err, errlen, "cannot read the CRL state of %s: %s", c->name, store_errmsg(st));
		return -1;
	}
	c->number = s.number;
	c->this_update = s.this_update;
	c->next_update = s.next_update;
	if (s.number == 0 || last > s.last_revocation || now_utc() >= s.this_update + (s.next_update - s.this_update) / 2)
		return 1;
	switch (store_revocation_pending_due(st, c->capf_sha256, s.this_update, now_utc())) {
	case 1: return 1;   /* a superseded LSC's grace period ended */
	case -1:
		seterr(err, errlen, "cannot read the revocations of %s: %s", c->name, store_errmsg(st));
		return -1;
	}
	if (stat(c->pem_path, &sb) != 0)
		return 1;
	return published_number(c->der_path) != s.number;
}

struct publish_walk {
	struct store *st;
	int force, written, list_only;
	char dir[4096];
	int (*fn)(const struct admin_crl *c, void *arg);
	void *arg;
	char *err;
	size_t errlen;
};

/* Fill c for a CAPF row; 1 when it needs no CRL (no LSC issued under it). */
static int crl_describe(struct publish_walk *w, const struct capf_row *row, X509 *cert, struct admin_crl *c)
{
	char file[96];
	int issued = store_capf_has_issued(w->st, row->sha256);

	memset(c, 0, sizeof *c);
	if (issued < 0) {
		seterr(w->err, w->errlen, "%s", store_errmsg(w->st));
		return -1;
	}
	pki_capf_file_stem(cert, c->name, sizeof c->name);
	snprintf(c->capf_sha256, sizeof c->capf_sha256, "%s", row->sha256);
	snprintf(c->state, sizeof c->state, "%s", row->state);
	c->can_sign = pki_cert_can_sign_crl(cert);
	snprintf(file, sizeof file, "%s.crl", c->name);
	path_join(c->der_path, sizeof c->der_path, w->dir, file);
	snprintf(file, sizeof file, "%s.crl.pem", c->name);
	path_join(c->pem_path, sizeof c->pem_path, w->dir, file);
	/* the current one always: a CRL must exist before its first LSC reaches a server */
	return issued || strcmp(row->state, "current") == 0 ? 0 : 1;
}

static int publish_row(const struct capf_row *row, void *arg)
{
	struct publish_walk *w = arg;
	struct admin_crl c;
	X509 *cert;
	int rc = 0, d = 1;

	if (strcmp(row->state, "retired") == 0)
		return 0;
	if (!(cert = pki_cert_from_der(row->der, row->derlen, w->err, w->errlen)))
		return -1;
	rc = crl_describe(w, row, cert, &c);
	if (rc == 0 && w->list_only)
		d = due(w->st, &c, w->err, w->errlen);
	else if (rc == 0 && c.can_sign && (w->force || (d = due(w->st, &c, w->err, w->errlen)) > 0))
		rc = publish_one(w->st, row, cert, &c, w->err, w->errlen);
	else if (d < 0)
		rc = -1;
	X509_free(cert);
	if (rc < 0)
		return -1;
	w->written += c.written;
	if (rc == 0 && w->fn)
		w->fn(&c, w->arg);
	return 0;
}

int admin_crl_publish(struct store *st, int force, int (*fn)(const struct admin_crl *c, void *arg), void *arg,
		      char *err, size_t errlen)
{
	struct publish_walk w = { st, force, 0, force < 0, "", fn, arg, err, errlen };

	if (itl_tftp_dir(st, w.dir, sizeof w.dir) < 0) {
		seterr(err, errlen, "cannot read the TFTP folder setting: %s", store_errmsg(st));
		return -1;
	}
	if (mkdir_p(w.dir, 0755) < 0) {
		seterr(err, errlen, "cannot create the TFTP folder %s: %s", w.dir, strerror(errno));
		return -1;
	}
	if (store_capf_each(st, publish_row, &w) != 0) {
		if (!err[0])
			seterr(err, errlen, "cannot list the CAPF certificates: %s", store_errmsg(st));
		return -1;
	}
	return w.written;
}

int admin_crl_of_cert(struct store *st, const char *sha256, X509_CRL **crl, char *err, size_t errlen)
{
	struct capf_row row;
	char dir[4096], file[96], path[4300], name[72];
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *cert;
	int rc;

	*crl = NULL;
	if ((rc = store_capf_find(st, sha256, &row)) != 0)
		return rc < 0 ? -1 : 1;
	cert = strcmp(row.state, "retired") ? pki_cert_from_der(row.der, row.derlen, err, errlen) : NULL;
	capf_row_free(&row);
	if (!cert || !pki_cert_can_sign_crl(cert)) {
		X509_free(cert);
		return 1;
	}
	pki_capf_file_stem(cert, name, sizeof name);
	X509_free(cert);
	if (admin_crl_publish(st, 0, NULL, NULL, err, errlen) < 0)
		return -1;
	snprintf(file, sizeof file, "%s.crl", name);
	if (itl_tftp_dir(st, dir, sizeof dir) < 0 || path_join(path, sizeof path, dir, file) < 0 ||
	    read_file(path, 64 * 1024 * 1024, &der, &len, NULL, 0) != 0)
		return 1;
	*crl = pki_crl_from_der(der, len, err, errlen);
	free(der);
	return *crl ? 0 : -1;
}

int admin_crl_read(struct store *st, const char *file, uint8_t **data, size_t *len, int *pem)
{
	char dir[4096], name[128], path[4300];
	size_t n = strlen(file);

	*pem = n > 4 && strcmp(file + n - 4, ".pem") == 0;
	if (n < 5 || n > 80 || file[0] == '.' || strchr(file, '/') || (!*pem && strcmp(file + n - 4, ".crl") != 0))
		return -1;
	/* NAME.pem is published as NAME.crl.pem */
	snprintf(name, sizeof name, "%.*s%s", (int)n - 4, file, *pem ? ".crl.pem" : ".crl");
	if (itl_tftp_dir(st, dir, sizeof dir) < 0 || path_join(path, sizeof path, dir, name) < 0)
		return -1;
	return read_file(path, 64 * 1024 * 1024, data, len, NULL, 0) == 0 ? 0 : 1;
}
