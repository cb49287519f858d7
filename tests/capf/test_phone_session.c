/*
 * test_phone_session.c: the phone state machine against the recorded
 * sessions of tests/vectors/capf-sessions.json, then its edge cases.
 *
 * For each recorded case the phone gets the same identity the recording
 * client had (keys from tests/vectors/keys) and a key generator that hands
 * out the key the recording phone generated, so every phone message --
 * including KEY_GENERATE_RESPONSE and the RSA bare-hash signatures, which are
 * deterministic -- must match byte for byte. One more run uses the real key
 * generator and checks only the structure of what it sends.
 *
 * VECTORS_DIR (set by meson) points at tests/vectors.
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

#include "capf/phone_session.h"

/* ---- fixtures: vectors and keys ---- */

struct vmsg {
	int from_server;
	uint8_t *bytes;
	size_t len;
};

struct vcase {
	char title[160];
	char device[32];
	uint32_t session_id;
	size_t n;
	struct vmsg msgs[16];
};

static struct vcase cases[16];
static size_t ncases;

struct cred {
	X509 *cert;
	EVP_PKEY *key;
};
static struct cred mic, lsc_rsa, lsc_rsa2, lsc_rsa3, lsc_ec;

static const char *vectors_dir(void)
{
	const char *d = getenv("VECTORS_DIR");
	return d && *d ? d : "tests/vectors";
}

static void load_cred(const char *file, struct cred *c)
{
	char path[1024], err[ERRLEN];
	STACK_OF(X509) *certs;

	snprintf(path, sizeof path, "%s/keys/%s", vectors_dir(), file);
	certs = pki_certs_load(path, err, sizeof err);
	if (!certs)
		fail_msg("%s", err);
	c->cert = sk_X509_shift(certs);
	sk_X509_pop_free(certs, X509_free);
	c->key = pki_key_load(path, err, sizeof err);
	if (!c->key)
		fail_msg("%s", err);
}

static void load_case(json_t *jc, struct vcase *vc)
{
	json_t *msgs = json_object_get(jc, "messages"), *jm;
	size_t i;

	snprintf(vc->title, sizeof vc->title, "%s", json_string_value(json_object_get(jc, "title")));
	snprintf(vc->device, sizeof vc->device, "%s", json_string_value(json_object_get(jc, "device")));
	vc->session_id = (uint32_t)json_integer_value(json_object_get(jc, "session_id"));
	json_array_foreach(msgs, i, jm) {
		const char *hex = json_string_value(json_object_get(jm, "hex"));
		struct vmsg *m = &vc->msgs[vc->n++];
		ssize_t n;

		assert_true(vc->n <= 16);
		m->from_server = strcmp(json_string_value(json_object_get(jm, "from")), "server") == 0;
		m->bytes = malloc(strlen(hex) / 2 + 1);
		n = hex_decode(hex, m->bytes, strlen(hex) / 2 + 1);
		assert_true(n >= 8);
		m->len = (size_t)n;
	}
}

static int setup_all(void **state)
{
	char path[1024];
	json_error_t jerr;
	json_t *root, *jc;
	size_t i;

	(void)state;
	snprintf(path, sizeof path, "%s/capf-sessions.json", vectors_dir());
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		fprintf(stderr, "%s: %s\n", path, jerr.text);
		return -1;
	}
	json_array_foreach(json_object_get(root, "cases"), i, jc) {
		if (ncases < 16)
			load_case(jc, &cases[ncases++]);
	}
	json_decref(root);
	load_cred("mic.pem", &mic);
	load_cred("lsc-rsa.pem", &lsc_rsa);
	load_cred("lsc-rsa2.pem", &lsc_rsa2);
	load_cred("lsc-rsa3.pem", &lsc_rsa3);
	load_cred("lsc-ec.pem", &lsc_ec);
	return ncases == 9 ? 0 : -1;
}

static void free_cred(struct cred *c)
{
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
}

static int teardown_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < ncases; i++)
		for (size_t j = 0; j < cases[i].n; j++)
			free(cases[i].msgs[j].bytes);
	free_cred(&mic);
	free_cred(&lsc_rsa);
	free_cred(&lsc_rsa2);
	free_cred(&lsc_rsa3);
	free_cred(&lsc_ec);
	return 0;
}

/* ---- helpers ---- */

/* Hands out one fixed key (the one the recorded phone generated). */
static EVP_PKEY *fixed_keygen(void *arg, enum pki_key_kind kind, int bits, char *err, size_t errlen)
{
	EVP_PKEY *key = arg;
	enum pki_key_kind k;
	int b;

	if (!key || pki_key_info(key, &k, &b) < 0 || k != kind || b != bits) {
		seterr(err, errlen, "no pre-generated key of that kind");
		return NULL;
	}
	EVP_PKEY_up_ref(key);
	return key;
}

static char console_text[2048];

static void collect_console(void *arg, const char *line)
{
	(void)arg;
	strncat(console_text, line, sizeof console_text - strlen(console_text) - 2);
	strcat(console_text, "\n");
}

struct phone_setup {
	struct cred *mic, *lsc;
	struct phone_options opts;
};

static struct phone_session *new_phone(const char *devname, struct phone_setup *s)
{
	struct phone_identity id = { .devname = devname };
	struct phone_session *ps;

	if (s->mic) {
		id.mic = s->mic->cert;
		id.mic_key = s->mic->key;
	}
	if (s->lsc) {
		id.lsc = s->lsc->cert;
		id.lsc_key = s->lsc->key;
	}
	s->opts.console = collect_console;
	console_text[0] = '\0';
	ps = phone_session_new(&id, &s->opts);
	assert_non_null(ps);
	return ps;
}

static void assert_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want, size_t wantlen,
			 const char *what)
{
	if (gotlen != wantlen || memcmp(got, want, wantlen) != 0) {
		size_t i = 0;
		while (i < gotlen && i < wantlen && got[i] == want[i])
			i++;
		fail_msg("%s: got %zu bytes, want %zu; first difference at byte %zu", what, gotlen,
			 wantlen, i);
	}
}

/* Play a recorded case: feed each server message, compare the phone's
 * replies with the recorded phone messages that follow it. */
static struct phone_session *play_case(size_t idx, struct phone_setup *s)
{
	struct vcase *vc = &cases[idx];
	struct phone_session *ps = new_phone(vc->device, s);
	struct buf replies, want;

	buf_init(&replies);
	buf_init(&want);
	for (size_t i = 0; i < vc->n; i++) {
		if (!vc->msgs[i].from_server)
			continue;
		buf_reset(&replies);
		buf_reset(&want);
		assert_int_equal(phone_session_on_bytes(ps, vc->msgs[i].bytes, vc->msgs[i].len, &replies), 0);
		for (size_t j = i + 1; j < vc->n && !vc->msgs[j].from_server; j++)
			buf_put(&want, vc->msgs[j].bytes, vc->msgs[j].len);
		assert_bytes(replies.data, replies.len, want.data, want.len, vc->title);
	}
	buf_free(&replies);
	buf_free(&want);
	return ps;
}

static void assert_result(struct phone_session *ps, const char *prefix)
{
	char text[1024];

	phone_session_result_text(ps, text, sizeof text);
	if (strncmp(text, prefix, strlen(prefix)) != 0)
		fail_msg("result \"%s\" does not start with \"%s\"", text, prefix);
}

static void assert_new_lsc_is(struct phone_session *ps, struct cred *c)
{
	const struct phone_outcome *o = phone_session_outcome(ps);

	assert_non_null(o->new_lsc);
	assert_int_equal(X509_cmp(o->new_lsc, c->cert), 0);
	assert_int_equal(EVP_PKEY_eq(o->new_lsc_key, c->key), 1);
}

static size_t find_case(const char *title_start)
{
	for (size_t i = 0; i < ncases; i++)
		if (strncmp(cases[i].title, title_start, strlen(title_start)) == 0)
			return i;
	fail_msg("no vector case \"%s\"", title_start);
	return 0;
}

/* ---- the recorded sessions, byte for byte ---- */

static void test_vector_install_rsa_null_string(void **state)
{
	struct phone_setup s = { .mic = &mic, .opts = { .auth_cert = PHONE_AUTH_NO_CERT,
		.keygen = fixed_keygen, .keygen_arg = lsc_rsa.key } };
	struct phone_session *ps = play_case(find_case("install RSA-2048"), &s);
	const struct phone_outcome *o = phone_session_outcome(ps);

	(void)state;
	assert_int_equal(o->status, PHONE_STATUS_ENDED);
	assert_int_equal(o->end_reason, 1);
	assert_int_equal(o->operation, PHONE_OP_INSTALL);
	assert_true(o->phone_step_ok);
	assert_new_lsc_is(ps, &lsc_rsa);
	assert_result(ps, "installed serial=077df539a15b777394de0f88007e9be0 issuer=CN=CAPF-0a1b2c3d");
	assert_string_equal(console_text, "LSC: Pending\nLSC: Installed\n");
	phone_session_free(ps);
}

static void test_vector_install_ec_with_string(void **state)
{
	struct phone_setup s = { .opts = { .auth_string = "123456", .keygen = fixed_keygen,
		.keygen_arg = lsc_ec.key } };
	struct phone_session *ps = play_case(find_case("install EC P-256"), &s);

	(void)state;
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_ENDED);
	assert_new_lsc_is(ps, &lsc_ec);
	assert_result(ps, "installed serial=");
	phone_session_free(ps);
}

static void test_vector_wrong_string(void **state)
{
	struct phone_setup s = { .opts = { .auth_string = "654321" } };
	struct phone_session *ps = play_case(find_case("authentication string wrong"), &s);
	const struct phone_outcome *o = phone_session_outcome(ps);

	(void)state;
	assert_int_equal(o->end_reason, 7);
	assert_null(o->new_lsc);
	assert_result(ps, "failed reason=7 (invalid element)");
	assert_string_equal(console_text,
			    "LSC: Failed (server ended the session: reason 7, invalid element)\n");
	phone_session_free(ps);
}

static void test_vector_upgrade_by_lsc_with_sudi(void **state)
{
	struct phone_setup s = { .mic = &mic, .lsc = &lsc_rsa, .opts = { .sudi = 1,
		.keygen = fixed_keygen, .keygen_arg = lsc_rsa2.key } };
	struct phone_session *ps = play_case(find_case("upgrade to RSA-1024"), &s);

	(void)state;
	assert_int_equal(phone_session_outcome(ps)->end_reason, 1);
	assert_new_lsc_is(ps, &lsc_rsa2);
	phone_session_free(ps);
}

static void test_vector_install_by_mic(void **state)
{
	/* The recording client wraps its MIC with certificate type 1. */
	struct phone_setup s = { .mic = &mic, .opts = { .auth_cert = PHONE_AUTH_MIC_FIRST, .sudi = 1,
		.mic_wrapped_as_lsc = 1, .keygen = fixed_keygen, .keygen_arg = lsc_rsa3.key } };
	struct phone_session *ps = play_case(find_case("install authenticating by MIC"), &s);

	(void)state;
	assert_new_lsc_is(ps, &lsc_rsa3);
	phone_session_free(ps);
}

static void test_vector_fetch(void **state)
{
	struct phone_setup s = { .mic = &mic, .lsc = &lsc_rsa3, .opts = { .auth_cert = PHONE_AUTH_NO_CERT } };
	struct phone_session *ps = play_case(find_case("troubleshoot"), &s);
	const struct phone_outcome *o = phone_session_outcome(ps);

	(void)state;
	assert_int_equal(o->operation, PHONE_OP_FETCH);
	assert_true(o->had_lsc);
	assert_int_equal(o->end_reason, 0);
	assert_result(ps, "fetched");
	phone_session_free(ps);
}

static void test_vector_delete(void **state)
{
	struct phone_setup s = { .mic = &mic, .lsc = &lsc_rsa3, .opts = { .auth_cert = PHONE_AUTH_NO_CERT } };
	struct phone_session *ps = play_case(find_case("delete"), &s);
	const struct phone_outcome *o = phone_session_outcome(ps);

	(void)state;
	assert_int_equal(o->operation, PHONE_OP_DELETE);
	assert_true(o->had_lsc && o->phone_step_ok);
	assert_result(ps, "deleted");
	assert_string_equal(console_text, "LSC: Not Installed\n");
	phone_session_free(ps);
}

static void test_vector_no_action_and_unknown(void **state)
{
	struct phone_setup s = { .mic = &mic, .opts = { .auth_cert = PHONE_AUTH_NO_CERT } };
	struct phone_session *ps = play_case(find_case("no pending"), &s);

	(void)state;
	assert_int_equal(phone_session_outcome(ps)->operation, PHONE_OP_NONE);
	assert_result(ps, "no action");
	assert_string_equal(console_text, "");
	phone_session_free(ps);

	ps = play_case(find_case("unknown device"), &s);
	assert_int_equal(phone_session_outcome(ps)->end_reason, 9);
	assert_result(ps, "unknown device");
	phone_session_free(ps);
}

/* lsc_der_only (the load generator): the same bytes on the wire, the LSC
 * kept as DER and recognised by its key bytes; a certificate for another key
 * is refused just the same. */
static void test_lsc_der_only(void **state)
{
	struct phone_setup s = { .opts = { .auth_string = "123456", .keygen = fixed_keygen,
		.keygen_arg = lsc_ec.key, .lsc_der_only = 1 } };
	struct phone_session *ps = play_case(find_case("install EC P-256"), &s);
	const struct phone_outcome *o = phone_session_outcome(ps);
	static const uint8_t store_refused[] = { 0x55, 0x0a, 0, 0, 0, 1, 0, 4, 1, 0, 1, 7 };
	struct vcase *vc = &cases[find_case("install RSA-2048")];
	uint8_t *der = NULL;
	size_t len;
	struct buf r;

	(void)state;
	assert_int_equal(o->status, PHONE_STATUS_ENDED);
	assert_true(o->phone_step_ok);
	assert_null(o->new_lsc);
	assert_int_equal(pki_cert_to_der(lsc_ec.cert, &der, &len), 0);
	assert_int_equal(o->new_lsc_len, len);
	assert_memory_equal(o->new_lsc_der, der, len);
	assert_int_equal(EVP_PKEY_eq(o->new_lsc_key, lsc_ec.key), 1);
	OPENSSL_free(der);
	phone_session_free(ps);

	/* a freshly generated key: the recorded LSC is not for it */
	s = (struct phone_setup){ .opts = { .auth_cert = PHONE_AUTH_NO_CERT, .lsc_der_only = 1 } };
	ps = new_phone(vc->device, &s);
	buf_init(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[0].bytes, vc->msgs[0].len, &r), 0);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[2].bytes, vc->msgs[2].len, &r), 0);
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[5].bytes, vc->msgs[5].len, &r), 0);
	assert_bytes(r.data, r.len, store_refused, sizeof store_refused, "STORE refused (DER only)");
	assert_null(phone_session_outcome(ps)->new_lsc_der);
	assert_string_equal(phone_session_outcome(ps)->error,
			    "the certificate does not carry the key the phone generated");
	buf_free(&r);
	phone_session_free(ps);
}

/* The real key generator: only the structure of what it sends is fixed;
 * the recorded LSC is not for that key, so the phone refuses to store it. */
static void test_real_keygen_structure(void **state)
{
	struct vcase *vc = &cases[find_case("install RSA-2048")];
	struct phone_setup s = { .opts = { .auth_cert = PHONE_AUTH_NO_CERT } };
	struct phone_session *ps = new_phone(vc->device, &s);
	static const uint8_t in_progress[] = { 0x55, 0x11, 0, 0, 0, 1, 0, 0 };
	static const uint8_t store_refused[] = { 0x55, 0x0a, 0, 0, 0, 1, 0, 4, 1, 0, 1, 7 };
	struct buf r;
	struct capf_msg m;
	const uint8_t *msg;
	size_t off = 0, len;
	char err[ERRLEN];
	EVP_PKEY *pub;
	enum pki_key_kind kind;
	int bits;

	(void)state;
	buf_init(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[0].bytes, vc->msgs[0].len, &r), 0);
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[2].bytes, vc->msgs[2].len, &r), 0);
	assert_int_equal(phone_replies_next(&r, &off, &msg, &len), 1);
	assert_bytes(msg, len, in_progress, sizeof in_progress, "REQUEST_IN_PROGRESS");
	assert_int_equal(phone_replies_next(&r, &off, &msg, &len), 1);
	assert_int_equal(capf_msg_decode(&m, msg, len, err, sizeof err), 0);
	assert_int_equal(m.cmd, CAPF_CMD_KEY_GENERATE_RESPONSE);
	assert_int_equal(m.session_id, 1);
	assert_int_equal(m.nelems, 1);
	assert_int_equal(m.elems[0].tag, CAPF_TAG_PUBLIC_KEY);
	pub = pki_pubkey_from_der(m.elems[0].val, m.elems[0].len, err, sizeof err);
	assert_non_null(pub);
	assert_int_equal(pki_key_info(pub, &kind, &bits), 0);
	assert_int_equal(kind, PKI_KEY_RSA);
	assert_int_equal(bits, 2048);
	EVP_PKEY_free(pub);
	assert_int_equal(phone_replies_next(&r, &off, &msg, &len), 0);

	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[5].bytes, vc->msgs[5].len, &r), 0);
	assert_bytes(r.data, r.len, store_refused, sizeof store_refused, "STORE refused");
	assert_null(phone_session_outcome(ps)->new_lsc);
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[7].bytes, vc->msgs[7].len, &r), 0);
	assert_result(ps, "failed: the certificate does not carry the key the phone generated");
	assert_string_equal(console_text, "LSC: Pending\nLSC: Failed (the certificate does not carry "
					  "the key the phone generated)\n");
	buf_free(&r);
	phone_session_free(ps);
}

/* ---- building server messages ---- */

static void server_msg(struct buf *out, uint8_t cmd, uint32_t sid, const uint8_t *elems, size_t n)
{
	buf_reset(out);
	buf_put_u8(out, CAPF_PROTOCOL_ID);
	buf_put_u8(out, cmd);
	buf_put_u32(out, sid);
	buf_put_u16(out, (uint16_t)n);
	buf_put(out, elems, n);
}

static int feed(struct phone_session *ps, uint8_t cmd, uint32_t sid, const uint8_t *elems, size_t n,
		struct buf *replies)
{
	struct buf in;
	int rc;

	buf_init(&in);
	server_msg(&in, cmd, sid, elems, n);
	buf_reset(replies);
	rc = phone_session_on_bytes(ps, in.data, in.len, replies);
	buf_free(&in);
	return rc;
}

static const uint8_t auth_type0[] = { 7, 0, 1, 3, 8, 0, 1, 0 };
static const uint8_t auth_type3[] = { 7, 0, 1, 3, 8, 0, 1, 3 };
static const uint8_t auth_type4[] = { 7, 0, 1, 3, 8, 0, 1, 4 };
static const uint8_t reason7[] = { 1, 0, 1, 7 };
static const uint8_t reason1[] = { 1, 0, 1, 1 };
static const uint8_t key_ec256[] = { 17, 0, 1, 1, 18, 0, 1, 0 };
static const uint8_t key_rsa1024[] = { 10, 0, 2, 4, 0, 17, 0, 1, 0 };

/* The certificate an AUTH_RESPONSE presents, its wrap type, and whether its
 * signatures verify with `c`'s key. */
static void assert_auth_presents(const struct buf *r, const char *devname, struct cred *c,
				 uint8_t want_type, uint32_t sid)
{
	struct capf_msg m;
	const struct capf_elem *e, *sig1, *sha2, *sudi;
	const uint8_t *der, *sig;
	size_t derlen, siglen;
	uint8_t type, hash_id;
	char err[ERRLEN];
	struct capf_sudi sd;

	assert_int_equal(capf_msg_decode(&m, r->data, r->len, err, sizeof err), 0);
	e = capf_msg_find(&m, CAPF_TAG_CERTIFICATE);
	sig1 = capf_msg_find(&m, CAPF_TAG_SIGNED_DATA);
	sha2 = capf_msg_find(&m, CAPF_TAG_SHA2_SIGNED_DATA);
	sudi = capf_msg_find(&m, CAPF_TAG_SUDI_DATA);
	assert_true(e && sig1 && sha2 && sudi);
	assert_int_equal(capf_cert_unwrap(e->val, e->len, &der, &derlen, &type, err, sizeof err), 0);
	assert_int_equal(type, want_type);
	{
		uint8_t *want = NULL;
		size_t wantlen = 0;
		assert_int_equal(pki_cert_to_der(c->cert, &want, &wantlen), 0);
		assert_bytes(der, derlen, want, wantlen, "presented certificate");
		OPENSSL_free(want);
	}
	assert_int_equal(pki_capf_auth_verify(c->key, devname, der, derlen, 1, sig1->val, sig1->len), 1);
	assert_int_equal(capf_sha2_signed_parse(sha2->val, sha2->len, &hash_id, &sig, &siglen, err,
						sizeof err), 0);
	assert_int_equal(hash_id, 3);
	assert_int_equal(pki_capf_auth_verify(c->key, devname, der, derlen, 3, sig, siglen), 1);
	assert_int_equal(capf_sudi_parse(sudi->val, sudi->len, &sd, err, sizeof err), 0);
	assert_int_equal(pki_sudi_verify(c->key, sid, sd.cert, sd.certlen, 1, sd.sig_sha1, sd.sig_sha1_len), 1);
	assert_int_equal(pki_sudi_verify(c->key, sid, sd.cert, sd.certlen, 3, sd.sig_sha512,
					 sd.sig_sha512_len), 1);
}

static void test_auth_type_selects_certificate(void **state)
{
	struct phone_setup s = { .mic = &mic, .lsc = &lsc_rsa, .opts = { .sudi = 1 } };
	struct phone_session *ps;
	struct buf r;

	(void)state;
	buf_init(&r);
	/* AUTH_TYPE 4 asks for the MIC although the phone prefers its LSC */
	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 0x01020304, auth_type4, sizeof auth_type4, &r), 0);
	assert_auth_presents(&r, "SEP0011223344AA", &mic, CAPF_CERT_MIC, 0x01020304);
	phone_session_free(ps);
	/* AUTH_TYPE 3 asks for the LSC although the phone prefers its MIC */
	s.opts.auth_cert = PHONE_AUTH_MIC_FIRST;
	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 77, auth_type3, sizeof auth_type3, &r), 0);
	assert_auth_presents(&r, "SEP0011223344AA", &lsc_rsa, CAPF_CERT_LSC, 77);
	phone_session_free(ps);
	/* AUTH_TYPE 0 follows the phone: MIC first */
	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 78, auth_type0, sizeof auth_type0, &r), 0);
	assert_auth_presents(&r, "SEP0011223344AA", &mic, CAPF_CERT_MIC, 78);
	phone_session_free(ps);
	/* AUTH_TYPE 3 without an LSC: the MIC */
	s.lsc = NULL;
	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 79, auth_type3, sizeof auth_type3, &r), 0);
	assert_auth_presents(&r, "SEP0011223344AA", &mic, CAPF_CERT_MIC, 79);
	phone_session_free(ps);
	buf_free(&r);
}

static void test_ec_auth_certificate(void **state)
{
	/* An EC LSC signs with ECDSA; the signatures verify. */
	struct phone_setup s = { .lsc = &lsc_ec, .opts = { .sudi = 1 } };
	struct phone_session *ps = new_phone("SEP0011223344BB", &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 5, auth_type0, sizeof auth_type0, &r), 0);
	assert_auth_presents(&r, "SEP0011223344BB", &lsc_ec, CAPF_CERT_LSC, 5);
	buf_free(&r);
	phone_session_free(ps);
}

static void test_wrong_session_id_from_server(void **state)
{
	struct phone_setup s = { .opts = { 0 } };
	struct phone_session *ps = new_phone("SEP0011223344AA", &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 10, auth_type0, sizeof auth_type0, &r), 0);
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 11, reason1, sizeof reason1, &r), -1);
	assert_int_equal(r.len, 0);
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_ERROR);
	assert_non_null(strstr(phone_session_outcome(ps)->error, "session id 0000000b"));
	assert_result(ps, "protocol error: END_SESSION carries session id");
	/* nothing more is accepted */
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 10, reason1, sizeof reason1, &r), -1);
	buf_free(&r);
	phone_session_free(ps);
}

static void test_bad_protocol_id_from_server(void **state)
{
	struct phone_setup s = { .opts = { 0 } };
	struct phone_session *ps = new_phone("SEP0011223344AA", &s);
	struct buf in, r;

	(void)state;
	buf_init(&in);
	buf_init(&r);
	server_msg(&in, CAPF_CMD_AUTH_REQUEST, 1, auth_type0, sizeof auth_type0);
	in.data[0] = 0x56;
	assert_int_equal(phone_session_on_bytes(ps, in.data, in.len, &r), -1);
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_ERROR);
	assert_result(ps, "protocol error: malformed message");
	buf_free(&in);
	buf_free(&r);
	phone_session_free(ps);
}

static void test_out_of_order(void **state)
{
	struct phone_setup s = { .opts = { 0 } };
	struct phone_session *ps = new_phone("SEP0011223344AA", &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	/* the first message must be AUTH_REQUEST */
	assert_int_equal(feed(ps, CAPF_CMD_FETCH_CERTIFICATE_REQUEST, 1, NULL, 0, &r), -1);
	phone_session_free(ps);
	/* STORE before any key request */
	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 1, auth_type0, sizeof auth_type0, &r), 0);
	assert_int_equal(feed(ps, CAPF_CMD_STORE_CERTIFICATE_REQUEST, 1, NULL, 0, &r), -1);
	assert_result(ps, "protocol error: unexpected STORE_CERTIFICATE_REQUEST");
	phone_session_free(ps);
	buf_free(&r);
}

static void test_server_closes(void **state)
{
	struct phone_setup s = { .opts = { 0 } };
	struct phone_session *ps = new_phone("SEP0011223344AA", &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 1, auth_type0, sizeof auth_type0, &r), 0);
	phone_session_on_close(ps, NULL);
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_ERROR);
	assert_result(ps, "protocol error: server closed the connection without END_SESSION");
	buf_free(&r);
	phone_session_free(ps);
}

static void test_fetch_delete_without_lsc(void **state)
{
	static const uint8_t fetch_none[] = { 0x55, 12, 0, 0, 0, 3, 0, 4, 1, 0, 1, 7 };
	static const uint8_t delete_none[] = { 0x55, 14, 0, 0, 0, 3, 0, 4, 1, 0, 1, 7 };
	struct phone_setup s = { .mic = &mic, .opts = { 0 } };
	struct phone_session *ps = new_phone("SEP0011223344AA", &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 3, auth_type0, sizeof auth_type0, &r), 0);
	assert_int_equal(feed(ps, CAPF_CMD_FETCH_CERTIFICATE_REQUEST, 3, NULL, 0, &r), 0);
	assert_bytes(r.data, r.len, fetch_none, sizeof fetch_none, "FETCH without LSC");
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 3, (const uint8_t[]){ 1, 0, 1, 0 }, 4, &r), 0);
	assert_result(ps, "fetched (the phone had no LSC to send)");
	phone_session_free(ps);

	ps = new_phone("SEP0011223344AA", &s);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 3, auth_type0, sizeof auth_type0, &r), 0);
	assert_int_equal(feed(ps, CAPF_CMD_DELETE_CERTIFICATE_REQUEST, 3, NULL, 0, &r), 0);
	assert_bytes(r.data, r.len, delete_none, sizeof delete_none, "DELETE without LSC");
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 3, reason1, sizeof reason1, &r), 0);
	assert_result(ps, "deleted (the phone had no LSC)");
	buf_free(&r);
	phone_session_free(ps);
}

/* refuse_ec: the EC request gets {REASON 7}, the RSA fallback is served. */
static void test_refuse_ec_then_rsa(void **state)
{
	static const uint8_t refused[] = { 0x55, 4, 0, 0, 0, 4, 0, 4, 1, 0, 1, 7 };
	struct vcase *vc = &cases[find_case("upgrade to RSA-1024")];
	struct phone_setup s = { .mic = &mic, .opts = { .auth_cert = PHONE_AUTH_NO_CERT, .refuse_ec = 1,
		.keygen = fixed_keygen, .keygen_arg = lsc_rsa2.key } };
	struct phone_session *ps = new_phone(vc->device, &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(feed(ps, CAPF_CMD_AUTH_REQUEST, 4, auth_type0, sizeof auth_type0, &r), 0);
	assert_int_equal(feed(ps, CAPF_CMD_KEY_GENERATE_REQUEST, 4, key_ec256, sizeof key_ec256, &r), 0);
	assert_bytes(r.data, r.len, refused, sizeof refused, "EC refusal");
	assert_int_equal(phone_session_outcome(ps)->keys_refused, 1);
	assert_int_equal(feed(ps, CAPF_CMD_KEY_GENERATE_REQUEST, 4, key_rsa1024, sizeof key_rsa1024, &r), 0);
	{
		struct buf want;
		buf_init(&want);
		buf_put(&want, vc->msgs[3].bytes, vc->msgs[3].len); /* REQUEST_IN_PROGRESS */
		buf_put(&want, vc->msgs[4].bytes, vc->msgs[4].len); /* KEY_GENERATE_RESPONSE */
		assert_bytes(r.data, r.len, want.data, want.len, "RSA after the EC refusal");
		buf_free(&want);
	}
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[5].bytes, vc->msgs[5].len, &r), 0);
	assert_bytes(r.data, r.len, vc->msgs[6].bytes, vc->msgs[6].len, "STORE response");
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[7].bytes, vc->msgs[7].len, &r), 0);
	assert_new_lsc_is(ps, &lsc_rsa2);
	assert_string_equal(console_text, "LSC: Pending\nLSC: Installed\n");
	buf_free(&r);
	phone_session_free(ps);
}

/* ---- misbehaviours ---- */

/* The AUTH_RESPONSE of the "no pending operation" case, spoiled by `mode`. */
static struct phone_session *misbehaving_auth(enum phone_misbehave mode, struct buf *r,
					      struct buf *normal)
{
	struct vcase *vc = &cases[find_case("no pending")];
	struct phone_setup s = { .mic = &mic, .opts = { .auth_cert = PHONE_AUTH_NO_CERT, .misbehave = mode } };
	struct phone_session *ps = new_phone(vc->device, &s);

	buf_reset(normal);
	buf_put(normal, vc->msgs[1].bytes, vc->msgs[1].len);
	buf_reset(r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[0].bytes, vc->msgs[0].len, r), 0);
	return ps;
}

static void test_misbehave_auth_variants(void **state)
{
	struct buf r, normal;
	struct phone_session *ps;
	struct capf_msg m;
	char err[ERRLEN];
	size_t total;

	(void)state;
	buf_init(&r);
	buf_init(&normal);

	ps = misbehaving_auth(PHONE_MISBEHAVE_DISCONNECT_AFTER_AUTH, &r, &normal);
	assert_bytes(r.data, r.len, normal.data, normal.len, "disconnect-after-auth");
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_HANGUP);
	assert_result(ps, "disconnected (misbehave disconnect-after-auth)");
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_SILENT, &r, &normal);
	assert_int_equal(r.len, 0);
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_RUNNING);
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 8, reason7, sizeof reason7, &r), 0);
	assert_result(ps, "failed reason=7");
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_WRONG_SESSION_ID, &r, &normal);
	assert_int_equal(r.len, normal.len);
	assert_int_equal(get_u32(r.data + 2), 9);
	assert_memory_equal(r.data + 6, normal.data + 6, normal.len - 6);
	/* the server goes on as if nothing happened: the phone calls it out */
	assert_int_equal(feed(ps, CAPF_CMD_KEY_GENERATE_REQUEST, 8, key_rsa1024, sizeof key_rsa1024, &r), -1);
	assert_result(ps, "protocol error: server answered the wrong-session-id phone with KEY_GENERATE_REQUEST");
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_TRUNCATED, &r, &normal);
	assert_int_equal(r.len, normal.len);
	assert_int_equal(get_u16(r.data + 6), normal.len - 8 + 64);
	assert_int_equal(capf_frame_length(r.data, r.len, &total, err, sizeof err), 0);
	phone_session_on_close(ps, "timed out");
	assert_result(ps, "protocol error: timed out");
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_OVERSIZE_ELEMENT, &r, &normal);
	assert_int_equal(r.len, normal.len + 4);
	assert_int_equal(get_u16(r.data + 6), r.len - 8);
	assert_int_equal(capf_msg_decode(&m, r.data, r.len, err, sizeof err), -1);
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_BAD_PROTOCOL_ID, &r, &normal);
	assert_int_not_equal(r.data[0], 0x55);
	assert_memory_equal(r.data + 1, normal.data + 1, normal.len - 1);
	assert_int_equal(capf_msg_decode(&m, r.data, r.len, err, sizeof err), -1);
	phone_session_free(ps);

	ps = misbehaving_auth(PHONE_MISBEHAVE_GARBAGE, &r, &normal);
	assert_int_equal(r.len, 64);
	assert_int_not_equal(r.data[0], 0x55);
	assert_int_equal(feed(ps, CAPF_CMD_END_SESSION, 8, reason7, sizeof reason7, &r), 0);
	assert_int_equal(phone_session_outcome(ps)->end_reason, 7);
	phone_session_free(ps);

	buf_free(&r);
	buf_free(&normal);
}

static void test_misbehave_disconnect_before_store(void **state)
{
	struct vcase *vc = &cases[find_case("install RSA-2048")];
	struct phone_setup s = { .opts = { .auth_cert = PHONE_AUTH_NO_CERT, .keygen = fixed_keygen,
		.keygen_arg = lsc_rsa.key, .misbehave = PHONE_MISBEHAVE_DISCONNECT_BEFORE_STORE } };
	struct phone_session *ps = new_phone(vc->device, &s);
	struct buf r;

	(void)state;
	buf_init(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[0].bytes, vc->msgs[0].len, &r), 0);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[2].bytes, vc->msgs[2].len, &r), 0);
	buf_reset(&r);
	assert_int_equal(phone_session_on_bytes(ps, vc->msgs[5].bytes, vc->msgs[5].len, &r), 0);
	assert_int_equal(r.len, 0);
	assert_int_equal(phone_session_outcome(ps)->status, PHONE_STATUS_HANGUP);
	/* It keeps the certificate it was sent, without confirming it. */
	assert_non_null(phone_session_outcome(ps)->new_lsc);
	assert_int_equal(phone_session_outcome(ps)->phone_step_ok, 0);
	buf_free(&r);
	phone_session_free(ps);
}

static void test_misbehave_names(void **state)
{
	(void)state;
	for (int i = 0; i <= PHONE_MISBEHAVE_GARBAGE; i++)
		assert_int_equal(phone_misbehave_parse(phone_misbehave_name((enum phone_misbehave)i)), i);
	assert_int_equal(phone_misbehave_parse("nonsense"), -1);
}

static void test_identity_checks(void **state)
{
	struct phone_identity id = { .devname = "SEP0011223344AA", .mic = mic.cert };

	(void)state;
	assert_null(phone_session_new(&id, NULL)); /* certificate without its key */
	id.devname = NULL;
	id.mic = NULL;
	assert_null(phone_session_new(&id, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_install_rsa_null_string),
		cmocka_unit_test(test_vector_install_ec_with_string),
		cmocka_unit_test(test_vector_wrong_string),
		cmocka_unit_test(test_vector_upgrade_by_lsc_with_sudi),
		cmocka_unit_test(test_vector_install_by_mic),
		cmocka_unit_test(test_vector_fetch),
		cmocka_unit_test(test_vector_delete),
		cmocka_unit_test(test_vector_no_action_and_unknown),
		cmocka_unit_test(test_lsc_der_only),
		cmocka_unit_test(test_real_keygen_structure),
		cmocka_unit_test(test_auth_type_selects_certificate),
		cmocka_unit_test(test_ec_auth_certificate),
		cmocka_unit_test(test_wrong_session_id_from_server),
		cmocka_unit_test(test_bad_protocol_id_from_server),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_server_closes),
		cmocka_unit_test(test_fetch_delete_without_lsc),
		cmocka_unit_test(test_refuse_ec_then_rsa),
		cmocka_unit_test(test_misbehave_auth_variants),
		cmocka_unit_test(test_misbehave_disconnect_before_store),
		cmocka_unit_test(test_misbehave_names),
		cmocka_unit_test(test_identity_checks),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
