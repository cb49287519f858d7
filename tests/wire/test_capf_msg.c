/*
 * test_capf_msg.c: unit tests of the CAPF message codec (src/wire/capf_msg.h)
 * against the recorded sessions in tests/vectors/capf-sessions.json, which
 * were produced by two independent implementations, plus the edge cases a
 * hostile or broken peer can produce.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vectors.h"
#include "wire/capf_msg.h"

static struct vec_sessions sessions;

static int setup(void **state)
{
	vec_load_sessions("capf-sessions.json", &sessions);
	return 0;
}

static int teardown(void **state)
{
	vec_free_sessions(&sessions);
	return 0;
}

static void decode_ok(struct capf_msg *m, const uint8_t *data, size_t len)
{
	char err[ERRLEN] = "";
	int rc = capf_msg_decode(m, data, len, err, sizeof err);

	if (rc != 0)
		fail_msg("decode failed: %s", err);
}

static void assert_encodes_to(const struct capf_msg *m, const uint8_t *data, size_t len)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(capf_msg_encode(m, &b), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, data, len);
	buf_free(&b);
}

/* Every message of every session decodes, carries the session id, has the
 * command the recorder named, frames correctly, and re-encodes exactly. */
static void test_sessions_round_trip(void **state)
{
	size_t count = 0;

	for (size_t i = 0; i < sessions.n; i++) {
		const struct vec_session *s = &sessions.s[i];

		for (size_t j = 0; j < s->nmsgs; j++) {
			const struct vec_msg *v = &s->msgs[j];
			struct capf_msg m;
			char name[80], err[ERRLEN];
			size_t total = 0;

			decode_ok(&m, v->bytes, v->len);
			assert_int_equal(m.session_id, s->session_id);
			snprintf(name, sizeof name, "COMMAND_%s", capf_cmd_name(m.cmd));
			assert_string_equal(name, v->command);
			assert_encodes_to(&m, v->bytes, v->len);
			assert_int_equal(capf_frame_length(v->bytes, v->len, &total, err, sizeof err), 1);
			assert_int_equal(total, v->len);
			assert_int_equal(capf_frame_length(v->bytes, v->len - 1, &total, err, sizeof err), 0);
			count++;
		}
	}
	assert_int_equal(sessions.n, 9);
	assert_true(count >= 50);
}

static const struct vec_msg *find_msg(const struct vec_session *s, uint8_t cmd, size_t nth)
{
	for (size_t j = 0; j < s->nmsgs; j++) {
		struct capf_msg m;

		decode_ok(&m, s->msgs[j].bytes, s->msgs[j].len);
		if (m.cmd == cmd && nth-- == 0)
			return &s->msgs[j];
	}
	return NULL;
}

static void decode_cmd(const struct vec_session *s, uint8_t cmd, struct capf_msg *m)
{
	const struct vec_msg *v = find_msg(s, cmd, 0);

	if (!v)
		fail_msg("session '%s' has no %s", s->title, capf_cmd_name(cmd));
	decode_ok(m, v->bytes, v->len);
}

static void test_auth_request_and_response(void **state)
{
	static const char *passwords[] = { "", "123456", "654321", "", "", "", "", "", "" };

	for (size_t i = 0; i < sessions.n; i++) {
		const struct vec_session *s = &sessions.s[i];
		struct capf_msg m;
		char text[64];
		uint8_t v;

		decode_cmd(s, CAPF_CMD_AUTH_REQUEST, &m);
		assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_VERSION, &v), 0);
		assert_int_equal(v, CAPF_VERSION);
		assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_AUTH_TYPE, &v), 0);
		assert_int_equal(v, CAPF_AUTH_NONE);

		decode_cmd(s, CAPF_CMD_AUTH_RESPONSE, &m);
		assert_int_equal(capf_msg_get_cstr(&m, CAPF_TAG_DEVICE_NAME, text, sizeof text), 0);
		assert_string_equal(text, s->device);
		assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_VERSION, &v), 0);
		assert_int_equal(v, CAPF_VERSION);
		assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_REASON, &v), 0);
		assert_int_equal(v, CAPF_REASON_UPDATE_CERTIFICATE);
		assert_int_equal(capf_msg_get_cstr(&m, CAPF_TAG_PASSWORD, text, sizeof text), 0);
		assert_string_equal(text, passwords[i]);
	}
}

static void test_end_session_reasons(void **state)
{
	static const uint8_t reasons[] = { 1, 1, 7, 1, 1, 0, 1, 0, 9 };

	for (size_t i = 0; i < sessions.n; i++) {
		struct capf_msg m;
		uint8_t r;

		decode_cmd(&sessions.s[i], CAPF_CMD_END_SESSION, &m);
		assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_REASON, &r), 0);
		assert_int_equal(r, reasons[i]);
	}
	assert_string_equal(capf_reason_name(9), "UNKNOWN_DEVICE");
	assert_string_equal(capf_reason_name(42), "UNKNOWN");
}

static void test_key_generate_requests(void **state)
{
	struct capf_msg m;
	uint16_t bits;
	uint8_t v;

	decode_cmd(&sessions.s[0], CAPF_CMD_KEY_GENERATE_REQUEST, &m);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_KEY_TYPE, &v), 0);
	assert_int_equal(v, CAPF_KEY_RSA);
	assert_int_equal(capf_msg_get_u16(&m, CAPF_TAG_KEY_SIZE, &bits), 0);
	assert_int_equal(bits, 2048);

	decode_cmd(&sessions.s[1], CAPF_CMD_KEY_GENERATE_REQUEST, &m);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_KEY_TYPE, &v), 0);
	assert_int_equal(v, CAPF_KEY_EC);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_CURVE, &v), 0);
	assert_int_equal(v, CAPF_CURVE_P256);
	assert_int_equal(capf_msg_get_u16(&m, CAPF_TAG_KEY_SIZE, &bits), -1);

	decode_cmd(&sessions.s[3], CAPF_CMD_KEY_GENERATE_REQUEST, &m);
	assert_int_equal(capf_msg_get_u16(&m, CAPF_TAG_KEY_SIZE, &bits), 0);
	assert_int_equal(bits, 1024);

	/* REQUEST_IN_PROGRESS has an empty body. */
	decode_cmd(&sessions.s[0], CAPF_CMD_REQUEST_IN_PROGRESS, &m);
	assert_int_equal(m.nelems, 0);
}

/* Unwrap a CERTIFICATE element; the DER is one SEQUENCE with a 2-byte length. */
static void unwrap_ok(const struct capf_elem *e, const uint8_t **der, size_t *derlen)
{
	char err[ERRLEN];
	uint8_t type = 0;

	assert_non_null(e);
	if (capf_cert_unwrap(e->val, e->len, der, derlen, &type, err, sizeof err) != 0)
		fail_msg("unwrap: %s", err);
	assert_int_equal(*derlen, e->len - 5u);
	assert_int_equal(get_u16(e->val + 1), *derlen + 2);
	assert_int_equal(type, CAPF_CERT_LSC); /* this client writes 1 even for a MIC */
	assert_int_equal((*der)[0], 0x30);
	assert_int_equal((*der)[1], 0x82);
	assert_int_equal(4u + get_u16(*der + 2), *derlen);
}

/* STORE_CERTIFICATE_REQUEST / FETCH_CERTIFICATE_RESPONSE: wrapped LSCs that
 * rebuild exactly from their DER. */
static void test_wrapped_certificates(void **state)
{
	size_t seen = 0;

	for (size_t i = 0; i < sessions.n; i++) {
		const struct vec_session *s = &sessions.s[i];

		for (size_t j = 0; j < s->nmsgs; j++) {
			struct capf_msg m, rebuilt;
			const struct capf_elem *e;
			const uint8_t *der;
			size_t derlen;
			uint8_t type = CAPF_CERT_LSC;
			struct buf w;

			decode_ok(&m, s->msgs[j].bytes, s->msgs[j].len);
			e = capf_msg_find(&m, CAPF_TAG_CERTIFICATE);
			if (!e || m.cmd == CAPF_CMD_AUTH_RESPONSE)
				continue;
			unwrap_ok(e, &der, &derlen);
			buf_init(&w);
			capf_cert_wrap(&w, der, derlen, CAPF_CERT_LSC);
			assert_int_equal(w.len, e->len);
			assert_memory_equal(w.data, e->val, e->len);
			if (m.cmd == CAPF_CMD_STORE_CERTIFICATE_REQUEST) {
				capf_msg_init(&rebuilt, m.cmd, m.session_id);
				assert_int_equal(capf_msg_add_u8(&rebuilt, CAPF_TAG_CERTIFICATE_TYPE, &type), 0);
				assert_int_equal(capf_msg_add(&rebuilt, CAPF_TAG_CERTIFICATE, w.data, w.len), 0);
				assert_encodes_to(&rebuilt, s->msgs[j].bytes, s->msgs[j].len);
			}
			buf_free(&w);
			seen++;
		}
	}
	assert_int_equal(seen, 5); /* 4 stores + 1 fetch */
}

/* Upgrade by LSC and install by MIC: CERTIFICATE, SIGNED_DATA, SHA2_SIGNED_DATA
 * (hash id 3, 256 bytes) and SUDI_DATA whose certificate is the same one. */
static void check_cert_auth(const struct vec_session *s, size_t derlen_expected)
{
	struct capf_msg m;
	const struct capf_elem *e;
	const uint8_t *der, *sig;
	size_t derlen, siglen;
	uint8_t hash_id;
	struct capf_sudi sudi;
	struct buf b;
	char err[ERRLEN];
	const struct vec_msg *v = find_msg(s, CAPF_CMD_AUTH_RESPONSE, 0);

	decode_ok(&m, v->bytes, v->len);
	unwrap_ok(capf_msg_find(&m, CAPF_TAG_CERTIFICATE), &der, &derlen);
	assert_int_equal(derlen, derlen_expected);
	assert_int_equal(capf_msg_find(&m, CAPF_TAG_SIGNED_DATA)->len, 256);

	e = capf_msg_find(&m, CAPF_TAG_SHA2_SIGNED_DATA);
	assert_non_null(e);
	assert_int_equal(capf_sha2_signed_parse(e->val, e->len, &hash_id, &sig, &siglen, err,
						sizeof err), 0);
	assert_int_equal(hash_id, CAPF_HASH_SHA512);
	assert_int_equal(siglen, 256);
	buf_init(&b);
	capf_sha2_signed_build(&b, hash_id, sig, siglen);
	assert_int_equal(b.len, e->len);
	assert_memory_equal(b.data, e->val, e->len);

	e = capf_msg_find(&m, CAPF_TAG_SUDI_DATA);
	assert_non_null(e);
	if (capf_sudi_parse(e->val, e->len, &sudi, err, sizeof err) != 0)
		fail_msg("sudi: %s", err);
	assert_int_equal(sudi.certlen, derlen);
	assert_memory_equal(sudi.cert, der, derlen);
	assert_int_equal(sudi.sig_sha1_len, 256);
	assert_int_equal(sudi.sig_sha512_len, 256);
	buf_reset(&b);
	capf_sudi_build(&b, &sudi);
	assert_int_equal(b.len, e->len);
	assert_memory_equal(b.data, e->val, e->len);
	buf_free(&b);
}

static void test_certificate_authentication(void **state)
{
	check_cert_auth(&sessions.s[3], 969); /* the RSA-2048 LSC of session 1 */
	check_cert_auth(&sessions.s[4], 838); /* the MIC */
}

/* An AUTH_RESPONSE rebuilt element by element is identical to the recording. */
static void test_build_auth_response(void **state)
{
	const struct vec_session *s = &sessions.s[1];
	const struct vec_msg *v = find_msg(s, CAPF_CMD_AUTH_RESPONSE, 0);
	static const char dev[] = "SEP0011223344BB", pw[] = "123456";
	uint8_t reason = CAPF_REASON_UPDATE_CERTIFICATE, version = CAPF_VERSION;
	struct capf_msg m;

	capf_msg_init(&m, CAPF_CMD_AUTH_RESPONSE, s->session_id);
	assert_int_equal(capf_msg_add_u8(&m, CAPF_TAG_REASON, &reason), 0);
	assert_int_equal(capf_msg_add_u8(&m, CAPF_TAG_VERSION, &version), 0);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_PASSWORD, pw, sizeof pw), 0);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_DEVICE_NAME, dev, sizeof dev), 0);
	assert_encodes_to(&m, v->bytes, v->len);
}

/* ---- edge cases ---- */

static void decode_fails(const uint8_t *data, size_t len, const char *needle)
{
	struct capf_msg m;
	char err[ERRLEN] = "";

	assert_int_equal(capf_msg_decode(&m, data, len, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_truncated_header(void **state)
{
	static const uint8_t msg[] = { 0x55, 0x01, 0, 0, 0, 1, 0, 0 };
	size_t total;
	char err[ERRLEN];

	for (size_t n = 0; n < sizeof msg; n++) {
		decode_fails(msg, n, "shorter than the 8-byte header");
		assert_int_equal(capf_frame_length(msg, n, &total, err, sizeof err), 0);
	}
}

static void test_wrong_protocol_id(void **state)
{
	static const uint8_t msg[] = { 0x57, 0x01, 0, 0, 0, 1, 0, 0 };
	size_t total;
	char err[ERRLEN] = "";

	decode_fails(msg, sizeof msg, "protocol id 0x57");
	assert_int_equal(capf_frame_length(msg, 1, &total, err, sizeof err), -1);
	assert_non_null(strstr(err, "protocol id"));
}

static void test_element_past_body(void **state)
{
	/* VERSION claims 5 bytes, the body holds 1. */
	static const uint8_t msg[] = { 0x55, 1, 0, 0, 0, 1, 0, 4, 7, 0, 5, 3 };
	/* A body that ends inside an element header. */
	static const uint8_t msg2[] = { 0x55, 1, 0, 0, 0, 1, 0, 6, 7, 0, 1, 3, 8, 0 };

	decode_fails(msg, sizeof msg, "VERSION (tag 7) at byte 8 has length 5, past the end");
	decode_fails(msg2, sizeof msg2, "truncated CAPF element header at byte 12");
}

static void test_body_length_mismatch(void **state)
{
	static const uint8_t msg[] = { 0x55, 1, 0, 0, 0, 1, 0, 10, 7, 0, 1, 3 };
	static const uint8_t msg2[] = { 0x55, 1, 0, 0, 0, 1, 0, 4, 7, 0, 1, 3, 0xff };
	size_t total;
	char err[ERRLEN];

	decode_fails(msg, sizeof msg, "body length 10 runs past the 4 bytes received");
	decode_fails(msg2, sizeof msg2, "1 bytes after its 4-byte body");
	assert_int_equal(capf_frame_length(msg, sizeof msg, &total, err, sizeof err), 0);
	assert_int_equal(total, 18);
	assert_int_equal(capf_frame_length(msg2, sizeof msg2, &total, err, sizeof err), 1);
	assert_int_equal(total, 12);
}

static void test_zero_length_body(void **state)
{
	static const uint8_t msg[] = { 0x55, 11, 0xde, 0xad, 0xbe, 0xef, 0, 0 };
	struct capf_msg m;

	decode_ok(&m, msg, sizeof msg);
	assert_int_equal(m.cmd, CAPF_CMD_FETCH_CERTIFICATE_REQUEST);
	assert_int_equal(m.session_id, 0xdeadbeef);
	assert_int_equal(m.nelems, 0);
	assert_null(capf_msg_find(&m, CAPF_TAG_REASON));
	assert_encodes_to(&m, msg, sizeof msg);
}

static void test_max_elements(void **state)
{
	uint8_t msg[CAPF_HEADER_LEN + 3 * (CAPF_MAX_ELEMS + 1)];
	size_t body = 3 * CAPF_MAX_ELEMS;
	struct capf_msg m;

	memset(msg, 0, sizeof msg); /* elements: tag 0, length 0 */
	msg[0] = CAPF_PROTOCOL_ID;
	msg[7] = (uint8_t)body;
	msg[6] = (uint8_t)(body >> 8);
	decode_ok(&m, msg, CAPF_HEADER_LEN + body);
	assert_int_equal(m.nelems, CAPF_MAX_ELEMS);
	assert_encodes_to(&m, msg, CAPF_HEADER_LEN + body);
	assert_int_equal(capf_msg_add(&m, 1, NULL, 0), -1);

	body += 3;
	msg[7] = (uint8_t)body;
	msg[6] = (uint8_t)(body >> 8);
	decode_fails(msg, CAPF_HEADER_LEN + body, "more than 64 elements");
}

static void test_oversize_encode(void **state)
{
	static uint8_t big[40000];
	struct capf_msg m;
	struct buf b;

	capf_msg_init(&m, CAPF_CMD_AUTH_RESPONSE, 1);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_CERTIFICATE, big, 65536), -1);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_CERTIFICATE, big, sizeof big), 0);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_SUDI_DATA, big, sizeof big), 0);
	buf_init(&b);
	assert_int_equal(capf_msg_encode(&m, &b), -1);
	assert_int_equal(b.len, 0); /* nothing half-written */
	/* The largest body that fits: one element of 65532 bytes. */
	uint8_t *most = calloc(1, 65532);
	assert_non_null(most);
	capf_msg_init(&m, CAPF_CMD_AUTH_RESPONSE, 1);
	assert_int_equal(capf_msg_add(&m, CAPF_TAG_CERTIFICATE, most, 65532), 0);
	assert_int_equal(capf_msg_encode(&m, &b), 0);
	assert_int_equal(b.len, CAPF_MAX_MSG);
	free(most);
	buf_free(&b);
}

static void cstr_case(const void *val, size_t len, size_t outcap, int want, const char *text)
{
	struct capf_msg m;
	char out[32];

	capf_msg_init(&m, 2, 1);
	capf_msg_add(&m, CAPF_TAG_DEVICE_NAME, val, len);
	memset(out, 'x', sizeof out);
	assert_int_equal(capf_msg_get_cstr(&m, CAPF_TAG_DEVICE_NAME, out, outcap), want);
	if (want == 0)
		assert_string_equal(out, text);
}

static void test_cstr_nul_handling(void **state)
{
	char out[8];
	struct capf_msg m;

	cstr_case("SEP1\0", 5, sizeof out, 0, "SEP1");
	cstr_case("\0", 1, sizeof out, 0, "");     /* empty password */
	cstr_case("SEP1", 4, sizeof out, -1, NULL); /* no NUL */
	cstr_case("SE\0P1\0", 6, sizeof out, -1, NULL); /* inner NUL */
	cstr_case("", 0, sizeof out, -1, NULL);     /* empty value */
	cstr_case("1234567\0", 8, 8, 0, "1234567"); /* exactly fits */
	cstr_case("12345678\0", 9, 8, -1, NULL);    /* one too long */
	cstr_case("a\0", 2, 0, -1, NULL);           /* no room at all */
	capf_msg_init(&m, 2, 1);
	assert_int_equal(capf_msg_get_cstr(&m, CAPF_TAG_PASSWORD, out, sizeof out), -1);
}

static void test_get_wrong_sizes(void **state)
{
	static const uint8_t two[2] = { 8, 0 };
	struct capf_msg m;
	uint8_t v8;
	uint16_t v16;

	capf_msg_init(&m, 3, 1);
	capf_msg_add(&m, CAPF_TAG_KEY_TYPE, two, 2);
	capf_msg_add(&m, CAPF_TAG_KEY_SIZE, two, 1);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_KEY_TYPE, &v8), -1);
	assert_int_equal(capf_msg_get_u16(&m, CAPF_TAG_KEY_SIZE, &v16), -1);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_CURVE, &v8), -1);
	assert_string_equal(capf_tag_name(CAPF_TAG_SHA2_SIGNED_DATA), "SHA2_SIGNED_DATA");
	assert_string_equal(capf_tag_name(99), "UNKNOWN");
	assert_string_equal(capf_cmd_name(0), "UNKNOWN");
}

static void unwrap_fails(const uint8_t *val, size_t len, const char *needle)
{
	const uint8_t *der;
	size_t derlen;
	char err[ERRLEN] = "";

	assert_int_equal(capf_cert_unwrap(val, len, &der, &derlen, NULL, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_wrapped_cert_errors(void **state)
{
	static const uint8_t ok[] = { 1, 0, 5, 0, 2, 0x30, 1, 0 };
	static const uint8_t longer[] = { 1, 0, 6, 0, 1, 0x30, 1, 0 };
	static const uint8_t shorter[] = { 1, 0, 4, 0, 1, 0x30, 1, 0 };
	static const uint8_t magic[] = { 2, 0, 5, 0, 1, 0x30, 1, 0 };
	const uint8_t *der;
	size_t derlen;
	uint8_t type;
	char err[ERRLEN];
	struct buf b;

	assert_int_equal(capf_cert_unwrap(ok, sizeof ok, &der, &derlen, &type, err, sizeof err), 0);
	assert_int_equal(derlen, 3);
	assert_int_equal(type, CAPF_CERT_MIC);
	unwrap_fails(longer, sizeof longer, "says 4 bytes of certificate but the element holds 3");
	unwrap_fails(shorter, sizeof shorter, "says 2 bytes");
	unwrap_fails(magic, sizeof magic, "starts with 0x02");
	unwrap_fails(ok, 5, "no room for a certificate");
	unwrap_fails(ok, 0, "no room");

	buf_init(&b);
	capf_cert_wrap(&b, ok + 5, 3, CAPF_CERT_MIC);
	assert_int_equal(b.len, sizeof ok);
	assert_memory_equal(b.data, ok, sizeof ok);
	buf_reset(&b);
	capf_cert_wrap(&b, NULL, 65531, CAPF_CERT_LSC); /* cannot fit an element */
	assert_true(b.failed);
	buf_free(&b);
}

static void test_sha2_signed_errors(void **state)
{
	static const uint8_t bad_len[] = { 3, 0, 3, 1, 2 };
	static const uint8_t empty[] = { 3, 0, 0 };
	const uint8_t *sig;
	size_t siglen;
	uint8_t id;
	char err[ERRLEN];

	assert_int_equal(capf_sha2_signed_parse(bad_len, 2, &id, &sig, &siglen, err, sizeof err), -1);
	assert_int_equal(capf_sha2_signed_parse(bad_len, sizeof bad_len, &id, &sig, &siglen, err,
						sizeof err), -1);
	assert_non_null(strstr(err, "says 3 signature bytes but holds 2"));
	assert_int_equal(capf_sha2_signed_parse(empty, sizeof empty, &id, &sig, &siglen, err,
						sizeof err), -1);
}

static void sudi_fails(const uint8_t *val, size_t len, const char *needle)
{
	struct capf_sudi s;
	char err[ERRLEN] = "";

	assert_int_equal(capf_sudi_parse(val, len, &s, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_sudi_errors(void **state)
{
	const struct vec_msg *v = find_msg(&sessions.s[3], CAPF_CMD_AUTH_RESPONSE, 0);
	static const uint8_t missing[] = { 0, 0, 1, 0x30, 1, 0, 1, 0xaa };
	static const uint8_t unknown[] = { 0, 0, 1, 0x30, 2, 0, 1, 0xaa };
	static const uint8_t dup[] = { 0, 0, 1, 0x30, 0, 0, 1, 0x30 };
	static const uint8_t empty_part[] = { 0, 0, 0, 1, 0, 1, 1, 3, 0, 1, 1 };
	const struct capf_elem *e;
	struct capf_msg m;
	struct capf_sudi s;
	char err[ERRLEN];

	decode_ok(&m, v->bytes, v->len);
	e = capf_msg_find(&m, CAPF_TAG_SUDI_DATA);
	assert_int_equal(capf_sudi_parse(e->val, e->len, &s, err, sizeof err), 0);
	for (size_t cut = 1; cut < e->len; cut += 97)
		sudi_fails(e->val, e->len - cut, "SUDI_DATA");
	sudi_fails(e->val, e->len - 1, "truncated");
	sudi_fails(e->val, 2, "truncated");
	sudi_fails(e->val, 0, "lacks its certificate");
	sudi_fails(missing, sizeof missing, "lacks its SHA-512 signature");
	sudi_fails(unknown, sizeof unknown, "unknown part 2 at byte 4");
	sudi_fails(dup, sizeof dup, "repeats part 0");
	sudi_fails(empty_part, sizeof empty_part, "part 0 at byte 0 is empty");
}

/* The server's message builders: exact bytes for the short ones, and a
 * decodable STORE_CERTIFICATE_REQUEST whose certificate unwraps to the DER. */
static void test_server_builders(void **state)
{
	static const uint8_t auth[] = { 0x55, 1, 0, 0, 0, 9, 0, 8, 7, 0, 1, 3, 8, 0, 1, 0 };
	static const uint8_t ec384[] = { 0x55, 3, 0, 0, 0, 9, 0, 8, 17, 0, 1, 1, 18, 0, 1, 1 };
	static const uint8_t rsa2048[] = { 0x55, 3, 0, 0, 0, 9, 0, 9, 10, 0, 2, 8, 0, 17, 0, 1, 0 };
	static const uint8_t end7[] = { 0x55, 15, 0, 0, 0, 9, 0, 4, 1, 0, 1, 7 };
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	const uint8_t *got;
	size_t gotlen;
	uint8_t type;
	struct capf_msg m;
	struct buf b;
	char err[128];

	(void)state;
	buf_init(&b);
	assert_int_equal(capf_put_auth_request(&b, 9), 0);
	assert_int_equal(b.len, sizeof auth);
	assert_memory_equal(b.data, auth, sizeof auth);
	b.len = 0;
	assert_int_equal(capf_put_key_request(&b, 9, CAPF_KEY_EC, 384), 0);
	assert_int_equal(b.len, sizeof ec384);
	assert_memory_equal(b.data, ec384, sizeof ec384);
	b.len = 0;
	assert_int_equal(capf_put_key_request(&b, 9, CAPF_KEY_RSA, 2048), 0);
	assert_int_equal(b.len, sizeof rsa2048);
	assert_memory_equal(b.data, rsa2048, sizeof rsa2048);
	b.len = 0;
	assert_int_equal(capf_put_end_session(&b, 9, 7), 0);
	assert_int_equal(b.len, sizeof end7);
	assert_memory_equal(b.data, end7, sizeof end7);
	b.len = 0;
	assert_int_equal(capf_put_store_lsc(&b, 9, der, sizeof der), 0);
	assert_int_equal(capf_msg_decode(&m, b.data, b.len, err, sizeof err), 0);
	assert_int_equal(m.cmd, CAPF_CMD_STORE_CERTIFICATE_REQUEST);
	assert_int_equal(capf_msg_get_u8(&m, CAPF_TAG_CERTIFICATE_TYPE, &type), 0);
	assert_int_equal(type, CAPF_CERT_LSC);
	assert_non_null(capf_msg_find(&m, CAPF_TAG_CERTIFICATE));
	assert_int_equal(capf_cert_unwrap(capf_msg_find(&m, CAPF_TAG_CERTIFICATE)->val,
					  capf_msg_find(&m, CAPF_TAG_CERTIFICATE)->len, &got, &gotlen, &type, err,
					  sizeof err), 0);
	assert_int_equal(gotlen, sizeof der);
	assert_memory_equal(got, der, sizeof der);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions_round_trip),
		cmocka_unit_test(test_auth_request_and_response),
		cmocka_unit_test(test_end_session_reasons),
		cmocka_unit_test(test_key_generate_requests),
		cmocka_unit_test(test_wrapped_certificates),
		cmocka_unit_test(test_certificate_authentication),
		cmocka_unit_test(test_build_auth_response),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_wrong_protocol_id),
		cmocka_unit_test(test_element_past_body),
		cmocka_unit_test(test_body_length_mismatch),
		cmocka_unit_test(test_zero_length_body),
		cmocka_unit_test(test_max_elements),
		cmocka_unit_test(test_oversize_encode),
		cmocka_unit_test(test_cstr_nul_handling),
		cmocka_unit_test(test_get_wrong_sizes),
		cmocka_unit_test(test_wrapped_cert_errors),
		cmocka_unit_test(test_sha2_signed_errors),
		cmocka_unit_test(test_sudi_errors),
		cmocka_unit_test(test_server_builders),
	};

	return cmocka_run_group_tests_name("wire-capf", tests, setup, teardown);
}
