/*
 * revocation_bench.c: the cost of revocation, in process: signing and
 * writing a CRL with many entries (the same admin_crl_publish opencapfd and
 * `opencapf crl publish` run) and OCSP answers per second (admin_ocsp_answer,
 * what POST /ocsp runs, without the HTTP around it).
 *
 *   revocation-bench STATE N SECONDS
 *
 * STATE is a state made by `opencapf init` (it is changed: N revocations
 * under its CAPF certificate, one LSC issued and revoked). Prints
 *   revoked=N crl_ms=X crl_bytes=B ocsp_per_s=Y
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ocsp.h>
#include <openssl/rand.h>

#include "admin/crl.h"
#include "admin/ocsp.h"
#include "capf/ca.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store_revoke.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* N revocations of random serials under capf_sha, one transaction. */
static int revoke_many(struct store *st, const char *capf_sha, long n)
{
	unsigned char b[16];
	char hex[40];

	if (store_begin(st) != 0)
		return -1;
	for (long i = 0; i < n; i++) {
		RAND_bytes(b, sizeof b);
		b[0] &= 0x7f;
		b[0] |= 0x01;
		hex_encode(b, sizeof b, hex);
		if (store_revoke_locked(st, "bench", hex, capf_sha, "", REVOKE_KEY_COMPROMISE, now_utc()) < 0) {
			store_rollback(st);
			return -1;
		}
	}
	return store_commit(st);
}

/* One LSC issued (recorded) and revoked; *lsc is it. */
static int one_lsc(struct store *st, const char *capf_sha, X509 **lsc)
{
	char err[ERRLEN];
	struct signer *s = capf_ca_signer(st, err, sizeof err);
	EVP_PKEY *key = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	uint8_t *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (s && key && (*lsc = pki_lsc_issue(s, "SEP00000000BE7C", key, 365, err, sizeof err)) &&
	    pki_cert_to_der(*lsc, &der, &len) == 0 &&
	    store_capf_lsc_delivered(st, "SEP00000000BE7C", der, len, capf_sha, NULL) == 0) {
		struct pki_cert_info info;
		pki_cert_info(*lsc, &info);
		rc = store_revoke(st, "bench", info.serial, capf_sha, "SEP00000000BE7C", REVOKE_SUPERSEDED, now_utc());
	}
	if (rc < 0)
		fprintf(stderr, "revocation-bench: cannot issue an LSC: %s %s\n", err, store_errmsg(st));
	OPENSSL_free(der);
	EVP_PKEY_free(key);
	signer_free(s);
	return rc < 0 ? -1 : 0;
}

static int ocsp_request(X509 *lsc, X509 *capf, uint8_t **der, int *len)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), lsc, capf);
	unsigned char *out = NULL;

	if (!req || !id || !OCSP_request_add0_id(req, id) || !OCSP_request_add1_nonce(req, NULL, -1) ||
	    (*len = i2d_OCSP_REQUEST(req, &out)) <= 0)
		return -1;
	*der = out;
	OCSP_REQUEST_free(req);
	return 0;
}

static double ocsp_rate(struct store *st, X509 *lsc, X509 *capf, double seconds)
{
	struct admin_ocsp *o = admin_ocsp_new();
	uint8_t *req = NULL, *resp;
	size_t rlen;
	int len;
	long n = 0;
	char err[ERRLEN];
	double t0 = now_ms(), t;

	if (!o || ocsp_request(lsc, capf, &req, &len) < 0)
		return -1;
	do {
		if (admin_ocsp_answer(o, st, req, (size_t)len, &resp, &rlen, err, sizeof err) < 0)
			return -1;
		OPENSSL_free(resp);
		n++;
		t = now_ms();
	} while (t - t0 < seconds * 1000);
	OPENSSL_free(req);
	admin_ocsp_free(o);
	return n / ((t - t0) / 1000);
}

struct crl_size {
	size_t bytes;
};

static int crl_written(const struct admin_crl *c, void *arg)
{
	FILE *f = fopen(c->der_path, "rb");

	if (f) {
		fseek(f, 0, SEEK_END);
		((struct crl_size *)arg)->bytes = (size_t)ftell(f);
		fclose(f);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct store *st;
	struct capf_row cur;
	struct crl_size size = { 0 };
	char err[ERRLEN];
	X509 *capf = NULL, *lsc = NULL;
	double t, crl_ms, rate;
	long n = argc > 2 ? atol(argv[2]) : 0;

	if (argc != 4 || n < 0) {
		fprintf(stderr, "usage: revocation-bench STATE N SECONDS\n");
		return 2;
	}
	if (store_open(argv[1], STORE_OPEN_EXISTING, &st, err, sizeof err) < 0 || store_capf_current(st, &cur) != 0 ||
	    capf_ca_load(st, &capf, NULL, err, sizeof err) < 0) {
		fprintf(stderr, "revocation-bench: %s\n", err);
		return 1;
	}
	if (revoke_many(st, cur.sha256, n) < 0 || one_lsc(st, cur.sha256, &lsc) < 0) {
		fprintf(stderr, "revocation-bench: %s\n", store_errmsg(st));
		return 1;
	}
	t = now_ms();
	if (admin_crl_publish(st, 1, crl_written, &size, err, sizeof err) < 0) {
		fprintf(stderr, "revocation-bench: %s\n", err);
		return 1;
	}
	crl_ms = now_ms() - t;
	rate = ocsp_rate(st, lsc, capf, atof(argv[3]));
	printf("revoked=%ld crl_ms=%.0f crl_bytes=%zu ocsp_per_s=%.0f\n", n + 1, crl_ms, size.bytes, rate);
	X509_free(lsc);
	X509_free(capf);
	capf_row_free(&cur);
	store_close(st);
	return rate < 0;
}
