/*
 * itl_file.c: building, signing and publishing ITL / CTL files
 * (itl_file.h, docs/protocol/tvs-and-itl.md).
 *
 * The wire builder (wire/itl_build.c) lays the bytes out and computes every
 * length; this file decides what goes in (which certificates, which name
 * form) and signs with the SAST/TFTP key through pki_itl_sign. A file that
 * was built is decoded and verified again before anyone gets it, so a bug
 * here shows up as an error, never as a file phones would reject.
 */
#include "admin/itl_file.h"
#include "admin/itl_settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capf/ca.h"
#include "admin/service_certs.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"
#include "store/store_tvs.h"
#include "wire/itl.h"
#include "wire/roles.h"

#define NAME_MAX_TEXT 1024

void itl_build_opts_default(struct itl_build_opts *o)
{
	memset(o, 0, sizeof *o);
	o->kind = ITL_KIND_ITL;
	o->hash_alg = ITL_HASH_SHA1;
	o->names = ITL_NAMES_VENDOR;
}

static int name_text(const X509_NAME *n, enum itl_names form, char *out, size_t outcap)
{
	return pki_name_text(n, form == ITL_NAMES_RFC4514 ? PKI_NAME_RFC4514 : PKI_NAME_VENDOR, out, outcap);
}

/* The serial number's magnitude bytes, as the vendor and openssl print it. */
static int serial_bytes(X509 *cert, const uint8_t **p, size_t *len)
{
	const ASN1_INTEGER *s = X509_get0_serialNumber(cert);

	if (!s || ASN1_STRING_length(s) <= 0)
		return -1;
	*p = ASN1_STRING_get0_data(s);
	*len = (size_t)ASN1_STRING_length(s);
	return 0;
}

static int put_record(struct itl_builder *b, const struct itl_build_opts *o, const struct itl_entry *e,
		      char *err, size_t errlen)
{
	char subject[NAME_MAX_TEXT], issuer[NAME_MAX_TEXT];
	const uint8_t *serial, *pub, *sig;
	size_t serial_len, pub_len, sig_len, der_len;
	uint8_t *der = NULL, sha1[EVP_MAX_MD_SIZE];
	unsigned int sha1_len = 0;

	if (name_text(X509_get_subject_name(e->cert), o->names, subject, sizeof subject) < 0 ||
	    name_text(X509_get_issuer_name(e->cert), o->names, issuer, sizeof issuer) < 0 ||
	    serial_bytes(e->cert, &serial, &serial_len) < 0 ||
	    pki_itl_cert_parts(e->cert, &pub, &pub_len, &sig, &sig_len) < 0 ||
	    pki_cert_to_der(e->cert, &der, &der_len) < 0) {
		seterr(err, errlen, "cannot read the certificate for the %s record",
		       role_name(e->role) ? role_name(e->role) : "?");
		return -1;
	}
	itl_builder_record_begin(b);
	itl_builder_put_text(b, ITL_R_SUBJECT_NAME, subject);
	itl_builder_put_text(b, ITL_R_ISSUER_NAME, issuer);
	itl_builder_put(b, ITL_R_SERIAL_NUMBER, serial, serial_len);
	itl_builder_put_u16(b, ITL_R_ROLE, e->role);
	itl_builder_put(b, ITL_R_PUBLIC_KEY, pub, pub_len);
	itl_builder_put(b, ITL_R_SIGNATURE, sig, sig_len);
	if (e->hash_only) {
		EVP_Digest(der, der_len, sha1, &sha1_len, EVP_sha1(), NULL);
		itl_builder_put(b, ITL_R_CERTIFICATE_HASH, sha1, sha1_len);
		itl_builder_put_u8(b, ITL_R_HASH_ALGORITHM, ITL_HASH_SHA1);
	} else {
		itl_builder_put(b, ITL_R_CERTIFICATE, der, der_len);
	}
	OPENSSL_free(der);
	return itl_builder_record_end(b);
}

static int header_spec(const struct itl_build_opts *o, X509 *signer, EVP_PKEY *key, struct itl_header_spec *h,
		       char *subject, char *issuer, char *err, size_t errlen)
{
	int mod = pki_itl_modulus_index(key);

	if (mod < 0) {
		seterr(err, errlen, "the signing key must be RSA of 512, 1024, 2048 or 4096 bits");
		return -1;
	}
	if (pki_cert_key_match(signer, key) != 1) {
		seterr(err, errlen, "the signing key does not belong to the signer certificate");
		return -1;
	}
	if (o->version_minor < 0 || o->version_minor > 1 || o->hash_alg < ITL_HASH_SHA1 ||
	    o->hash_alg > ITL_HASH_SHA512) {
		seterr(err, errlen, "unsupported signer version 1.%d or hash algorithm %d", o->version_minor,
		       o->hash_alg);
		return -1;
	}
	itl_header_spec_init(h);
	if (name_text(X509_get_subject_name(signer), o->names, subject, NAME_MAX_TEXT) < 0 ||
	    name_text(X509_get_issuer_name(signer), o->names, issuer, NAME_MAX_TEXT) < 0 ||
	    serial_bytes(signer, &h->serial, &h->serial_len) < 0) {
		seterr(err, errlen, "cannot read the signer certificate's names and serial");
		return -1;
	}
	h->signer_version_minor = (uint8_t)o->version_minor;
	h->signer_name = subject;
	h->issuer_name = issuer;
	h->hash_alg = (uint8_t)o->hash_alg;
	h->modulus_index = (uint8_t)mod;
	h->filename = o->kind == ITL_KIND_CTL ? CTL_FILE_NAME : ITL_FILE_NAME;
	h->timestamp = o->timestamp ? o->timestamp : (uint32_t)now_utc();
	return 0;
}

static int sign(struct itl_builder *b, EVP_PKEY *key, int hash_alg, char *err, size_t errlen)
{
	struct buf data;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int rc = -1;

	buf_init(&data);
	if (itl_builder_signed_data(b, &data) < 0)
		seterr(err, errlen, "out of memory collecting the bytes to sign");
	else if (pki_itl_sign(key, hash_alg, data.data, data.len, &sig, &siglen, err, errlen) == 0 &&
		 itl_builder_set_signature(b, sig, siglen, err, errlen) == 0)
		rc = 0;
	OPENSSL_free(sig);
	buf_free(&data);
	return rc;
}

/* Decode and verify what was built, as a phone would. */
static int self_check(const uint8_t *data, size_t len, char *err, size_t errlen)
{
	struct itl_file f;
	char why[ERRLEN];
	int rc;

	if (itl_decode(&f, data, len, why, sizeof why) < 0) {
		seterr(err, errlen, "the file built does not decode (%s)", why);
		return -1;
	}
	rc = pki_itl_verify(&f, NULL, why, sizeof why);
	if (rc < 0)
		seterr(err, errlen, "the file built does not verify (%s)", why);
	itl_free(&f);
	return rc;
}

int itl_build(const struct itl_build_opts *o, X509 *signer, EVP_PKEY *key, const struct itl_entry *e,
	      size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen)
{
	struct itl_header_spec h;
	struct itl_builder b;
	char subject[NAME_MAX_TEXT], issuer[NAME_MAX_TEXT];
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (header_spec(o, signer, key, &h, subject, issuer, err, errlen) < 0 ||
	    itl_builder_init(&b, &h, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (put_record(&b, o, &e[i], err, errlen) < 0 && !b.err[0])
			goto out;
	if (itl_builder_finish(&b, err, errlen) < 0 || sign(&b, key, o->hash_alg, err, errlen) < 0 ||
	    self_check(b.out.data, b.out.len, err, errlen) < 0)
		goto out;
	*out = malloc(b.out.len);
	if (!*out) {
		seterr(err, errlen, "out of memory");
		goto out;
	}
	memcpy(*out, b.out.data, b.out.len);
	*outlen = b.out.len;
	rc = 0;
out:
	itl_builder_free(&b);
	return rc;
}

/* ---- from the state ---- */

void itl_state_records_free(struct itl_state_records *r)
{
	X509_free(r->sast);
	X509_free(r->capf);
	X509_free(r->tvs);
	EVP_PKEY_free(r->key);
	memset(r, 0, sizeof *r);
}

static void add(struct itl_state_records *r, const struct itl_build_opts *o, X509 *cert, uint16_t role,
		int hash_only)
{
	if (role < 32 && (o->omit_roles & (UINT32_C(1) << role)))
		return;
	r->e[r->n++] = (struct itl_entry){ cert, role, hash_only };
}

static void add_extra(struct itl_state_records *r, const struct itl_build_opts *o)
{
	for (size_t i = 0; i < o->nextra; i++)
		r->e[r->n++] = o->extra[i];
}

int itl_state_records(struct store *st, const struct itl_build_opts *o, int want_key, struct itl_state_records *r,
		      char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	if (o->nextra > ITL_STATE_MAX_RECORDS - 4) {
		seterr(err, errlen, "at most %d extra records", ITL_STATE_MAX_RECORDS - 4);
		return -1;
	}
	if (service_cert_load(st, SERVICE_SAST, &r->sast, want_key ? &r->key : NULL, err, errlen) < 0 ||
	    capf_ca_load(st, &r->capf, NULL, err, errlen) < 0 ||
	    (o->kind == ITL_KIND_ITL && service_cert_load(st, SERVICE_TVS, &r->tvs, NULL, err, errlen) < 0)) {
		itl_state_records_free(r);
		return -1;
	}
	add(r, o, r->sast, ROLE_SAST, 0);
	if (o->kind == ITL_KIND_ITL) {
		add(r, o, r->capf, ROLE_CAPF, o->hash_only);
		add(r, o, r->tvs, ROLE_TVS, o->hash_only);
		add(r, o, r->sast, ROLE_TFTP, 0);
		add_extra(r, o);
	} else {
		add_extra(r, o);
		add(r, o, r->sast, ROLE_TFTP, 0);
		add(r, o, r->capf, ROLE_CAPF, o->hash_only);
	}
	return 0;
}

int itl_build_from_state(struct store *st, const struct itl_build_opts *o, uint8_t **out, size_t *outlen,
			 char *err, size_t errlen)
{
	struct itl_state_records r;
	int rc;

	if (itl_state_records(st, o, 1, &r, err, errlen) < 0)
		return -1;
	rc = itl_build(o, r.sast, r.key, r.e, r.n, out, outlen, err, errlen);
	itl_state_records_free(&r);
	return rc;
}

int itl_write_atomic(const char *path, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	return write_file_atomic(path, data, len, 0644, err, errlen);
}

int itl_tftp_dir(struct store *st, char *out, size_t outcap)
{
	int rc = store_setting_get(st, ITL_SETTING_TFTP_DIR, out, outcap);

	if (rc < 0)
		return -1;
	if (rc == 0 && out[0])
		return 0;
	return path_join(out, outcap, store_dir(st), "tftp");
}

int itl_publish_path(struct store *st, char *path, size_t pathcap, char *err, size_t errlen)
{
	char dir[4096];

	if (itl_tftp_dir(st, dir, sizeof dir) < 0) {
		seterr(err, errlen, "cannot read the TFTP folder setting: %s", store_errmsg(st));
		return -1;
	}
	if (path_join(path, pathcap, dir, ITL_FILE_NAME) < 0) {
		seterr(err, errlen, "TFTP folder path too long: %s", dir);
		return -1;
	}
	return 0;
}

int itl_publish_opts(struct store *st, struct itl_settings *s, struct itl_build_opts *o, char *err, size_t errlen)
{
	itl_build_opts_default(o);
	if (itl_settings_load(st, s, err, errlen) < 0)
		return -1;
	if (s->version_minor == 1)
		itl_settings_add_https(st, s);
	itl_settings_to_opts(s, o);
	return 0;
}

int itl_publish_from_state(struct store *st, char *err, size_t errlen)
{
	struct itl_settings settings;
	struct itl_build_opts o;
	char dir[4200], path[4200];
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	if (service_certs_register_tvs(st, err, errlen) < 0 || itl_publish_path(st, path, sizeof path, err, errlen) < 0)
		return -1;
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0) {
		seterr(err, errlen, "cannot create the TFTP folder %s: %s", dir, strerror(errno));
		return -1;
	}
	if (itl_publish_opts(st, &settings, &o, err, errlen) < 0)
		return -1;
	rc = itl_build_from_state(st, &o, &data, &len, err, errlen);
	itl_settings_free(&settings);
	if (rc < 0)
		return -1;
	rc = itl_write_atomic(path, data, len, err, errlen);
	free(data);
	return rc;
}

int admin_itl_publish(struct store *st, const char *actor, char *path, size_t pathcap, char *err, size_t errlen)
{
	char dir[4096];

	if (itl_publish_from_state(st, err, errlen) < 0)
		return -1;
	if (path && (itl_tftp_dir(st, dir, sizeof dir) < 0 || path_join(path, pathcap, dir, ITL_FILE_NAME) < 0))
		path[0] = '\0';
	if (store_audit(st, actor, "itl.publish", ITL_FILE_NAME, "{}") < 0) {
		seterr(err, errlen, "the ITL was published but not audited: %s", store_errmsg(st));
		return -1;
	}
	return 0;
}
