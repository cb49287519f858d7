/*
 * capf_auth.c: authentication of a phone in a CAPF session.
 *
 * Modes (phone-certificates.md §4):
 *  - null string: nothing to check;
 *  - authentication string: PASSWORD compared in constant time;
 *  - existing certificate, precedence to LSC: the certificate must chain to
 *    CAPF-trust (an LSC), or, for a phone that has no LSC, to the
 *    manufacturing trust (its MIC); otherwise "Invalid LSC";
 *  - existing certificate, precedence to MIC: must chain to the manufacturing
 *    trust; otherwise "Invalid MIC".
 * In both certificate modes every signature the phone sent over
 * DEVICE_NAME + NUL + certificate DER must verify strictly, at least one must
 * be present, and SUDI data, when present with an RSA key, must verify too.
 */
#include "capf/capf_auth.h"

#include <string.h>

#include "common/log.h"

struct presented {
	const uint8_t *der;
	size_t derlen;
	X509 *cert;
	EVP_PKEY *pub;
};

static int get_presented(const struct capf_msg *m, struct presented *p, char *reason, size_t rl)
{
	const struct capf_elem *e = capf_msg_find(m, CAPF_TAG_CERTIFICATE);
	char err[ERRLEN];
	uint8_t type;

	memset(p, 0, sizeof *p);
	if (!e) {
		seterr(reason, rl, "no certificate presented");
		return -1;
	}
	if (capf_cert_unwrap(e->val, e->len, &p->der, &p->derlen, &type, err, sizeof err) < 0 ||
	    !(p->cert = pki_cert_from_der(p->der, p->derlen, err, sizeof err))) {
		seterr(reason, rl, "bad certificate: %s", err);
		return -1;
	}
	p->pub = X509_get0_pubkey(p->cert);
	if (!p->pub) {
		seterr(reason, rl, "certificate without a usable public key");
		return -1;
	}
	return 0;
}

/* Every signature present must verify; at least one must be present. */
static int check_signatures(const struct capf_msg *m, const char *device, const struct presented *p,
			    char *reason, size_t rl)
{
	const struct capf_elem *sig1 = capf_msg_find(m, CAPF_TAG_SIGNED_DATA);
	const struct capf_elem *sig2 = capf_msg_find(m, CAPF_TAG_SHA2_SIGNED_DATA);
	char err[ERRLEN];

	if (!sig1 && !sig2) {
		seterr(reason, rl, "no signed data");
		return -1;
	}
	if (sig1 && pki_capf_auth_verify(p->pub, device, p->der, p->derlen, CAPF_HASH_SHA1,
					 sig1->val, sig1->len) != 1) {
		seterr(reason, rl, "SIGNED_DATA does not verify");
		return -1;
	}
	if (sig2) {
		uint8_t hash_id;
		const uint8_t *sig;
		size_t siglen;

		if (capf_sha2_signed_parse(sig2->val, sig2->len, &hash_id, &sig, &siglen, err, sizeof err) < 0) {
			seterr(reason, rl, "SHA2_SIGNED_DATA: %s", err);
			return -1;
		}
		if ((hash_id != CAPF_HASH_SHA256 && hash_id != CAPF_HASH_SHA512) ||
		    pki_capf_auth_verify(p->pub, device, p->der, p->derlen, hash_id, sig, siglen) != 1) {
			seterr(reason, rl, "SHA2_SIGNED_DATA does not verify");
			return -1;
		}
	}
	return 0;
}

/* 0 if `cert` chains to the named store. */
static int chains_to(const struct capf_server_env *env, const char *store_name, X509 *cert, char *why, size_t wl)
{
	STACK_OF(X509) *anchors = REC(env, trust, store_name);
	int rc;

	if (!anchors) {
		seterr(why, wl, "cannot read trust store %s", store_name);
		return -1;
	}
	rc = pki_verify_chain(cert, anchors, 0, NULL, why, wl);
	sk_X509_pop_free(anchors, X509_free);
	return rc;
}

static int check_sudi(const struct capf_server_session *s, const struct capf_server_env *env,
		      const struct capf_msg *m, char *reason, size_t rl)
{
	const struct capf_elem *e = capf_msg_find(m, CAPF_TAG_SUDI_DATA);
	struct capf_sudi sudi;
	char err[ERRLEN], why1[ERRLEN], why2[ERRLEN];
	X509 *cert;
	enum pki_key_kind kind;
	int bits, ok;

	if (!e)
		return 0;
	if (capf_sudi_parse(e->val, e->len, &sudi, err, sizeof err) < 0) {
		seterr(reason, rl, "SUDI data: %s", err);
		return -1;
	}
	if (!(cert = pki_cert_from_der(sudi.cert, sudi.certlen, err, sizeof err))) {
		seterr(reason, rl, "SUDI certificate: %s", err);
		return -1;
	}
	if (pki_key_info(X509_get0_pubkey(cert), &kind, &bits) < 0 || kind != PKI_KEY_RSA) {
		X509_free(cert); /* only RSA SUDI data is defined */
		return 0;
	}
	ok = (!sudi.sig_sha1 || pki_sudi_verify(X509_get0_pubkey(cert), s->session_id, sudi.cert, sudi.certlen,
						CAPF_HASH_SHA1, sudi.sig_sha1, sudi.sig_sha1_len) == 1) &&
	     (!sudi.sig_sha512 || pki_sudi_verify(X509_get0_pubkey(cert), s->session_id, sudi.cert, sudi.certlen,
						  CAPF_HASH_SHA512, sudi.sig_sha512, sudi.sig_sha512_len) == 1) &&
	     (sudi.sig_sha1 || sudi.sig_sha512);
	if (!ok)
		seterr(reason, rl, "SUDI signature does not verify");
	else if (chains_to(env, TRUST_MANUFACTURING, cert, why1, sizeof why1) < 0 &&
		 chains_to(env, TRUST_CAPF, cert, why2, sizeof why2) < 0) {
		seterr(reason, rl, "SUDI certificate: %s", why1);
		ok = 0;
	}
	X509_free(cert);
	return ok ? 0 : -1;
}

/* Which trust the presented certificate must chain to, by mode. Sets kind
 * "lsc" or "mic" for the record of what the phone presented. */
static int check_chain(struct capf_server_session *s, const struct capf_server_env *env,
		       const struct presented *p, char *reason, size_t rl)
{
	char why[ERRLEN];

	if (s->phone.auth == AUTH_LSC_FIRST) {
		if (chains_to(env, TRUST_CAPF, p->cert, why, sizeof why) == 0) {
			/* a revoked LSC proves nothing any more: Invalid LSC */
			int rv = env->rec->revoked ? env->rec->revoked(env->rec_ctx, p->der, p->derlen, reason, rl) : 0;
			if (rv != 0) {
				if (rv < 0)
					seterr(reason, rl, "cannot look up revocations: %s", REC_ERR(env));
				return -1;
			}
			snprintf(s->auth_used, sizeof s->auth_used, "lsc");
			return 0;
		}
		/* A phone without an LSC authenticates with its MIC. */
		if (chains_to(env, TRUST_MANUFACTURING, p->cert, reason, rl) == 0) {
			snprintf(s->auth_used, sizeof s->auth_used, "mic");
			return 0;
		}
		seterr(reason, rl, "not issued by a certificate in CAPF-trust (%s)", why);
		return -1;
	}
	if (chains_to(env, TRUST_MANUFACTURING, p->cert, why, sizeof why) == 0) {
		snprintf(s->auth_used, sizeof s->auth_used, "mic");
		return 0;
	}
	seterr(reason, rl, "not issued by a manufacturing CA (%s)", why);
	return -1;
}

static enum capf_auth_result check_certificate(struct capf_server_session *s, const struct capf_server_env *env,
					       const struct capf_msg *m, char *reason, size_t rl)
{
	struct presented p;
	enum capf_auth_result res = CAPF_AUTH_FAILED;

	if (get_presented(m, &p, reason, rl) < 0 || check_signatures(m, s->device, &p, reason, rl) < 0 ||
	    check_sudi(s, env, m, reason, rl) < 0)
		goto out;
	if (check_chain(s, env, &p, reason, rl) < 0)
		goto out;
	if (REC(env, seen_cert, s->device, s->auth_used, p.der, p.derlen) < 0) {
		seterr(reason, rl, "cannot record the presented certificate");
		res = CAPF_AUTH_ERROR;
		goto out;
	}
	res = CAPF_AUTH_OK;
out:
	X509_free(p.cert);
	return res;
}

enum capf_auth_result capf_auth_check(struct capf_server_session *s, const struct capf_server_env *env,
				      const struct capf_msg *m, const char **status, char *reason, size_t rl)
{
	char password[64] = "";
	int given;

	switch (s->phone.auth) {
	case AUTH_NULL:
		snprintf(s->auth_used, sizeof s->auth_used, "null");
		return CAPF_AUTH_OK;
	case AUTH_STRING:
		snprintf(s->auth_used, sizeof s->auth_used, "string");
		if (capf_msg_get_cstr(m, CAPF_TAG_PASSWORD, password, sizeof password) == 0 &&
		    ct_equal(password, strlen(password), s->phone.auth_string, strlen(s->phone.auth_string))) {
			OPENSSL_cleanse(password, sizeof password);
			return CAPF_AUTH_OK;
		}
		given = password[0] != '\0';   /* before the buffer is wiped */
		OPENSSL_cleanse(password, sizeof password);
		*status = "Authentication String Mismatch";
		seterr(reason, rl, "%s", given ? "wrong authentication string" : "no authentication string");
		return CAPF_AUTH_FAILED;
	case AUTH_LSC_FIRST:
	case AUTH_MIC_FIRST:
		*status = s->phone.auth == AUTH_LSC_FIRST ? "Invalid LSC" : "Invalid MIC";
		return check_certificate(s, env, m, reason, rl);
	}
	*status = "Internal Error";
	seterr(reason, rl, "unknown authentication mode");
	return CAPF_AUTH_ERROR;
}
