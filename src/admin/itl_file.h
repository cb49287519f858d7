/*
 * itl_file.h: building the ITLFile.tlv / CTLFile.tlv of a state directory
 * and publishing the ITL into the TFTP/HTTP folder.
 *
 * The ITL holds one record per service certificate of the state, in this
 * order:
 *   SAST  the SAST/TFTP signer (RSA; signs the file)
 *   CAPF  the current CAPF certificate
 *   TVS   the TVS listener's certificate
 *   TFTP  the TFTP certificate, which is the signer's (TFTP signs the files
 *         it serves with the same key)
 * The CTL holds SAST, then CCM records (given by the caller), TFTP and CAPF.
 * Records carry the whole certificate unless hash_only (see itl_entry); the
 * element order is the interoperable tool's (tests/vectors): SUBJECT_NAME,
 * ISSUER_NAME, SERIAL_NUMBER, ROLE, PUBLIC_KEY, SIGNATURE, CERTIFICATE (or
 * CERTIFICATE_HASH, HASH_ALGORITHM).
 *
 * The folder is the setting "tftp_dir" (store_setting_get), default DIR/tftp.
 * Publishing writes ITLFile.tlv.tmp.PID in that folder, fsyncs it and renames it over
 * ITLFile.tlv, so a TFTP/HTTP server never serves half a file.
 *
 * Errors: 0 / -1 with an err sentence.
 */
#ifndef OPENCAPF_ITL_FILE_H
#define OPENCAPF_ITL_FILE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define ITL_FILE_NAME "ITLFile.tlv"
#define CTL_FILE_NAME "CTLFile.tlv"
#define ITL_SETTING_TFTP_DIR "tftp_dir"

enum itl_kind { ITL_KIND_ITL, ITL_KIND_CTL };
enum itl_names { ITL_NAMES_VENDOR, ITL_NAMES_RFC4514 };

/* One record: the certificate and its role. hash_only writes CERTIFICATE_HASH
 * (SHA-1 of the DER) and HASH_ALGORITHM instead of the whole CERTIFICATE,
 * as the vendor does for its CAPF and TVS records. */
struct itl_entry {
	X509 *cert;
	uint16_t role;           /* wire/roles.h */
	int hash_only;
};

struct itl_build_opts {
	enum itl_kind kind;
	int version_minor;        /* SIGNER_VERSION 1.<minor>: 0 (default) or 1 (phones try HTTPS) */
	int hash_alg;             /* enum itl_hash: ITL_HASH_SHA1 (default), _SHA256, _SHA512 */
	enum itl_names names;     /* vendor "CN=..;OU=.." (default) or RFC 4514 "CN=..,OU=.." */
	uint32_t timestamp;       /* 0 = now */
	/* itl_build_from_state only: */
	int hash_only;            /* CAPF and TVS records carry only the certificate hash */
	uint32_t omit_roles;      /* bit (1u << role) for each of our records to leave out (testing) */
	const struct itl_entry *extra; /* more records (CTL: CCM certificates), after ours */
	size_t nextra;
};
void itl_build_opts_default(struct itl_build_opts *o);

/* Build and sign a file from a signer (RSA key of 512/1024/2048/4096 bits,
 * and its certificate) and records in the order given. The signer must also
 * appear in the records with role SAST for phones to accept the file.
 * *out is malloc'd (caller frees). */
int itl_build(const struct itl_build_opts *o, X509 *signer, EVP_PKEY *key, const struct itl_entry *e,
	      size_t n, uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* The records itl_build_from_state writes, in its order: the state's
 * certificates (owned, freed by itl_state_records_free) and o's extra
 * records; key is the SAST key when want_key. */
#define ITL_STATE_MAX_RECORDS 64
struct itl_state_records {
	X509 *sast, *capf, *tvs;
	EVP_PKEY *key;
	struct itl_entry e[ITL_STATE_MAX_RECORDS];
	size_t n;
};
int itl_state_records(struct store *st, const struct itl_build_opts *o, int want_key, struct itl_state_records *r,
		      char *err, size_t errlen);
void itl_state_records_free(struct itl_state_records *r);

/* Build the file from the state's service certificates and the SAST key.
 * *out is malloc'd (caller frees). */
int itl_build_from_state(struct store *st, const struct itl_build_opts *o,
			 uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Write data to path atomically (path.tmp + fsync + rename), mode 0644. */
int itl_write_atomic(const char *path, const uint8_t *data, size_t len, char *err, size_t errlen);

/* The configured TFTP/HTTP folder (setting tftp_dir, default DIR/tftp). */
int itl_tftp_dir(struct store *st, char *out, size_t outcap);

/* Where the ITL is published: the folder (itl_tftp_dir) and ITLFile.tlv. */
int itl_publish_path(struct store *st, char *path, size_t pathcap, char *err, size_t errlen);

/* The options every publish builds with: the state's ITL settings (loaded
 * into s: itl_settings_free it), the HTTPS record of a 1.1 ITL. */
struct itl_settings;
int itl_publish_opts(struct store *st, struct itl_settings *s, struct itl_build_opts *o, char *err, size_t errlen);

/* Rebuild ITLFile.tlv from the state (its ITL settings, itl_settings.h) into the configured
 * folder (created 0755 if missing), atomically. Call after the CAPF, TVS or
 * TFTP/SAST certificate changed. It first makes sure TVS knows the current
 * CAPF, TVS and TFTP certificates (service_certs_register_tvs), so a new
 * CAPF certificate is vouched for as soon as phones get the new ITL.
 * Returns 0 / -1. */
int itl_publish_from_state(struct store *st, char *err, size_t errlen);

/* The administrator's publish (`opencapf itl publish`, POST
 * /api/v1/itl/rebuild): itl_publish_from_state, then the audit row
 * "itl.publish" for ITLFile.tlv; path (may be NULL) gets the file written. */
int admin_itl_publish(struct store *st, const char *actor, char *path, size_t pathcap, char *err, size_t errlen);

#endif
