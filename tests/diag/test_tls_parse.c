/*
 * test_tls_parse.c: the TLS side parser on what OpenSSL really sends
 * (TLS 1.0, 1.2 and 1.3 handshakes run in memory, with an LSC, a MIC, a
 * stranger's certificate or none), fed whole, byte by byte and cut short;
 * and on malformed input, which must stop it with an error, never crash it.
 *
 * With TLS_CORPUS_OUT=DIR in the environment it also writes the transcripts
 * there, as seeds for fuzz/corpus/tls (each after one chunk-size byte).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag/tls_parse.h"
#include "diag_test_util.h"
#include "pki/pki.h"

static struct test_pki P;

static int setup(void **state)
{
	(void)state;
	test_pki_make(&P);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_pki_free(&P);
	return 0;
}

static void parse_whole(struct tls_side *s, const uint8_t *d, size_t n)
{
	memset(s, 0, sizeof *s);
	tls_side_feed(s, d, n);
}

static void assert_cert_is(const struct tls_cert *c, X509 *want)
{
	uint8_t *der = NULL;
	size_t len = 0;

	assert_int_equal(pki_cert_to_der(want, &der, &len), 0);
	assert_int_equal(c->len, len);
	assert_memory_equal(c->der, der, len);
	OPENSSL_free(der);
}

/* The facts of two parses must agree (whole vs. chunked). */
static void assert_same(const struct tls_side *a, const struct tls_side *b)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->client_hello, b->client_hello);
	assert_int_equal(a->server_hello, b->server_hello);
	assert_int_equal(a->selected_version, b->selected_version);
	assert_int_equal(a->max_version, b->max_version);
	assert_int_equal(a->cipher, b->cipher);
	assert_int_equal(a->cert_request, b->cert_request);
	assert_int_equal(a->ncerts, b->ncerts);
	for (size_t i = 0; i < a->ncerts; i++) {
		assert_int_equal(a->certs[i].len, b->certs[i].len);
		assert_memory_equal(a->certs[i].der, b->certs[i].der, a->certs[i].len);
	}
	assert_int_equal(a->nalerts, b->nalerts);
	assert_int_equal(a->nmsgs, b->nmsgs);
	assert_memory_equal(a->msg_types, b->msg_types, sizeof a->msg_types);
	assert_string_equal(a->error, b->error);
}

static void check_chunked(const uint8_t *d, size_t n)
{
	struct tls_side whole, bytes, halves;

	parse_whole(&whole, d, n);
	memset(&bytes, 0, sizeof bytes);
	for (size_t i = 0; i < n; i++)
		tls_side_feed(&bytes, d + i, 1);
	memset(&halves, 0, sizeof halves);
	tls_side_feed(&halves, d, n / 3);
	tls_side_feed(&halves, d + n / 3, n - n / 3);
	assert_same(&whole, &bytes);
	assert_same(&whole, &halves);
	tls_side_free(&whole);
	tls_side_free(&bytes);
	tls_side_free(&halves);
	/* every prefix parses without harm */
	for (size_t cut = 0; cut < n; cut += 7) {
		struct tls_side s;
		parse_whole(&s, d, cut);
		assert_true(s.state != TLS_SIDE_ERROR);
		tls_side_free(&s);
	}
}

static void save_seed(const char *name, const uint8_t *d, size_t n)
{
	const char *dir = getenv("TLS_CORPUS_OUT");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if ((f = fopen(path, "wb"))) {
		fputc(13, f); /* fuzz_tls_parse's first byte: the chunk size */
		fwrite(d, 1, n, f);
		fclose(f);
	}
}

static void test_tls12_lsc(void **state)
{
	struct transcript t;
	struct tls_side c, s;
	static const uint8_t server_msgs[] = { TLS_HT_SERVER_HELLO, TLS_HT_CERTIFICATE, TLS_HT_SERVER_KEY_EXCHANGE,
					       TLS_HT_CERTIFICATE_REQUEST, TLS_HT_SERVER_HELLO_DONE };

	(void)state;
	tls_transcript(&t, TT_TLS12, P.capf, P.capf_key, P.lsc, P.lsc_key, P.capf);
	assert_true(t.ok);
	save_seed("tls12-lsc-client.bin", t.c2s, t.c2s_len);
	save_seed("tls12-lsc-server.bin", t.s2c, t.s2c_len);
	parse_whole(&c, t.c2s, t.c2s_len);
	parse_whole(&s, t.s2c, t.s2c_len);
	assert_int_equal(c.state, TLS_SIDE_ENCRYPTED);
	assert_true(c.client_hello);
	assert_int_equal(c.max_version, 0x0303);
	assert_true(c.ciphers_offered > 2);
	assert_true(c.certificate_msg);
	assert_int_equal(c.ncerts, 1);
	assert_cert_is(&c.certs[0], P.lsc);
	assert_true(c.cert_verify);
	assert_int_equal(c.msg_types[1], TLS_HT_CERTIFICATE);
	assert_int_equal(c.msg_types[2], TLS_HT_CLIENT_KEY_EXCHANGE);
	assert_int_equal(s.state, TLS_SIDE_ENCRYPTED);
	assert_true(s.server_hello);
	assert_int_equal(s.selected_version, 0x0303);
	assert_int_equal(s.cipher, t.cipher);
	assert_true(s.cert_request);
	assert_int_equal(s.ncerts, 1);
	assert_cert_is(&s.certs[0], P.capf);
	assert_int_equal(s.nmsgs, 6);            /* and a NewSessionTicket, still in the clear */
	assert_memory_equal(s.msg_types, server_msgs, sizeof server_msgs);
	assert_int_equal(s.msg_types[5], 4);
	assert_int_equal(s.nalerts, 0);
	check_chunked(t.c2s, t.c2s_len);
	check_chunked(t.s2c, t.s2c_len);
	tls_side_free(&c);
	tls_side_free(&s);
	transcript_free(&t);
}

static void test_tls10_mic(void **state)
{
	struct transcript t;
	struct tls_side c, s;
	char buf[16];

	(void)state;
	tls_transcript(&t, TT_TLS10, P.capf, P.capf_key, P.mic, P.mic_key, P.mfg);
	assert_true(t.ok);
	save_seed("tls10-mic-client.bin", t.c2s, t.c2s_len);
	save_seed("tls10-mic-server.bin", t.s2c, t.s2c_len);
	parse_whole(&c, t.c2s, t.c2s_len);
	parse_whole(&s, t.s2c, t.s2c_len);
	assert_int_equal(c.hello_version, 0x0301);
	assert_int_equal(c.ncerts, 1);
	assert_cert_is(&c.certs[0], P.mic);
	assert_int_equal(s.selected_version, 0x0301);
	assert_string_equal(tls_version_name(s.selected_version, buf, sizeof buf), "TLS 1.0");
	assert_int_equal(s.cipher, 0x0035);
	assert_string_equal(tls_cipher_name(s.cipher, buf, sizeof buf), "AES256-SHA");
	check_chunked(t.c2s, t.c2s_len);
	tls_side_free(&c);
	tls_side_free(&s);
	transcript_free(&t);
}

static void test_tls12_refused_unknown_ca(void **state)
{
	struct transcript t;
	struct tls_side c, s;

	(void)state;
	tls_transcript(&t, TT_TLS12, P.capf, P.capf_key, P.other_leaf, P.other_leaf_key, P.capf);
	assert_false(t.ok);
	save_seed("tls12-refused-server.bin", t.s2c, t.s2c_len);
	parse_whole(&c, t.c2s, t.c2s_len);
	parse_whole(&s, t.s2c, t.s2c_len);
	assert_int_equal(c.ncerts, 1);
	assert_cert_is(&c.certs[0], P.other_leaf);
	assert_int_equal(s.nalerts, 1);
	assert_int_equal(s.alerts[0].level, 2);
	assert_int_equal(s.alerts[0].desc, 48);
	assert_string_equal(tls_alert_name(s.alerts[0].desc), "unknown CA");
	tls_side_free(&c);
	tls_side_free(&s);
	transcript_free(&t);
}

static void test_tls12_no_client_cert(void **state)
{
	struct transcript t;
	struct tls_side c, s;

	(void)state;
	tls_transcript(&t, TT_TLS12, P.capf, P.capf_key, NULL, NULL, P.capf);
	assert_false(t.ok);
	parse_whole(&c, t.c2s, t.c2s_len);
	parse_whole(&s, t.s2c, t.s2c_len);
	assert_true(c.certificate_msg);        /* TLS 1.2: an empty Certificate message */
	assert_int_equal(c.ncerts_total, 0);
	assert_true(s.cert_request);
	assert_int_equal(s.nalerts, 1);
	assert_int_equal(s.alerts[0].desc, 40);  /* OpenSSL: handshake failure */
	tls_side_free(&c);
	tls_side_free(&s);
	transcript_free(&t);
}

static void test_tls13(void **state)
{
	struct transcript t;
	struct tls_side c, s;

	(void)state;
	tls_transcript(&t, TT_TLS13, P.capf, P.capf_key, P.lsc, P.lsc_key, P.capf);
	assert_true(t.ok);
	save_seed("tls13-client.bin", t.c2s, t.c2s_len);
	save_seed("tls13-server.bin", t.s2c, t.s2c_len);
	parse_whole(&c, t.c2s, t.c2s_len);
	parse_whole(&s, t.s2c, t.s2c_len);
	assert_int_equal(c.max_version, 0x0304);
	assert_int_equal(c.hello_version, 0x0303);
	assert_int_equal(s.hello_version, 0x0303);
	assert_int_equal(s.selected_version, 0x0304);
	assert_int_equal(s.cipher, t.cipher);
	assert_false(s.hello_retry);
	assert_int_equal(c.ncerts, 0);         /* encrypted */
	assert_int_equal(s.ncerts, 0);
	assert_int_equal(s.state, TLS_SIDE_ENCRYPTED);
	check_chunked(t.s2c, t.s2c_len);
	tls_side_free(&c);
	tls_side_free(&s);
	transcript_free(&t);
}

static void expect_error(const uint8_t *d, size_t n, enum tls_side_state want, const char *text)
{
	struct tls_side s;

	parse_whole(&s, d, n);
	assert_int_equal(s.state, want);
	if (text) {
		if (!strstr(s.error, text))
			fail_msg("error \"%s\" lacks \"%s\"", s.error, text);
	}
	tls_side_free(&s);
}

static void test_malformed(void **state)
{
	/* a ServerHello record, then a record with version 9.9 */
	static const uint8_t bad_version[] = { 22, 3, 3, 0, 4, 14, 0, 0, 0, 22, 9, 9, 0, 1, 0 };
	/* a record longer than TLS allows */
	static const uint8_t too_long[] = { 22, 3, 1, 0, 4, 14, 0, 0, 0, 22, 3, 3, 0x50, 0x00 };
	/* a Certificate whose list length disagrees with the message */
	static const uint8_t bad_list[] = { 22, 3, 3, 0, 10, 11, 0, 0, 6, 0, 0, 9, 0, 0, 1 };
	/* a certificate entry running past its list */
	static const uint8_t bad_entry[] = { 22, 3, 3, 0, 11, 11, 0, 0, 7, 0, 0, 4, 0, 0, 9, 1 };
	/* a handshake message claiming 16 MiB */
	static const uint8_t huge[] = { 22, 3, 3, 0, 4, 11, 0xff, 0xff, 0xff };
	/* a ClientHello cut inside its random */
	static const uint8_t short_hello[] = { 22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 1, 2 };
	static const uint8_t http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15 };
	/* a warning alert then application data: stops, alert kept */
	static const uint8_t alert_then_data[] = { 21, 3, 3, 0, 2, 1, 0, 23, 3, 3, 0, 1, 0xaa };

	(void)state;
	expect_error(bad_version, sizeof bad_version, TLS_SIDE_ERROR, "bad TLS record header at stream offset 9");
	expect_error(too_long, sizeof too_long, TLS_SIDE_ERROR, "length 20480");
	expect_error(bad_list, sizeof bad_list, TLS_SIDE_ERROR, "list length does not match");
	expect_error(bad_entry, sizeof bad_entry, TLS_SIDE_ERROR, "certificate 1 overruns");
	expect_error(huge, sizeof huge, TLS_SIDE_ERROR, "exceeds");
	expect_error(short_hello, sizeof short_hello, TLS_SIDE_ERROR, "malformed ClientHello");
	expect_error(http, sizeof http - 1, TLS_SIDE_NOT_TLS, NULL);
	expect_error(sslv2, sizeof sslv2, TLS_SIDE_NOT_TLS, "SSLv2");
	expect_error(alert_then_data, sizeof alert_then_data, TLS_SIDE_ENCRYPTED, NULL);
	{
		struct tls_side s;
		parse_whole(&s, alert_then_data, sizeof alert_then_data);
		assert_int_equal(s.nalerts, 1);
		assert_int_equal(s.alerts[0].level, 1);
		assert_string_equal(tls_alert_name(s.alerts[0].desc), "close notify");
		assert_int_equal(tls_side_feed(&s, http, 5), 1); /* done: later bytes only counted */
		assert_int_equal(s.bytes, sizeof alert_then_data + 5);
		tls_side_free(&s);
	}
}

/* Every single-byte corruption of a real transcript: no crash, no overread
 * (ASan), and a certificate is only reported when its bytes are intact. */
static void test_corruptions(void **state)
{
	struct transcript t;

	(void)state;
	tls_transcript(&t, TT_TLS12, P.capf, P.capf_key, P.lsc, P.lsc_key, P.capf);
	for (size_t i = 0; i < t.c2s_len && i < 2000; i++) {
		uint8_t *copy = malloc(t.c2s_len);
		struct tls_side s;

		memcpy(copy, t.c2s, t.c2s_len);
		copy[i] ^= 0x80;
		parse_whole(&s, copy, t.c2s_len);
		for (size_t k = 0; k < s.ncerts; k++)
			assert_true(s.certs[k].len > 0 && s.certs[k].len < t.c2s_len);
		tls_side_free(&s);
		free(copy);
	}
	transcript_free(&t);
}

static void test_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(tls_alert_name(45), "certificate expired");
	assert_string_equal(tls_alert_name(42), "bad certificate");
	assert_null(tls_alert_name(200));
	assert_string_equal(tls_version_name(0x0303, buf, sizeof buf), "TLS 1.2");
	assert_string_equal(tls_version_name(0x7f1c, buf, sizeof buf), "0x7f1c");
	assert_string_equal(tls_cipher_name(0x002f, buf, sizeof buf), "AES128-SHA");
	assert_string_equal(tls_cipher_name(0xbeef, buf, sizeof buf), "0xbeef");
	assert_string_equal(tls_handshake_name(TLS_HT_CLIENT_KEY_EXCHANGE), "ClientKeyExchange");
	assert_int_equal(tls_looks_like_tls((const uint8_t *)"\x16\x03\x01", 3), 1);
	assert_int_equal(tls_looks_like_tls((const uint8_t *)"GET", 3), 0);
	assert_int_equal(tls_looks_like_tls((const uint8_t *)"\x16", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls12_lsc),
		cmocka_unit_test(test_tls10_mic),
		cmocka_unit_test(test_tls12_refused_unknown_ca),
		cmocka_unit_test(test_tls12_no_client_cert),
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
