/*
 * itl_settings.h: how the state's ITL is built, kept in the state so that
 * every publish — `opencapf itl publish`, the API's rebuild, and the
 * automatic ones after a certificate changes — writes the same file:
 *
 *   version    SIGNER_VERSION 1.0 (default) or 1.1 (phones try HTTPS on 6971
 *              for their configuration, and accept EC keys in CAPF)
 *   digest     sha1 (default: every phone reads it), sha256, sha512
 *   names      cucm "CN=..;OU=.." (default) or rfc4514 "CN=..,OU=.."
 *   hash-only  CAPF and TVS records carry only the certificate's SHA-1
 *   records    extra certificates with a role: CCM, APP-SERVER, the HTTPS
 *              provisioning certificate as TFTP, the TVS of other nodes
 *
 * Settings "itl_version", "itl_digest", "itl_names", "itl_hash_only" and
 * "itl_records" (one line "ROLE BASE64-DER" per record).
 */
#ifndef OPENCAPF_ADMIN_ITL_SETTINGS_H
#define OPENCAPF_ADMIN_ITL_SETTINGS_H

#include <stddef.h>

#include "admin/itl_file.h"
#include "store/store.h"

#define ITL_SETTINGS_MAX_RECORDS 32

struct itl_settings {
	int version_minor;
	int hash_alg;                /* enum itl_hash */
	enum itl_names names;
	int hash_only;
	struct itl_entry records[ITL_SETTINGS_MAX_RECORDS]; /* certificates owned */
	size_t nrecords;
};

/* The defaults (1.0, sha1, cucm, whole certificates, no extra record). */
void itl_settings_default(struct itl_settings *s);
/* The state's settings (defaults for what is not set); 0, or -1 with err. */
int itl_settings_load(struct store *st, struct itl_settings *s, char *err, size_t errlen);
void itl_settings_free(struct itl_settings *s);
/* Build options from settings; o->extra points into s. */
void itl_settings_to_opts(const struct itl_settings *s, struct itl_build_opts *o);

/* The text forms, shared by `itl build` and `itl settings`: 0, or -1 with
 * err naming the value. */
int itl_parse_version(const char *v, int *minor, char *err, size_t errlen);
int itl_parse_digest(const char *v, int *hash_alg, char *err, size_t errlen);
int itl_parse_names(const char *v, enum itl_names *names, char *err, size_t errlen);
/* "ROLE:FILE" to a role and the certificates of FILE appended to s. */
int itl_parse_record(const char *v, struct itl_settings *s, char *err, size_t errlen);
const char *itl_digest_name(int hash_alg);

/* The state's HTTPS provisioning certificate (certs/https.pem, provision.h)
 * as a TFTP record, unless the records hold it already or there is none:
 * phones of a 1.1 ITL fetch their configuration over HTTPS from it. */
void itl_settings_add_https(struct store *st, struct itl_settings *s);

/* A change; NULL / -1 leaves a setting as it is. */
struct itl_settings_change {
	const char *version, *digest, *names;
	int hash_only;                       /* -1, 0 or 1 */
	const char *const *add;              /* "ROLE:FILE" */
	size_t nadd;
	const char *const *remove;           /* SHA-256 fingerprints (a unique prefix of 8 hex digits or more) */
	size_t nremove;
};

/* Check the whole change, store it in one transaction with its audit row
 * ("itl.settings", the new settings without the certificates' bytes), then
 * publish the ITL. 0; -1 with err (nothing changed); -2 when the settings
 * were stored but the publish failed (err says why). */
int admin_itl_settings_change(struct store *st, const char *actor, const struct itl_settings_change *c,
			      char *err, size_t errlen);

#endif
