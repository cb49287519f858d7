/*
 * classify.c: LSC, MIC or unknown, and why (classify.h).
 *
 * "Issued by" means what a chain check means by it for one link: the issuer
 * name matches (X509_check_issued, which also looks at the key identifiers)
 * and the signature verifies with the issuer's key. Validity dates are not
 * looked at: an expired LSC is still an LSC.
 *
 * Every name put into a result (device name, issuer CN, the rule's words) is
 * escaped (pki_name_entry_text): the certificate may come from anyone who
 * connects to the registration check, and the result goes to the log and
 * the register log as it is.
 */
#include "diag/classify.h"

#include <ctype.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "capf/trust_load.h"
#include "common/util.h"
#include "pki/pki.h"

const char *cert_kind_name(enum cert_kind k)
{
	switch (k) {
	case CERT_KIND_LSC: return "LSC";
	case CERT_KIND_MIC: return "MIC";
	default: return "unknown";
	}
}

int cert_issued_by(X509 *cert, X509 *issuer)
{
	EVP_PKEY *key;
	int ok;

	if (X509_check_issued(issuer, cert) != X509_V_OK)
		return 0;
	key = X509_get0_pubkey(issuer);
	ok = key && X509_verify(cert, key) == 1;
	ERR_clear_error();
	return ok;
}

void cert_device_name(X509 *cert, char *out, size_t outcap)
{
	char cn[256];
	const char *p;

	if (outcap == 0)
		return;
	out[0] = '\0';
	pki_name_entry_text(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
	if (!cn[0])
		return;
	for (p = cn; (p = strstr(p, "SEP")) != NULL; p++) {
		size_t n = 0;
		while (n < 12 && isxdigit((unsigned char)p[3 + n]))
			n++;
		if (n == 12 && !isxdigit((unsigned char)p[15])) {
			snprintf(out, outcap, "%.15s", p);
			return;
		}
	}
	snprintf(out, outcap, "%s", cn);
}

struct capf_collect {
	struct classify_ctx *ctx;
	size_t cap;
};

static int collect_capf(const struct capf_row *r, void *arg)
{
	struct capf_collect *cc = arg;
	struct classify_ctx *ctx = cc->ctx;
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(r->der, r->derlen, err, sizeof err);

	if (!x)
		return 0; /* a CAPF row that no longer parses cannot have issued anything we see */
	if (ctx->ncapf == cc->cap) {
		size_t cap = cc->cap ? cc->cap * 2 : 4;
		struct classify_capf *more = realloc(ctx->capf, cap * sizeof *more);
		if (!more) {
			X509_free(x);
			return -1;
		}
		ctx->capf = more;
		cc->cap = cap;
	}
	ctx->capf[ctx->ncapf].cert = x;
	snprintf(ctx->capf[ctx->ncapf].state, sizeof ctx->capf[0].state, "%s", r->state);
	pki_name_entry_text(X509_get_subject_name(x), NID_commonName, ctx->capf[ctx->ncapf].cn,
			    sizeof ctx->capf[0].cn);
	if (!ctx->capf[ctx->ncapf].cn[0])
		snprintf(ctx->capf[ctx->ncapf].cn, sizeof ctx->capf[0].cn, "(no CN)");
	ctx->ncapf++;
	return 0;
}

int classify_ctx_load(struct store *st, struct classify_ctx *ctx, char *err, size_t errlen)
{
	struct capf_collect cc = { ctx, 0 };

	memset(ctx, 0, sizeof *ctx);
	if (store_capf_each(st, collect_capf, &cc) != 0 || !(ctx->mfg = trust_load_stack(st, TRUST_MANUFACTURING))) {
		seterr(err, errlen, "cannot read the CAPF certificates and manufacturing trust: %s", store_errmsg(st));
		classify_ctx_free(ctx);
		return -1;
	}
	return 0;
}

void classify_ctx_free(struct classify_ctx *ctx)
{
	for (size_t i = 0; i < ctx->ncapf; i++)
		X509_free(ctx->capf[i].cert);
	free(ctx->capf);
	sk_X509_pop_free(ctx->mfg, X509_free);
	memset(ctx, 0, sizeof *ctx);
}

static int by_state_capf(const struct classify_ctx *ctx, X509 *cert, struct cert_class *out)
{
	for (size_t i = 0; ctx && i < ctx->ncapf; i++)
		if (cert_issued_by(cert, ctx->capf[i].cert)) {
			out->kind = CERT_KIND_LSC;
			out->rule = 1;
			snprintf(out->capf_state, sizeof out->capf_state, "%s", ctx->capf[i].state);
			snprintf(out->why, sizeof out->why, "issued by this state's CAPF certificate %s (%s)",
				 ctx->capf[i].cn, ctx->capf[i].state);
			return 1;
		}
	return 0;
}

static int by_mfg_store(const struct classify_ctx *ctx, X509 *cert, struct cert_class *out)
{
	for (int i = 0; ctx && ctx->mfg && i < sk_X509_num(ctx->mfg); i++) {
		X509 *ca = sk_X509_value(ctx->mfg, i);
		char cn[128] = "(no CN)";

		if (!cert_issued_by(cert, ca))
			continue;
		pki_name_entry_text(X509_get_subject_name(ca), NID_commonName, cn, sizeof cn);
		if (!cn[0])
			snprintf(cn, sizeof cn, "(no CN)");
		out->kind = CERT_KIND_MIC;
		out->rule = 3;
		snprintf(out->why, sizeof out->why, "issued by %s, in the manufacturing trust store", cn);
		return 1;
	}
	return 0;
}

void cert_classify(const struct classify_ctx *ctx, X509 *cert, struct cert_class *out)
{
	const char *cn = out->issuer_cn;

	memset(out, 0, sizeof *out);
	pki_name_entry_text(X509_get_issuer_name(cert), NID_commonName, out->issuer_cn, sizeof out->issuer_cn);
	if (by_state_capf(ctx, cert, out))
		return;
	if (strncmp(cn, "CAPF-", 5) == 0) {
		out->kind = CERT_KIND_LSC;
		out->rule = 2;
		snprintf(out->why, sizeof out->why, ctx ? "issuer CN %s is a CAPF certificate this state does not hold "
							  "(another cluster's?)"
							: "issuer CN %s starts with CAPF-", cn);
		return;
	}
	if (by_mfg_store(ctx, cert, out))
		return;
	if (strstr(cn, "Manufacturing") || strncmp(cn, "CAP-RTP-", 8) == 0) {
		out->kind = CERT_KIND_MIC;
		out->rule = 4;
		snprintf(out->why, sizeof out->why, "issuer CN \"%s\" names a manufacturing CA%s", cn,
			 ctx ? " (not in the manufacturing trust store)" : "");
		return;
	}
	out->kind = CERT_KIND_UNKNOWN;
	out->rule = 5;
	snprintf(out->why, sizeof out->why, "issuer \"%s\" is neither a CAPF certificate nor a manufacturing CA%s",
		 cn[0] ? cn : "(no CN)", ctx ? " this state knows" : "");
}
