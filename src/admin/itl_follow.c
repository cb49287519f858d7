/*
 * itl_follow.c: is the published ITL what the state would publish now, and
 * republishing it when not (itl_follow.h).
 *
 * What the file lists is read back with the ITL codec (wire/itl.h) and set
 * against the records itl_build_from_state would write
 * (itl_state_records): two builds of the same ITL differ in their
 * timestamp and may differ in their signature, so bytes are never compared.
 * A certificate is known by the SHA-1 of its DER, which a record carries
 * either as the whole certificate or as CERTIFICATE_HASH.
 */
#include "admin/itl_follow.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin/itl_file.h"
#include "admin/itl_settings.h"
#include "common/util.h"
#include "pki/pki.h"
#include "wire/itl.h"

#define SHA1_LEN 20

/* The SHA-1 of a record's certificate, and whether it carries only that. */
static int record_sha1(const struct itl_record *rec, uint8_t sha1[SHA1_LEN], int *hash_only)
{
	struct itl_bytes b;
	unsigned int n = 0;

	if (itl_record_certificate(rec, &b) == 0) {
		*hash_only = 0;
		return EVP_Digest(b.p, b.len, sha1, &n, EVP_sha1(), NULL) == 1 && n == SHA1_LEN ? 0 : -1;
	}
	if (itl_record_cert_hash(rec, &b) < 0 || b.len != SHA1_LEN)
		return -1;
	*hash_only = 1;
	memcpy(sha1, b.p, SHA1_LEN);
	return 0;
}

static int same_record(const struct itl_record *rec, const struct itl_entry *e)
{
	uint8_t got[SHA1_LEN], want[SHA1_LEN];
	unsigned int n = 0;
	uint16_t roles[2];
	int hash_only = 0;

	return itl_record_roles(rec, roles, 2) == 1 && roles[0] == e->role &&
	       record_sha1(rec, got, &hash_only) == 0 && hash_only == (e->hash_only != 0) &&
	       X509_digest(e->cert, EVP_sha1(), want, &n) == 1 && n == SHA1_LEN && memcmp(got, want, SHA1_LEN) == 0;
}

/* The header fields the ITL settings decide: signer version, digest, name form. */
static int same_header(const struct itl_header *h, const struct itl_build_opts *o, X509 *signer)
{
	char want[1024], got[1024];
	enum pki_name_form form = o->names == ITL_NAMES_RFC4514 ? PKI_NAME_RFC4514 : PKI_NAME_VENDOR;

	return h->has_signer_version && h->signer_version_minor == o->version_minor && h->hash_alg == o->hash_alg &&
	       pki_name_text(X509_get_subject_name(signer), form, want, sizeof want) == 0 &&
	       itl_text(&h->signer_name, got, sizeof got) == 0 && strcmp(want, got) == 0;
}

/* 1 when the file at path lists r's records under o's header, else 0. */
static int file_lists(const char *path, const struct itl_build_opts *o, const struct itl_state_records *r)
{
	struct itl_file f;
	uint8_t *data = NULL;
	size_t len = 0;
	char why[ERRLEN];
	int same = 0;

	if (read_file(path, ITL_MAX_FILE, &data, &len, why, sizeof why) < 0)
		return 0;
	if (itl_decode(&f, data, len, why, sizeof why) == 0) {
		same = f.nrecords == r->n && same_header(&f.hdr, o, r->sast);
		for (size_t i = 0; same && i < r->n; i++)
			same = same_record(&f.records[i], &r->e[i]);
		itl_free(&f);
	}
	free(data);
	return same;
}

int itl_published_current(struct store *st, char *err, size_t errlen)
{
	struct itl_settings s;
	struct itl_build_opts o;
	struct itl_state_records r;
	char path[4200];
	int rc = -1;

	if (itl_publish_path(st, path, sizeof path, err, errlen) < 0 || itl_publish_opts(st, &s, &o, err, errlen) < 0)
		return -1;
	if (itl_state_records(st, &o, 0, &r, err, errlen) == 0) {
		rc = file_lists(path, &o, &r);
		itl_state_records_free(&r);
	}
	itl_settings_free(&s);
	return rc;
}

int itl_follow(struct store *st, char *err, size_t errlen)
{
	int rc = itl_published_current(st, err, errlen);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return itl_publish_from_state(st, err, errlen) < 0 ? -1 : 1;
}
