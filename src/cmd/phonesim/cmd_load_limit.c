/*
 * cmd_load_limit.c: `phonesim load-limit`, the ceiling a CAPF server's
 * enrollment rate is measured against, measured in process on this machine:
 *
 *  - issuing one LSC with the CAPF key (pki_lsc_issue_der: build, sign, DER, as opencapfd does),
 *    the work a server must do per enrollment;
 *  - one full TLS handshake, server side and client side timed apart, with
 *    the daemon's own server context (net/tls.c, legacy profile) and the
 *    load generator's client context, over a memory BIO pair so that no
 *    socket, scheduler or peer process is in the figure.
 *
 * Costs are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID) divided by the
 * operations done in a bounded time. The limit is cores / (LSC + server
 * handshake): what the server could do if signing and handshakes were all it
 * did and it had every core to itself. The last line is for scripts:
 *   sign_us=X handshake_us=Y client_handshake_us=Z cores=N limit=R/s
 */
#include "cmd/phonesim/load.h"

#include <openssl/err.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/tls.h"

static const char limit_usage[] =
	"usage: phonesim load-limit --cert CAPF.pem --key CAPF.key [--seconds S] [--cores N]\n"
	"                           [--tls-max VERSION] [--phone-key SPEC]\n\n"
	"Measure in this process what one enrollment costs a CAPF server at least:\n"
	"issuing an LSC with the CAPF key, and a full TLS handshake with the daemon's\n"
	"server context (server and client side timed apart). Prints the theoretical\n"
	"sessions per second on N cores, and last:\n"
	"  sign_us=X handshake_us=Y client_handshake_us=Z cores=N limit=R/s\n\n"
	"  --cert FILE       the CAPF certificate (PEM)\n"
	"  --key FILE        its private key (PEM)\n"
	"  --seconds S       time spent on each measurement (default 2)\n"
	"  --cores N         cores to compute the limit for (default: those online)\n"
	"  --tls-max VERSION 1.0, 1.2 or 1.3 (default: the highest both sides speak)\n"
	"  --phone-key SPEC  the phone key the LSCs certify (default ec:p256)\n";

struct limit_args {
	const char *cert_path, *key_path, *phone_key;
	double seconds;
	int cores;
	enum tls_max tls_max;
};

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- issuing LSCs ---- */

static int one_lsc(struct signer *signer, EVP_PKEY *pub)
{
	char err[ERRLEN];
	uint8_t *der = NULL;
	size_t len;
	int rc = pki_lsc_issue_der(signer, "SEP001122334455", pub, 1825, &der, &len, err, sizeof err);

	if (rc < 0)
		ps_error("load-limit: cannot issue an LSC: %s", err);
	OPENSSL_free(der);
	return rc;
}

/* CPU microseconds per LSC, or -1. */
static double measure_sign(struct signer *signer, EVP_PKEY *pub, double seconds, long *ops)
{
	double start = wall(), cpu0 = thread_cpu();

	*ops = 0;
	do {
		if (one_lsc(signer, pub) < 0)
			return -1;
		(*ops)++;
	} while (wall() - start < seconds);
	return (thread_cpu() - cpu0) * 1e6 / (double)*ops;
}

/* ---- TLS handshakes over a memory BIO pair ---- */

struct hs_cost {
	double server, client;   /* CPU seconds in total */
	long n;
	char desc[96];
};

static int step(SSL *ssl, double *acc, int *done)
{
	double t = thread_cpu();
	int rc = SSL_do_handshake(ssl), e;

	*acc += thread_cpu() - t;
	if (rc == 1) {
		*done = 1;
		return 0;
	}
	e = SSL_get_error(ssl, rc);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static int one_handshake(SSL_CTX *sctx, SSL_CTX *cctx, struct hs_cost *hc)
{
	SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
	BIO *bs = NULL, *bc = NULL;
	int sdone = 0, cdone = 0, rc = -1;

	if (!s || !c || BIO_new_bio_pair(&bs, 0, &bc, 0) != 1)
		goto out;
	SSL_set_bio(s, bs, bs);
	SSL_set_bio(c, bc, bc);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	for (int round = 0; round < 20 && !(sdone && cdone); round++)
		if ((!cdone && step(c, &hc->client, &cdone) < 0) || (!sdone && step(s, &hc->server, &sdone) < 0))
			goto out;
	if (sdone && cdone) {
		snprintf(hc->desc, sizeof hc->desc, "%s %s", SSL_get_version(s), SSL_get_cipher_name(s));
		hc->n++;
		rc = 0;
	}
out:
	SSL_free(s);
	SSL_free(c);
	return rc;
}

static int measure_handshake(X509 *cert, EVP_PKEY *key, const struct limit_args *la, struct hs_cost *hc)
{
	char err[ERRLEN];
	SSL_CTX *sctx = tls_server_ctx(TLS_PROFILE_LEGACY, NULL, cert, key, err, sizeof err);
	SSL_CTX *cctx = load_client_ctx(la->tls_max);
	double start = wall();
	int rc = 0;

	memset(hc, 0, sizeof *hc);
	if (!sctx || !cctx) {
		ps_error("load-limit: cannot set up TLS: %s", sctx ? "client context" : err);
		rc = -1;
	}
	while (rc == 0 && wall() - start < la->seconds)
		if ((rc = one_handshake(sctx, cctx, hc)) < 0) {
			ERR_error_string_n(ERR_get_error(), err, sizeof err);
			ps_error("load-limit: TLS handshake failed: %s", err);
		}
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	ERR_clear_error();
	return rc;
}

/* ---- options and report ---- */

static int parse_args(struct limit_args *la, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cert", required_argument, NULL, 'c' }, { "key", required_argument, NULL, 'k' },
		{ "seconds", required_argument, NULL, 's' }, { "cores", required_argument, NULL, 'n' },
		{ "tls-max", required_argument, NULL, 'x' }, { "phone-key", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	while (rc == 0 && (c = ps_getopt(argc, argv, "", opts, limit_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'c')
			la->cert_path = optarg;
		else if (c == 'k')
			la->key_path = optarg;
		else if (c == 'p')
			la->phone_key = optarg;
		else if (c == 's')
			rc = ps_parse_seconds("--seconds", optarg, &la->seconds);
		else if (c == 'n')
			rc = ps_parse_int("--cores", optarg, 1, 4096, &la->cores);
		else if (c == 'x' && tls_max_parse(optarg, &la->tls_max) < 0)
			rc = -1, ps_error("--tls-max must be 1.0, 1.2 or 1.3, not '%s'", optarg);
		else if (c == '?')
			rc = -1;
	}
	if (rc == 0 && ps_expect_args(argc, argv, 0, limit_usage) < 0)
		rc = -1;
	if (rc == 0 && (!la->cert_path || !la->key_path)) {
		ps_error("load-limit: --cert and --key are required");
		rc = -1;
	}
	return rc;
}

static int measure_and_report(const struct limit_args *la, X509 *cert, EVP_PKEY *key, EVP_PKEY *pub)
{
	struct signer *signer = signer_local_new(cert, key);
	struct hs_cost hc;
	char desc[64];
	double sign_us, hs_us, cl_us, limit;
	long ops;

	if (!signer) {
		ps_error("load-limit: the key does not belong to the certificate");
		return PS_EXIT_LOCAL;
	}
	sign_us = measure_sign(signer, pub, la->seconds, &ops);
	signer_free(signer);
	if (sign_us < 0 || measure_handshake(cert, key, la, &hc) < 0 || hc.n == 0)
		return PS_EXIT_LOCAL;
	hs_us = hc.server * 1e6 / (double)hc.n;
	cl_us = hc.client * 1e6 / (double)hc.n;
	limit = la->cores * 1e6 / (sign_us + hs_us);
	pki_key_describe(key, desc, sizeof desc);
	printf("capf key: %s\n", desc);
	printf("lsc issue: %ld in %.1f s, %.1f us each (build, sign, DER)\n", ops, la->seconds, sign_us);
	printf("tls handshake: %s, %ld in %.1f s: server %.1f us, client %.1f us each\n", hc.desc, hc.n,
	       la->seconds, hs_us, cl_us);
	printf("limit: %.0f sessions/s on %d core%s (cores / (lsc issue + server handshake))\n", limit, la->cores,
	       la->cores > 1 ? "s" : "");
	printf("sign_us=%.1f handshake_us=%.1f client_handshake_us=%.1f cores=%d limit=%.0f/s\n", sign_us, hs_us,
	       cl_us, la->cores, limit);
	return PS_EXIT_OK;
}

int cmd_load_limit(int argc, char **argv)
{
	struct limit_args la = { .seconds = 2, .phone_key = "ec:p256" };
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL, *pub = NULL;
	enum pki_key_kind kind;
	char err[ERRLEN];
	int bits, rc = parse_args(&la, argc, argv);

	if (rc != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	if (la.cores == 0)
		la.cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!(certs = pki_certs_load(la.cert_path, err, sizeof err)) || !(key = pki_key_load(la.key_path, err, sizeof err)) ||
	    pki_key_parse_spec(la.phone_key, &kind, &bits, err, sizeof err) < 0 ||
	    !(pub = pki_key_generate(kind, bits, err, sizeof err))) {
		ps_error("load-limit: %s", err);
		rc = PS_EXIT_LOCAL;
	} else {
		rc = measure_and_report(&la, sk_X509_value(certs, 0), key, pub);
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	EVP_PKEY_free(pub);
	return rc;
}
