/*
 * provision.c: writing the provisioning folder (provision.h).
 */
#include "admin/provision.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/itl_file.h"
#include "admin/phone_config.h"
#include "admin/service_certs.h"
#include "pki/pki.h"
#include "pki/pki_sgn.h"
#include "store/store_search.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

struct prov_run {
	struct store *st;
	struct prov_settings s;
	char out_dir[4096];
	X509 *cert;
	EVP_PKEY *key;
	int dry_run;
	struct provision_result *r;
	struct atomic_batch batch;   /* every file, renamed into place after one sync */
};

void provision_result_free(struct provision_result *r)
{
	buf_free(&r->problems);
}

static void problem(struct prov_run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct prov_run *run, const char *fmt, ...)
{
	char line[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	buf_printf(&run->r->problems, "%s\n", line);
	run->r->failed++;
}

/* 1 when path holds exactly data[0..len). */
static int same_content(const char *path, const uint8_t *data, size_t len)
{
	uint8_t *old = NULL;
	size_t oldlen = 0;
	char err[ERRLEN];
	int same = read_file(path, len + 1, &old, &oldlen, err, sizeof err) == 0 && oldlen == len &&
		   memcmp(old, data, len) == 0;

	free(old);
	return same;
}

/* 1 when the folder already holds this configuration and a signature of it. */
static int current(const struct prov_run *run, const char *name, const struct buf *xml)
{
	char path[4300];

	snprintf(path, sizeof path, "%s/%s.cnf.xml", run->out_dir, name);
	if (!same_content(path, xml->data, xml->len))
		return 0;
	snprintf(path, sizeof path, "%s/%s.cnf.xml.sgn", run->out_dir, name);
	return access(path, F_OK) == 0;
}

/* The configuration and its .sgn written aside (renamed into place by the
 * batch's commit); 0 or -1 (reported). */
static int write_pair(struct prov_run *run, const char *name, const struct buf *xml)
{
	char path[4300], sgn_name[128], err[ERRLEN];
	struct pki_sgn_opts o;
	struct buf sgn;
	int rc = -1;

	snprintf(sgn_name, sizeof sgn_name, "%s.cnf.xml.sgn", name);
	pki_sgn_opts_default(&o);
	o.filename = sgn_name;
	buf_init(&sgn);
	if (pki_sgn_sign(&o, run->cert, run->key, xml->data, xml->len, &sgn, err, sizeof err) < 0)
		problem(run, "%s: cannot sign the configuration: %s", name, err);
	else if (snprintf(path, sizeof path, "%s/%s.cnf.xml", run->out_dir, name) < 0 ||
		 atomic_batch_write(&run->batch, path, xml->data, xml->len, 0644, err, sizeof err) < 0 ||
		 snprintf(path, sizeof path, "%s/%s", run->out_dir, sgn_name) < 0 ||
		 atomic_batch_write(&run->batch, path, sgn.data, sgn.len, 0644, err, sizeof err) < 0)
		problem(run, "%s: %s", name, err);
	else
		rc = 0;
	buf_free(&sgn);
	return rc;
}

/* ---- encrypted configurations (provisioning.md §4) ---- */

/* The certificate a configuration is encrypted to: the phone's LSC, else
 * its MIC; RSA only. NULL (reported) when there is none. */
static X509 *encryption_cert(struct prov_run *run, const char *name)
{
	struct cert_row row;
	char err[ERRLEN];
	X509 *x = NULL;
	int rc = store_phone_lsc(run->st, name, 1, &row);

	if (rc == 1)
		rc = store_phone_mic(run->st, name, 1, &row);
	if (rc != 0) {
		problem(run, "%s: an encrypted configuration needs the phone's LSC or MIC, and this state has "
			     "neither (enroll it first)", name);
		return NULL;
	}
	x = pki_cert_from_der(row.der, row.derlen, err, sizeof err);
	cert_row_free(&row);
	if (x && EVP_PKEY_get_base_id(X509_get0_pubkey(x)) != EVP_PKEY_RSA) {
		problem(run, "%s: its certificate has an EC key: an encrypted configuration needs an RSA key (the "
			     "key is wrapped with RSA; use --key-order rsa and install a new LSC)", name);
		X509_free(x);
		return NULL;
	}
	if (!x)
		problem(run, "%s: %s", name, err);
	return x;
}

/* MD5 of the certificate's DER, hex: the stub's certHash. */
static void cert_md5(X509 *x, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	X509_digest(x, EVP_md5(), md, &n);
	for (unsigned i = 0; i < n && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* 1 when the sidecar says this plaintext went to this certificate already. */
static int encrypted_current(struct prov_run *run, const char *name, const char *stamp)
{
	char path[4300];

	snprintf(path, sizeof path, "%s/%s.cnf.xml.enc.sgn", run->out_dir, name);
	if (access(path, F_OK) < 0)
		return 0;
	snprintf(path, sizeof path, "%s/%s.cnf.xml.sgn", run->out_dir, name);
	if (access(path, F_OK) < 0)
		return 0;
	snprintf(path, sizeof path, "%s/.%s.enc", run->out_dir, name);
	return same_content(path, (const uint8_t *)stamp, strlen(stamp));
}

/* The sidecar's text: SHA-256 of the plaintext and of the certificate. */
static void encrypted_stamp(const struct buf *xml, X509 *x, char *out, size_t cap)
{
	unsigned char md[32];
	char hex[65], fp[80];

	SHA256(xml->data, xml->len, md);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	pki_fingerprint(x, "sha256", 0, fp, sizeof fp);
	snprintf(out, cap, "%s %s\n", hex, fp);
}

static int write_encrypted(struct prov_run *run, const char *name, X509 *x, const struct buf *xml,
			   const struct buf *stub, const char *stamp)
{
	char path[4300], fname[128], err[ERRLEN];
	struct pki_sgn_opts o;
	struct buf enc, sgn;
	int rc = -1;

	pki_sgn_opts_default(&o);
	buf_init(&enc);
	buf_init(&sgn);
	snprintf(fname, sizeof fname, "%s.cnf.xml.enc.sgn", name);
	o.filename = fname;
	if (pki_sgn_encrypt(&o, run->cert, run->key, x, xml->data, xml->len, &enc, err, sizeof err) < 0 ||
	    (snprintf(fname, sizeof fname, "%s.cnf.xml.sgn", name),
	     pki_sgn_sign(&o, run->cert, run->key, stub->data, stub->len, &sgn, err, sizeof err) < 0))
		problem(run, "%s: cannot encrypt or sign the configuration: %s", name, err);
	else if (snprintf(path, sizeof path, "%s/%s.cnf.xml.enc.sgn", run->out_dir, name) < 0 ||
		 atomic_batch_write(&run->batch, path, enc.data, enc.len, 0644, err, sizeof err) < 0 ||
		 snprintf(path, sizeof path, "%s/%s", run->out_dir, fname) < 0 ||
		 atomic_batch_write(&run->batch, path, sgn.data, sgn.len, 0644, err, sizeof err) < 0 ||
		 snprintf(path, sizeof path, "%s/.%s.enc", run->out_dir, name) < 0 ||
		 atomic_batch_write(&run->batch, path, stamp, strlen(stamp), 0600, err, sizeof err) < 0)
		problem(run, "%s: %s", name, err);
	else
		rc = 0;
	buf_free(&enc);
	buf_free(&sgn);
	return rc;
}

/* A phone with encrypted configurations: .enc.sgn and the stub .sgn, never the plain file. */
static void provision_encrypted(struct prov_run *run, const struct phone *p, const char *tpl_path,
				const uint8_t *tpl, size_t len, const struct buf *xml)
{
	char hash[33] = "", stamp[160], err[1400], plain[4300];
	struct buf stub;
	X509 *x = encryption_cert(run, p->name);

	if (!x)
		return;
	buf_init(&stub);
	cert_md5(x, hash);
	encrypted_stamp(xml, x, stamp, sizeof stamp);
	snprintf(plain, sizeof plain, "%s/%s.cnf.xml", run->out_dir, p->name);
	if (encrypted_current(run, p->name, stamp) && access(plain, F_OK) < 0)
		run->r->unchanged++;
	else if (phone_config_stub(p, &run->s, tpl_path, tpl, len, hash, &stub, err, sizeof err) < 0)
		problem(run, "%s", err);
	else if (run->dry_run || write_encrypted(run, p->name, x, xml, &stub, stamp) == 0) {
		if (!run->dry_run)
			unlink(plain);   /* the plaintext is never served beside it */
		run->r->written++;
	}
	buf_free(&stub);
	X509_free(x);
}

/* One phone: its template merged, compared, written. */
static void provision_phone(struct prov_run *run, const struct phone *p)
{
	struct prov_settings settings = run->s;
	int encrypted = prov_encrypted(run->st, p->name);
	char tpl_path[1200], err[1400];
	uint8_t *tpl = NULL;
	size_t len = 0;
	struct buf xml;

	snprintf(tpl_path, sizeof tpl_path, "%s/%s.cnf.xml", run->s.templates, p->name);
	if (read_file(tpl_path, PROV_TEMPLATE_MAX_BYTES + 1, &tpl, &len, err, sizeof err) < 0) {
		if (errno == ENOENT)
			run->r->no_template++;
		else
			problem(run, "%s", err);
		return;
	}
	buf_init(&xml);
	if (encrypted)
		settings.security_mode = 3;   /* the full configuration says what the stub says */
	if (phone_config_merge(p, &settings, tpl_path, tpl, len, &xml, err, sizeof err) < 0)
		problem(run, "%s", err);
	else if (encrypted)
		provision_encrypted(run, p, tpl_path, tpl, len, &xml);
	else if (current(run, p->name, &xml))
		run->r->unchanged++;
	else if (run->dry_run || write_pair(run, p->name, &xml) == 0)
		run->r->written++;
	buf_free(&xml);
	free(tpl);
}

static int each_phone(const struct phone_row *row, void *arg)
{
	provision_phone(arg, &row->phone);
	return 0;
}

/* Templates for phones this state does not have: reported, not published. */
static void unknown_templates(struct prov_run *run)
{
	DIR *d = opendir(run->s.templates);
	struct dirent *e;
	struct phone p;

	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char name[64];

		if (n <= 8 || n - 8 >= sizeof name || strcmp(e->d_name + n - 8, ".cnf.xml") != 0)
			continue;
		snprintf(name, sizeof name, "%.*s", (int)(n - 8), e->d_name);
		if (store_phone_get(run->st, name, &p) == 1)
			problem(run, "%s/%s: no phone named %s in this state (add it, or remove the template)",
				run->s.templates, text_valid(e->d_name) ? e->d_name : "?", text_valid(name) ? name : "?");
	}
	if (d)
		closedir(d);
}

static int prov_start(struct prov_run *run, char *err, size_t errlen)
{
	if (prov_settings_load(run->st, &run->s, err, errlen) < 0)
		return -1;
	if (itl_tftp_dir(run->st, run->out_dir, sizeof run->out_dir) < 0 || mkdir_p(run->out_dir, 0755) < 0) {
		seterr(err, errlen, "cannot find or create the provisioning folder %s", run->out_dir);
		return -1;
	}
	if (service_cert_load(run->st, SERVICE_SAST, &run->cert, &run->key, err, errlen) < 0)
		return -1;
	if (EVP_PKEY_get_base_id(run->key) != EVP_PKEY_RSA) {
		seterr(err, errlen, "the SAST/TFTP signing key is not RSA: phones verify .sgn files with RSA only "
				    "(see 'opencapf itl signer')");
		return -1;
	}
	return 0;
}

int admin_provision_publish(struct store *st, const char *actor, int dry_run, struct provision_result *r,
			    char *err, size_t errlen)
{
	struct prov_run run = { .st = st, .dry_run = dry_run, .r = r };
	struct phone_filter f;
	char detail[256];
	int rc = -1;

	memset(r, 0, sizeof *r);
	buf_init(&r->problems);
	if (prov_start(&run, err, errlen) == 0) {
		phone_filter_init(&f);
		if (store_phone_select(st, &f, each_phone, &run) != 0)
			seterr(err, errlen, "cannot read the phones: %s", store_errmsg(st));
		else
			rc = 0;
		if (rc == 0)
			unknown_templates(&run);
		if (rc == 0 && atomic_batch_commit(&run.batch, run.out_dir, err, errlen) < 0)
			rc = -1;   /* every file old or whole: nothing half-written */
		atomic_batch_abort(&run.batch);
	}
	X509_free(run.cert);
	EVP_PKEY_free(run.key);
	if (rc == 0 && !dry_run) {
		snprintf(detail, sizeof detail, "{\"written\":%zu,\"unchanged\":%zu,\"no_template\":%zu,\"failed\":%zu}",
			 r->written, r->unchanged, r->no_template, r->failed);
		store_audit(st, actor, "provision.publish", "", detail);
	}
	return rc;
}

/* ---- one phone's provisioning state ---- */

int provision_phone_state(struct store *st, const char *name, struct provision_state *out, char *err,
			  size_t errlen)
{
	struct prov_settings s;
	char dir[4096], path[4300], stamp[200] = "", *sp;
	struct stat sb;
	FILE *f;

	memset(out, 0, sizeof *out);
	if (prov_settings_load(st, &s, err, errlen) < 0 || itl_tftp_dir(st, dir, sizeof dir) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s.cnf.xml", s.templates, name);
	out->has_template = access(path, F_OK) == 0;
	out->encrypted = prov_encrypted(st, name);
	snprintf(path, sizeof path, "%s/%s.cnf.xml.sgn", dir, name);
	if (stat(path, &sb) == 0)
		out->published = (int64_t)sb.st_mtime;
	snprintf(path, sizeof path, "%s/.%s.enc", dir, name);
	if (out->encrypted && (f = fopen(path, "r"))) {
		if (fgets(stamp, sizeof stamp, f) && (sp = strchr(stamp, ' ')))
			snprintf(out->encrypted_to, sizeof out->encrypted_to, "%.64s", sp + 1);
		fclose(f);
	}
	return 0;
}

/* ---- the HTTPS provisioning certificate ---- */

static void host_cn(char *out, size_t cap)
{
	char host[256] = "";

	if (gethostname(host, sizeof host - 1) < 0 || !host[0])
		snprintf(host, sizeof host, "localhost");
	snprintf(out, cap, "%.63s", host);
}

int admin_https_cert_create(struct store *st, const char *actor, int days, int renew, char *err, size_t errlen)
{
	char cert_path[4300], key_path[4300], cn[64], detail[256];
	struct pki_cert_info info;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int rc = -1;

	snprintf(cert_path, sizeof cert_path, "%s/%s", store_dir(st), PROV_HTTPS_CERT);
	snprintf(key_path, sizeof key_path, "%s/%s", store_dir(st), PROV_HTTPS_KEY);
	if (!renew && access(cert_path, F_OK) == 0 && access(key_path, F_OK) == 0)
		return 0;
	host_cn(cn, sizeof cn);
	if ((key = pki_key_generate(PKI_KEY_EC, 256, err, errlen)) &&
	    (cert = pki_service_cert_create(key, cn, NULL, days > 0 ? days : 1825, err, errlen)) &&
	    pki_key_save(key_path, key, err, errlen) == 0 && pki_cert_save_pem(cert_path, cert, err, errlen) == 0 &&
	    pki_cert_info(cert, &info) == 0) {
		snprintf(detail, sizeof detail, "{\"cn\":\"%s\",\"sha256\":\"%s\",\"key\":\"EC P-256\"}", cn, info.sha256);
		rc = store_audit(st, actor, "provision.https_cert", cn, detail) < 0 ? -1 : 0;
		if (rc < 0)
			seterr(err, errlen, "%s", store_errmsg(st));
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
