/*
 * test_tvs_msg.c: unit tests of the TVS message codec (src/wire/tvs_msg.h)
 * and the shared role table (src/wire/roles.h), against the recorded
 * exchanges in tests/vectors/tvs-sessions.json plus edge cases, and the
 * element type it shares with the CAPF codec (src/wire/tlv.h).
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
#include "wire/roles.h"
#include "wire/tvs_msg.h"

static struct vec_sessions sessions;

static int setup(void **state)
{
	vec_load_sessions("tvs-sessions.json", &sessions);
	return 0;
}

static int teardown(void **state)
{
	vec_free_sessions(&sessions);
	return 0;
}

static void decode_ok(struct tvs_msg *m, const uint8_t *data, size_t len)
{
	char err[ERRLEN] = "";

	if (tvs_msg_decode(m, data, len, err, sizeof err) != 0)
		fail_msg("decode failed: %s", err);
}

static void assert_encodes_to(const struct tvs_msg *m, const uint8_t *data, size_t len)
{
	struct buf b;

	buf_init(&b);
	assert_int_equal(tvs_msg_encode(m, &b), 0);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, data, len);
	buf_free(&b);
}

static void test_sessions_round_trip(void **state)
{
	assert_int_equal(sessions.n, 2);
	for (size_t i = 0; i < sessions.n; i++) {
		const struct vec_session *s = &sessions.s[i];

		assert_int_equal(s->nmsgs, 2);
		for (size_t j = 0; j < s->nmsgs; j++) {
			const struct vec_msg *v = &s->msgs[j];
			struct tvs_msg m;
			size_t total = 0;
			char err[ERRLEN];

			decode_ok(&m, v->bytes, v->len);
			assert_int_equal(m.session_id, i + 1);
			assert_int_equal(m.cmd, strcmp(v->from, "phone") == 0 ?
					 TVS_CMD_VERIFY_REQUEST : TVS_CMD_VERIFY_RESPONSE);
			assert_int_equal(m.reserved, 0);
			assert_encodes_to(&m, v->bytes, v->len);
			assert_int_equal(tvs_frame_length(v->bytes, v->len, &total, err, sizeof err), 1);
			assert_int_equal(total, v->len);
			assert_int_equal(tvs_frame_length(v->bytes, v->len - 1, &total, err, sizeof err), 0);
		}
	}
}

static void test_verify_requests(void **state)
{
	static const size_t certlens[] = { 972, 860 };

	for (size_t i = 0; i < sessions.n; i++) {
		struct tvs_msg m;
		const struct tvs_elem *cert;
		char name[64];

		decode_ok(&m, sessions.s[i].msgs[0].bytes, sessions.s[i].msgs[0].len);
		assert_string_equal(tvs_cmd_name(m.cmd), "VERIFY_REQUEST");
		assert_int_equal(tvs_msg_get_device_name(&m, name, sizeof name), 0);
		assert_string_equal(name, "CP-7962-SEP0011223344AA");
		cert = tvs_msg_find(&m, TVS_TAG_CERTIFICATE);
		assert_non_null(cert);
		assert_int_equal(cert->len, certlens[i]);
		assert_int_equal(cert->val[0], 0x30);
		assert_int_equal(4u + get_u16(cert->val + 2), cert->len);
	}
}

static void test_known_certificate_response(void **state)
{
	const struct vec_msg *v = &sessions.s[0].msgs[1];
	struct tvs_msg m;
	uint8_t status, roles[8];
	uint32_t ttl;
	size_t n;

	decode_ok(&m, v->bytes, v->len);
	assert_int_equal(tvs_msg_get_u8(&m, TVS_TAG_STATUS, &status), 0);
	assert_int_equal(status, TVS_STATUS_VALID);
	assert_string_equal(tvs_status_name(status), "VALID");
	assert_int_equal(tvs_msg_get_roles(&m, roles, sizeof roles, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(role_name(roles[0]), "CCM");
	assert_string_equal(role_name(roles[1]), "CAPF");
	assert_int_equal(tvs_msg_get_u32(&m, TVS_TAG_TTL, &ttl), 0);
	assert_int_equal(ttl, 86400);
	/* The recorder printed the same interpretation. */
	assert_non_null(strstr(sessions.s[0].client_output, "Role:             CCM"));
	assert_non_null(strstr(sessions.s[0].client_output, "TTL:              86400"));
}

static void test_unknown_certificate_response(void **state)
{
	const struct vec_msg *v = &sessions.s[1].msgs[1];
	struct tvs_msg m;
	uint8_t status, roles[8];
	uint32_t ttl;
	size_t n;

	decode_ok(&m, v->bytes, v->len);
	assert_int_equal(m.nelems, 1);
	assert_int_equal(tvs_msg_get_u8(&m, TVS_TAG_STATUS, &status), 0);
	assert_int_equal(status, TVS_STATUS_INVALID);
	assert_int_equal(tvs_msg_get_roles(&m, roles, sizeof roles, &n), -1);
	assert_int_equal(tvs_msg_get_u32(&m, TVS_TAG_TTL, &ttl), -1);
	assert_non_null(strstr(sessions.s[1].client_output, "Invalid"));
}

/* Requests and responses built with the helpers equal the recordings. */
static void test_build_messages(void **state)
{
	const struct vec_msg *req = &sessions.s[0].msgs[0], *resp = &sessions.s[0].msgs[1];
	const struct vec_msg *resp2 = &sessions.s[1].msgs[1];
	static const uint8_t roles[] = { ROLE_CCM, ROLE_CAPF };
	uint8_t valid = TVS_STATUS_VALID, invalid = TVS_STATUS_INVALID, ttl[4];
	struct tvs_msg in, m;
	struct buf name;
	const struct tvs_elem *cert;

	decode_ok(&in, req->bytes, req->len);
	cert = tvs_msg_find(&in, TVS_TAG_CERTIFICATE);
	buf_init(&name);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 1);
	assert_int_equal(tvs_msg_add_device_name(&m, &name, "CP-7962-SEP0011223344AA"), 0);
	assert_int_equal(tvs_msg_add(&m, TVS_TAG_CERTIFICATE, cert->val, cert->len), 0);
	assert_encodes_to(&m, req->bytes, req->len);
	buf_free(&name);

	tvs_msg_init(&m, TVS_CMD_VERIFY_RESPONSE, 1);
	assert_int_equal(tvs_msg_add_u8(&m, TVS_TAG_STATUS, &valid), 0);
	assert_int_equal(tvs_msg_add(&m, TVS_TAG_ROLES, roles, sizeof roles), 0);
	assert_int_equal(tvs_msg_add_u32(&m, TVS_TAG_TTL, ttl, 86400), 0);
	assert_encodes_to(&m, resp->bytes, resp->len);

	tvs_msg_init(&m, TVS_CMD_VERIFY_RESPONSE, 2);
	assert_int_equal(tvs_msg_add_u8(&m, TVS_TAG_STATUS, &invalid), 0);
	assert_encodes_to(&m, resp2->bytes, resp2->len);
}

/* ---- edge cases ---- */

static void decode_fails(const uint8_t *data, size_t len, const char *needle)
{
	struct tvs_msg m;
	char err[ERRLEN] = "";

	assert_int_equal(tvs_msg_decode(&m, data, len, err, sizeof err), -1);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_truncated_header(void **state)
{
	static const uint8_t msg[] = { 0x57, 1, 1, 0, 0, 0, 0, 1, 0, 0 };
	size_t total;
	char err[ERRLEN];

	for (size_t n = 0; n < sizeof msg; n++) {
		decode_fails(msg, n, "shorter than the 10-byte header");
		assert_int_equal(tvs_frame_length(msg, n, &total, err, sizeof err), 0);
	}
}

static void test_wrong_protocol_and_version(void **state)
{
	static const uint8_t capf[] = { 0x55, 1, 1, 0, 0, 0, 0, 1, 0, 0 };
	static const uint8_t v2[] = { 0x57, 2, 1, 0, 0, 0, 0, 1, 0, 0 };
	size_t total;
	char err[ERRLEN] = "";

	decode_fails(capf, sizeof capf, "protocol id 0x55");
	decode_fails(v2, sizeof v2, "unsupported TVS version 2");
	assert_int_equal(tvs_frame_length(capf, 1, &total, err, sizeof err), -1);
	assert_int_equal(tvs_frame_length(v2, 2, &total, err, sizeof err), -1);
	assert_non_null(strstr(err, "version"));
}

static void test_element_and_body_lengths(void **state)
{
	static const uint8_t past_body[] = { 0x57, 1, 2, 0, 0, 0, 0, 1, 0, 4, 7, 0, 2, 0 };
	static const uint8_t short_hdr[] = { 0x57, 1, 2, 0, 0, 0, 0, 1, 0, 2, 7, 0 };
	static const uint8_t past_data[] = { 0x57, 1, 2, 0, 0, 0, 0, 1, 0, 9, 7, 0, 1, 0 };
	static const uint8_t trailing[] = { 0x57, 1, 2, 0, 0, 0, 0, 1, 0, 0, 7 };

	decode_fails(past_body, sizeof past_body, "STATUS (tag 7) at byte 10 has length 2, past");
	decode_fails(short_hdr, sizeof short_hdr, "truncated TVS element header at byte 10");
	decode_fails(past_data, sizeof past_data, "body length 9 runs past the 4 bytes");
	decode_fails(trailing, sizeof trailing, "1 bytes after its 0-byte body");
}

static void test_zero_body_and_reserved(void **state)
{
	static const uint8_t msg[] = { 0x57, 1, 3, 0x5a, 0xca, 0xfe, 0, 1, 0, 0 };
	struct tvs_msg m;

	decode_ok(&m, msg, sizeof msg);
	assert_int_equal(m.nelems, 0);
	assert_int_equal(m.reserved, 0x5a); /* kept so re-encoding is exact */
	assert_int_equal(m.session_id, 0xcafe0001);
	assert_string_equal(tvs_cmd_name(m.cmd), "QUERY_REQUEST");
	assert_encodes_to(&m, msg, sizeof msg);
}

static void test_max_elements(void **state)
{
	uint8_t msg[TVS_HEADER_LEN + 3 * (TVS_MAX_ELEMS + 1)];
	size_t body = 3 * TVS_MAX_ELEMS;
	struct tvs_msg m;

	memset(msg, 0, sizeof msg);
	msg[0] = TVS_PROTOCOL_ID;
	msg[1] = TVS_VERSION;
	msg[8] = (uint8_t)(body >> 8);
	msg[9] = (uint8_t)body;
	decode_ok(&m, msg, TVS_HEADER_LEN + body);
	assert_int_equal(m.nelems, TVS_MAX_ELEMS);
	assert_int_equal(tvs_msg_add(&m, 1, NULL, 0), -1);
	body += 3;
	msg[8] = (uint8_t)(body >> 8);
	msg[9] = (uint8_t)body;
	decode_fails(msg, TVS_HEADER_LEN + body, "more than 64 elements");
}

static void test_oversize_encode(void **state)
{
	static uint8_t big[40000];
	struct tvs_msg m;
	struct buf b;

	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 1);
	assert_int_equal(tvs_msg_add(&m, TVS_TAG_CERTIFICATE, big, 65536), -1);
	assert_int_equal(tvs_msg_add(&m, TVS_TAG_CERTIFICATE, big, sizeof big), 0);
	assert_int_equal(tvs_msg_add(&m, TVS_TAG_CERTIFICATE, big, sizeof big), 0);
	buf_init(&b);
	assert_int_equal(tvs_msg_encode(&m, &b), -1);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

/* Both codecs keep their elements as struct wire_elem (wire/tlv.h): the body
 * of a decoded CAPF message, moved into a TVS message, encodes to the same
 * body bytes behind a TVS header. */
static void test_shared_elements(void **state)
{
	static const uint8_t capf[] = { 0x55, 1, 0, 0, 0, 9, 0, 9, 7, 0, 1, 3, 8, 0, 2, 0xab, 0xcd };
	struct capf_msg c;
	struct tvs_msg t;
	char err[ERRLEN] = "";
	struct buf b;

	assert_int_equal(capf_msg_decode(&c, capf, sizeof capf, err, sizeof err), 0);
	tvs_msg_init(&t, TVS_CMD_QUERY_REQUEST, 9);
	for (size_t i = 0; i < c.nelems; i++)
		t.elems[t.nelems++] = c.elems[i];
	assert_ptr_equal(tvs_msg_find(&t, 8)->val, capf_msg_find(&c, 8)->val);
	buf_init(&b);
	assert_int_equal(tvs_msg_encode(&t, &b), 0);
	assert_int_equal(b.len, TVS_HEADER_LEN + sizeof capf - CAPF_HEADER_LEN);
	assert_memory_equal(b.data + TVS_HEADER_LEN, capf + CAPF_HEADER_LEN,
			    sizeof capf - CAPF_HEADER_LEN);
	buf_free(&b);
}

static void device_name_case(const void *val, size_t len, size_t outcap, int want)
{
	struct tvs_msg m;
	char out[32];

	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 1);
	tvs_msg_add(&m, TVS_TAG_DEVICE_NAME, val, len);
	assert_int_equal(tvs_msg_get_device_name(&m, out, outcap), want);
}

static void test_device_name_edges(void **state)
{
	struct tvs_msg m;
	struct buf store;
	char out[32];

	device_name_case("\x01" "CP-7962-SEP1", 12, sizeof out, 0);
	device_name_case("\x02" "CP-7962-SEP1", 12, sizeof out, -1); /* wrong lead byte */
	device_name_case("CP-7962-SEP1", 11, sizeof out, -1);        /* no lead byte */
	device_name_case("\x01", 1, sizeof out, -1);                 /* empty */
	device_name_case("\x01" "CP\0X", 5, sizeof out, -1);         /* inner NUL */
	device_name_case("\x01" "ABCDEFG", 8, 8, 0);                 /* fits exactly */
	device_name_case("\x01" "ABCDEFGH", 9, 8, -1);               /* one too long */
	buf_init(&store);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, 1);
	assert_int_equal(tvs_msg_add_device_name(&m, &store, ""), -1);
	assert_int_equal(tvs_msg_add_device_name(&m, &store, "CP-8865-SEPAABBCCDDEEFF"), 0);
	assert_int_equal(tvs_msg_get_device_name(&m, out, sizeof out), 0);
	assert_string_equal(out, "CP-8865-SEPAABBCCDDEEFF");
	buf_free(&store);
}

static void test_roles_and_ttl_edges(void **state)
{
	static const uint8_t three[3] = { 0, 1, 4 };
	struct tvs_msg m;
	uint8_t roles[2], v8;
	uint32_t v32;
	size_t n;

	tvs_msg_init(&m, TVS_CMD_VERIFY_RESPONSE, 1);
	tvs_msg_add(&m, TVS_TAG_ROLES, three, 3);
	tvs_msg_add(&m, TVS_TAG_TTL, three, 3);
	tvs_msg_add(&m, TVS_TAG_STATUS, three, 2);
	assert_int_equal(tvs_msg_get_roles(&m, roles, 2, &n), -1);
	assert_int_equal(tvs_msg_get_u32(&m, TVS_TAG_TTL, &v32), -1);
	assert_int_equal(tvs_msg_get_u8(&m, TVS_TAG_STATUS, &v8), -1);
	assert_string_equal(tvs_tag_name(TVS_TAG_TTL), "TTL");
	assert_string_equal(tvs_tag_name(3), "UNKNOWN");
	assert_string_equal(tvs_status_name(5), "UNKNOWN");
	/* An empty ROLES element is legal: no roles. */
	tvs_msg_init(&m, TVS_CMD_VERIFY_RESPONSE, 1);
	tvs_msg_add(&m, TVS_TAG_ROLES, NULL, 0);
	assert_int_equal(tvs_msg_get_roles(&m, roles, 2, &n), 0);
	assert_int_equal(n, 0);
}

static void test_role_table(void **state)
{
	const struct role_info *t;
	size_t n = role_table(&t);
	uint16_t id;

	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(role_name(t[i].id), t[i].name);
		assert_int_equal(role_from_name(t[i].name, &id), 0);
		assert_int_equal(id, t[i].id);
	}
	assert_string_equal(role_name(ROLE_SAST), "SAST");
	assert_string_equal(role_name(ROLE_CCM_TFTP), "CCM+TFTP");
	assert_string_equal(role_name(ROLE_APP_SERVER), "APP-SERVER");
	assert_string_equal(role_name(ROLE_TVS), "TVS");
	assert_null(role_name(5));
	assert_int_equal(role_from_name("ccm+tftp", &id), 0);
	assert_int_equal(id, 2);
	assert_int_equal(role_from_name("21", &id), 0);
	assert_int_equal(id, 21);
	assert_int_equal(role_from_name("65535", &id), 0);
	assert_int_equal(role_from_name("65536", &id), -1);
	assert_int_equal(role_from_name("", &id), -1);
	assert_int_equal(role_from_name("CAPF2", &id), -1);
	assert_int_equal(role_from_name("-1", &id), -1);
	assert_int_equal(role_from_name(NULL, &id), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions_round_trip),
		cmocka_unit_test(test_verify_requests),
		cmocka_unit_test(test_known_certificate_response),
		cmocka_unit_test(test_unknown_certificate_response),
		cmocka_unit_test(test_build_messages),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_wrong_protocol_and_version),
		cmocka_unit_test(test_element_and_body_lengths),
		cmocka_unit_test(test_zero_body_and_reserved),
		cmocka_unit_test(test_max_elements),
		cmocka_unit_test(test_oversize_encode),
		cmocka_unit_test(test_shared_elements),
		cmocka_unit_test(test_device_name_edges),
		cmocka_unit_test(test_roles_and_ttl_edges),
		cmocka_unit_test(test_role_table),
	};

	return cmocka_run_group_tests_name("wire-tvs", tests, setup, teardown);
}
