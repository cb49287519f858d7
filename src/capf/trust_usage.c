/*
 * trust_usage.c: counting the phones that depend on each certificate of a
 * trust store (see trust_usage.h).
 *
 * Cost: one pass over the phones' current certificates; for each, a walk up
 * its issuers inside the store. Name and key-identifier checks rule out
 * almost every candidate before a signature is verified, so a store of a few
 * certificates and tens of thousands of phones takes about a second.
 */
#include "capf/trust_usage.h"

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
