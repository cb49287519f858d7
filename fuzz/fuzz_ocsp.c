/*
 * fuzz_ocsp.c: fuzz target for the OCSP responder's input (POST /ocsp
 * bodies, GET /ocsp/ requests once base64-decoded): pki_ocsp_request_parse,
 * then, for what parses, a whole signed response from pki_ocsp_respond for a
 * test issuer (EC P-256, made once), each serial answered good, revoked or
 * unknown by its last hex digit. A response must always come back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "pki/pki.h"
#include "pki/pki_crl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pki_ocsp_issuer issuer;

static int lookup(void *arg, size_t i, const char *serial, struct pki_ocsp_answer *a)
{
	size_t n = strlen(serial);

	(void)arg;
	(void)i;
	a->status = n ? (enum pki_ocsp_status)((unsigned char)serial[n - 1] % 3) : PKI_OCSP_UNKNOWN;
	a->revoked_time = 1700000000;
	a->reason = a->status == PKI_OCSP_REVOKED ? 1 : 0;
	return 0;
}

static void setup(void)
{
	struct pki_org org;
	char err[ERRLEN];

	if (issuer.cert)
		return;
	pki_org_parse("O=Fuzz,C=NZ", &org, err, sizeof err);
	issuer.key = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	issuer.cert = issuer.key ? pki_capf_cert_create(issuer.key, &org, 30, err, sizeof err) : NULL;
	if (!issuer.cert)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRLEN];
	OCSP_REQUEST *req;
	uint8_t *resp = NULL;
	size_t len = 0;

	setup();
	req = pki_ocsp_request_parse(data, size, err, sizeof err);
	if (pki_ocsp_respond(req, &issuer, 1, lookup, NULL, 1700000000, 3600, &resp, &len, err, sizeof err) < 0 ||
	    !resp || len == 0)
		abort();
	OPENSSL_free(resp);
	OCSP_REQUEST_free(req);
	return 0;
}
