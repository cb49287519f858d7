/*
 * test_tvs_server.c: the TVS server and client against the recorded
 * exchanges (tests/vectors/tvs-sessions.json), with the answers coming from
 * a real state's tvs_certs table, and the edges: several requests, wrong
 * commands, missing certificates, failing lookups, default TTLs, roles
 * stored canonically, device names with control characters escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "net/tvs_listener.h"
#include "store/store.h"
#include "store/store_tvs.h"
#include "tvs/tvs_client.h"
#include "tvs/tvs_server.h"
#include "wire/roles.h"
#include "wire/tvs_msg.h"

struct exchange {
	uint8_t *req, *resp;
	size_t reqlen, resplen;
	char *client_output;
};

static struct exchange known, unknown;

static void vec_path(const char *rel, char *out, size_t cap)
{
	const char *dir = getenv("VECTORS_DIR");

	snprintf(out, cap, "%s/%s", dir ? dir : "tests/vectors", rel);
}

static uint8_t *from_hex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n ? n : 1);

	assert_non_null(out);
	assert_int_equal(hex_decode(hex, out, n), (ssize_t)n);
	*len = n;
	return out;
}

static void load_exchange(json_t *c, struct exchange *e)
{
	json_t *msgs = json_object_get(c, "messages");

	assert_int_equal(json_array_size(msgs), 2);
	e->req = from_hex(json_string_value(json_object_get(json_array_get(msgs, 0), "hex")), &e->reqlen);
	e->resp = from_hex(json_string_value(json_object_get(json_array_get(msgs, 1), "hex")), &e->resplen);
	e->client_output = strdup(json_string_value(json_object_get(c, "client_output")));
}

static int load_vectors(void **state)
{
	char path[512];
	json_error_t jerr;
	json_t *root, *cases;

	(void)state;
	vec_path("tvs-sessions.json", path, sizeof path);
	root = json_load_file(path, 0, &jerr);
	if (!root)
		return -1;
	cases = json_object_get(root, "cases");
	load_exchange(json_array_get(cases, 0), &known);
	load_exchange(json_array_get(cases, 1), &unknown);
	json_decref(root);
	return 0;
}

static int free_vectors(void **state)
{
	struct exchange *all[] = { &known, &unknown };

	(void)state;
	for (int i = 0; i < 2; i++) {
		free(all[i]->req);
		free(all[i]->resp);
		free(all[i]->client_output);
	}
	return 0;
}

/* The DER of a vectors certificate file. */
static uint8_t *cert_der(const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	X509 *x;
	uint8_t *der = NULL;
	int n;

	vec_path(rel, path, sizeof path);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	X509_free(x);
	*len = (size_t)n;
	return der;
}

/* ---- a state per test ---- */

struct fixture {
	char tmp[64];
	char dir[128];
	struct store *st;
};

static int state_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	char err[ERRLEN];

	snprintf(fx->tmp, sizeof fx->tmp, "/tmp/opencapf-tvs-test.XXXXXX");
	if (!mkdtemp(fx->tmp))
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/state", fx->tmp);
	if (store_open(fx->dir, STORE_OPEN_CREATE, &fx->st, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int state_teardown(void **state)
{
	struct fixture *fx = *state;

	store_close(fx->st);
	remove_tree(fx->tmp);
	free(fx);
	return 0;
}

static void put_cert(struct store *st, const char *rel, const uint16_t *roles, size_t n, int64_t ttl)
{
	size_t len;
	uint8_t *der = cert_der(rel, &len);

	assert_true(store_tvs_put(st, der, len, roles, n, ttl, TVS_SOURCE_ADMIN, "") >= 0);
	OPENSSL_free(der);
}

/* ---- the recorded exchanges ---- */

static void test_vectors_from_store(void **state)
{
	struct fixture *fx = *state;
	static const uint16_t roles[] = { ROLE_CAPF, ROLE_CCM }; /* any order: stored ascending */
	struct tvs_store_lookup lookup = { fx->st, 12345 };
	struct tvs_request_info info;
	struct buf out;
	char err[ERRLEN];

	put_cert(fx->st, "keys/capf.crt", roles, 2, 86400);
	buf_init(&out);
	assert_int_equal(tvs_server_handle(known.req, known.reqlen, tvs_store_lookup, &lookup, &out, &info, err,
					   sizeof err), 0);
	assert_int_equal(out.len, known.resplen);
	assert_memory_equal(out.data, known.resp, known.resplen);
	assert_int_equal(info.known, 1);
	assert_string_equal(info.device, "CP-7962-SEP0011223344AA");
	assert_string_equal(info.sha256, "31111989e1eb3ae2db70356077b8e3515d763d196e0d7098baf26c33686d5f19");

	buf_reset(&out);
	assert_int_equal(tvs_server_handle(unknown.req, unknown.reqlen, tvs_store_lookup, &lookup, &out, &info,
					   err, sizeof err), 0);
	assert_int_equal(out.len, unknown.resplen);
	assert_memory_equal(out.data, unknown.resp, unknown.resplen);
	assert_int_equal(info.known, 0);
	buf_free(&out);
}

static void test_default_ttl_and_removal(void **state)
{
	struct fixture *fx = *state;
	static const uint16_t roles[] = { ROLE_CCM, ROLE_CAPF, ROLE_CCM };
	struct tvs_store_lookup lookup = { fx->st, 86400 };
	struct buf out;
	char err[ERRLEN];

	put_cert(fx->st, "keys/capf.crt", roles, 3, -1); /* no TTL of its own, a repeated role */
	buf_init(&out);
	assert_int_equal(tvs_server_handle(known.req, known.reqlen, tvs_store_lookup, &lookup, &out, NULL, err,
					   sizeof err), 0);
	assert_memory_equal(out.data, known.resp, known.resplen);
	assert_int_equal(store_tvs_remove(fx->st, "31111989E1EB3AE2DB70356077B8E3515D763D196E0D7098BAF26C33686D5F19"), 0);
	buf_reset(&out);
	assert_int_equal(tvs_server_handle(known.req, known.reqlen, tvs_store_lookup, &lookup, &out, NULL, err,
					   sizeof err), 0);
	/* now unknown: STATUS 1, same session id */
	assert_int_equal(out.len, 14);
	assert_memory_equal(out.data, "\x57\x01\x02\x00\x00\x00\x00\x01\x00\x04\x07\x00\x01\x01", 14);
	assert_int_equal(store_tvs_remove(fx->st, "31111989e1eb3ae2db70356077b8e3515d763d196e0d7098baf26c33686d5f19"), 1);
	buf_free(&out);
}

static void test_store_rows(void **state)
{
	struct fixture *fx = *state;
	static const uint16_t roles[] = { ROLE_TVS, ROLE_SAST, ROLE_TFTP };
	static const uint16_t bad[] = { 300 };
	struct tvs_cert_row row;
	size_t len;
	uint8_t *der = cert_der("keys/mfg.crt", &len);
	char fp[65];
	int count = 0;

	assert_int_equal(store_tvs_put(fx->st, der, len, roles, 3, 60, TVS_SOURCE_SERVICE, "n"), 0);
	assert_int_equal(store_tvs_put(fx->st, der, len, roles, 2, 70, TVS_SOURCE_ADMIN, "m"), 1);
	assert_int_equal(store_tvs_put(fx->st, der, len, bad, 1, 70, TVS_SOURCE_ADMIN, ""), -1);
	assert_int_equal(store_tvs_put(fx->st, der, len, roles, 0, 70, TVS_SOURCE_ADMIN, ""), -1);
	assert_int_equal(store_tvs_put(fx->st, der, len, roles, 1, (int64_t)UINT32_MAX + 1, TVS_SOURCE_ADMIN, ""), -1);
	assert_int_equal(store_tvs_put(fx->st, (const uint8_t *)"junk", 4, roles, 1, 1, TVS_SOURCE_ADMIN, ""), -1);
	{
		unsigned char h[32];
		unsigned int hl;
		EVP_Digest(der, len, h, &hl, EVP_sha256(), NULL);
		hex_encode(h, 32, fp);
	}
	assert_int_equal(store_tvs_get(fx->st, fp, &row), 0);
	assert_int_equal(row.nroles, 2);
	assert_int_equal(row.roles[0], ROLE_SAST);
	assert_int_equal(row.roles[1], ROLE_TVS);
	assert_int_equal(row.ttl, 70);
	assert_string_equal(row.source, "admin");
	assert_string_equal(row.subject, "CN=Test Manufacturing CA,O=Example");
	assert_int_equal(store_tvs_get(fx->st, "00", &row), 1);
	assert_int_equal(store_tvs_each(fx->st, NULL, NULL), 0);
	(void)count;
	OPENSSL_free(der);
}

/* ---- protocol edges (no store) ---- */

static int fixed_lookup(void *arg, const char *sha256, struct tvs_answer *ans)
{
	int *mode = arg;

	(void)sha256;
	if (*mode < 0)
		return -1;
	if (*mode == 0)
		return 1;
	memset(ans, 0, sizeof *ans);
	ans->roles[0] = ROLE_TVS;
	ans->nroles = 1;
	ans->ttl = 5;
	return 0;
}

static void test_edges(void **state)
{
	struct tvs_msg m;
	struct buf req, out, name;
	char err[ERRLEN];
	uint8_t cert[3] = { 0x30, 0x01, 0x00 };
	int mode = 1;

	(void)state;
	buf_init(&req);
	buf_init(&out);
	buf_init(&name);
	/* a QUERY_REQUEST is not served */
	tvs_msg_init(&m, TVS_CMD_QUERY_REQUEST, 7);
	tvs_msg_add(&m, TVS_TAG_CERTIFICATE, cert, sizeof cert);
	tvs_msg_encode(&m, &req);
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "QUERY_REQUEST"));
	assert_int_equal(out.len, 0);
	/* a VERIFY_REQUEST without a certificate */
	buf_reset(&req);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 7);
	tvs_msg_add_device_name(&m, &name, "CP-8845-SEP001122334455");
	tvs_msg_encode(&m, &req);
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "without a certificate"));
	/* a lookup failure gets no answer */
	buf_reset(&req);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 0xdeadbeef);
	tvs_msg_add(&m, TVS_TAG_CERTIFICATE, cert, sizeof cert);
	tvs_msg_encode(&m, &req);
	mode = -1;
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, NULL, err, sizeof err), -1);
	/* known: STATUS, ROLES, TTL, session echoed */
	mode = 1;
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, NULL, err, sizeof err), 0);
	assert_memory_equal(out.data, "\x57\x01\x02\x00\xde\xad\xbe\xef\x00\x0f\x07\x00\x01\x00\x08\x00\x01\x15"
				      "\x09\x00\x04\x00\x00\x00\x05", 25);
	/* truncated and bad protocol id */
	assert_int_equal(tvs_server_handle(req.data, req.len - 1, fixed_lookup, &mode, &out, NULL, err, sizeof err), -1);
	req.data[0] = 0x58;
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, NULL, err, sizeof err), -1);
	buf_free(&req);
	buf_free(&out);
	buf_free(&name);
}

/* The device name is the phone's text: it comes out escaped for the log. */
static void test_device_name_escaped(void **state)
{
	struct tvs_request_info info;
	struct tvs_msg m;
	struct buf req, out, name;
	char err[ERRLEN];
	uint8_t cert[3] = { 0x30, 0x01, 0x00 };
	int mode = 0;

	(void)state;
	buf_init(&req);
	buf_init(&out);
	buf_init(&name);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 9);
	tvs_msg_add_device_name(&m, &name, "SEP1\ntvs: forged\x1b[31m\\");
	tvs_msg_add(&m, TVS_TAG_CERTIFICATE, cert, sizeof cert);
	tvs_msg_encode(&m, &req);
	assert_int_equal(tvs_server_handle(req.data, req.len, fixed_lookup, &mode, &out, &info, err, sizeof err), 0);
	assert_string_equal(info.device, "SEP1\\x0atvs: forged\\x1b[31m\\\\");
	buf_free(&req);
	buf_free(&out);
	buf_free(&name);
}

/* ---- client side ---- */

static void test_client(void **state)
{
	struct tvs_verdict v;
	struct buf req;
	size_t len;
	uint8_t *der = cert_der("keys/capf.crt", &len);
	char err[ERRLEN], *text = NULL;
	size_t textlen = 0;
	FILE *f;

	(void)state;
	buf_init(&req);
	assert_int_equal(tvs_client_request(&req, 1, "CP-7962-SEP0011223344AA", der, len, err, sizeof err), 0);
	assert_int_equal(req.len, known.reqlen);
	assert_memory_equal(req.data, known.req, known.reqlen);
	assert_int_equal(tvs_client_response(known.resp, known.resplen, 1, &v, err, sizeof err), 0);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.nroles, 2);
	assert_int_equal(v.ttl, 86400);
	f = open_memstream(&text, &textlen);
	tvs_verdict_print(f, &v);
	fclose(f);
	assert_non_null(strstr(known.client_output, text)); /* the vector's closing lines */
	free(text);
	assert_int_equal(tvs_client_response(known.resp, known.resplen, 2, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "session"));
	assert_int_equal(tvs_client_response(unknown.resp, unknown.resplen, 2, &v, err, sizeof err), 0);
	assert_int_equal(v.status, 1);
	assert_int_equal(v.nroles, 0);
	assert_int_equal(v.has_ttl, 0);
	assert_int_equal(tvs_client_response(known.req, known.reqlen, 1, &v, err, sizeof err), -1);
	buf_free(&req);
	OPENSSL_free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vectors_from_store, state_setup, state_teardown),
		cmocka_unit_test_setup_teardown(test_default_ttl_and_removal, state_setup, state_teardown),
		cmocka_unit_test_setup_teardown(test_store_rows, state_setup, state_teardown),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_device_name_escaped),
		cmocka_unit_test(test_client),
	};
	return cmocka_run_group_tests(tests, load_vectors, free_vectors);
}
