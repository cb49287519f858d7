/*
 * test_signer.c: the signer messages' codec, the signer's policy on hostile
 * requests, and a real signer process: LSCs through the remote signer, TLS
 * handshakes (TLS 1.3, TLS 1.2 ECDHE, TLS 1.2 RSA key exchange, TLS 1.0)
 * whose private-key operations go through the provider, and the end of the
 * process when its channels close; the administrators' door (new keys,
 * their own certificates, saved once, strangers refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "pki/pki.h"
#include "signer/signer_client.h"
#include "signer/signer_msg.h"
#include "signer/signer_proc.h"
#include "signer/signer_provider.h"

static char dir[] = "/tmp/test-signer-XXXXXX";
static char keys_dir[256];
static int door_fd = -1;

struct ca {
	EVP_PKEY *key;
	X509 *cert;
	char path[300];
};
static struct ca ec_ca, rsa_ca;

static void make_ca(struct ca *ca, enum pki_key_kind kind, int bits, const char *file)
{
	struct pki_org org;
	char err[ERRLEN];

	assert_int_equal(pki_org_parse("O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ", &org, err, sizeof err), 0);
	ca->key = pki_key_generate(kind, bits, err, sizeof err);
	assert_non_null(ca->key);
	ca->cert = pki_capf_cert_create(ca->key, &org, 3650, err, sizeof err);
	assert_non_null(ca->cert);
	snprintf(ca->path, sizeof ca->path, "%s/%s", keys_dir, file);
	assert_int_equal(pki_key_save(ca->path, ca->key, err, sizeof err), 0);
}

/* ---- codec ---- */

static void test_codec(void **state)
{
	uint8_t f[SIGNER_MSG_HEADER + 4] = { 0 };
	struct signer_req r;
	struct signer_sig_params sp = { SIGNER_MD_SHA256, SIGNER_PAD_PSS, -1 }, back;
	const uint8_t *data;
	size_t n;
	char err[ERRLEN];

	assert_int_equal(signer_req_header_encode(f, SIGNER_SIGN, SIGNER_PURPOSE_TLS, 3, 4), 0);
	signer_sig_params_encode(f + SIGNER_MSG_HEADER, &sp);
	assert_int_equal(signer_req_decode(f, sizeof f, &r, err, sizeof err), 0);
	assert_int_equal(r.type, SIGNER_SIGN);
	assert_int_equal(r.slot, 3);
	assert_int_equal(signer_sig_params_decode(r.payload, r.len, &back, &data, &n, err, sizeof err), 0);
	assert_int_equal(back.saltlen, -1);
	assert_int_equal(n, 0);
	/* a length that disagrees with the bytes */
	assert_int_equal(signer_req_decode(f, sizeof f - 1, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "announces 4 payload bytes but carries 3"));
	f[1] = 9; /* unknown type */
	assert_int_equal(signer_req_decode(f, sizeof f, &r, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown request type 9"));
	f[1] = SIGNER_SIGN;
	f[0] = 2;
	assert_int_equal(signer_req_decode(f, sizeof f, &r, err, sizeof err), -1);
	f[0] = 1;
	f[4] = 0x7f; /* over the limit */
	assert_int_equal(signer_req_header(f, &n, err, sizeof err), -1);
	assert_int_equal(signer_req_header_encode(f, SIGNER_SIGN, 0, 0, SIGNER_MSG_MAX + 1), -1);
	assert_int_equal(signer_md_from_name("SHA2-256"), SIGNER_MD_SHA256);
	assert_int_equal(signer_md_from_name("MD5-SHA1"), SIGNER_MD_MD5_SHA1);
}

/* ---- the policy, in this process ---- */

static void handle(struct signer_keys *k, uint8_t type, uint8_t purpose, uint8_t slot, const uint8_t *p, size_t n,
		   struct signer_resp *r, struct buf *out)
{
	struct buf req;
	uint8_t hdr[SIGNER_MSG_HEADER];
	char err[ERRLEN];

	buf_init(&req);
	assert_int_equal(signer_req_header_encode(hdr, type, purpose, slot, n), 0);
	buf_put(&req, hdr, sizeof hdr);
	buf_put(&req, p, n);
	signer_handle(k, req.data, req.len, out);
	assert_int_equal(signer_resp_decode(out->data, out->len, r, err, sizeof err), 0);
	buf_free(&req);
}

/* An LSC-like template: issuer, CA flag and validity as asked. */
static X509 *template(X509 *issuer, int ca, int days)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_issuer_name(x, X509_get_subject_name(issuer));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"SEP1", -1, -1, 0);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL);
	X509_set_pubkey(x, X509_get0_pubkey(issuer));
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, ec_ca.key, EVP_sha256()); /* a placeholder signature */
	return x;
}

static int sign_template(struct signer_keys *k, X509 *x, struct buf *out)
{
	uint8_t *der = NULL;
	int len = i2d_X509(x, &der);
	struct signer_resp r;

	handle(k, SIGNER_SIGN_CERT, SIGNER_PURPOSE_LSC, 0, der, (size_t)len, &r, out);
	OPENSSL_free(der);
	if (r.status != SIGNER_OK)
		fprintf(stderr, "refused: %.*s\n", (int)r.len, (const char *)r.payload);
	return r.status;
}

static void test_policy(void **state)
{
	struct signer_limits lim = { 0, 0, 1825 };
	struct signer_keys k;
	struct signer_resp r;
	struct buf out;
	char err[ERRLEN];
	struct ca foreign = { 0 };
	X509 *x;
	uint8_t junk[80];

	buf_init(&out);
	assert_int_equal(signer_keys_init(&k, keys_dir, NULL, 0, &lim, err, sizeof err), 0);
	assert_int_equal(signer_keys_add(&k, ec_ca.path, SIGNER_ROLE_CAPF, ec_ca.key, ec_ca.cert), 0);
	x = template(ec_ca.cert, 0, 365);
	assert_int_equal(sign_template(&k, x, &out), SIGNER_OK);
	X509_free(x);
	x = template(ec_ca.cert, 1, 365); /* CA:TRUE */
	assert_int_equal(sign_template(&k, x, &out), SIGNER_REFUSED);
	assert_non_null(strstr((char *)out.data + SIGNER_MSG_HEADER, "CA:TRUE"));
	X509_free(x);
	x = template(ec_ca.cert, 0, 4000); /* longer than the policy and the CAPF certificate */
	assert_int_equal(sign_template(&k, x, &out), SIGNER_REFUSED);
	X509_free(x);
	make_ca(&foreign, PKI_KEY_EC, 256, "other.key");
	x = template(foreign.cert, 0, 365); /* a foreign issuer */
	assert_int_equal(sign_template(&k, x, &out), SIGNER_REFUSED);
	assert_non_null(strstr((char *)out.data + SIGNER_MSG_HEADER, "is not the CAPF subject"));
	X509_free(x);
	/* a certificate's TBS through SIGN, data a CAPF key does not sign, an empty slot, a bad frame */
	memset(junk, 0x41, sizeof junk);
	junk[0] = SIGNER_MD_SHA256;
	junk[1] = junk[2] = junk[3] = 0;
	handle(&k, SIGNER_SIGN, SIGNER_PURPOSE_NONE, 0, junk, sizeof junk, &r, &out);
	assert_int_equal(r.status, SIGNER_REFUSED);
	handle(&k, SIGNER_SIGN, SIGNER_PURPOSE_NONE, 5, junk, sizeof junk, &r, &out);
	assert_int_equal(r.status, SIGNER_REFUSED);
	signer_handle(&k, junk, 7, &out);
	assert_int_equal(out.data[1], SIGNER_BAD_REQUEST);
	/* loading from outside the keys folder */
	handle(&k, SIGNER_LOAD_KEY, 0, 0, (const uint8_t *)"\x00\x0b/etc/passwd", 13, &r, &out);
	assert_int_equal(r.status, SIGNER_REFUSED);
	assert_true(k.refused >= 7);
	EVP_PKEY_free(foreign.key);
	X509_free(foreign.cert);
	signer_keys_free(&k);
	buf_free(&out);
}

/* ---- a real signer process ---- */

static struct signer_client *spawn(pid_t *pid)
{
	struct signer_proc_cfg cfg = { .channels = 4, .limits = { 0, 0, 1825 } };
	int fds[4];
	char err[ERRLEN];

	snprintf(cfg.keys_dir, sizeof cfg.keys_dir, "%s", keys_dir);
	*pid = signer_spawn(&cfg, fds, &door_fd, err, sizeof err);
	assert_true(*pid > 0);
	return signer_client_new(fds, 4, *pid);
}

static void test_process_lsc(void **state)
{
	pid_t pid;
	struct signer_client *c = spawn(&pid);
	struct signer *s;
	EVP_PKEY *key = NULL, *phone;
	X509 *lsc;
	char err[ERRLEN];
	int slot, status;

	assert_int_equal(signer_client_load(c, ec_ca.path, ec_ca.cert, &slot, &key, err, sizeof err), 0);
	assert_int_equal(pki_cert_key_match(ec_ca.cert, key), 1);
	s = signer_remote_new(c, slot, ec_ca.cert);
	phone = pki_key_generate(PKI_KEY_EC, 256, err, sizeof err);
	lsc = pki_lsc_issue(s, "SEP001122334455", phone, 365, err, sizeof err);
	assert_non_null(lsc);
	assert_int_equal(X509_verify(lsc, X509_get0_pubkey(ec_ca.cert)), 1);
	X509_free(lsc);
	EVP_PKEY_free(key);
	key = NULL;
	/* a key outside the folder's names is refused by the process too */
	assert_int_equal(signer_client_load(c, "/etc/hostname", NULL, &slot, &key, err, sizeof err), -1);
	signer_free(s);
	EVP_PKEY_free(phone);
	signer_client_free(c);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A whole handshake in memory: 0 when it completes. */
static int handshake(SSL_CTX *sctx, int min, int max, const char *ciphers)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *s = SSL_new(sctx), *cl;
	BIO *a, *b;
	int done = 0;

	SSL_CTX_set_security_level(cctx, 0);
	SSL_CTX_set_min_proto_version(cctx, min);
	SSL_CTX_set_max_proto_version(cctx, max);
	if (ciphers)
		SSL_CTX_set_cipher_list(cctx, ciphers);
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

static SSL_CTX *server_ctx(X509 *cert, EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+AES:AES128-SHA:@SECLEVEL=0");
	assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
	return ctx;
}

static void test_process_tls(void **state)
{
	pid_t pid;
	struct signer_client *c = spawn(&pid);
	EVP_PKEY *ec = NULL, *rsa = NULL;
	SSL_CTX *ectx, *rctx;
	char err[ERRLEN];
	int slot;

	assert_int_equal(signer_client_load(c, ec_ca.path, NULL, &slot, &ec, err, sizeof err), 0);
	assert_int_equal(signer_client_load(c, rsa_ca.path, NULL, &slot, &rsa, err, sizeof err), 0);
	ectx = server_ctx(ec_ca.cert, ec);
	rctx = server_ctx(rsa_ca.cert, rsa);
	assert_int_equal(handshake(ectx, TLS1_3_VERSION, TLS1_3_VERSION, NULL), 0);
	assert_int_equal(handshake(ectx, TLS1_2_VERSION, TLS1_2_VERSION, NULL), 0);
	assert_int_equal(handshake(rctx, TLS1_3_VERSION, TLS1_3_VERSION, NULL), 0);        /* RSA-PSS */
	assert_int_equal(handshake(rctx, TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"), 0);
	assert_int_equal(handshake(rctx, TLS1_2_VERSION, TLS1_2_VERSION, "AES128-SHA:@SECLEVEL=0"), 0); /* RSA kex */
	assert_int_equal(handshake(rctx, TLS1_VERSION, TLS1_VERSION, "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"), 0); /* MD5-SHA1 */
	SSL_CTX_free(ectx);
	SSL_CTX_free(rctx);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	/* the process ends when its parent's channels close; calls then fail */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(signer_client_load(c, ec_ca.path, NULL, &slot, &ec, err, sizeof err), -1);
	signer_client_free(c);
}

/* ---- the administrators' door ---- */

/* A client over a connection passed through the door. */
static struct signer_client *through_door(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	char err[ERRLEN];

	assert_int_equal(signer_door_pass(door_fd, sv[1]), 0);
	close(sv[1]);
	assert_int_equal(signer_door_welcome(sv[0], err, sizeof err), 0);
	return signer_client_new(&sv[0], 1, 0);
}

static int file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* Only the door makes and saves keys; a key made there signs its own
 * certificate and is saved once, as a new file of the keys folder. */
static void test_process_door(void **state)
{
	pid_t pid;
	struct signer_client *c = spawn(&pid), *admin = through_door();
	uint8_t req[3], status = 0;
	struct buf resp;
	struct pki_org org;
	EVP_PKEY *key = NULL, *again = NULL, *loaded = NULL;
	X509 *cert, *other;
	char err[ERRLEN], path[400], outside[400];
	int slot;

	buf_init(&resp);
	signer_generate_encode(req, SIGNER_KIND_EC, 256);
	assert_int_equal(signer_call(c, SIGNER_GENERATE_KEY, 0, 0, req, 3, NULL, 0, &status, &resp, err, sizeof err), 0);
	assert_int_equal(status, SIGNER_REFUSED);
	assert_int_equal(pki_org_parse("O=Example,C=NZ", &org, err, sizeof err), 0);
	/* the daemon's channels do not sign a certificate, not even the key's own */
	assert_int_equal(signer_client_load(c, ec_ca.path, NULL, &slot, &loaded, err, sizeof err), 0);
	assert_null(pki_capf_cert_create(loaded, &org, 30, err, sizeof err));
	/* the door: a new key, its own certificate, saved as capf-7.key (0600) */
	assert_int_equal(signer_client_generate(admin, PKI_KEY_EC, 256, &key, err, sizeof err), 0);
	cert = pki_capf_cert_create(key, &org, 30, err, sizeof err);
	assert_non_null(cert);
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(cert)), 1);
	snprintf(path, sizeof path, "%s/capf-7.key", keys_dir);
	snprintf(outside, sizeof outside, "%s/capf-8.key", dir);
	assert_int_equal(signer_client_save(admin, key, outside, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a file of the keys folder"));
	assert_int_equal(signer_client_save(admin, key, path, err, sizeof err), 1);
	assert_int_equal(file_mode(path), 0600);
	EVP_PKEY_free(loaded);
	loaded = pki_key_load_file(path, err, sizeof err);
	assert_int_equal(pki_cert_key_match(cert, loaded), 1);
	/* saved once: not again, and a new key never replaces a file */
	assert_int_equal(signer_client_save(admin, key, outside, err, sizeof err), -1);
	assert_int_equal(signer_client_generate(admin, PKI_KEY_EC, 256, &again, err, sizeof err), 0);
	assert_int_equal(signer_client_save(admin, again, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "exists already"));
	/* a certificate of another key is not the door's to sign either */
	other = pki_capf_cert_create(ec_ca.key, &org, 30, err, sizeof err);
	assert_int_equal(X509_sign(other, key, EVP_sha256()), 0);
	ERR_clear_error();
	X509_free(other);
	X509_free(cert);
	EVP_PKEY_free(loaded);
	EVP_PKEY_free(key);
	EVP_PKEY_free(again);
	buf_free(&resp);
	signer_client_free(admin);
	signer_client_free(c);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(door_fd);
}

/* Through the door, a process of another user than root or the signer's is
 * refused at once, with the reason. Needs root (to become nobody). */
static void test_process_door_stranger(void **state)
{
	pid_t pid, child;
	struct signer_client *c;
	int status = 0;

	if (geteuid() != 0)
		skip();
	c = spawn(&pid);
	child = fork();
	if (child == 0) {
		char err[ERRLEN];
		int sv[2], refused;

		if (setgid(65534) < 0 || setuid(65534) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 ||
		    signer_door_pass(door_fd, sv[1]) < 0)
			_exit(2);
		refused = signer_door_welcome(sv[0], err, sizeof err) < 0 && strstr(err, "refused: uid 65534 may not use");
		_exit(refused ? 0 : 4);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	signer_client_free(c);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(door_fd);
}

static int setup(void **state)
{
	char err[ERRLEN];

	log_init("test-signer", 0);
	log_set_level(LOG_LVL_DEBUG);
	if (!mkdtemp(dir))
		return -1;
	snprintf(keys_dir, sizeof keys_dir, "%s/keys", dir);
	mkdir(keys_dir, 0700);
	make_ca(&ec_ca, PKI_KEY_EC, 256, "capf-1.key");
	make_ca(&rsa_ca, PKI_KEY_RSA, 2048, "capf-2.key");
	return signer_provider_load(err, sizeof err);
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_process_lsc),
		cmocka_unit_test(test_process_tls),
		cmocka_unit_test(test_process_door),
		cmocka_unit_test(test_process_door_stranger),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
