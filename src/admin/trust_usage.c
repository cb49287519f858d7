/*
 * trust_usage.c: counting the phones that depend on each certificate of a
 * trust store (see trust_usage.h).
 *
 * Cost: one pass over the phones' current certificates; for each, a walk up
 * its issuers inside the store. Name and key-identifier checks rule out
 * almost every candidate before a signature is verified, so a store of a few
 * certificates and tens of thousands of phones takes about a second.
 */
#include "admin/trust_usage.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"

#define MAX_DEPTH 8

struct usage_ctx {
	int n;
	X509 **certs;
	struct trust_usage *u;
	char (*last)[64];        /* per certificate: the last phone counted */
	char *on_path;           /* per certificate, for the walk in progress */
	int oom;
};

static int load_cert(const struct cert_row *r, void *arg)
{
	struct usage_ctx *c = arg;
	X509 **certs = realloc(c->certs, (size_t)(c->n + 1) * sizeof *certs);
	struct trust_usage *u = realloc(c->u, (size_t)(c->n + 1) * sizeof *u);
	char (*last)[64] = realloc(c->last, (size_t)(c->n + 1) * sizeof *last);
	char ignored[ERRLEN];

	if (certs)
		c->certs = certs;
	if (u)
		c->u = u;
	if (last)
		c->last = last;
	if (!certs || !u || !last) {
		c->oom = 1;
		return -1;
	}
	/* a certificate that no longer parses anchors nothing */
	c->certs[c->n] = pki_cert_from_der(r->der, r->derlen, ignored, sizeof ignored);
	memset(&c->u[c->n], 0, sizeof c->u[c->n]);
	snprintf(c->u[c->n].sha256, sizeof c->u[c->n].sha256, "%s", r->sha256);
	snprintf(c->u[c->n].subject, sizeof c->u[c->n].subject, "%s", r->subject);
	c->last[c->n][0] = '\0';
	c->n++;
	return 0;
}

static void count(struct usage_ctx *c, int i, const struct cert_row *r)
{
	struct trust_usage *u = &c->u[i];
	int mic = !strcmp(r->kind, "mic");

	if (mic)
		u->mic_phones++;
	else
		u->lsc_phones++;
	if (!strcmp(c->last[i], r->phone))
		return;   /* LSC and MIC of the same phone: one phone */
	snprintf(c->last[i], sizeof c->last[i], "%s", r->phone);
	u->phones++;
	if (u->nnames < TRUST_USAGE_NAMES)
		snprintf(u->names[u->nnames++], sizeof u->names[0], "%s", r->phone);
}

/* The store certificate that issued `cert`, not yet on the path; -1 if none. */
static int issuer_in_store(struct usage_ctx *c, X509 *cert)
{
	for (int i = 0; i < c->n; i++)
		if (c->certs[i] && !c->on_path[i] && pki_cert_signed_by(cert, c->certs[i]))
			return i;
	return -1;
}

static int walk_phone_cert(const struct cert_row *r, void *arg)
{
	struct usage_ctx *c = arg;
	char ignored[ERRLEN];
	X509 *leaf = pki_cert_from_der(r->der, r->derlen, ignored, sizeof ignored), *cur = leaf;
	int i;

	if (!leaf)
		return 0;   /* an unreadable record depends on nothing */
	memset(c->on_path, 0, (size_t)c->n);
	for (i = 0; i < c->n; i++)
		if (c->certs[i] && X509_cmp(leaf, c->certs[i]) == 0)
			c->on_path[i] = 1;   /* the phone's certificate itself is trusted */
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		if ((i = issuer_in_store(c, cur)) < 0)
			break;
		c->on_path[i] = 1;
		cur = c->certs[i];
	}
	for (i = 0; i < c->n; i++)
		if (c->on_path[i])
			count(c, i, r);
	X509_free(leaf);
	return 0;
}

static void usage_ctx_free(struct usage_ctx *c)
{
	for (int i = 0; i < c->n; i++)
		X509_free(c->certs[i]);
	free(c->certs);
	free(c->last);
	free(c->on_path);
}

int trust_usage_compute(struct store *st, const char *store_name, struct trust_usage **out, int *n,
			char *err, size_t errlen)
{
	struct usage_ctx c;
	int rc;

	memset(&c, 0, sizeof c);
	*out = NULL;
	*n = 0;
	rc = store_trust_each(st, store_name, load_cert, &c);
	if (rc == 0 && !(c.on_path = malloc((size_t)c.n + 1))) {
		c.oom = 1;
		rc = -1;
	}
	if (rc == 0)
		rc = store_phone_certs_each(st, NULL, walk_phone_cert, &c) == 0 ? 0 : -1;
	if (rc < 0)
		seterr(err, errlen, "%s", c.oom ? "out of memory" : store_errmsg(st));
	else if (rc > 0)
		seterr(err, errlen, "no trust store named %s", store_name);
	usage_ctx_free(&c);
	if (rc != 0) {
		free(c.u);
		return rc;
	}
	*out = c.u;
	*n = c.n;
	return 0;
}

/* ---- the guarded removal and the export ---- */

int trust_fp_normalize(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in; in++) {
		if (*in == ':')
			continue;
		if (!strchr("0123456789abcdefABCDEF", *in) || n + 1 >= cap)
			return -1;
		out[n++] = (char)(*in >= 'A' && *in <= 'F' ? *in - 'A' + 'a' : *in);
	}
	out[n] = '\0';
	return n >= 8 ? 0 : -1;
}

int trust_is_current_capf(struct store *st, const char *store_name, const char *sha256)
{
	struct capf_row cur;
	int same;

	if (strcmp(store_name, TRUST_CAPF) && strcmp(store_name, TRUST_CALLMANAGER))
		return 0;
	if (store_capf_current(st, &cur) != 0)
		return 0;
	same = !strcmp(cur.sha256, sha256);
	capf_row_free(&cur);
	return same;
}

int trust_usage_find(const struct trust_usage *u, int nu, const char *fp, const char *store_name, char *err,
		     size_t errlen)
{
	int found = -1, matches = 0;

	for (int i = 0; i < nu; i++)
		if (!strncmp(u[i].sha256, fp, strlen(fp))) {
			found = i;
			matches++;
		}
	if (matches == 1)
		return found;
	if (matches) {
		seterr(err, errlen, "fingerprint %s matches %d certificates of %s: give more digits", fp, matches,
		       store_name);
		return -2;
	}
	seterr(err, errlen, "no certificate with fingerprint %s in %s", fp, store_name);
	return -1;
}

enum trust_removal trust_removal_check(struct store *st, const char *store_name, const struct trust_usage *u,
				       int force, const char *force_hint, char *err, size_t errlen)
{
	int current = trust_is_current_capf(st, store_name, u->sha256);
	struct buf names;

	if (!current && u->phones == 0)
		return TRUST_REMOVE_OK;
	if (force)
		return TRUST_REMOVE_FORCED;
	if (current) {
		seterr(err, errlen, "%s is the current CAPF certificate: without it in %s new LSCs fail "
		       "(%s to remove it anyway)", u->subject, store_name, force_hint);
		return TRUST_REMOVE_CURRENT_CAPF;
	}
	buf_init(&names);
	for (int i = 0; i < u->nnames; i++) {
		if (i)
			buf_put(&names, ", ", 2);
		buf_put(&names, u->names[i], strlen(u->names[i]));
	}
	if (u->phones > u->nnames)
		buf_put(&names, ", ...", 5);
	buf_put(&names, "", 1);
	seterr(err, errlen, "refused: %s still anchors %d phone%s (%d LSC%s, %d MIC%s): %s; they would fail TLS "
	       "with \"unknown CA\" (%s to remove it anyway)", u->subject, u->phones, u->phones == 1 ? "" : "s",
	       u->lsc_phones, u->lsc_phones == 1 ? "" : "s", u->mic_phones, u->mic_phones == 1 ? "" : "s",
	       names.failed || !names.data ? "" : (const char *)names.data, force_hint);
	buf_free(&names);
	return TRUST_REMOVE_IN_USE;
}

int trust_audit_cert(struct store *st, const char *actor, const char *action, const char *store_name,
		     const char *sha256, const char *subject, const char *extra)
{
	char jsubject[600], detail[1024];

	store_json_str(jsubject, sizeof jsubject, subject);
	snprintf(detail, sizeof detail, "{\"sha256\":\"%s\",\"subject\":%s%s}", sha256, jsubject, extra ? extra : "");
	return store_audit(st, actor, action, store_name, detail);
}

int trust_remove_audited(struct store *st, const char *actor, const char *store_name, const struct trust_usage *u,
			 int forced)
{
	char extra[160];

	snprintf(extra, sizeof extra, ",\"forced\":%s,\"lsc_phones\":%d,\"mic_phones\":%d",
		 forced ? "true" : "false", u->lsc_phones, u->mic_phones);
	if (store_trust_remove(st, store_name, u->sha256) != 0)
		return -1;
	return trust_audit_cert(st, actor, forced ? "trust.remove.forced" : "trust.remove", store_name, u->sha256,
				u->subject, extra);
}

struct pem_ctx {
	struct buf *out;
	int count, skipped;
};

static int append_pem(const struct cert_row *r, void *arg)
{
	struct pem_ctx *c = arg;
	char err[ERRLEN], *pem;
	size_t len;
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);

	if (!x || pki_cert_to_pem(x, &pem, &len) < 0) {
		X509_free(x);
		c->skipped++;
		return 0;
	}
	buf_put(c->out, pem, len);
	OPENSSL_free(pem);
	X509_free(x);
	c->count++;
	return 0;
}

int trust_export_pem(struct store *st, const char *store_name, struct buf *out, int *count, int *skipped)
{
	struct pem_ctx c = { out, 0, 0 };
	int rc = store_trust_each(st, store_name, append_pem, &c);

	if (count)
		*count = c.count;
	if (skipped)
		*skipped = c.skipped;
	return rc == 0 && out->failed ? -1 : rc;
}
