/*
 * cmd_trust_export.c: `opencapf trust export`: a trust store in the forms
 * peers read: one PEM bundle (any ca_file setting, an ASA or ISE upload) or
 * a hashed directory in c_rehash layout (`openssl verify -CApath`,
 * FreeRADIUS ca_path). The server formats (freeradius, ocserv, kamailio,
 * asa: the directory plus the server's settings) are trust_export_fmt.c's,
 * built on the directory written here.
 *
 * Files appear whole: the bundle is written atomically; a directory is
 * built in a hidden sibling and renamed into place, replacing an earlier
 * export (recognised by its .opencapf-export marker) but never a folder
 * that is not ours. A directory holds one PEM per certificate (named by
 * fingerprint), HASH.N links to them, and ca.pem, the whole bundle.
 */
#include "cmd/opencapf/cmd_trust.h"
#include "cmd/opencapf/trust_export_fmt.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/trust_usage.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"

#define EXPORT_MARKER ".opencapf-export"
#define MAX_SAME_HASH 100

static const char export_usage[] =
	"usage: opencapf trust export STORE [--format FORMAT] [--out PATH]\n\n"
	"Write a trust store for a peer that checks phone certificates (802.1X server,\n"
	"VPN head-end, SIP proxy, CallManager-style TLS):\n"
	"  --format pem  one plain PEM bundle (default), to standard output or --out FILE\n"
	"  --format dir  a hashed directory in c_rehash layout: one PEM per certificate,\n"
	"                HASH.N links to them (CApath, ca_path) and ca.pem, the bundle;\n"
	"                --out DIR is required\n"
	TRUST_FMT_USAGE
	"  --out PATH    where to write. A directory replaces an earlier export there; any\n"
	"                other non-empty folder is refused.\n";

/* ---- PEM bundle ---- */

struct pem_ctx {
	struct buf out;
	int count;
};

/* The whole store as one plain PEM bundle in c->out (capf/trust_usage.c,
 * the API's export too). */
static int build_bundle(struct store *st, const char *store_name, struct pem_ctx *c)
{
	int skipped = 0, rc;

	buf_init(&c->out);
	rc = trust_export_pem(st, store_name, &c->out, &c->count, &skipped);
	if (skipped)
		fprintf(stderr, "opencapf: warning: %d certificate%s of %s skipped: cannot encode %s\n", skipped,
			skipped == 1 ? "" : "s", store_name, skipped == 1 ? "it" : "them");
	if (rc != 0) {
		if (rc > 0)
			cli_error("trust export: no trust store named '%s'", store_name);
		else
			cli_error("trust export: %s", c->out.failed ? "out of memory" : store_errmsg(st));
		buf_free(&c->out);
		return -1;
	}
	return 0;
}

static int export_pem(struct store *st, const char *store_name, const char *out)
{
	struct pem_ctx c;
	char err[ERRLEN];
	int rc = -1;

	if (build_bundle(st, store_name, &c) < 0)
		return -1;
	if (!out) {
		rc = c.out.len && fwrite(c.out.data, 1, c.out.len, stdout) != c.out.len ? -1 : 0;
	} else if (write_file_atomic(out, c.out.data ? (const char *)c.out.data : "", c.out.len, 0644, err,
				     sizeof err) < 0) {
		cli_error("trust export: %s", err);
	} else {
		fprintf(stderr, "%d certificate%s of %s written to %s\n", c.count, c.count == 1 ? "" : "s", store_name,
			out);
		rc = 0;
	}
	if (rc == 0 && c.count == 0)
		fprintf(stderr, "opencapf: warning: %s holds no certificate\n", store_name);
	buf_free(&c.out);
	return rc;
}

/* ---- hashed directory ---- */

struct dir_ctx {
	char dir[4200];          /* the folder being built (a hidden sibling of --out) */
	unsigned long *hashes;   /* subject hash of each file written so far */
	int count;
	int failed;
};

/* HASH.N -> FILE, N the first free index for that hash. */
static int link_hash(struct dir_ctx *c, X509 *x, const char *file)
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
		cli_error("trust export: cannot link %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_one(const struct cert_row *r, void *arg)
{
	struct dir_ctx *c = arg;
	char err[ERRLEN], file[40], path[4200], *pem = NULL;
	size_t len;
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);
	int rc = -1;

	snprintf(file, sizeof file, "%.16s.pem", r->sha256);
	if (!x || pki_cert_to_pem(x, &pem, &len) < 0)
		cli_error("trust export: cannot encode certificate %s", r->sha256);
	else if (path_join(path, sizeof path, c->dir, file) < 0 ||
		 write_file_atomic(path, pem, len, 0644, err, sizeof err) < 0)
		cli_error("trust export: %s", err);
	else
		rc = link_hash(c, x, file);
	OPENSSL_free(pem);
	X509_free(x);
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
static int swap_into_place(const char *tmp, const char *dir)
{
	char old[4200];

	snprintf(old, sizeof old, "%s.old-%ld", tmp, (long)getpid());
	if (access(dir, F_OK) == 0 && rename(dir, old) < 0) {
		cli_error("trust export: cannot move the earlier export aside: %s", strerror(errno));
		return -1;
	}
	if (rename(tmp, dir) < 0) {
		cli_error("trust export: cannot move the export into %s: %s", dir, strerror(errno));
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

/* ca.pem (the bundle) and the marker, next to the per-certificate files. */
static int write_bundle_and_marker(struct store *st, const char *store_name, const char *tmp)
{
	char path[4300], err[ERRLEN];
	struct pem_ctx c;
	int rc;

	if (build_bundle(st, store_name, &c) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/ca.pem", tmp);
	rc = write_file_atomic(path, c.out.data ? (const char *)c.out.data : "", c.out.len, 0644, err, sizeof err);
	buf_free(&c.out);
	snprintf(path, sizeof path, "%s/%s", tmp, EXPORT_MARKER);
	if (rc < 0 || write_file_atomic(path, store_name, strlen(store_name), 0644, err, sizeof err) < 0) {
		cli_error("trust export: %s", err);
		return -1;
	}
	return 0;
}

/* Build the folder in a hidden sibling of DIR, then swap it into place
 * (a trust_dir_writer for the server formats too). */
static int export_dir(struct store *st, const char *store_name, const char *dir)
{
	struct dir_ctx *c = calloc(1, sizeof *c);
	int rc = -1;

	if (!c) {
		cli_error("trust export: out of memory");
		return -1;
	}
	if (!replaceable(dir)) {
		cli_error("trust export: %s exists and is not an earlier export (no %s in it): refusing to "
			  "replace it", dir, EXPORT_MARKER);
	} else if (tmp_sibling(dir, c->dir, sizeof c->dir) < 0 || mkdir(c->dir, 0755) < 0) {
		cli_error("trust export: cannot create a folder next to %s: %s", dir, strerror(errno));
		c->dir[0] = '\0';
	} else if (store_trust_each(st, store_name, write_one, c) != 0 || c->failed) {
		if (!c->failed)
			cli_error("trust export: %s", store_errmsg(st));
	} else if (write_bundle_and_marker(st, store_name, c->dir) == 0 && swap_into_place(c->dir, dir) == 0) {
		fprintf(stderr, "%d certificate%s of %s written to %s (c_rehash layout, bundle in ca.pem)\n",
			c->count, c->count == 1 ? "" : "s", store_name, dir);
		rc = 0;
	}
	if (rc < 0 && c->dir[0])
		remove_tree(c->dir);
	free(c->hashes);
	free(c);
	return rc;
}

int trust_export(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' }, { "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *format = "pem";
	struct store *st;
	int help = 0, c, rc;

	while ((c = cli_getopt(cli, argc, argv, "", opts, export_usage, &help)) != -1) {
		if (c == '?')
			return EXIT_USAGE;
		if (c == 'F')
			format = optarg;
		if (c == 'o')
			out = optarg;
	}
	if (help)
		return EXIT_OK;
	if (cli_expect_args(argc, argv, 1, 1, export_usage) < 0)
		return EXIT_USAGE;
	if (strcmp(format, "pem") && strcmp(format, "dir") && !trust_fmt_known(format)) {
		cli_error("trust export: --format must be pem, dir, freeradius, ocserv, kamailio or asa, not '%s'",
			  format);
		return EXIT_USAGE;
	}
	if (strcmp(format, "pem") && !out) {
		cli_error("trust export: --format %s needs --out DIR", format);
		return EXIT_USAGE;
	}
	if (cli_open_store(cli, &st) < 0)
		return EXIT_FAIL;
	if (store_trust_each(st, argv[optind], NULL, NULL) != 0) {
		cli_error("no trust store named '%s' (see 'opencapf trust list')", argv[optind]);
		rc = -1;
	} else if (!strcmp(format, "pem")) {
		rc = export_pem(st, argv[optind], out);
	} else if (!strcmp(format, "dir")) {
		rc = export_dir(st, argv[optind], out);
	} else {
		rc = trust_fmt_export(st, argv[optind], format, out, export_dir);
	}
	store_close(st);
	return rc < 0 ? EXIT_FAIL : EXIT_OK;
}
