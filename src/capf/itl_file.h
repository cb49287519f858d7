/*
 * itl_file.h: building the ITLFile.tlv / CTLFile.tlv of a state directory
 * and publishing the ITL into the TFTP/HTTP folder (issue 6).
 *
 * The ITL holds one record per service certificate known to the state:
 *   SAST  (the TFTP/SAST signer; RSA; signs the file)
 *   CAPF  (the current CAPF certificate)
 *   TVS   (the TVS listener's certificate)
 *   TFTP  (the TFTP server certificate = the SAST signer certificate)
 * The CTL holds SAST, CCM, TFTP and CAPF records.
 *
 * The folder is the setting "tftp_dir" (store_setting_get), default DIR/tftp.
 * Publishing writes DIR/tftp/ITLFile.tlv.tmp, fsyncs it and renames it over
 * ITLFile.tlv, so a TFTP/HTTP server never serves half a file.
 *
 * Errors: 0 / -1 with an err sentence.
 */
#ifndef OPENCAPF_ITL_FILE_H
#define OPENCAPF_ITL_FILE_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define ITL_FILE_NAME "ITLFile.tlv"
#define CTL_FILE_NAME "CTLFile.tlv"
#define ITL_SETTING_TFTP_DIR "tftp_dir"

enum itl_kind { ITL_KIND_ITL, ITL_KIND_CTL };
enum itl_digest { ITL_DIGEST_SHA1, ITL_DIGEST_SHA512 };
enum itl_names { ITL_NAMES_CUCM, ITL_NAMES_RFC4514 };

struct itl_build_opts {
	enum itl_kind kind;
	int version_minor;        /* 0 -> SIGNER_VERSION 1.0 (default), 1 -> 1.1 */
	enum itl_digest digest;   /* signature digest (default SHA-1) */
	enum itl_names names;     /* vendor "CN=..;OU=.." (default) or RFC 4514 */
	uint32_t timestamp;       /* 0 = now */
};
void itl_build_opts_default(struct itl_build_opts *o);

/* Build the file from the state's service certificates and the SAST key.
 * *out is malloc'd (caller frees). */
int itl_build_from_state(struct store *st, const struct itl_build_opts *o,
			 uint8_t **out, size_t *outlen, char *err, size_t errlen);

/* Write data to path atomically (path.tmp + fsync + rename), mode 0644. */
int itl_write_atomic(const char *path, const uint8_t *data, size_t len, char *err, size_t errlen);

/* The configured TFTP/HTTP folder (setting tftp_dir, default DIR/tftp). */
int itl_tftp_dir(struct store *st, char *out, size_t outcap);

/* Rebuild ITLFile.tlv from the state (default options) into the configured
 * folder (created 0755 if missing), atomically. Call after the CAPF, TVS or
 * TFTP/SAST certificate changed. Returns 0 / -1. */
int itl_publish_from_state(struct store *st, char *err, size_t errlen);

#endif
