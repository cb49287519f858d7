/*
 * capf_lifecycle.h: the CAPF CA's life as the administrator drives it:
 * creating a state with its first CAPF certificate (state_init.c), and after
 * that regenerating, CSR and import, retiring (capf_lifecycle.c).
 */
#ifndef OPENCAPF_ADMIN_CAPF_LIFECYCLE_H
#define OPENCAPF_ADMIN_CAPF_LIFECYCLE_H

#include <openssl/x509.h>

#include "capf/ca.h"
#include "pki/pki.h"
#include "store/store.h"

struct capf_ca_params {
	struct pki_org org;
	enum pki_key_kind kind;
	int bits;
	int days;
	int lsc_days;
};

struct capf_ca_summary {
	char cn[128];
	char key[32];
	char not_after[40];
	char sha256[80];
};

/* The trust stores every state has, with what they are for. */
extern const char *const capf_default_trust_stores[][2];

/* Create a state in `dir` (which must not exist): database, keys, the CAPF
 * certificate, the default trust stores with the CAPF certificate placed in
 * CAPF-trust, CallManager-trust, phone-vpn-trust and 802.1x, settings, audit. */
int capf_ca_create_state(const char *dir, const struct capf_ca_params *p, const char *actor,
			 struct capf_ca_summary *summary, char *err, size_t errlen);

/* A CAPF key spec ("rsa:2048", "ec:p384", ...) checked against the CAPF
 * key rule: RSA of 2048 bits or more, EC of 384 bits or fewer. The one rule
 * of `opencapf init|capf --key` and the API's 'key'. 0, or -1 with
 * "SPEC: the CAPF key must be ..." in err. */
int capf_key_spec_parse(const char *spec, enum pki_key_kind *kind, int *bits, char *err, size_t errlen);

/* ---- the CAPF certificate's life (capf_lifecycle.c) ----
 *
 * Replacing the current CAPF certificate (regenerate, import) is one
 * transaction: the current certificate becomes "previous" and stays in every
 * trust store it was in (note "CAPF certificate (previous)"); the new one
 * goes into those stores and always into CAPF-trust and CallManager-trust.
 * A database holds one previous certificate: an older previous one is
 * retired on the way, which (like capf_ca_retire) is refused while phones
 * still hold LSCs it issued, unless `force`. Keys are never deleted. After
 * the commit the public PEMs in DIR/certs are refreshed and the ITL is
 * rebuilt; a running opencapfd notices the change by itself. */

/* Phone names quoted in refusals and summaries. */
#define CAPF_CHANGE_NAMES 5

struct capf_change {
	char new_cn[128], new_sha256[80], new_key[32], new_not_after[40];
	char new_issuer[512];
	int new_self_signed;
	char old_cn[128], old_sha256[80];   /* now "previous" */
	int old_lsc_phones;                 /* phones holding LSCs issued under it */
	char retired_cn[128], retired_sha256[80]; /* an older previous retired on the way, or "" */
	int retired_lsc_phones;             /* phones still on it (only with force) */
	int chain_added;                    /* issuing CA certificates added to trust stores */
	int itl_published;                  /* 0: see itl_err */
	char itl_err[256];
	char files_err[256];                /* DIR/certs could not be refreshed, or "" */
};

struct capf_regen_params {
	enum pki_key_kind kind;
	int bits;                           /* 0: same kind and size as the current key */
	int days;                           /* 0: 1825 */
	int force;                          /* retire an older previous certificate phones still use */
};

/* A new key and self-signed certificate (same organisation fields, new CN). */
int capf_ca_regenerate(struct store *st, const struct capf_regen_params *p, const char *actor,
		       struct capf_change *out, char *err, size_t errlen);

/* A certificate signing request for an outside CA, in PEM (*pem: OPENSSL_free).
 * new_key == 0: the current key and subject. new_key: a new key of `kind`/`bits`
 * (bits 0: like the current key) and a new CAPF-xxxxxxxx subject; the key is
 * kept in keys/ as the pending CSR key until a certificate for it is imported.
 * subject (may be NULL) receives the requested subject in RFC 4514 form. */
int capf_ca_csr(struct store *st, int new_key, enum pki_key_kind kind, int bits, const char *actor,
		char **pem, size_t *pemlen, char *subject, size_t subjectcap, char *err, size_t errlen);

/* An import's certificates (a PEM bundle): the first is the CAPF
 * certificate (*cert), the others are appended to chain; certs is freed. */
void capf_import_split(STACK_OF(X509) *certs, X509 **cert, STACK_OF(X509) *chain);

/* Make `cert` (issued by an outside CA for the current key or the pending
 * CSR key) the current CAPF certificate. It must pass pki_capf_cert_check.
 * `chain` (may be NULL or empty): the issuing CA certificates; the CAPF
 * certificate must chain to them, or to CAPF-trust when no chain is given.
 * They go into every store that receives the CAPF certificate. */
int capf_ca_import(struct store *st, X509 *cert, STACK_OF(X509) *chain, int force, const char *actor,
		   struct capf_change *out, char *err, size_t errlen);

struct capf_retire_result {
	char cn[128], sha256[80];
	int lsc_phones;                     /* phones that still held LSCs from it */
	int stores;                         /* trust stores it was removed from */
	int forced;
	int itl_published;                  /* 0: see itl_err */
	char itl_err[256];
};
/* Retire a previous CAPF certificate (sha256 NULL or "": the previous one;
 * a unique prefix of at least 8 hex digits is enough): removed from every
 * trust store, kept on record as "retired". Refused while phones hold LSCs
 * issued under it unless `force` (the audit log records a forced retirement). */
int capf_ca_retire(struct store *st, const char *sha256, int force, const char *actor,
		   struct capf_retire_result *out, char *err, size_t errlen);

/* "3 phones (SEP..., SEP..., SEP...)": the phones holding LSCs issued under
 * capf_sha256, the first CAPF_CHANGE_NAMES by name. Returns the count or -1. */
int capf_ca_lsc_holders(struct store *st, const char *capf_sha256, char *text, size_t textcap);

#endif
