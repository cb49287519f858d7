/*
 * phonedir.c: a phone is a folder. This file reads and writes it:
 * phone.conf (name=, model=; '#' comments), mic.crt/mic.key, mfg.crt,
 * lsc.crt/lsc.key (both or neither), capf.pem (trusted CAPF certificates)
 * and console.log (appended, one time-stamped line per console message).
 *
 * Keys are written through pki_key_save (mode 0600, atomically); an LSC is
 * written key first, so a crash never leaves a certificate without its key.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pki/pki.h"

#define CONF_MAX 4096

int phone_dir_file(const struct phone_dir *pd, const char *file, char *out, size_t outcap)
{
	return path_join(out, outcap, pd->path, file);
}

static int file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int conf_set(struct phone_dir *pd, const char *key, const char *val, char *err, size_t errlen)
{
	char *dst = NULL;
	size_t cap = 0;

	if (strcmp(key, "name") == 0) {
		dst = pd->name;
		cap = sizeof pd->name;
	} else if (strcmp(key, "model") == 0) {
		dst = pd->model;
		cap = sizeof pd->model;
	} else {
		return 0; /* unknown keys are left for later versions */
	}
	if (strlen(val) >= cap) {
		seterr(err, errlen, "phone.conf: %s is too long", key);
		return -1;
	}
	memcpy(dst, val, strlen(val) + 1);
	return 0;
}

static int conf_parse(struct phone_dir *pd, char *text, char *err, size_t errlen)
{
	int lineno = 0;

	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *eq, *s = trim(line);

		lineno++;
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			seterr(err, errlen, "phone.conf line %d: expected key=value", lineno);
			return -1;
		}
		*eq = '\0';
		if (conf_set(pd, trim(s), trim(eq + 1), err, errlen) < 0)
			return -1;
	}
	if (!devname_valid(pd->name)) {
		seterr(err, errlen, "phone.conf: '%s' is not a device name (SEP + 12 upper-case hex digits)",
		       pd->name);
		return -1;
	}
	if (!pd->model[0])
		snprintf(pd->model, sizeof pd->model, "%s", PHONE_MODEL_DEFAULT);
	return 0;
}

static int conf_load(struct phone_dir *pd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint8_t *text;
	size_t len;
	int rc;

	phone_dir_file(pd, "phone.conf", path, sizeof path);
	if (!file_exists(path)) {
		seterr(err, errlen, "%s is not a phone folder (no phone.conf; see 'phonesim init')", pd->path);
		return -1;
	}
	if (read_file(path, CONF_MAX, &text, &len, err, errlen) < 0)
		return -1;
	rc = conf_parse(pd, (char *)text, err, errlen);
	free(text);
	return rc;
}

static X509 *load_first_cert(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = pki_certs_load(path, err, errlen);
	X509 *cert;

	if (!certs)
		return NULL;
	cert = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	return cert;
}

/* A certificate and its key; both files must exist (or, when optional,
 * no certificate). */
static int load_pair(struct phone_dir *pd, const char *crt, const char *key, int optional,
		     X509 **cert, EVP_PKEY **pkey, char *err, size_t errlen)
{
	char cpath[PATH_MAX], kpath[PATH_MAX];
	int have_c, have_k;

	phone_dir_file(pd, crt, cpath, sizeof cpath);
	phone_dir_file(pd, key, kpath, sizeof kpath);
	have_c = file_exists(cpath);
	have_k = file_exists(kpath);
	if (optional && !have_c)
		return 0; /* no certificate: no LSC, whatever an interrupted install left */
	if (!have_c || !have_k) {
		seterr(err, errlen, "%s: %s without %s", pd->path, have_c ? crt : key, have_c ? key : crt);
		return -1;
	}
	*cert = load_first_cert(cpath, err, errlen);
	if (!*cert)
		return -1;
	*pkey = pki_key_load(kpath, err, errlen);
	if (!*pkey)
		return -1;
	if (pki_cert_key_match(*cert, *pkey) != 1) {
		seterr(err, errlen, "%s does not hold the key of %s", kpath, cpath);
		return -1;
	}
	return 0;
}

static int load_optional_certs(struct phone_dir *pd, char *err, size_t errlen)
{
	char path[PATH_MAX];

	phone_dir_file(pd, "mfg.crt", path, sizeof path);
	if (file_exists(path) && !(pd->mfg = load_first_cert(path, err, errlen)))
		return -1;
	phone_dir_file(pd, "capf.pem", path, sizeof path);
	if (file_exists(path) && !(pd->capf = pki_certs_load(path, err, errlen)))
		return -1;
	return 0;
}

int phone_dir_load(const char *path, struct phone_dir *pd, char *err, size_t errlen)
{
	memset(pd, 0, sizeof *pd);
	if (strlen(path) >= sizeof pd->path) {
		seterr(err, errlen, "folder name too long: %s", path);
		return -1;
	}
	snprintf(pd->path, sizeof pd->path, "%s", path);
	if (conf_load(pd, err, errlen) < 0 ||
	    load_pair(pd, "mic.crt", "mic.key", 0, &pd->mic, &pd->mic_key, err, errlen) < 0 ||
	    load_pair(pd, "lsc.crt", "lsc.key", 1, &pd->lsc, &pd->lsc_key, err, errlen) < 0 ||
	    load_optional_certs(pd, err, errlen) < 0) {
		phone_dir_free(pd);
		return -1;
	}
	return 0;
}

void phone_dir_free(struct phone_dir *pd)
{
	X509_free(pd->mic);
	X509_free(pd->lsc);
	X509_free(pd->mfg);
	EVP_PKEY_free(pd->mic_key);
	EVP_PKEY_free(pd->lsc_key);
	sk_X509_pop_free(pd->capf, X509_free);
	pd->mic = pd->lsc = pd->mfg = NULL;
	pd->mic_key = pd->lsc_key = NULL;
	pd->capf = NULL;
}

int phone_dir_save_lsc(struct phone_dir *pd, X509 *lsc, EVP_PKEY *key, char *err, size_t errlen)
{
	char cpath[PATH_MAX], kpath[PATH_MAX];

	phone_dir_file(pd, "lsc.crt", cpath, sizeof cpath);
	phone_dir_file(pd, "lsc.key", kpath, sizeof kpath);
	/* old certificate out, new key in, new certificate last: an interrupted
	 * install leaves at worst a lone lsc.key, which loads as "no LSC" */
	if (unlink(cpath) < 0 && errno != ENOENT) {
		seterr(err, errlen, "cannot remove %s: %s", cpath, strerror(errno));
		return -1;
	}
	if (pki_key_save(kpath, key, err, errlen) < 0 || pki_cert_save_pem(cpath, lsc, err, errlen) < 0)
		return -1;
	X509_free(pd->lsc);
	EVP_PKEY_free(pd->lsc_key);
	X509_up_ref(lsc);
	EVP_PKEY_up_ref(key);
	pd->lsc = lsc;
	pd->lsc_key = key;
	return 0;
}

int phone_dir_delete_lsc(struct phone_dir *pd, char *err, size_t errlen)
{
	static const char *const files[] = { "lsc.crt", "lsc.key" };
	char path[PATH_MAX];

	for (size_t i = 0; i < 2; i++) {
		phone_dir_file(pd, files[i], path, sizeof path);
		if (unlink(path) < 0 && errno != ENOENT) {
			seterr(err, errlen, "cannot remove %s: %s", path, strerror(errno));
			return -1;
		}
	}
	X509_free(pd->lsc);
	EVP_PKEY_free(pd->lsc_key);
	pd->lsc = NULL;
	pd->lsc_key = NULL;
	return 0;
}

int phone_conf_write(const char *dir, const char *name, const char *model, char *err, size_t errlen)
{
	char path[PATH_MAX], text[256];
	int n;

	if (path_join(path, sizeof path, dir, "phone.conf") < 0) {
		seterr(err, errlen, "folder name too long: %s", dir);
		return -1;
	}
	n = snprintf(text, sizeof text, "# phonesim phone (see phonesim(1))\nname=%s\nmodel=%s\n", name,
		     model);
	return write_file_atomic(path, text, (size_t)n, 0644, err, errlen);
}

void phone_dir_console(const struct phone_dir *pd, const char *line)
{
	char path[PATH_MAX], stamp[40];
	FILE *f;
	int fd;

	printf("%s\n", line);
	fflush(stdout);
	if (phone_dir_file(pd, "console.log", path, sizeof path) < 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "a"))) {
		if (fd >= 0)
			close(fd);
		ps_error("cannot append to %s: %s", path, strerror(errno));
		return;
	}
	fmt_time_utc(now_utc(), stamp, sizeof stamp);
	fprintf(f, "%s %s\n", stamp, line);
	fclose(f);
}

int certs_save_pem(const char *path, X509 *const *certs, size_t n, char *err, size_t errlen)
{
	struct buf out;
	int rc;

	buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		char *pem = NULL;
		size_t len = 0;

		if (pki_cert_to_pem(certs[i], &pem, &len) < 0) {
			buf_free(&out);
			seterr(err, errlen, "cannot encode a certificate as PEM");
			return -1;
		}
		buf_put(&out, pem, len);
		OPENSSL_free(pem);
	}
	if (out.failed) {
		buf_free(&out);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	rc = write_file_atomic(path, out.data, out.len, 0644, err, errlen);
	buf_free(&out);
	return rc;
}
