/*
 * diagnose.h: what the vendor Q&A walks by hand (phone-certificates.md §3-§8),
 * by machine: which certificate a phone will present, whether each server
 * trust store accepts it, whether its CAPF operation can work with what it
 * holds, the deadline, the CAPF certificate's expiry, the last registration
 * check; and for each problem the fix the Q&A gives.
 *
 * The report is data (struct diag_report, or JSON through
 * diag_report_json) so that the CLI, and later the admin API, print the
 * same findings. Nothing here writes to the store.
 */
#ifndef OPENCAPF_DIAG_DIAGNOSE_H
#define OPENCAPF_DIAG_DIAGNOSE_H

#include <jansson.h>
#include <openssl/x509.h>
#include <stdint.h>

#include "diag/classify.h"
#include "pki/pki.h"
#include "store/store.h"
#include "store/store_register.h"

enum diag_level { DIAG_OK, DIAG_INFO, DIAG_WARN, DIAG_PROBLEM };

#define DIAG_MAX_FINDINGS 24
#define DIAG_TRUST_STORES 4      /* CallManager-trust, CAPF-trust, 802.1x, phone-vpn-trust */

struct diag_finding {
	enum diag_level level;
	char topic[32];              /* "certificate", "CallManager-trust", "authentication", ... */
	char text[600];
	char fix[900];               /* "" when there is nothing to do */
	char ref[24];                /* section of phone-certificates.md, e.g. "§7" */
};

struct diag_trust {
	char store[32];
	int count;                   /* certificates in the store */
	int accepted;
	char reason[128];            /* when refused: "unknown CA", "certificate expired", ... */
	char anchor[128];            /* when accepted: CN of the trusted certificate used */
};

struct diag_report {
	char phone[64];              /* "" for a certificate given as a file */
	int known;                   /* the phone is configured in this state */
	struct phone ph;
	int have_lsc, have_mic;      /* as far as this state knows */
	char presented[8];           /* "LSC", "MIC" or "none": what the phone presents (§3) */
	int have_cert;
	struct pki_cert_info cert;   /* the presented certificate */
	struct cert_class cls;
	struct diag_trust trust[DIAG_TRUST_STORES];
	int have_register;
	struct register_row last_register;
	size_t nfindings;
	struct diag_finding findings[DIAG_MAX_FINDINGS];
	int problems, warnings;
};

/* now: unix time of the check (0: the current time). -1 with err only on a
 * database error; an unknown phone is a finding, not an error. */
int diag_phone(struct store *st, const char *name, int64_t now, struct diag_report *out,
	       char *err, size_t errlen);
/* The same checks for a certificate given as a file (no phone settings). */
int diag_certificate(struct store *st, X509 *cert, int64_t now, struct diag_report *out,
		     char *err, size_t errlen);

const char *diag_level_name(enum diag_level l);  /* "ok", "info", "warning", "problem" */
json_t *diag_report_json(const struct diag_report *r);

#endif
