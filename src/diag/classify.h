/*
 * classify.h: is a phone's certificate an LSC, a MIC, or neither? And by
 * which rule (phone-certificates.md §8: "an LSC shows the CAPF CN in the
 * issuer, a MIC shows CN=Cisco Manufacturing CA SHA2").
 *
 * The rules, first match wins:
 *   1. LSC  issued (name and signature) by one of this state's CAPF
 *           certificates, current, previous or retired;
 *   2. LSC  issuer CN starts with "CAPF-" (another cluster's CAPF, or one this
 *           state never had);
 *   3. MIC  issued (name and signature) by a certificate of the manufacturing
 *           trust store;
 *   4. MIC  issuer CN contains "Manufacturing" or starts with "CAP-RTP-" (the
 *           vendor's manufacturing CA names);
 *   5. unknown.
 * Without a state (no context) only rules 2, 4 and 5 apply.
 */
#ifndef OPENCAPF_DIAG_CLASSIFY_H
#define OPENCAPF_DIAG_CLASSIFY_H

#include <openssl/x509.h>

#include "store/store.h"

enum cert_kind { CERT_KIND_UNKNOWN, CERT_KIND_LSC, CERT_KIND_MIC };

struct classify_capf {
	X509 *cert;
	char state[12];          /* "current", "previous", "retired" */
	char cn[128];
};

struct classify_ctx {
	struct classify_capf *capf;
	size_t ncapf;
	STACK_OF(X509) *mfg;     /* the manufacturing trust store */
};

struct cert_class {
	enum cert_kind kind;
	int rule;                /* 1..5 as above */
	char why[256];           /* the rule in words, naming the issuer */
	char issuer_cn[128];
	char capf_state[12];     /* rule 1: the CAPF certificate's state */
};

/* Load the CAPF certificates and the manufacturing trust store. -1 with err. */
int classify_ctx_load(struct store *st, struct classify_ctx *ctx, char *err, size_t errlen);
void classify_ctx_free(struct classify_ctx *ctx);
/* ctx may be NULL (no state). */
void cert_classify(const struct classify_ctx *ctx, X509 *cert, struct cert_class *out);
/* "LSC", "MIC", "unknown" */
const char *cert_kind_name(enum cert_kind k);
/* The device a certificate belongs to: the first "SEP" + 12 hex digits in its
 * subject CN (a MIC's CN is e.g. "CP-7962-SEP001122334455"), else the whole
 * CN escaped (text_escape), else "". */
void cert_device_name(X509 *cert, char *out, size_t outcap);
/* 1 if `cert` names `issuer` as its issuer and its signature verifies with issuer's key. */
int cert_issued_by(X509 *cert, X509 *issuer);

#endif
