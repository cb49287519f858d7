/*
 * provision.h: the provisioning folder. For every phone with a template
 * (TEMPLATES/SEP<MAC>.cnf.xml, the administrator's own file from their PBX),
 * the TFTP/HTTP folder gets SEP<MAC>.cnf.xml with the CAPF part merged in
 * (phone_config.h) and its signature SEP<MAC>.cnf.xml.sgn (provisioning.md
 * §3, signed with the SAST/TFTP key the ITL names). Each file is written
 * atomically and only when its content changed; a template that cannot be
 * used is reported with its file and line and the rest of the batch is
 * still published.
 */
#ifndef OPENCAPF_ADMIN_PROVISION_H
#define OPENCAPF_ADMIN_PROVISION_H

#include <stddef.h>

#include "common/util.h"
#include "store/store.h"

struct provision_result {
	size_t written;        /* phones whose files were (or, dry run, would be) written */
	size_t unchanged;      /* phones whose files were current */
	size_t no_template;    /* phones without a template */
	size_t failed;         /* phones whose template could not be used */
	struct buf problems;   /* one "FILE:LINE: what\n" (or "NAME: what\n") per failure */
};
void provision_result_free(struct provision_result *r);

/* Publish every phone's configuration (one audit row "provision.publish"
 * with the counts). 0 when the batch ran (r->failed may be > 0); -1 with err
 * when it could not start (no SAST key, no folder). */
int admin_provision_publish(struct store *st, const char *actor, int dry_run, struct provision_result *r,
			    char *err, size_t errlen);

/* ---- one phone's provisioning state ---- */

struct provision_state {
	int has_template;          /* TEMPLATES/NAME.cnf.xml exists */
	int encrypted;             /* set to be published encrypted (provision encrypt) */
	int64_t published;         /* when its .sgn was written, 0: never */
	char encrypted_to[80];     /* SHA-256 of the certificate it is encrypted to, or "" */
};
/* What the provisioning folder holds for name. 0, or -1 with err. */
int provision_phone_state(struct store *st, const char *name, struct provision_state *out, char *err,
			  size_t errlen);

/* ---- the HTTPS provisioning certificate ----
 * Phones holding an ITL of signer version 1.1 fetch their configuration over
 * HTTPS (6971) from a server whose certificate has an EC key and is in the
 * ITL with role TFTP (provisioning.md §1). The state keeps one: an EC P-256
 * key in keys/https.key (0600) and a self-signed certificate in
 * certs/https.pem (CN = this host), made at init or by `opencapf provision
 * https-cert`; every publish of a 1.1 ITL lists it as TFTP, and opencapfd's
 * HTTPS file service uses it unless told otherwise. */

#define PROV_HTTPS_CERT "certs/https.pem"
#define PROV_HTTPS_KEY "keys/https.key"

/* Make it (renew: a new key and certificate even if one exists; otherwise
 * an existing one is kept). Audited "provision.https_cert". 0 or -1 with err. */
int admin_https_cert_create(struct store *st, const char *actor, int days, int renew, char *err, size_t errlen);

#endif
