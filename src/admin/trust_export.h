/*
 * trust_export.h: a trust store in the forms peers read (`opencapf trust
 * export`, and whatever re-exports after a change):
 *
 *   pem         one plain PEM bundle (any ca_file setting, an ASA or ISE upload)
 *   dir         a hashed directory in c_rehash layout (`openssl verify -CApath`,
 *               FreeRADIUS ca_path): one PEM per certificate named by
 *               fingerprint, HASH.N links to them, ca.pem the whole bundle;
 *               with the CRL opencapf publishes for each of its CAPF
 *               certificates in the store (admin/crl.h): SHA.crl.pem and a
 *               HASH.rN link each, crl.pem all of them, ca-crl.pem both
 *   freeradius, ocserv, kamailio, asa
 *               the directory plus the server's settings that use it
 *               (docs/servers.md); asa also DIR/asa/NAME.pem per certificate
 *
 * Files appear whole: a bundle is written atomically; a directory is built
 * in a hidden sibling and renamed into place, replacing an earlier export
 * (recognised by its .opencapf-export marker) but never a folder that is
 * not ours. Nothing here prints.
 */
#ifndef OPENCAPF_ADMIN_TRUST_EXPORT_H
#define OPENCAPF_ADMIN_TRUST_EXPORT_H

#include <stddef.h>

#include "common/util.h"
#include "store/store.h"

struct admin_trust_export {
	int count;          /* certificates written */
	int skipped;        /* certificates that could not be encoded (left out) */
	int crls;           /* CRLs written (dir and server formats: one per CAPF certificate that has one) */
	struct buf text;    /* pem without a path: the bundle; server formats: their settings */
};

/* 1 if FORMAT is one of the formats above. */
int admin_trust_export_known(const char *format);

/* 1 if FORMAT needs a folder (all but pem). */
int admin_trust_export_needs_dir(const char *format);

/* Export store_name as format to path (pem: may be NULL, the bundle then
 * goes to out->text). out is initialised here; buf_free(&out->text) after.
 * 0, 1 if there is no such store, -1 with err. */
int admin_trust_export(struct store *st, const char *store_name, const char *format, const char *path,
		       struct admin_trust_export *out, char *err, size_t errlen);

#endif
