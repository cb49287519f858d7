/*
 * trust_export.c: writing a trust store for peers: the PEM bundle, the
 * hashed directory, and the server formats built on the directory
 * (trust_export.h).
 */
#include "admin/trust_export.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/objects.h>
#include <openssl/x509.h>

#include "admin/crl.h"
#include "admin/trust_usage.h"
#include "pki/pki.h"
#include "pki/pki_crl.h"

#define EXPORT_MARKER ".opencapf-export"
#define MAX_SAME_HASH 100

/* ---- PEM bundle ---- */

/* The whole store as one plain PEM bundle appended to out (admin/trust_usage.c).
 * 0, 1 if there is no such store, -1 with err. */
static int bundle_of(struct store *st, const char *store_name, struct buf *out, int *count, int *skipped,
		     char *err, size_t errlen)
{
	int rc = trust_export_pem(st, store_name, out, count, skipped);

	if (rc > 0)
		seterr(err, errlen, "no trust store named '%s'", store_name);
	else if (rc < 0)
		seterr(err, errlen, "%s", out->failed ? "out of memory" : store_errmsg(st));
	return rc;
}

static int export_pem(struct store *st, const char *store_name, const char *path, struct admin_trust_export *out,
		      char *err, size_t errlen)
{
	struct buf bundle;
	int rc;

	if (!path)
		return bundle_of(st, store_name, &out->text, &out->count, &out->skipped, err, errlen);
	buf_init(&bundle);
	rc = bundle_of(st, store_name, &bundle, &out->count, &out->skipped, err, errlen);
	if (rc == 0 && write_file_atomic(path, bundle.data ? (const char *)bundle.data : "", bundle.len, 0644, err,
					 errlen) < 0)
		rc = -1;
	buf_free(&bundle);
	return rc;
}

/* ---- hashed directory ---- */

struct dir_ctx {
	char dir[4200];          /* the folder being built (a hidden sibling of the target) */
	unsigned long *hashes;   /* subject hash of each file written so far */
	int count;
	int failed;
	struct store *st;
	struct buf crls;         /* the CRLs written, one PEM bundle */
	unsigned long *crl_hashes;
	int ncrl;
	char *err;
	size_t errlen;
};

/* HASH.N -> FILE, N the first free index for that hash. */
static int link_hash(struct dir_ctx *c, X509 *x, const char *file, char *err, size_t errlen)
{
	unsigned long h = X509_subject_name_hash(x), *grown;
	char link[4200], name[32];
	int n = 0;

	for (int i = 0; i < c->count; i++)
		n += c->hashes[i] == h;
	if (n >= MAX_SAME_HASH || !(grown = realloc(c->hashes, (size_t)(c->count + 1) * sizeof *grown)))
		return -1;
	c->hashes = grown;
	c->hashes[c->count++] = h;
	snprintf(name, sizeof name, "%08lx.%d", h, n);
	if (path_join(link, sizeof link, c->dir, name) < 0 || symlink(file, link) < 0) {
		seterr(err, errlen, "cannot link %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_one(const struct cert_row *r, void *arg)
{
	struct dir_ctx *c = arg;
	char file[40], path[4200], *pem = NULL;
	size_t len;
	X509 *x = pki_cert_from_der(r->der, r->derlen, c->err, c->errlen);
	int rc = -1;

	snprintf(file, sizeof file, "%.16s.pem", r->sha256);
	if (!x || pki_cert_to_pem(x, &pem, &len) < 0)
		seterr(c->err, c->errlen, "cannot encode certificate %s", r->sha256);
	else if (path_join(path, sizeof path, c->dir, file) < 0)
		seterr(c->err, c->errlen, "%s/%s: path too long", c->dir, file);
	else if (write_file_atomic(path, pem, len, 0644, c->err, c->errlen) == 0)
		rc = link_hash(c, x, file, c->err, c->errlen);
	OPENSSL_free(pem);
	X509_free(x);
	if (rc < 0)
		c->failed = 1;
	return rc;
}

/* SHA.crl.pem and its HASH.rN link in the folder being built. */
static int write_crl_file(struct dir_ctx *c, const char *sha256, unsigned long h, const char *pem, size_t len)
{
	char file[48], path[4200], link[4200], name[32];
	unsigned long *grown = realloc(c->crl_hashes, (size_t)(c->ncrl + 1) * sizeof h);
	int n = 0;

	if (!grown) {
		seterr(c->err, c->errlen, "out of memory");
		return -1;
	}
	c->crl_hashes = grown;
	for (int i = 0; i < c->ncrl; i++)
		n += c->crl_hashes[i] == h;
	snprintf(file, sizeof file, "%.16s.crl.pem", sha256);
	snprintf(name, sizeof name, "%08lx.r%d", h, n);
	if (path_join(path, sizeof path, c->dir, file) < 0 || path_join(link, sizeof link, c->dir, name) < 0) {
		seterr(c->err, c->errlen, "%s: path too long", c->dir);
		return -1;
	}
	if (write_file_atomic(path, pem, len, 0644, c->err, c->errlen) < 0)
		return -1;
	if (symlink(file, link) < 0) {
		seterr(c->err, c->errlen, "cannot link %s: %s", name, strerror(errno));
		return -1;
	}
	c->crl_hashes[c->ncrl++] = h;
	buf_put(&c->crls, pem, len);
	return 0;
}

/* The CRL opencapf publishes for a certificate of the store (one of its
 * CAPF certificates), if it has one. */
static int write_crl_one(const struct cert_row *r, void *arg)
{
	struct dir_ctx *c = arg;
	X509_CRL *crl = NULL;
	char *pem = NULL;
	size_t len;
	int rc = admin_crl_of_cert(c->st, r->sha256, &crl, c->err, c->errlen);

	if (rc > 0)
		return 0;
	if (rc == 0 && pki_crl_to_pem(crl, &pem, &len) < 0) {
		seterr(c->err, c->errlen, "cannot encode the CRL of %s", r->sha256);
		rc = -1;
	}
	if (rc == 0)
		rc = write_crl_file(c, r->sha256, X509_NAME_hash_ex(X509_CRL_get_issuer(crl), NULL, NULL, NULL), pem, len);
	OPENSSL_free(pem);
	X509_CRL_free(crl);
	if (rc < 0)
		c->failed = 1;
	return rc;
}

/* 1 if PATH is absent, an empty folder or an earlier export; 0 otherwise. */
static int replaceable(const char *path)
{
	char marker[4200];
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT;
	if (!S_ISDIR(sb.st_mode))
		return 0;
	if (rmdir(path) == 0)
		return 1;     /* it was empty */
	return path_join(marker, sizeof marker, path, EXPORT_MARKER) == 0 && access(marker, F_OK) == 0;
}

/* Swap the built folder into place, then remove the earlier export. */
static int swap_into_place(const char *tmp, const char *dir, char *err, size_t errlen)
{
	char old[4200];

	snprintf(old, sizeof old, "%s.old-%ld", tmp, (long)getpid());
	if (access(dir, F_OK) == 0 && rename(dir, old) < 0) {
		seterr(err, errlen, "cannot move the earlier export aside: %s", strerror(errno));
		return -1;
	}
	if (rename(tmp, dir) < 0) {
		seterr(err, errlen, "cannot move the export into %s: %s", dir, strerror(errno));
		rename(old, dir);
		return -1;
	}
	remove_tree(old);
	return 0;
}

static int tmp_sibling(const char *dir, char *out, size_t outcap)
{
	char a[4096], b[4096];
	int n;

	snprintf(a, sizeof a, "%s", dir);
	snprintf(b, sizeof b, "%s", dir);
	n = snprintf(out, outcap, "%s/.%s.export-%ld", dirname(a), basename(b), (long)getpid());
	return n < 0 || (size_t)n >= outcap ? -1 : 0;
}

/* ca.pem (the bundle), crl.pem (the CRLs), ca-crl.pem (both: a ca_file that
 * carries revocation) and the marker, next to the per-certificate files. */
static int write_bundle_and_marker(struct store *st, const char *store_name, const char *tmp,
				   const struct buf *crls, char *err, size_t errlen)
{
	char path[4300];
	struct buf bundle;
	int rc;

	buf_init(&bundle);
	if (bundle_of(st, store_name, &bundle, NULL, NULL, err, errlen) != 0) {
		buf_free(&bundle);
		return -1;
	}
	snprintf(path, sizeof path, "%s/ca.pem", tmp);
	rc = write_file_atomic(path, bundle.data ? (const char *)bundle.data : "", bundle.len, 0644, err, errlen);
	snprintf(path, sizeof path, "%s/crl.pem", tmp);
	if (rc == 0)
		rc = write_file_atomic(path, crls->data ? (const char *)crls->data : "", crls->len, 0644, err, errlen);
	if (crls->len)
		buf_put(&bundle, crls->data, crls->len);
	snprintf(path, sizeof path, "%s/ca-crl.pem", tmp);
	if (rc == 0 && bundle.failed)
		rc = -1;
	if (rc == 0)
		rc = write_file_atomic(path, bundle.data ? (const char *)bundle.data : "", bundle.len, 0644, err, errlen);
	buf_free(&bundle);
	snprintf(path, sizeof path, "%s/%s", tmp, EXPORT_MARKER);
	if (rc < 0 || write_file_atomic(path, store_name, strlen(store_name), 0644, err, errlen) < 0)
		return -1;
	return 0;
}

/* Build the folder in a hidden sibling of DIR, then swap it into place. */
static int export_dir(struct store *st, const char *store_name, const char *dir, int *count, int *crls,
		      char *err, size_t errlen)
{
	struct dir_ctx *c = calloc(1, sizeof *c);
	int rc = -1;

	if (!c) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	c->err = err;
	c->errlen = errlen;
	c->st = st;
	buf_init(&c->crls);
	if (!replaceable(dir)) {
		seterr(err, errlen, "%s exists and is not an earlier export (no %s in it): refusing to replace it",
		       dir, EXPORT_MARKER);
	} else if (tmp_sibling(dir, c->dir, sizeof c->dir) < 0 || mkdir(c->dir, 0755) < 0) {
		seterr(err, errlen, "cannot create a folder next to %s: %s", dir, strerror(errno));
		c->dir[0] = '\0';
	} else if (store_trust_each(st, store_name, write_one, c) != 0 || c->failed ||
		   store_trust_each(st, store_name, write_crl_one, c) != 0 || c->failed) {
		if (!c->failed)
			seterr(err, errlen, "%s", store_errmsg(st));
	} else if (write_bundle_and_marker(st, store_name, c->dir, &c->crls, err, errlen) == 0 &&
		   swap_into_place(c->dir, dir, err, errlen) == 0) {
		*count = c->count;
		*crls = c->ncrl;
		rc = 0;
	}
	if (rc < 0 && c->dir[0])
		remove_tree(c->dir);
	buf_free(&c->crls);
	free(c->crl_hashes);
	free(c->hashes);
	free(c);
	return rc;
}

/* ---- server formats ---- */

enum fmt { FMT_FREERADIUS, FMT_OCSERV, FMT_KAMAILIO, FMT_ASA };

static const char *const fmt_names[] = { "freeradius", "ocserv", "kamailio", "asa" };

struct fmt_cert {
	X509 *x;
	char subject[512];
	char sha256[80];
	char note[128];
	char name[72];          /* asa: trustpoint and file name */
	int64_t not_after;
	int has_crl;            /* opencapf publishes a CRL for it (its own CAPF certificate) */
};

struct fmt_ctx {
	struct fmt_cert *certs;
	int n;
	int failed;
	struct store *st;
	int crl_days;
	char *err;
	size_t errlen;
};

static int fmt_of(const char *format)
{
	for (size_t i = 0; i < sizeof fmt_names / sizeof fmt_names[0]; i++)
		if (strcmp(format, fmt_names[i]) == 0)
			return (int)i;
	return -1;
}

static int collect(const struct cert_row *r, void *arg)
{
	struct fmt_ctx *c = arg;
	struct fmt_cert *grown, *fc;
	char why[ERRLEN];
	X509 *x = pki_cert_from_der(r->der, r->derlen, why, sizeof why);

	if (!x || !(grown = realloc(c->certs, (size_t)(c->n + 1) * sizeof *grown))) {
		seterr(c->err, c->errlen, "certificate %s: %s", r->sha256, x ? "out of memory" : why);
		X509_free(x);
		c->failed = 1;
		return -1;
	}
	c->certs = grown;
	fc = &c->certs[c->n++];
	memset(fc, 0, sizeof *fc);
	fc->x = x;
	fc->not_after = r->not_after;
	snprintf(fc->subject, sizeof fc->subject, "%s", r->subject);
	snprintf(fc->sha256, sizeof fc->sha256, "%s", r->sha256);
	snprintf(fc->note, sizeof fc->note, "%s", r->note);
	return 0;
}

/* Which certificates have a CRL (after export_dir published what was due). */
static int mark_crls(struct fmt_ctx *c)
{
	for (int i = 0; i < c->n; i++) {
		X509_CRL *crl = NULL;
		int rc = admin_crl_of_cert(c->st, c->certs[i].sha256, &crl, c->err, c->errlen);

		if (rc < 0)
			return -1;
		c->certs[i].has_crl = rc == 0;
		X509_CRL_free(crl);
	}
	c->crl_days = admin_crl_days(c->st);
	return 0;
}

/* Comment lines about revocation; 1 when every certificate has a CRL (a
 * server that requires one for each CA may check them), else 0. */
static int crl_comments(struct buf *out, const struct fmt_ctx *c, const char *lead, const char *file)
{
	int with = 0, all;

	for (int i = 0; i < c->n; i++)
		with += c->certs[i].has_crl;
	all = with == c->n && with > 0;
	if (with)
		buf_printf(out, "%s Revocation: %s holds the CRL opencapf signs for each of its CAPF certificates.\n"
			   "%s Export again after each revocation and at least every %d days (a CRL past its\n"
			   "%s nextUpdate, %d days after it was signed, makes the server refuse every LSC).\n",
			   lead, file, lead, c->crl_days / 2 > 0 ? c->crl_days / 2 : 1, lead, c->crl_days);
	for (int i = 0; i < c->n; i++)
		if (!c->certs[i].has_crl)
			buf_printf(out, "%s No CRL for %s: not a CAPF certificate of this state, or one without\n"
				   "%s keyUsage cRLSign (roll over to one that has it; opencapfd's /ocsp answers meanwhile).\n",
				   lead, c->certs[i].subject, lead);
	return all;
}

/* A trustpoint / file name from the CN: letters, digits, . _ -; unique. */
static void name_certs(struct fmt_ctx *c)
{
	for (int i = 0; i < c->n; i++) {
		char cn[256] = "", base[64];
		size_t k = 0;

		X509_NAME_get_text_by_NID(X509_get_subject_name(c->certs[i].x), NID_commonName, cn, sizeof cn);
		for (const char *p = cn; *p && k < 48; p++)
			base[k++] = (strchr("._-", *p) || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
				     (*p >= 'A' && *p <= 'Z')) ? *p : '_';
		base[k] = '\0';
		if (k == 0 || base[0] == '.')
			snprintf(base, sizeof base, "opencapf-%d", i + 1);
		snprintf(c->certs[i].name, sizeof c->certs[i].name, "%s", base);
		for (int n = 2, clash = 1; clash; n++) {
			clash = 0;
			for (int j = 0; j < i; j++)
				if (strcmp(c->certs[j].name, c->certs[i].name) == 0)
					clash = 1;
			if (clash)
				snprintf(c->certs[i].name, sizeof c->certs[i].name, "%s-%d", base, n);
		}
	}
}

static int write_pem(const char *path, X509 *x, char *err, size_t errlen)
{
	char *pem = NULL;
	size_t len;
	int rc = -1;

	if (pki_cert_to_pem(x, &pem, &len) < 0)
		seterr(err, errlen, "cannot encode a certificate for %s", path);
	else if (write_file_atomic(path, pem, len, 0644, err, errlen) == 0)
		rc = 0;
	OPENSSL_free(pem);
	return rc;
}

/* DIR/asa/NAME.pem for each certificate. */
static int write_asa_files(const struct fmt_ctx *c, const char *dir, char *err, size_t errlen)
{
	char sub[PATH_MAX + 8], path[PATH_MAX + 120], file[96];

	if (path_join(sub, sizeof sub, dir, "asa") < 0 || (mkdir(sub, 0755) < 0 && errno != EEXIST)) {
		seterr(err, errlen, "cannot create %s/asa: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < c->n; i++) {
		snprintf(file, sizeof file, "%s.pem", c->certs[i].name);
		if (path_join(path, sizeof path, sub, file) < 0 || write_pem(path, c->certs[i].x, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* "# CN=..., valid until ... (note)" for each certificate. */
static void list_certs(struct buf *out, const struct fmt_ctx *c, const char *lead, const char *store_name)
{
	buf_printf(out, "%s Trusted: the %d certificate%s of opencapf's %s store\n", lead, c->n, c->n == 1 ? "" : "s",
	       store_name);
	for (int i = 0; i < c->n; i++) {
		char na[40];

		fmt_time_utc(c->certs[i].not_after, na, sizeof na);
		buf_printf(out, "%s   %s, valid until %s%s%s%s%s\n", lead, c->certs[i].subject, na,
		       c->certs[i].not_after < now_utc() ? " (EXPIRED)" : "", c->certs[i].note[0] ? " (" : "",
		       c->certs[i].note, c->certs[i].note[0] ? ")" : "");
	}
}

static void snippet_freeradius(struct buf *out, const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	int all;

	buf_printf(out, "# FreeRADIUS 3, EAP-TLS: in mods-available/eap, inside \"tls-config tls-common { ... }\".\n");
	list_certs(out, c, "#", store_name);
	all = crl_comments(out, c, "#", "ca-crl.pem");
	if (!all)
		buf_printf(out, "# check_crl needs a CRL for every CA of the store, so it stays off.\n");
	buf_printf(out, "# ca_file and ca_path hold the same certificates (and CRLs); either one is enough.\n"
	       "# check_cert_cn makes the EAP identity the certificate's CN (SEPxxxxxxxxxxxx for an LSC).\n"
	       "# Restart FreeRADIUS after each export.\n"
	       "ca_file = \"%s/ca-crl.pem\"\n"
	       "ca_path = \"%s\"\n"
	       "%scheck_crl = yes\n"
	       "check_cert_cn = %%{User-Name}\n",
	       dir, dir, all ? "" : "# ");
}

static void snippet_ocserv(struct buf *out, const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	buf_printf(out, "# ocserv.conf: phones authenticate by certificate; the user name is its CN\n"
	       "# (SEPxxxxxxxxxxxx for an LSC).\n");
	list_certs(out, c, "#", store_name);
	crl_comments(out, c, "#", "crl.pem");
	buf_printf(out, "# Restart ocserv after each export.\n"
	       "auth = \"certificate\"\n"
	       "ca-cert = %s/ca.pem\n"
	       "crl = %s/crl.pem\n"
	       "cert-user-oid = 2.5.4.3\n",
	       dir, dir);
}

static void snippet_kamailio(struct buf *out, const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	int all;

	buf_printf(out, "# Kamailio tls.cfg (modparam(\"tls\", \"config\", ...)): the profile phones connect to;\n"
	       "# add the server's own certificate and private_key lines. In the route,\n"
	       "# is_peer_verified() is true for a phone certificate these CAs issued and\n"
	       "# $tls_peer_subject_cn is the device (SEPxxxxxxxxxxxx for an LSC).\n");
	list_certs(out, c, "#", store_name);
	all = crl_comments(out, c, "#", "crl.pem");
	if (!all)
		buf_printf(out, "# Kamailio's crl needs a CRL for every CA of the store, so it stays off.\n");
	buf_printf(out, "# After each export: kamcmd tls.reload (or restart Kamailio).\n"
	       "[server:default]\n"
	       "verify_certificate = yes\n"
	       "require_certificate = yes\n"
	       "ca_list = %s/ca.pem\n"
	       "%scrl = %s/crl.pem\n",
	       dir, all ? "" : "# ", dir);
}

static void snippet_asa(struct buf *out, const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	buf_printf(out, "! Cisco ASA (phone VPN head-end): one trustpoint per certificate. At each\n"
	       "! \"crypto ca authenticate\", paste the file named above it, then type quit.\n");
	list_certs(out, c, "!", store_name);
	for (int i = 0; i < c->n; i++)
		buf_printf(out, "crypto ca trustpoint %s\n"
		       " enrollment terminal\n"
		       " revocation-check none\n"
		       " exit\n"
		       "! paste %s/asa/%s.pem\n"
		       "crypto ca authenticate %s\n",
		       c->certs[i].name, dir, c->certs[i].name, c->certs[i].name);
	buf_printf(out, "! Cisco ISE (802.1X): Administration > System > Certificates > Trusted Certificates >\n"
	       "! Import, once per file of %s/asa, with \"Trust for client authentication\".\n"
	       "! %s/ca.pem holds the same certificates as one plain PEM bundle.\n",
	       dir, dir);
	crl_comments(out, c, "!", "crl.pem (PEM bundle)");
	buf_printf(out, "! To check revocation on the ASA, use \"revocation-check ocsp\" in each trustpoint with\n"
	       "! \"ocsp url http://<opencapfd>:8080/ocsp\"; ISE: the CRL's URL is http://<opencapfd>:8080/crl/NAME.crl\n"
	       "! (Certificate Revocation List in the trusted certificate's settings), or OCSP at /ocsp.\n");
}

/* The server formats: the directory, asa's files, the settings text. */
static int export_server(struct store *st, const char *store_name, int f, const char *dir,
			 struct admin_trust_export *out, char *err, size_t errlen)
{
	struct fmt_ctx c = { .err = err, .errlen = errlen, .st = st };
	char abs[PATH_MAX];
	int rc = -1;

	if (strpbrk(dir, "\"\n\r")) {
		seterr(err, errlen, "%s: a folder for server settings cannot contain quotes or line breaks", dir);
		return -1;
	}
	if (store_trust_each(st, store_name, collect, &c) != 0) {
		if (!c.failed)
			seterr(err, errlen, "%s", store_errmsg(st));
		goto out;
	}
	if (export_dir(st, store_name, dir, &out->count, &out->crls, err, errlen) < 0)
		goto out;
	if (!realpath(dir, abs)) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if (strpbrk(abs, "\"\n\r")) {
		seterr(err, errlen, "%s: a folder for server settings cannot contain quotes or line breaks", abs);
		goto out;
	}
	name_certs(&c);
	if (mark_crls(&c) < 0)
		goto out;
	if (f == FMT_ASA && write_asa_files(&c, abs, err, errlen) < 0)
		goto out;
	switch (f) {
	case FMT_FREERADIUS: snippet_freeradius(&out->text, &c, store_name, abs); break;
	case FMT_OCSERV: snippet_ocserv(&out->text, &c, store_name, abs); break;
	case FMT_KAMAILIO: snippet_kamailio(&out->text, &c, store_name, abs); break;
	default: snippet_asa(&out->text, &c, store_name, abs); break;
	}
	rc = out->text.failed ? -1 : 0;
	if (rc < 0)
		seterr(err, errlen, "out of memory");
out:
	for (int i = 0; i < c.n; i++)
		X509_free(c.certs[i].x);
	free(c.certs);
	return rc;
}

int admin_trust_export_known(const char *format)
{
	return format && (!strcmp(format, "pem") || !strcmp(format, "dir") || fmt_of(format) >= 0);
}

int admin_trust_export_needs_dir(const char *format)
{
	return admin_trust_export_known(format) && strcmp(format, "pem") != 0;
}

int admin_trust_export(struct store *st, const char *store_name, const char *format, const char *path,
		       struct admin_trust_export *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof *out);
	buf_init(&out->text);
	if (!admin_trust_export_known(format)) {
		seterr(err, errlen, "unknown format '%s': expected pem, dir, freeradius, ocserv, kamailio or asa",
		       format && text_valid(format) ? format : "?");
		return -1;
	}
	if (admin_trust_export_needs_dir(format) && !path) {
		seterr(err, errlen, "format %s needs a folder to write to", format);
		return -1;
	}
	if ((rc = store_trust_each(st, store_name, NULL, NULL)) != 0) {
		seterr(err, errlen, rc > 0 ? "no trust store named '%s'" : "%s", rc > 0 ? store_name : store_errmsg(st));
		return rc > 0 ? 1 : -1;
	}
	if (!strcmp(format, "pem"))
		return export_pem(st, store_name, path, out, err, errlen);
	if (!strcmp(format, "dir"))
		return export_dir(st, store_name, path, &out->count, &out->crls, err, errlen);
	return export_server(st, store_name, fmt_of(format), path, out, err, errlen);
}
