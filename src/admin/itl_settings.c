/*
 * itl_settings.c: the state's ITL settings (itl_settings.h): reading them,
 * their text forms, and the audited change that republishes the ITL.
 */
#include "admin/itl_settings.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "admin/trust_usage.h"
#include "common/util.h"
#include "pki/pki.h"
#include "wire/itl.h"
#include "wire/roles.h"

#define RECORDS_TEXT_MAX (ITL_SETTINGS_MAX_RECORDS * 12 * 1024)

void itl_settings_default(struct itl_settings *s)
{
	memset(s, 0, sizeof *s);
	s->hash_alg = ITL_HASH_SHA1;
	s->names = ITL_NAMES_VENDOR;
}

void itl_settings_free(struct itl_settings *s)
{
	for (size_t i = 0; i < s->nrecords; i++)
		X509_free(s->records[i].cert);
	s->nrecords = 0;
}

void itl_settings_to_opts(const struct itl_settings *s, struct itl_build_opts *o)
{
	o->version_minor = s->version_minor;
	o->hash_alg = s->hash_alg;
	o->names = s->names;
	o->hash_only = s->hash_only;
	o->extra = s->records;
	o->nextra = s->nrecords;
}

/* ---- text forms ---- */

int itl_parse_version(const char *v, int *minor, char *err, size_t errlen)
{
	if (strcmp(v, "1.0") == 0 || strcmp(v, "1.1") == 0) {
		*minor = v[2] - '0';
		return 0;
	}
	seterr(err, errlen, "version '%s': expected 1.0 or 1.1", text_valid(v) ? v : "?");
	return -1;
}

const char *itl_digest_name(int hash_alg)
{
	return hash_alg == ITL_HASH_SHA512 ? "sha512" : hash_alg == ITL_HASH_SHA256 ? "sha256" : "sha1";
}

int itl_parse_digest(const char *v, int *hash_alg, char *err, size_t errlen)
{
	static const int algs[] = { ITL_HASH_SHA1, ITL_HASH_SHA256, ITL_HASH_SHA512 };

	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
		if (strcasecmp(v, itl_digest_name(algs[i])) == 0) {
			*hash_alg = algs[i];
			return 0;
		}
	seterr(err, errlen, "digest '%s': expected sha1, sha256 or sha512", text_valid(v) ? v : "?");
	return -1;
}

int itl_parse_names(const char *v, enum itl_names *names, char *err, size_t errlen)
{
	if (strcmp(v, "cucm") == 0 || strcmp(v, "vendor") == 0)
		*names = ITL_NAMES_VENDOR;
	else if (strcmp(v, "rfc4514") == 0)
		*names = ITL_NAMES_RFC4514;
	else {
		seterr(err, errlen, "name format '%s': expected cucm or rfc4514", text_valid(v) ? v : "?");
		return -1;
	}
	return 0;
}

static int add_record(struct itl_settings *s, uint16_t role, X509 *x, char *err, size_t errlen)
{
	if (s->nrecords == ITL_SETTINGS_MAX_RECORDS) {
		seterr(err, errlen, "at most %d extra records", ITL_SETTINGS_MAX_RECORDS);
		X509_free(x);
		return -1;
	}
	s->records[s->nrecords++] = (struct itl_entry){ x, role, 0 };
	return 0;
}

int itl_parse_record(const char *v, struct itl_settings *s, char *err, size_t errlen)
{
	char role_text[32];
	const char *colon = strchr(v, ':');
	STACK_OF(X509) *certs;
	uint16_t role;
	int rc = 0;

	if (!colon || colon == v || (size_t)(colon - v) >= sizeof role_text || !colon[1]) {
		seterr(err, errlen, "'%s': expected ROLE:FILE, e.g. CCM:callmanager.pem", text_valid(v) ? v : "?");
		return -1;
	}
	memcpy(role_text, v, (size_t)(colon - v));
	role_text[colon - v] = '\0';
	if (role_from_name(role_text, &role) < 0) {
		seterr(err, errlen, "'%s': unknown role (SAST, CCM, CCM+TFTP, TFTP, CAPF, APP-SERVER, TVS or 0..65535)",
		       text_valid(role_text) ? role_text : "?");
		return -1;
	}
	if (!(certs = pki_certs_load(colon + 1, err, errlen)))
		return -1;
	while (rc == 0 && sk_X509_num(certs) > 0)
		rc = add_record(s, role, sk_X509_shift(certs), err, errlen);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* ---- the stored form ---- */

/* "ROLE BASE64\n" per record appended to out; -1 when it does not fit. */
static int records_text(const struct itl_settings *s, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->nrecords; i++) {
		uint8_t *der = NULL;
		size_t len;
		int w;

		if (pki_cert_to_der(s->records[i].cert, &der, &len) < 0 || n + 16 + len * 4 / 3 + 8 >= cap) {
			OPENSSL_free(der);
			return -1;
		}
		w = snprintf(out + n, cap - n, "%u ", (unsigned)s->records[i].role);
		n += (size_t)w;
		n += (size_t)EVP_EncodeBlock((unsigned char *)out + n, der, (int)len);
		out[n++] = '\n';
		out[n] = '\0';
		OPENSSL_free(der);
	}
	return 0;
}

/* One stored line back into a record. */
static int record_from_line(struct itl_settings *s, char *line, char *err, size_t errlen)
{
	char *sp = strchr(line, ' ');
	unsigned char *der;
	size_t sl;
	int len, pad;
	X509 *x;

	if (!sp)
		return 0;
	*sp++ = '\0';
	sl = strlen(sp);
	pad = (sl >= 1 && sp[sl - 1] == '=') + (sl >= 2 && sp[sl - 2] == '=');
	der = malloc(sl + 4);
	len = der ? EVP_DecodeBlock(der, (const unsigned char *)sp, (int)sl) : -1;
	if (len > 0)
		len -= pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	x = len > 0 ? pki_cert_from_der(der, (size_t)len, err, errlen) : NULL;
	free(der);
	if (!x) {
		seterr(err, errlen, "the stored ITL record with role %s is not a certificate", line);
		return -1;
	}
	return add_record(s, (uint16_t)atoi(line), x, err, errlen);
}

static int load_records(struct store *st, struct itl_settings *s, char *err, size_t errlen)
{
	char *text = malloc(RECORDS_TEXT_MAX), *line, *save = NULL;
	int rc;

	if (!text) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	rc = store_setting_get(st, "itl_records", text, RECORDS_TEXT_MAX);
	if (rc < 0)
		seterr(err, errlen, "cannot read the ITL settings: %s", store_errmsg(st));
	for (line = rc == 0 ? strtok_r(text, "\n", &save) : NULL; line && rc == 0; line = strtok_r(NULL, "\n", &save))
		rc = record_from_line(s, line, err, errlen);
	free(text);
	return rc < 0 ? -1 : 0;
}

int itl_settings_load(struct store *st, struct itl_settings *s, char *err, size_t errlen)
{
	char v[32];

	itl_settings_default(s);
	if (store_setting_get(st, "itl_version", v, sizeof v) == 0 &&
	    itl_parse_version(v, &s->version_minor, err, errlen) < 0)
		return -1;
	if (store_setting_get(st, "itl_digest", v, sizeof v) == 0 && itl_parse_digest(v, &s->hash_alg, err, errlen) < 0)
		return -1;
	if (store_setting_get(st, "itl_names", v, sizeof v) == 0 && itl_parse_names(v, &s->names, err, errlen) < 0)
		return -1;
	if (store_setting_get(st, "itl_hash_only", v, sizeof v) == 0)
		s->hash_only = strcmp(v, "1") == 0;
	if (load_records(st, s, err, errlen) < 0) {
		itl_settings_free(s);
		return -1;
	}
	return 0;
}

void itl_settings_add_https(struct store *st, struct itl_settings *s)
{
	char path[4300], err[ERRLEN], fp[80], have[80];
	STACK_OF(X509) *certs;
	X509 *x;

	snprintf(path, sizeof path, "%s/certs/https.pem", store_dir(st));
	if (access(path, F_OK) < 0 || !(certs = pki_certs_load(path, err, sizeof err)))
		return;
	x = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	if (!x)
		return;
	pki_fingerprint(x, "sha256", 0, fp, sizeof fp);
	for (size_t i = 0; i < s->nrecords; i++)
		if (pki_fingerprint(s->records[i].cert, "sha256", 0, have, sizeof have) == 0 && strcmp(have, fp) == 0) {
			X509_free(x);
			return;
		}
	if (add_record(s, ROLE_TFTP, x, err, sizeof err) < 0)
		return; /* freed there */
}

/* ---- the change ---- */

/* Drop the records whose SHA-256 starts with fp: 0, or -1 with err. */
static int remove_record(struct itl_settings *s, const char *arg, char *err, size_t errlen)
{
	char fp[80], sha[80];
	size_t kept = 0, gone = 0;

	if (trust_fp_normalize(arg, fp, sizeof fp) < 0) {
		seterr(err, errlen, "'%s' is not a SHA-256 fingerprint (8 hex digits or more)", text_valid(arg) ? arg : "?");
		return -1;
	}
	for (size_t i = 0; i < s->nrecords; i++) {
		pki_fingerprint(s->records[i].cert, "sha256", 0, sha, sizeof sha);
		if (strncmp(sha, fp, strlen(fp)) == 0) {
			X509_free(s->records[i].cert);
			gone++;
		} else
			s->records[kept++] = s->records[i];
	}
	s->nrecords = kept;
	if (!gone)
		seterr(err, errlen, "no extra ITL record has the fingerprint %s (see 'opencapf itl settings')", fp);
	return gone ? 0 : -1;
}

static int apply_change(struct itl_settings *s, const struct itl_settings_change *c, char *err, size_t errlen)
{
	if ((c->version && itl_parse_version(c->version, &s->version_minor, err, errlen) < 0) ||
	    (c->digest && itl_parse_digest(c->digest, &s->hash_alg, err, errlen) < 0) ||
	    (c->names && itl_parse_names(c->names, &s->names, err, errlen) < 0))
		return -1;
	if (c->hash_only >= 0)
		s->hash_only = c->hash_only;
	for (size_t i = 0; i < c->nremove; i++)
		if (remove_record(s, c->remove[i], err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < c->nadd; i++)
		if (itl_parse_record(c->add[i], s, err, errlen) < 0)
			return -1;
	return 0;
}

static int store_settings(struct store *st, const char *actor, const struct itl_settings *s, const char *records)
{
	char detail[256];

	snprintf(detail, sizeof detail, "{\"version\":\"1.%d\",\"digest\":\"%s\",\"names\":\"%s\",\"hash_only\":%s,"
		 "\"records\":%zu}", s->version_minor, itl_digest_name(s->hash_alg),
		 s->names == ITL_NAMES_RFC4514 ? "rfc4514" : "cucm", s->hash_only ? "true" : "false", s->nrecords);
	if (store_begin(st) == 0 && store_setting_set(st, "itl_version", s->version_minor ? "1.1" : "1.0") == 0 &&
	    store_setting_set(st, "itl_digest", itl_digest_name(s->hash_alg)) == 0 &&
	    store_setting_set(st, "itl_names", s->names == ITL_NAMES_RFC4514 ? "rfc4514" : "cucm") == 0 &&
	    store_setting_set(st, "itl_hash_only", s->hash_only ? "1" : "0") == 0 &&
	    store_setting_set(st, "itl_records", records) == 0 &&
	    store_audit(st, actor, "itl.settings", ITL_FILE_NAME, detail) == 0 && store_commit(st) == 0)
		return 0;
	store_rollback(st);
	return -1;
}

int admin_itl_settings_change(struct store *st, const char *actor, const struct itl_settings_change *c,
			      char *err, size_t errlen)
{
	struct itl_settings s;
	char *records = malloc(RECORDS_TEXT_MAX);
	int rc = -1;

	if (!records) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (itl_settings_load(st, &s, err, errlen) < 0) {
		free(records);
		return -1;
	}
	if (apply_change(&s, c, err, errlen) == 0) {
		if (records_text(&s, records, RECORDS_TEXT_MAX) < 0)
			seterr(err, errlen, "the extra records do not fit in the state's settings");
		else if (store_settings(st, actor, &s, records) < 0)
			seterr(err, errlen, "cannot store the ITL settings: %s", store_errmsg(st));
		else
			rc = itl_publish_from_state(st, err, errlen) < 0 ? -2 : 0;
	}
	itl_settings_free(&s);
	free(records);
	return rc;
}
