/*
 * ocsp.c: the OCSP responder over the store (ocsp.h): the CAPF
 * certificates and keys that may answer, the status of a serial from
 * issued_certs and revocations, the response from pki_ocsp_respond.
 */
#include "admin/ocsp.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"
#include "pki/pki_crl.h"
#include "store/store_revoke.h"

#define OCSP_ISSUERS 2   /* current and previous */

struct admin_ocsp {
	struct pki_ocsp_issuer is[OCSP_ISSUERS];
	char sha256[OCSP_ISSUERS][80];
	size_t n;
	char loaded[200];        /* the fingerprints the cache was loaded for */
};

struct admin_ocsp *admin_ocsp_new(void)
{
	return calloc(1, sizeof(struct admin_ocsp));
}

static void drop(struct admin_ocsp *o)
{
	for (size_t i = 0; i < o->n; i++) {
		X509_free(o->is[i].cert);
		EVP_PKEY_free(o->is[i].key);
	}
	memset(o, 0, sizeof *o);
}

void admin_ocsp_free(struct admin_ocsp *o)
{
	if (o)
		drop(o);
	free(o);
}

static int load_one(struct admin_ocsp *o, struct store *st, const struct capf_row *row, char *err, size_t errlen)
{
	char path[4300];
	X509 *cert = pki_cert_from_der(row->der, row->derlen, err, errlen);
	EVP_PKEY *key = NULL;

	if (!cert || store_key_path(st, row->key_file, path, sizeof path) < 0 ||
	    !(key = pki_key_load(path, err, errlen))) {
		X509_free(cert);
		return -1;
	}
	o->is[o->n].cert = cert;
	o->is[o->n].key = key;
	snprintf(o->sha256[o->n], sizeof o->sha256[0], "%s", row->sha256);
	o->n++;
	return 0;
}

/* The current and previous CAPF certificates with their keys, reloaded
 * when either changed. */
static int refresh(struct admin_ocsp *o, struct store *st, char *err, size_t errlen)
{
	struct capf_row cur, prev;
	char want[200];
	int rc_cur = store_capf_current(st, &cur), rc_prev = store_capf_previous(st, &prev), rc = 0;

	if (rc_cur < 0 || rc_prev < 0) {
		seterr(err, errlen, "cannot read the CAPF certificates: %s", store_errmsg(st));
		rc = -1;
		goto out;
	}
	snprintf(want, sizeof want, "%s/%s", rc_cur == 0 ? cur.sha256 : "", rc_prev == 0 ? prev.sha256 : "");
	if (strcmp(want, o->loaded) == 0)
		goto out;
	drop(o);
	if ((rc_cur == 0 && load_one(o, st, &cur, err, errlen) < 0) ||
	    (rc_prev == 0 && load_one(o, st, &prev, err, errlen) < 0)) {
		drop(o);
		rc = -1;
		goto out;
	}
	snprintf(o->loaded, sizeof o->loaded, "%s", want);
out:
	if (rc_cur == 0)
		capf_row_free(&cur);
	if (rc_prev == 0)
		capf_row_free(&prev);
	return rc;
}

struct lookup_ctx {
	struct admin_ocsp *o;
	struct store *st;
};

/* Do issuers i and j share name and key (an imported certificate for the
 * same key and subject)? Then a CertID cannot tell them apart. */
static int same_issuer(const struct admin_ocsp *o, size_t i, size_t j)
{
	return i == j || (X509_NAME_cmp(X509_get_subject_name(o->is[i].cert), X509_get_subject_name(o->is[j].cert)) == 0 &&
			  EVP_PKEY_eq(X509_get0_pubkey(o->is[i].cert), X509_get0_pubkey(o->is[j].cert)) == 1);
}

static int lookup(void *arg, size_t issuer, const char *serial, struct pki_ocsp_answer *a)
{
	struct lookup_ctx *c = arg;
	const char *sha = NULL;
	struct cert_row row;
	struct revocation rv;
	int rc = 1;

	for (size_t j = 0; j < c->o->n && rc > 0; j++) {
		if (!same_issuer(c->o, issuer, j))
			continue;
		sha = c->o->sha256[j];
		rc = store_issued_by_serial(c->st, sha, serial, &row);
	}
	if (rc < 0)
		return -1;
	if (rc > 0) {
		a->status = PKI_OCSP_UNKNOWN;
		return 0;
	}
	rc = store_revocation_effective(c->st, sha, serial, now_utc(), &rv);
	if (rc < 0)
		return -1;
	a->status = rc == 0 ? PKI_OCSP_REVOKED : PKI_OCSP_GOOD;
	a->revoked_time = rv.time;
	a->reason = rv.reason;
	return 0;
}

int admin_ocsp_answer(struct admin_ocsp *o, struct store *st, const uint8_t *req, size_t len, uint8_t **resp,
		      size_t *resplen, char *err, size_t errlen)
{
	struct lookup_ctx ctx = { o, st };
	OCSP_REQUEST *r = pki_ocsp_request_parse(req, len, err, errlen);
	int rc;

	if (r && refresh(o, st, err, errlen) < 0) {
		OCSP_REQUEST_free(r);
		return -1;
	}
	rc = pki_ocsp_respond(r, o->is, o->n, lookup, &ctx, now_utc(), ADMIN_OCSP_VALIDITY, resp, resplen, err,
			      errlen);
	OCSP_REQUEST_free(r);
	return rc;
}
