/*
 * pki_ocsp.c: the OCSP responder's codec (pki_crl.h): a DER OCSPRequest
 * parsed with d2i_OCSP_REQUEST, a BasicOCSPResponse built and signed with
 * OCSP_basic_add1_status / OCSP_basic_sign, the nonce copied with
 * OCSP_copy_nonce (RFC 6960, RFC 8954). Fuzzed (fuzz/fuzz_ocsp.c).
 */
#include "pki/pki_crl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <string.h>

#include "common/util.h"

/* More CertIDs in one request than any client sends. */
#define OCSP_MAX_IDS 64

OCSP_REQUEST *pki_ocsp_request_parse(const uint8_t *der, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = der;
	OCSP_REQUEST *req;
	int n;

	if (!der || len == 0 || len > 65536) {
		seterr(err, errlen, "an OCSP request of %zu bytes (1 to 65536 expected)", len);
		return NULL;
	}
	req = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	ERR_clear_error();
	if (!req || p != der + len) {
		OCSP_REQUEST_free(req);
		seterr(err, errlen, "not a DER OCSPRequest");
		return NULL;
	}
	n = OCSP_request_onereq_count(req);
	if (n < 1 || n > OCSP_MAX_IDS) {
		OCSP_REQUEST_free(req);
		seterr(err, errlen, "an OCSP request naming %d certificates (1 to %d expected)", n, OCSP_MAX_IDS);
		return NULL;
	}
	return req;
}

/* The response with only a status (no body), DER. */
static int status_only(int status, uint8_t **der, size_t *len)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	unsigned char *out = NULL;
	int n = r ? i2d_OCSP_RESPONSE(r, &out) : -1;

	OCSP_RESPONSE_free(r);
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

/* Which issuer a CertID names (its hash algorithm, issuer name and key
 * hashes); -1 for none. */
static int find_issuer(OCSP_CERTID *cid, const struct pki_ocsp_issuer *issuers, size_t n)
{
	ASN1_OBJECT *alg = NULL;
	const EVP_MD *md;

	if (!OCSP_id_get0_info(NULL, &alg, NULL, NULL, cid) || !(md = EVP_get_digestbyobj(alg)))
		return -1;
	for (size_t i = 0; i < n; i++) {
		OCSP_CERTID *ours = OCSP_cert_to_id(md, NULL, issuers[i].cert);
		int same = ours && OCSP_id_issuer_cmp(ours, cid) == 0;

		OCSP_CERTID_free(ours);
		if (same)
			return (int)i;
	}
	return -1;
}

/* The store's form of a serial: lower-case hex of its bytes ("00" for 0). */
static int serial_hex(OCSP_CERTID *cid, char *out, size_t cap)
{
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn;
	unsigned char b[64];
	int n;

	if (!OCSP_id_get0_info(NULL, NULL, NULL, &sn, cid) || !(bn = ASN1_INTEGER_to_BN(sn, NULL)))
		return -1;
	n = BN_num_bytes(bn);
	if (BN_is_negative(bn) || n > (int)sizeof b || cap < (size_t)(n ? n : 1) * 2 + 1) {
		BN_free(bn);
		return -1;
	}
	if (n == 0)
		snprintf(out, cap, "00");
	else {
		BN_bn2bin(bn, b);
		hex_encode(b, (size_t)n, out);
	}
	BN_free(bn);
	return 0;
}

struct ocsp_times {
	ASN1_TIME *now, *next;
};

/* One SingleResponse for the CertID; -1 on an internal error. */
static int add_status(OCSP_BASICRESP *bs, OCSP_CERTID *cid, size_t issuer, pki_ocsp_lookup_fn lookup, void *arg,
		      const struct ocsp_times *t)
{
	struct pki_ocsp_answer a = { PKI_OCSP_UNKNOWN, 0, 0 };
	char serial[140];
	ASN1_TIME *rev = NULL;
	int status, ok;

	if (serial_hex(cid, serial, sizeof serial) == 0 && lookup(arg, issuer, serial, &a) < 0)
		return -1;
	status = a.status == PKI_OCSP_GOOD	  ? V_OCSP_CERTSTATUS_GOOD
		 : a.status == PKI_OCSP_REVOKED ? V_OCSP_CERTSTATUS_REVOKED
						: V_OCSP_CERTSTATUS_UNKNOWN;
	if (status == V_OCSP_CERTSTATUS_REVOKED && !(rev = ASN1_TIME_set(NULL, (time_t)a.revoked_time)))
		return -1;
	ok = OCSP_basic_add1_status(bs, cid, status, a.reason > 0 ? a.reason : OCSP_REVOKED_STATUS_NOSTATUS, rev,
				    t->now, t->next) != NULL;
	ASN1_TIME_free(rev);
	return ok ? 0 : -1;
}

/* Every CertID answered, all under one issuer (*issuer); 1 = unauthorized. */
static int add_all(OCSP_REQUEST *req, OCSP_BASICRESP *bs, const struct pki_ocsp_issuer *issuers, size_t nissuers,
		   pki_ocsp_lookup_fn lookup, void *arg, const struct ocsp_times *t, int *issuer)
{
	int n = OCSP_request_onereq_count(req);

	*issuer = -1;
	for (int i = 0; i < n; i++) {
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		int which = cid ? find_issuer(cid, issuers, nissuers) : -1;

		if (which < 0 || (*issuer >= 0 && which != *issuer))
			return 1;
		*issuer = which;
		if (add_status(bs, cid, (size_t)which, lookup, arg, t) < 0)
			return -1;
	}
	return *issuer < 0 ? 1 : 0;
}

static int sign_and_encode(OCSP_BASICRESP *bs, const struct pki_ocsp_issuer *is, uint8_t **der, size_t *len)
{
	OCSP_RESPONSE *r;
	unsigned char *out = NULL;
	int n;

	if (!OCSP_basic_sign(bs, is->cert, is->key, EVP_sha256(), NULL, 0))
		return -1;
	r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
	n = r ? i2d_OCSP_RESPONSE(r, &out) : -1;
	OCSP_RESPONSE_free(r);
	if (n <= 0)
		return -1;
	*der = out;
	*len = (size_t)n;
	return 0;
}

int pki_ocsp_respond(OCSP_REQUEST *req, const struct pki_ocsp_issuer *issuers, size_t nissuers,
		     pki_ocsp_lookup_fn lookup, void *arg, int64_t now, int64_t validity, uint8_t **der, size_t *len,
		     char *err, size_t errlen)
{
	struct ocsp_times t = { ASN1_TIME_set(NULL, (time_t)now), ASN1_TIME_set(NULL, (time_t)(now + validity)) };
	OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
	int issuer = -1, rc = -1;

	if (!req)
		rc = status_only(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, der, len);
	else if (!bs || !t.now || !t.next)
		rc = status_only(OCSP_RESPONSE_STATUS_INTERNALERROR, der, len);
	else if ((rc = add_all(req, bs, issuers, nissuers, lookup, arg, &t, &issuer)) != 0)
		rc = status_only(rc > 0 ? OCSP_RESPONSE_STATUS_UNAUTHORIZED : OCSP_RESPONSE_STATUS_INTERNALERROR,
				 der, len);
	else if (OCSP_copy_nonce(bs, req) <= 0 || sign_and_encode(bs, &issuers[issuer], der, len) < 0)
		rc = status_only(OCSP_RESPONSE_STATUS_INTERNALERROR, der, len);
	ERR_clear_error();
	OCSP_BASICRESP_free(bs);
	ASN1_TIME_free(t.now);
	ASN1_TIME_free(t.next);
	if (rc < 0)
		seterr(err, errlen, "cannot build an OCSP response");
	return rc;
}
