/*
 * test_capture.c: capture files from real handshakes, end to end through
 * libpcap, the frame decoders, reassembly and the TLS parser: every link
 * layer, IPv4 and IPv6, pcap and pcapng, reordered, retransmitted, lost and
 * cut segments, the port filter, TLS 1.3; classification of the client
 * certificate with and without a state; and files that are empty, garbage
 * or cut short, which must give a clear error and no crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "diag/capture.h"
#include "diag_test_util.h"
#include "pki/pki.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static struct test_pki P;
static struct transcript T_lsc, T_mic, T_other, T_13;
static char *dir;
static char path[4096];

static int setup(void **state)
{
	(void)state;
	test_pki_make(&P);
	tls_transcript(&T_lsc, TT_TLS12, P.capf, P.capf_key, P.lsc, P.lsc_key, P.capf);
	tls_transcript(&T_mic, TT_TLS10, P.capf, P.capf_key, P.mic, P.mic_key, P.mfg);
	tls_transcript(&T_other, TT_TLS12, P.capf, P.capf_key, P.other_leaf, P.other_leaf_key, P.capf);
	tls_transcript(&T_13, TT_TLS13, P.capf, P.capf_key, P.lsc, P.lsc_key, P.capf);
	dir = diag_tmpdir();
	snprintf(path, sizeof path, "%s/cap", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	transcript_free(&T_lsc);
	transcript_free(&T_mic);
	transcript_free(&T_other);
	transcript_free(&T_13);
	test_pki_free(&P);
	diag_rmdir(dir);
	return 0;
}

static struct capfile_opts opts(int linktype)
{
	struct capfile_opts o = { .linktype = linktype, .mss = 700, .isn = 0xfffff000u,
				  .client_port = 40001, .server_port = 2443 };
	return o;
}

/* A classification context made of the test PKI (what a state would hold). */
static void test_ctx(struct classify_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->capf = calloc(1, sizeof *ctx->capf);
	ctx->capf[0].cert = P.capf;
	X509_up_ref(P.capf);
	snprintf(ctx->capf[0].state, sizeof ctx->capf[0].state, "previous");
	snprintf(ctx->capf[0].cn, sizeof ctx->capf[0].cn, "CAPF-test");
	ctx->ncapf = 1;
	ctx->mfg = sk_X509_new_null();
	X509_up_ref(P.mfg);
	sk_X509_push(ctx->mfg, P.mfg);
}

static void assert_der(const struct tls_cert *c, X509 *want)
{
	uint8_t *der = NULL;
	size_t len = 0;

	pki_cert_to_der(want, &der, &len);
	assert_int_equal(c->len, len);
	assert_memory_equal(c->der, der, len);
	OPENSSL_free(der);
}

static void analyse_ok(struct capture_result *res, uint16_t port)
{
	int rc = capture_analyse_file(path, port, NULL, res);

	if (rc != 0)
		fail_msg("analyse: %s", res->error);
}

/* With PCAP_CORPUS_OUT=DIR, keep each capture there (seeds for fuzz/corpus/pcap). */
static void save_seed(const struct capfile_opts *o)
{
	const char *out = getenv("PCAP_CORPUS_OUT");
	char cmd[8400];

	if (!out)
		return;
	snprintf(cmd, sizeof cmd, "cp '%s' '%s/link%d-ip%d%s%s.%s'", path, out, o->linktype, o->ipv6 ? 6 : 4,
		 o->swap_pairs ? "-reordered" : "", o->snaplen ? "-cut" : "", o->pcapng ? "pcapng" : "pcap");
	if (system(cmd) != 0)
		fprintf(stderr, "cannot save a seed\n");
}

static void check_one_conn(const struct capfile_opts *o, const char *client, const char *server)
{
	struct capture_result res;
	char text[64];

	capfile_write(path, &T_lsc, o);
	save_seed(o);
	analyse_ok(&res, 0);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.not_tls, 0);
	tcp_endpoint_text(&res.conns[0].client, text, sizeof text);
	assert_string_equal(text, client);
	tcp_endpoint_text(&res.conns[0].server, text, sizeof text);
	assert_string_equal(text, server);
	assert_int_equal(res.conns[0].c.ncerts, 1);
	assert_der(&res.conns[0].c.certs[0], P.lsc);
	assert_int_equal(res.conns[0].s.ncerts, 1);
	assert_der(&res.conns[0].s.certs[0], P.capf);
	assert_int_equal(res.conns[0].s.cipher, T_lsc.cipher);
	assert_false(res.conns[0].gap[0] || res.conns[0].gap[1]);
	capture_result_free(&res);
}

static void test_link_layers(void **state)
{
	struct capfile_opts o;

	(void)state;
	o = opts(DLT_EN10MB);
	check_one_conn(&o, "192.0.2.10:40001", "192.0.2.20:2443");
	o = opts(DLT_LINUX_SLL);
	check_one_conn(&o, "192.0.2.10:40001", "192.0.2.20:2443");
	o = opts(DLT_LINUX_SLL2);
	o.ipv6 = 1;
	o.pcapng = 1;
	check_one_conn(&o, "[2001:db8::10]:40001", "[2001:db8::20]:2443");
	o = opts(DLT_NULL);
	o.ipv6 = 1;
	check_one_conn(&o, "[2001:db8::10]:40001", "[2001:db8::20]:2443");
	o = opts(101); /* LINKTYPE_RAW, in pcapng */
	o.pcapng = 1;
	check_one_conn(&o, "192.0.2.10:40001", "192.0.2.20:2443");
	o = opts(DLT_RAW);
	check_one_conn(&o, "192.0.2.10:40001", "192.0.2.20:2443");
}

static void test_reordered_and_retransmitted(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	struct capture_result res;

	(void)state;
	o.mss = 300;
	o.swap_pairs = 1;
	o.retransmit = 1;
	check_one_conn(&o, "192.0.2.10:40001", "192.0.2.20:2443");
	capfile_write(path, &T_lsc, &o);
	analyse_ok(&res, 0);
	assert_true(res.tcp.ooo_segments > 0);
	assert_true(res.tcp.retransmitted > 0);
	capture_result_free(&res);
}

static int has_note(json_t *conn, const char *text)
{
	json_t *notes = json_object_get(conn, "notes"), *v;
	size_t i;

	json_array_foreach(notes, i, v)
		if (strstr(json_string_value(v), text))
			return 1;
	return 0;
}

static void test_lost_and_cut(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	struct capture_result res;
	json_t *j;

	(void)state;
	o.mss = 200;
	o.drop_one = 1;
	capfile_write(path, &T_lsc, &o);
	analyse_ok(&res, 0);
	assert_int_equal(res.n, 1);
	assert_true(res.conns[0].gap[0]);
	assert_int_equal(res.conns[0].c.ncerts, 0); /* the chain lay in the lost bytes */
	j = capture_conn_json(&res.conns[0], NULL);
	assert_true(has_note(j, "client to server: segments missing"));
	json_decref(j);
	capture_result_free(&res);

	o = opts(DLT_EN10MB);
	o.snaplen = 120;
	capfile_write(path, &T_lsc, &o);
	analyse_ok(&res, 0);
	assert_true(res.counts.cut > 0);
	assert_true(res.conns[0].gap[0]);
	j = capture_conn_json(&res.conns[0], NULL);
	assert_true(has_note(j, "snap length"));
	json_decref(j);
	capture_result_free(&res);
}

static void test_port_filter(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	struct capture_result res;

	(void)state;
	capfile_write(path, &T_lsc, &o);
	analyse_ok(&res, 2444);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.counts.tcp, 0);
	assert_true(res.counts.filtered > 0);
	capture_result_free(&res);
	analyse_ok(&res, 40001); /* either end's port */
	assert_int_equal(res.n, 1);
	capture_result_free(&res);
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v ? v : "(null)";
}

static json_t *client_leaf(json_t *conn)
{
	return json_array_get(json_object_get(conn, "client_chain"), 0);
}

static void test_classification(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	struct classify_ctx ctx;
	struct capture_result res;
	json_t *j;

	(void)state;
	test_ctx(&ctx);
	capfile_write(path, &T_lsc, &o);
	analyse_ok(&res, 0);
	j = capture_conn_json(&res.conns[0], &ctx);
	assert_string_equal(str(client_leaf(j), "kind"), "LSC");
	assert_int_equal(json_integer_value(json_object_get(client_leaf(j), "rule")), 1);
	assert_non_null(strstr(str(client_leaf(j), "why"), "(previous)"));
	assert_string_equal(str(client_leaf(j), "cn"), "SEP001122334455");
	assert_string_equal(str(j, "version"), "TLS 1.2");
	assert_true(json_is_true(json_object_get(j, "certificate_request")));
	assert_null(json_object_get(json_array_get(json_object_get(j, "server_chain"), 0), "kind"));
	assert_string_equal(str(json_array_get(json_object_get(j, "server_chain"), 0), "issuer_cn"),
			    str(json_array_get(json_object_get(j, "server_chain"), 0), "cn")); /* self-signed CAPF */
	json_decref(j);
	j = capture_conn_json(&res.conns[0], NULL); /* no state: by the CN */
	assert_string_equal(str(client_leaf(j), "kind"), "LSC");
	assert_int_equal(json_integer_value(json_object_get(client_leaf(j), "rule")), 2);
	json_decref(j);
	capture_result_free(&res);

	capfile_write(path, &T_mic, &o);
	analyse_ok(&res, 0);
	j = capture_conn_json(&res.conns[0], &ctx);
	assert_string_equal(str(client_leaf(j), "kind"), "MIC");
	assert_int_equal(json_integer_value(json_object_get(client_leaf(j), "rule")), 3);
	assert_string_equal(str(j, "version"), "TLS 1.0");
	assert_string_equal(str(j, "cipher"), "AES256-SHA");
	json_decref(j);
	j = capture_conn_json(&res.conns[0], NULL);
	assert_int_equal(json_integer_value(json_object_get(client_leaf(j), "rule")), 4);
	json_decref(j);
	capture_result_free(&res);

	capfile_write(path, &T_other, &o);
	analyse_ok(&res, 0);
	j = capture_conn_json(&res.conns[0], &ctx);
	assert_string_equal(str(client_leaf(j), "kind"), "unknown");
	assert_int_equal(json_integer_value(json_object_get(client_leaf(j), "rule")), 5);
	{
		json_t *alert = json_array_get(json_object_get(j, "alerts"), 0);
		assert_string_equal(str(alert, "from"), "server");
		assert_string_equal(str(alert, "level"), "fatal");
		assert_string_equal(str(alert, "description"), "unknown CA");
	}
	json_decref(j);
	capture_result_free(&res);
	classify_ctx_free(&ctx);
}

static void test_tls13(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	struct capture_result res;
	json_t *j;

	(void)state;
	capfile_write(path, &T_13, &o);
	analyse_ok(&res, 0);
	assert_int_equal(res.n, 1);
	j = capture_conn_json(&res.conns[0], NULL);
	assert_string_equal(str(j, "version"), "TLS 1.3");
	assert_true(json_is_true(json_object_get(j, "tls13")));
	assert_int_equal(json_array_size(json_object_get(j, "client_chain")), 0);
	assert_true(has_note(j, "TLS 1.3: the certificates are encrypted"));
	json_decref(j);
	capture_result_free(&res);
}

static void write_file(const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void expect_bad(const char *text, int partial)
{
	struct capture_result res;

	assert_int_equal(capture_analyse_file(path, 0, NULL, &res), -1);
	if (!strstr(res.error, text))
		fail_msg("error \"%s\" lacks \"%s\"", res.error, text);
	assert_int_equal(res.partial, partial);
	capture_result_free(&res);
}

static void test_bad_files(void **state)
{
	struct capfile_opts o = opts(DLT_EN10MB);
	uint8_t junk[512];
	uint8_t *whole;
	size_t size;
	FILE *f;

	(void)state;
	write_file("", 0);
	expect_bad("not a capture file", 0);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (uint8_t)(i * 31 + 7);
	write_file(junk, sizeof junk);
	expect_bad("not a capture file", 0);
	unlink(path);
	expect_bad("cannot open", 0);

	/* a capture cut in the middle of a packet: what came before is kept */
	size = capfile_write(path, &T_lsc, &o);
	whole = malloc(size);
	f = fopen(path, "rb");
	assert_int_equal(fread(whole, 1, size, f), size);
	fclose(f);
	for (size_t cut = 24 + 16 + 5; cut < size; cut += size / 13) {
		struct capture_result res;
		write_file(whole, cut);
		if (capture_analyse_file(path, 0, NULL, &res) < 0) {
			assert_true(res.partial);
			assert_non_null(strstr(res.error, "breaks off"));
		}
		capture_result_free(&res);
	}
	/* every byte of the headers and first frames corrupted in turn */
	for (size_t i = 0; i < 200 && i < size; i++) {
		struct capture_result res;
		whole[i] ^= 0xa5;
		write_file(whole, size);
		capture_analyse_file(path, 0, NULL, &res);
		capture_result_free(&res);
		whole[i] ^= 0xa5;
	}
	free(whole);
}

static void test_decode_frame(void **state)
{
	struct pcap_counts c = { 0 };
	struct tcp_segment seg;
	/* IPv4 claiming a 60-byte header in a 24-byte frame */
	static const uint8_t bad_ihl[24] = { 0x4f, 0, 0, 24 };
	/* IPv4 total length beyond the frame on the wire */
	uint8_t long_total[40] = { 0x45, 0, 0x05, 0xdc, 0, 0, 0, 0, 64, 6 };
	/* IPv4 fragment */
	uint8_t frag[40] = { 0x45, 0, 0, 40, 0, 0, 0x20, 0, 64, 6 };
	/* UDP */
	uint8_t udp[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 17 };
	/* TCP with data offset 15 (60 bytes) in 20 bytes */
	uint8_t bad_tcp[40] = { 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, [32] = 0xf0 };
	/* Ethernet, ARP */
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };

	(void)state;
	assert_int_equal(pcap_decode_frame(DLT_RAW, bad_ihl, sizeof bad_ihl, sizeof bad_ihl, &seg, &c), -1);
	assert_int_equal(pcap_decode_frame(DLT_RAW, long_total, 40, 40, &seg, &c), -1);
	assert_int_equal(pcap_decode_frame(DLT_RAW, frag, 40, 40, &seg, &c), 0);
	assert_int_equal(c.fragments, 1);
	assert_int_equal(pcap_decode_frame(DLT_RAW, udp, 40, 40, &seg, &c), 0);
	assert_int_equal(pcap_decode_frame(DLT_RAW, bad_tcp, 40, 40, &seg, &c), -1);
	assert_int_equal(pcap_decode_frame(DLT_EN10MB, arp, 42, 42, &seg, &c), 0);
	assert_int_equal(pcap_decode_frame(DLT_EN10MB, arp, 10, 42, &seg, &c), -1);
	assert_int_equal(pcap_decode_frame(DLT_LINUX_SLL2, arp, 19, 19, &seg, &c), -1);
	assert_int_equal(pcap_decode_frame(147, arp, 42, 42, &seg, &c), -1); /* a link type we do not know */
	assert_int_equal(c.malformed, 6);
	assert_int_equal(c.other, 2);
	/* a good minimal TCP segment in raw IPv4, cut by the snap length */
	{
		uint8_t ok[60] = { 0x45, 0, 0, 60, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2,
				   0x9c, 0x41, 0x09, 0x8b, 0, 0, 0, 42, 0, 0, 0, 0, 0x50, 0x18 };
		assert_int_equal(pcap_decode_frame(DLT_RAW, ok, 50, 60, &seg, &c), 1);
		assert_int_equal(seg.src.port, 40001);
		assert_int_equal(seg.dst.port, 2443);
		assert_int_equal(seg.seq, 42);
		assert_int_equal(seg.len, 10);
		assert_int_equal(seg.wire_len, 20);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_layers),
		cmocka_unit_test(test_reordered_and_retransmitted),
		cmocka_unit_test(test_lost_and_cut),
		cmocka_unit_test(test_port_filter),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_decode_frame),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
