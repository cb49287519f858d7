/*
 * itl_bench.c: how long building and showing an ITL file of many records
 * takes, in process (scripts/bench.sh, item 5). `opencapf itl build` adds at
 * most a few dozen records to the state's own, so a 1,000-record file is
 * built here with the same library call (itl_build: records, SHA-1 RSA
 * signature, self-check) and shown with the same printer as `opencapf itl
 * show` (itl_show: decode, verify, vendor layout, to /dev/null).
 *
 *   itl-bench SIGNER.pem SIGNER.key OUT.tlv REPEAT CERT...
 *
 * Records: the signer as SAST, then one CCM record per certificate in the
 * CERT files (PEM, one or more each, or DER). Writes the file to OUT.tlv
 * (for `opencapf itl show` to be timed too) and prints
 *   records=N bytes=B build_ms=X show_ms=Y
 * with the best of REPEAT wall-clock times of each step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "admin/itl_file.h"
#include "capf/itl_show.h"
#include "common/util.h"
#include "pki/pki.h"
#include "wire/roles.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct itl_entry *entries(X509 *signer, STACK_OF(X509) *certs, size_t *n)
{
	struct itl_entry *e = calloc((size_t)sk_X509_num(certs) + 1, sizeof *e);

	if (!e)
		return NULL;
	e[0] = (struct itl_entry){ signer, ROLE_SAST, 0 };
	for (int i = 0; i < sk_X509_num(certs); i++)
		e[i + 1] = (struct itl_entry){ sk_X509_value(certs, i), ROLE_CCM, 0 };
	*n = (size_t)sk_X509_num(certs) + 1;
	return e;
}

static int run(X509 *signer, EVP_PKEY *key, STACK_OF(X509) *certs, const char *out, int repeat)
{
	struct itl_build_opts o;
	struct itl_entry *e;
	double best_build = 1e18, best_show = 1e18, t, d;
	uint8_t *data = NULL;
	size_t n, len = 0;
	char err[ERRLEN];
	FILE *null = fopen("/dev/null", "w");

	itl_build_opts_default(&o);
	if (!null || !(e = entries(signer, certs, &n)))
		return 1;
	for (int i = 0; i < repeat; i++) {
		free(data);
		t = now_ms();
		if (itl_build(&o, signer, key, e, n, &data, &len, err, sizeof err) < 0) {
			fprintf(stderr, "itl-bench: build: %s\n", err);
			return 1;
		}
		if ((d = now_ms() - t) < best_build)
			best_build = d;
		t = now_ms();
		if (itl_show(null, data, len, err, sizeof err) < 0) {
			fprintf(stderr, "itl-bench: show: %s\n", err);
			return 1;
		}
		if ((d = now_ms() - t) < best_show)
			best_show = d;
	}
	if (itl_write_atomic(out, data, len, err, sizeof err) < 0) {
		fprintf(stderr, "itl-bench: %s\n", err);
		return 1;
	}
	printf("records=%zu bytes=%zu build_ms=%.1f show_ms=%.1f\n", n, len, best_build, best_show);
	free(data);
	free(e);
	fclose(null);
	return 0;
}

/* Every certificate of every file, in order. */
static STACK_OF(X509) *load_all(int n, char **paths)
{
	STACK_OF(X509) *all = sk_X509_new_null(), *one;
	char err[ERRLEN];

	for (int i = 0; all && i < n; i++) {
		if (!(one = pki_certs_load(paths[i], err, sizeof err))) {
			fprintf(stderr, "itl-bench: %s\n", err);
			sk_X509_pop_free(all, X509_free);
			return NULL;
		}
		while (sk_X509_num(one) > 0)
			sk_X509_push(all, sk_X509_shift(one));
		sk_X509_free(one);
	}
	return all;
}

int main(int argc, char **argv)
{
	STACK_OF(X509) *signer = NULL, *certs = NULL;
	EVP_PKEY *key = NULL;
	char err[ERRLEN];
	int rc = 1;

	if (argc < 6) {
		fprintf(stderr, "usage: itl-bench SIGNER.pem SIGNER.key OUT.tlv REPEAT CERT...\n");
		return 2;
	}
	if (!(signer = pki_certs_load(argv[1], err, sizeof err)) || !(key = pki_key_load(argv[2], err, sizeof err)))
		fprintf(stderr, "itl-bench: %s\n", err);
	else if ((certs = load_all(argc - 5, argv + 5)) != NULL)
		rc = run(sk_X509_value(signer, 0), key, certs, argv[3], atoi(argv[4]) > 0 ? atoi(argv[4]) : 1);
	sk_X509_pop_free(signer, X509_free);
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return rc;
}
