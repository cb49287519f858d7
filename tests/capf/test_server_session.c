/*
 * test_server_session.c: the CAPF server state machine against the golden
 * sessions recorded between two independent implementations
 * (tests/vectors/capf-sessions.json). For every case the phone's recorded
 * messages are fed to our server, whose replies must equal the recorded
 * server messages byte for byte, except the LSC itself (fresh serial and
 * validity), which is checked for structure, key and chain instead. Then the
 * store must show what the session did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capf/ca.h"
#include "capf/server_session.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"
#include "wire/capf_msg.h"

static const char *vectors;

struct case_setup {
	const char *title_prefix;
	int add_phone;
	enum capf_op op;
	enum auth_mode auth;
	const char *auth_string;
	enum key_order order;
	int rsa_bits, ec_bits;
	const char *status_after;
	int issued_after;
};

static const struct case_setup setups[] = {
	{ "install RSA-2048", 1, OP_INSTALL, AUTH_NULL, "", KEY_ORDER_RSA, 2048, 256, STATUS_UPGRADE_SUCCESS, 1 },
	{ "install EC P-256", 1, OP_INSTALL, AUTH_STRING, "123456", KEY_ORDER_EC, 2048, 256, STATUS_UPGRADE_SUCCESS, 1 },
	{ "authentication string wrong", 1, OP_INSTALL, AUTH_STRING, "123456", KEY_ORDER_EC, 2048, 256,
	  "Upgrade Failed: Authentication String Mismatch", 0 },
	{ "upgrade to RSA-1024", 1, OP_INSTALL, AUTH_LSC_FIRST, "", KEY_ORDER_RSA, 1024, 256, STATUS_UPGRADE_SUCCESS, 1 },
	{ "install authenticating by MIC", 1, OP_INSTALL, AUTH_MIC_FIRST, "", KEY_ORDER_RSA, 2048, 256,
	  STATUS_UPGRADE_SUCCESS, 1 },
	{ "troubleshoot", 1, OP_TROUBLESHOOT, AUTH_NULL, "", KEY_ORDER_RSA, 2048, 256, STATUS_TROUBLESHOOT_SUCCESS, 0 },
	{ "delete", 1, OP_DELETE, AUTH_NULL, "", KEY_ORDER_RSA, 2048, 256, STATUS_DELETE_SUCCESS, 0 },
	{ "no pending operation", 1, OP_NONE, AUTH_NULL, "", KEY_ORDER_RSA, 2048, 256, "", 0 },
	{ "unknown device", 0, OP_NONE, AUTH_NULL, "", KEY_ORDER_RSA, 2048, 256, NULL, 0 },
};

static uint8_t *hex_bytes(const char *hex, size_t *len)
{
	size_t cap = strlen(hex) / 2 + 1;
	uint8_t *b = malloc(cap);
	ssize_t n = hex_decode(hex, b, cap);

	assert_true(n >= 0);
	*len = (size_t)n;
	return b;
}

static uint8_t *read_der(const char *name, size_t *len)
{
	char path[1024], err[ERRLEN];
	STACK_OF(X509) *sk;
	uint8_t *der = NULL;

	snprintf(path, sizeof path, "%s/keys/%s", vectors, name);
	sk = pki_certs_load(path, err, sizeof err);
	assert_non_null(sk);
	assert_int_equal(pki_cert_to_der(sk_X509_value(sk, 0), &der, len), 0);
	sk_X509_pop_free(sk, X509_free);
	return der;
}

static void trust(struct store *st, const char *store_name, const char *file)
{
	size_t len;
	uint8_t *der = read_der(file, &len);
	char sha[80];

	pki_fingerprint_der(der, len, "sha256", 0, sha, sizeof sha);
	assert_int_equal(store_trust_add(st, store_name, der, len, sha, file, ""), 0);
	OPENSSL_free(der);
}

/* A state whose CAPF CA is the vectors' (keys/capf.crt + capf.key). */
static struct store *vector_state(char *dir, size_t dircap)
{
	char err[ERRLEN], path[1200], src[1200];
	struct store *st;
	uint8_t *der, *key;
	size_t len, keylen;
	char sha[80];

	snprintf(dir, dircap, "/tmp/opencapf-srv-XXXXXX");
	assert_non_null(mkdtemp(dir));
	rmdir(dir);
	assert_int_equal(store_open(dir, STORE_OPEN_CREATE, &st, err, sizeof err), 0);
	snprintf(src, sizeof src, "%s/keys/capf.key", vectors);
	assert_int_equal(read_file(src, 1 << 20, &key, &keylen, err, sizeof err), 0);
	assert_int_equal(store_key_path(st, "capf-1.key", path, sizeof path), 0);
	assert_int_equal(write_file_atomic(path, key, keylen, 0600, err, sizeof err), 0);
	free(key);
	der = read_der("capf.crt", &len);
	pki_fingerprint_der(der, len, "sha256", 0, sha, sizeof sha);
	assert_int_equal(store_capf_add(st, der, len, "capf-1.key", sha), 0);
	OPENSSL_free(der);
	assert_int_equal(store_trust_create(st, TRUST_CAPF, "test"), 0);
	assert_int_equal(store_trust_create(st, TRUST_MANUFACTURING, "test"), 0);
	trust(st, TRUST_CAPF, "capf.crt");
	trust(st, TRUST_MANUFACTURING, "mfg.crt");
	return st;
}

/* The recorded STORE_CERTIFICATE_REQUEST and ours differ only inside the LSC. */
static void check_store_request(const uint8_t *ours, size_t ourlen, const uint8_t *rec, size_t reclen,
				const char *device, const uint8_t *spki, size_t spkilen, X509 *capf)
{
	struct capf_msg a, b;
	const struct capf_elem *ca, *cb;
	const uint8_t *der;
	size_t derlen;
	uint8_t type;
	char err[ERRLEN], cn[64];
	X509 *lsc;
	uint8_t *pub = NULL;
	size_t publen;
	STACK_OF(X509) *anchors = sk_X509_new_null();

	assert_int_equal(capf_msg_decode(&a, ours, ourlen, err, sizeof err), 0);
	assert_int_equal(capf_msg_decode(&b, rec, reclen, err, sizeof err), 0);
	assert_int_equal(a.cmd, b.cmd);
	assert_int_equal(a.session_id, b.session_id);
	assert_int_equal(a.nelems, b.nelems);
	for (size_t i = 0; i < a.nelems; i++)
		assert_int_equal(a.elems[i].tag, b.elems[i].tag);
	ca = capf_msg_find(&a, CAPF_TAG_CERTIFICATE_TYPE);
	cb = capf_msg_find(&b, CAPF_TAG_CERTIFICATE_TYPE);
	assert_memory_equal(ca->val, cb->val, 1);
	ca = capf_msg_find(&a, CAPF_TAG_CERTIFICATE);
	assert_int_equal(capf_cert_unwrap(ca->val, ca->len, &der, &derlen, &type, err, sizeof err), 0);
	assert_int_equal(type, CAPF_CERT_LSC);
	lsc = pki_cert_from_der(der, derlen, err, sizeof err);
	assert_non_null(lsc);
	assert_int_equal(pki_name_entry(X509_get_subject_name(lsc), NID_commonName, cn, sizeof cn), 0);
	assert_string_equal(cn, device);
	assert_int_equal(pki_pubkey_to_der(X509_get0_pubkey(lsc), &pub, &publen), 0);
	assert_int_equal(publen, spkilen);
	assert_memory_equal(pub, spki, spkilen);
	sk_X509_push(anchors, capf);
	assert_int_equal(pki_verify_chain(lsc, anchors, 0, NULL, err, sizeof err), 0);
	sk_X509_free(anchors);
	OPENSSL_free(pub);
	X509_free(lsc);
}

static void run_case(json_t *c, const struct case_setup *setup)
{
	const char *device = json_string_value(json_object_get(c, "device"));
	uint32_t sid = (uint32_t)json_integer_value(json_object_get(c, "session_id"));
	json_t *msgs = json_object_get(c, "messages");
	struct capf_server_cfg cfg;
	struct capf_server_session s;
	struct capf_server_env env;
	struct store *st;
	struct signer *signer;
	char dir[64], err[ERRLEN], sha[80];
	struct buf out;
	size_t i, len;
	uint8_t *spki = NULL;
	size_t spkilen = 0;
	int done = 0;

	st = vector_state(dir, sizeof dir);
	if (setup->add_phone) {
		struct phone p;
		phone_defaults(&p, device);
		p.op = setup->op;
		p.auth = setup->auth;
		snprintf(p.auth_string, sizeof p.auth_string, "%s", setup->auth_string);
		p.key_order = setup->order;
		p.rsa_bits = setup->rsa_bits;
		p.ec_bits = setup->ec_bits;
		snprintf(p.status, sizeof p.status, "%s", setup->op == OP_NONE ? "" : STATUS_PENDING);
		assert_int_equal(store_phone_insert(st, &p), 0);
	}
	signer = capf_ca_signer(st, err, sizeof err);
	assert_non_null(signer);
	pki_fingerprint(signer->issuer, "sha256", 0, sha, sizeof sha);
	capf_server_cfg_defaults(&cfg);
	cfg.lsc_days = 365;
	env = (struct capf_server_env){ .rec = &capf_store_records, .rec_ctx = st, .signer = signer, .capf_sha256 = sha, .cfg = &cfg };
	capf_server_session_init(&s, sid, "127.0.0.1");
	buf_init(&out);
	assert_int_equal(capf_server_session_start(&s, &out), 0);

	for (i = 0; i < json_array_size(msgs); i++) {
		json_t *m = json_array_get(msgs, i);
		uint8_t *bytes = hex_bytes(json_string_value(json_object_get(m, "hex")), &len);

		if (strcmp(json_string_value(json_object_get(m, "from")), "server") == 0) {
			if (bytes[1] == CAPF_CMD_STORE_CERTIFICATE_REQUEST)
				check_store_request(out.data, out.len, bytes, len, device, spki, spkilen, signer->issuer);
			else {
				assert_int_equal(out.len, len);
				assert_memory_equal(out.data, bytes, len);
			}
			buf_reset(&out);
		} else {
			assert_false(done);
			if (bytes[1] == CAPF_CMD_KEY_GENERATE_RESPONSE) {
				struct capf_msg km;
				const struct capf_elem *e;
				assert_int_equal(capf_msg_decode(&km, bytes, len, err, sizeof err), 0);
				e = capf_msg_find(&km, CAPF_TAG_PUBLIC_KEY);
				spki = malloc(e->len);
				memcpy(spki, e->val, e->len);
				spkilen = e->len;
			}
			done = capf_server_session_on_message(&s, &env, bytes, len, &out);
			if (bytes[1] == CAPF_CMD_REQUEST_IN_PROGRESS)
				assert_int_equal(out.len, 0);
		}
		free(bytes);
	}
	assert_true(done);
	assert_int_equal(s.state, SRV_DONE);

	if (setup->add_phone) {
		struct phone p;
		int issued = 0;
		struct cert_row r;
		assert_int_equal(store_phone_get(st, device, &p), 0);
		assert_string_equal(p.status, setup->status_after);
		if (setup->issued_after) {
			assert_int_equal(p.op, OP_NONE);
			assert_int_equal(store_phone_lsc(st, device, 0, &r), 0);
			cert_row_free(&r);
			issued = 1;
		}
		assert_int_equal(issued, setup->issued_after);
	}
	capf_server_session_free(&s);
	buf_free(&out);
	free(spki);
	signer_free(signer);
	store_close(st);
	remove_tree(dir);
}

static void test_vector_cases(void **state)
{
	char path[1024];
	json_error_t jerr;
	json_t *root, *cases;

	(void)state;
	snprintf(path, sizeof path, "%s/capf-sessions.json", vectors);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	cases = json_object_get(root, "cases");
	assert_int_equal(json_array_size(cases), sizeof setups / sizeof setups[0]);
	for (size_t i = 0; i < json_array_size(cases); i++) {
		json_t *c = json_array_get(cases, i);
		const char *title = json_string_value(json_object_get(c, "title"));
		assert_true(strncmp(title, setups[i].title_prefix, strlen(setups[i].title_prefix)) == 0);
		print_message("case: %s\n", title);
		run_case(c, &setups[i]);
	}
	json_decref(root);
}

/* A message that does not decode ends a known phone's session with REASON 7. */
static void test_garbage_after_auth_request(void **state)
{
	static const uint8_t end7[] = { 0x55, 0x0f, 0, 0, 0, 42, 0, 4, 1, 0, 1, 7 };
	static const uint8_t bad[] = { 0x55, 0x02, 0, 0, 0, 42, 0, 10, 13, 0, 200, 'S' };
	struct capf_server_cfg cfg;
	struct capf_server_session s;
	struct capf_server_env env;
	struct store *st;
	char dir[64];
	struct buf out;

	(void)state;
	st = vector_state(dir, sizeof dir);
	capf_server_cfg_defaults(&cfg);
	env = (struct capf_server_env){ .rec = &capf_store_records, .rec_ctx = st, .signer = NULL, .capf_sha256 = "", .cfg = &cfg };
	capf_server_session_init(&s, 42, "127.0.0.1");
	buf_init(&out);
	capf_server_session_start(&s, &out);
	buf_reset(&out);
	assert_int_equal(capf_server_session_on_message(&s, &env, bad, sizeof bad, &out), 1);
	assert_int_equal(out.len, sizeof end7);
	assert_memory_equal(out.data, end7, sizeof end7);
	capf_server_session_free(&s);
	buf_free(&out);
	store_close(st);
	remove_tree(dir);
}

/* A message with another session id is refused the same way. */
static void test_wrong_session_id(void **state)
{
	static const uint8_t other[] = { 0x55, 0x02, 0, 0, 0, 43, 0, 4, 7, 0, 1, 3 };
	struct capf_server_cfg cfg;
	struct capf_server_session s;
	struct capf_server_env env;
	struct store *st;
	char dir[64];
	struct buf out;

	(void)state;
	st = vector_state(dir, sizeof dir);
	capf_server_cfg_defaults(&cfg);
	env = (struct capf_server_env){ .rec = &capf_store_records, .rec_ctx = st, .signer = NULL, .capf_sha256 = "", .cfg = &cfg };
	capf_server_session_init(&s, 42, "127.0.0.1");
	buf_init(&out);
	assert_int_equal(capf_server_session_on_message(&s, &env, other, sizeof other, &out), 1);
	assert_int_equal(out.data[1], CAPF_CMD_END_SESSION);
	assert_int_equal(out.data[out.len - 1], CAPF_REASON_INVALID_ELEMENT);
	assert_string_equal(s.reason, "wrong session id");
	capf_server_session_free(&s);
	buf_free(&out);
	store_close(st);
	remove_tree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_cases),
		cmocka_unit_test(test_garbage_after_auth_request),
		cmocka_unit_test(test_wrong_session_id),
	};

	vectors = getenv("VECTORS_DIR");
	if (!vectors) {
		fprintf(stderr, "VECTORS_DIR not set\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
