/*
 * test_signer_p11.c: keys in a SoftHSM2 token. A temporary token (its own
 * SOFTHSM2_CONF), EC P-256 and RSA-2048 keys generated in it through
 * pki_key_generate, their key files holding only the URI, loaded again by a
 * signer process: an LSC and TLS handshakes signed by the token, and no key
 * material in the key files. Skipped (77) without SoftHSM2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "pki/pki.h"
#include "signer/signer_client.h"
#include "signer/signer_p11.h"
#include "signer/signer_proc.h"
#include "signer/signer_provider.h"

#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char dir[] = "/tmp/test-signer-p11-XXXXXX";
static char keys_dir[300], store[600];

static int run(const char *cmd)
{
	return system(cmd) == 0 ? 0 : -1;
}

/* A key made in the token, saved as a key file (a URI), and its certificate. */
static void make(enum pki_key_kind kind, int bits, const char *file, X509 **cert, char *path, size_t cap)
{
	struct pki_org org = { "Example", "Voice", "", "", "NZ" };
	char err[ERRLEN], text[1200];
	EVP_PKEY *key = pki_key_generate(kind, bits, err, sizeof err);
	FILE *f;

	if (!key)
		fprintf(stderr, "%s\n", err);
	assert_non_null(key);
	*cert = pki_capf_cert_create(key, &org, 365, err, sizeof err); /* signed in the token */
	assert_non_null(*cert);
	assert_int_equal(X509_verify(*cert, X509_get0_pubkey(*cert)), 1);
	snprintf(path, cap, "%s/%s", keys_dir, file);
	assert_int_equal(pki_key_save(path, key, err, sizeof err), 0);
	EVP_PKEY_free(key);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof text, f));
	fclose(f);
	assert_int_equal(strncmp(text, "pkcs11:token=opencapf;object=opencapf-", 38), 0);
	assert_null(strstr(text, "pin-value"));
}

static int handshake(SSL_CTX *sctx, int version)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(sctx), *cl;
	BIO *a, *b;
	int done = 0;

	SSL_CTX_set_min_proto_version(cctx, version);
	SSL_CTX_set_max_proto_version(cctx, version);
	cl = SSL_new(cctx);
	BIO_new_bio_pair(&a, 0, &b, 0);
	SSL_set_bio(s, a, a);
	SSL_set_bio(cl, b, b);
	SSL_set_accept_state(s);
	SSL_set_connect_state(cl);
	for (int i = 0; i < 50 && done != 3; i++) {
		if (!(done & 1) && SSL_do_handshake(cl) == 1)
			done |= 1;
		if (!(done & 2) && SSL_do_handshake(s) == 1)
			done |= 2;
	}
	if (done != 3)
		ERR_print_errors_fp(stderr);
	SSL_free(s);
	SSL_free(cl);
	SSL_CTX_free(cctx);
	return done == 3 ? 0 : -1;
}

static void through_signer(const char *path, X509 *cert)
{
	struct signer_proc_cfg cfg = { .channels = 2, .limits = { 0, 0, 1825 } };
	struct signer_client *c;
	struct signer *s;
	EVP_PKEY *key = NULL, *phone;
	SSL_CTX *ctx;
	X509 *lsc;
	char err[ERRLEN];
	int fds[2], slot, door;
	pid_t pid;

	snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s", keys_dir);
	pid = signer_spawn(&cfg, fds, &door, err, sizeof err);
	assert_true(pid > 0);
	c = signer_client_new(fds, 2, pid);
	if (signer_client_load(c, path, cert, &slot, &key, err, sizeof err) < 0)
		fprintf(stderr, "%s\n", err);
	assert_non_null(key);
	s = signer_remote_new(c, slot, cert);
	phone = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	assert_non_null(phone);
	lsc = pki_lsc_issue(s, "SEP001122334455", phone, 30, err, sizeof err);
	assert_non_null(lsc);
	assert_int_equal(X509_verify(lsc, X509_get0_pubkey(cert)), 1);
	ctx = SSL_CTX_new(TLS_server_method());
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	assert_int_equal(handshake(ctx, TLS1_3_VERSION), 0);
	assert_int_equal(handshake(ctx, TLS1_2_VERSION), 0);
	SSL_CTX_free(ctx);
	X509_free(lsc);
	EVP_PKEY_free(phone);
	EVP_PKEY_free(key);
	signer_free(s);
	signer_client_free(c);
	waitpid(pid, NULL, 0);
}

static void test_token_keys(void **state)
{
	char ec_path[400], rsa_path[400], err[ERRLEN];
	X509 *ec_cert, *rsa_cert;

	assert_int_equal(signer_p11_set_store(store, err, sizeof err), 0);
	make(PKI_KEY_EC, 256, "capf-1.key", &ec_cert, ec_path, sizeof ec_path);
	make(PKI_KEY_RSA, 2048, "capf-2.key", &rsa_cert, rsa_path, sizeof rsa_path);
	/* the daemon's process has no key store: the signer process loads the token keys */
	pki_key_store_set(NULL);
	through_signer(ec_path, ec_cert);
	through_signer(rsa_path, rsa_cert);
	X509_free(ec_cert);
	X509_free(rsa_cert);
	assert_int_equal(signer_p11_set_store("pkcs11:token=opencapf;object=x", err, sizeof err), -1);
}

static int setup(void **state)
{
	char cmd[1200];

	log_init("test-signer-p11", 0);
	if (access(SOFTHSM_MODULE, R_OK) != 0 || !mkdtemp(dir))
		return -1;
	snprintf(keys_dir, sizeof keys_dir, "%s/keys", dir);
	mkdir(keys_dir, 0700);
	snprintf(cmd, sizeof cmd,
		 "mkdir %s/tokens && printf 'directories.tokendir = %s/tokens\\nobjectstore.backend = file\\n"
		 "log.level = ERROR\\n' > %s/softhsm2.conf && echo 1234 > %s/pin && SOFTHSM2_CONF=%s/softhsm2.conf "
		 "softhsm2-util --init-token --free --label opencapf --pin 1234 --so-pin 5678 >/dev/null",
		 dir, dir, dir, dir, dir);
	if (run(cmd) < 0)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/softhsm2.conf", dir);
	setenv("SOFTHSM2_CONF", cmd, 1);
	snprintf(store, sizeof store, "pkcs11:token=opencapf?module-path=%s&pin-source=file:%s/pin", SOFTHSM_MODULE, dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return run(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_keys),
	};

	if (access(SOFTHSM_MODULE, R_OK) != 0) {
		printf("skipped: no SoftHSM2 (%s)\n", SOFTHSM_MODULE);
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
