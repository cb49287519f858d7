/*
 * trust_export_fmt.c: `opencapf trust export STORE --format
 * freeradius|ocserv|kamailio|asa --out DIR`: a trust store ready for the
 * server that checks phone certificates (phone-certificates.md §2: 802.1X,
 * phone VPN, SIP over TLS), and the server settings that use it.
 *
 * DIR is the folder of `--format dir`, written by the caller's writer
 * (atomic replacement of an earlier export, never of a folder that is not
 * one): the certificates in c_rehash layout (FreeRADIUS ca_path) and
 * DIR/ca.pem, the plain PEM bundle (FreeRADIUS ca_file, ocserv ca-cert,
 * Kamailio ca_list, an ISE upload). The asa format adds DIR/asa/NAME.pem,
 * one certificate per file, NAME its CN, for the one-certificate-per-
 * trustpoint uploads of ASA and ISE.
 * Standard output gets the snippet of server configuration, with DIR as an
 * absolute path, comments first (what it trusts, where it goes, how to load
 * it); docs/servers.md shows each in its whole configuration.
 */
#include "cmd/opencapf/trust_export_fmt.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/opencapf/cli.h"
#include "pki/pki.h"

#include <openssl/objects.h>
#include <openssl/x509.h>

enum fmt { FMT_FREERADIUS, FMT_OCSERV, FMT_KAMAILIO, FMT_ASA };

static const char *const fmt_names[] = { "freeradius", "ocserv", "kamailio", "asa" };

struct fmt_cert {
	X509 *x;
	char subject[512];
	char sha256[80];
	char note[128];
	char name[72];          /* asa: trustpoint and file name */
	int64_t not_after;
};

struct fmt_ctx {
	struct fmt_cert *certs;
	int n;
	int failed;
};

static int fmt_of(const char *format)
{
	for (size_t i = 0; i < sizeof fmt_names / sizeof fmt_names[0]; i++)
		if (strcmp(format, fmt_names[i]) == 0)
			return (int)i;
	return -1;
}

int trust_fmt_known(const char *format)
{
	return format && fmt_of(format) >= 0;
}

static int collect(const struct cert_row *r, void *arg)
{
	struct fmt_ctx *c = arg;
	struct fmt_cert *grown, *fc;
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);

	if (!x || !(grown = realloc(c->certs, (size_t)(c->n + 1) * sizeof *grown))) {
		cli_error("trust export: certificate %s: %s", r->sha256, x ? "out of memory" : err);
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

static int write_pem(const char *path, X509 *x)
{
	char err[ERRLEN], *pem = NULL;
	size_t len;
	int rc = -1;

	if (pki_cert_to_pem(x, &pem, &len) < 0)
		cli_error("trust export: cannot encode a certificate for %s", path);
	else if (write_file_atomic(path, pem, len, 0644, err, sizeof err) < 0)
		cli_error("trust export: %s", err);
	else
		rc = 0;
	OPENSSL_free(pem);
	return rc;
}

/* DIR/asa/NAME.pem for each certificate. */
static int write_asa_files(const struct fmt_ctx *c, const char *dir)
{
	char sub[PATH_MAX + 8], path[PATH_MAX + 120], file[96];

	if (path_join(sub, sizeof sub, dir, "asa") < 0 || (mkdir(sub, 0755) < 0 && errno != EEXIST)) {
		cli_error("trust export: cannot create %s/asa: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < c->n; i++) {
		snprintf(file, sizeof file, "%s.pem", c->certs[i].name);
		if (path_join(path, sizeof path, sub, file) < 0 || write_pem(path, c->certs[i].x) < 0)
			return -1;
	}
	return 0;
}

/* "# CN=..., valid until ... (note)" for each certificate. */
static void list_certs(const struct fmt_ctx *c, const char *lead, const char *store_name)
{
	printf("%s Trusted: the %d certificate%s of opencapf's %s store\n", lead, c->n, c->n == 1 ? "" : "s",
	       store_name);
	for (int i = 0; i < c->n; i++) {
		char na[40];

		fmt_time_utc(c->certs[i].not_after, na, sizeof na);
		printf("%s   %s, valid until %s%s%s%s%s\n", lead, c->certs[i].subject, na,
		       c->certs[i].not_after < now_utc() ? " (EXPIRED)" : "", c->certs[i].note[0] ? " (" : "",
		       c->certs[i].note, c->certs[i].note[0] ? ")" : "");
	}
}

static void snippet_freeradius(const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	printf("# FreeRADIUS 3, EAP-TLS: in mods-available/eap, inside \"tls-config tls-common { ... }\".\n");
	list_certs(c, "#", store_name);
	printf("# ca_file and ca_path hold the same certificates; either one is enough.\n"
	       "# check_cert_cn makes the EAP identity the certificate's CN (SEPxxxxxxxxxxxx for an LSC).\n"
	       "# Restart FreeRADIUS after each export.\n"
	       "ca_file = \"%s/ca.pem\"\n"
	       "ca_path = \"%s\"\n"
	       "check_cert_cn = %%{User-Name}\n",
	       dir, dir);
}

static void snippet_ocserv(const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	printf("# ocserv.conf: phones authenticate by certificate; the user name is its CN\n"
	       "# (SEPxxxxxxxxxxxx for an LSC).\n");
	list_certs(c, "#", store_name);
	printf("# Restart ocserv after each export.\n"
	       "auth = \"certificate\"\n"
	       "ca-cert = %s/ca.pem\n"
	       "cert-user-oid = 2.5.4.3\n",
	       dir);
}

static void snippet_kamailio(const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	printf("# Kamailio tls.cfg (modparam(\"tls\", \"config\", ...)): the profile phones connect to;\n"
	       "# add the server's own certificate and private_key lines. In the route,\n"
	       "# is_peer_verified() is true for a phone certificate these CAs issued and\n"
	       "# $tls_peer_subject_cn is the device (SEPxxxxxxxxxxxx for an LSC).\n");
	list_certs(c, "#", store_name);
	printf("# After each export: kamcmd tls.reload (or restart Kamailio).\n"
	       "[server:default]\n"
	       "verify_certificate = yes\n"
	       "require_certificate = yes\n"
	       "ca_list = %s/ca.pem\n",
	       dir);
}

static void snippet_asa(const struct fmt_ctx *c, const char *store_name, const char *dir)
{
	printf("! Cisco ASA (phone VPN head-end): one trustpoint per certificate. At each\n"
	       "! \"crypto ca authenticate\", paste the file named above it, then type quit.\n");
	list_certs(c, "!", store_name);
	for (int i = 0; i < c->n; i++)
		printf("crypto ca trustpoint %s\n"
		       " enrollment terminal\n"
		       " revocation-check none\n"
		       " exit\n"
		       "! paste %s/asa/%s.pem\n"
		       "crypto ca authenticate %s\n",
		       c->certs[i].name, dir, c->certs[i].name, c->certs[i].name);
	printf("! Cisco ISE (802.1X): Administration > System > Certificates > Trusted Certificates >\n"
	       "! Import, once per file of %s/asa, with \"Trust for client authentication\".\n"
	       "! %s/ca.pem holds the same certificates as one plain PEM bundle.\n",
	       dir, dir);
}

int trust_fmt_export(struct store *st, const char *store_name, const char *format, const char *dir,
		     trust_dir_writer write_dir)
{
	struct fmt_ctx c = { 0 };
	char abs[PATH_MAX];
	int f = fmt_of(format), rc = -1;

	if (f < 0 || !dir || !write_dir) {
		cli_error("trust export: --format %s needs --out DIR", format ? format : "?");
		return -1;
	}
	if (strpbrk(dir, "\"\n\r")) {
		cli_error("trust export: %s: a folder for server settings cannot contain quotes or line breaks", dir);
		return -1;
	}
	if (store_trust_each(st, store_name, collect, &c) != 0) {
		if (!c.failed)
			cli_error("trust export: %s", store_errmsg(st));
		goto out;
	}
	if (write_dir(st, store_name, dir) < 0)
		goto out;
	if (!realpath(dir, abs)) {
		cli_error("trust export: %s: %s", dir, strerror(errno));
		goto out;
	}
	if (strpbrk(abs, "\"\n\r")) {
		cli_error("trust export: %s: a folder for server settings cannot contain quotes or line breaks", abs);
		goto out;
	}
	name_certs(&c);
	if (f == FMT_ASA && write_asa_files(&c, abs) < 0)
		goto out;
	if (c.n == 0)
		fprintf(stderr, "opencapf: warning: %s holds no certificate: the server will trust no phone\n",
			store_name);
	switch (f) {
	case FMT_FREERADIUS: snippet_freeradius(&c, store_name, abs); break;
	case FMT_OCSERV: snippet_ocserv(&c, store_name, abs); break;
	case FMT_KAMAILIO: snippet_kamailio(&c, store_name, abs); break;
	default: snippet_asa(&c, store_name, abs); break;
	}
	rc = fflush(stdout) == 0 ? 0 : -1;
out:
	for (int i = 0; i < c.n; i++)
		X509_free(c.certs[i].x);
	free(c.certs);
	return rc;
}
