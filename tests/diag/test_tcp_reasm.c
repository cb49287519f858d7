/*
 * test_tcp_reasm.c: TCP reassembly: in order, out of order, retransmitted
 * and overlapping segments, sequence wrap-around, lost segments, the snap
 * length, the stream and queue limits, and a consumer that has had enough.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag/tcp_reasm.h"

#define MAXB 8192

struct got {
	uint8_t bytes[2][MAXB];
	size_t len[2];
	int done, gap[2], evicted;
	char gap_why[2][112];
	struct tcp_endpoint a;
	size_t enough_after;     /* return 1 once this many bytes of dir 0 came (0: never) */
	struct got *all;         /* several streams: done ones land in all[done] */
};

static int on_data(struct tcp_stream *s, int dir, const uint8_t *p, size_t n, void *arg)
{
	struct got *g = arg;

	(void)s;
	assert_true(g->len[dir] + n <= MAXB);
	memcpy(g->bytes[dir] + g->len[dir], p, n);
	g->len[dir] += n;
	return dir == 0 && g->enough_after && g->len[0] >= g->enough_after;
}

static void on_done(struct tcp_stream *s, void *arg)
{
	struct got *g = arg;

	g->done++;
	g->a = s->a;
	g->evicted += s->evicted;
	for (int i = 0; i < 2; i++) {
		g->gap[i] = s->dir[i].gap;
		memcpy(g->gap_why[i], s->dir[i].gap_why, sizeof g->gap_why[i]);
	}
}

static struct tcp_endpoint ep(uint8_t last, uint16_t port)
{
	struct tcp_endpoint e = { .family = 4, .addr = { 192, 0, 2, last }, .port = port };
	return e;
}

static uint8_t pattern[MAXB];

static void seg(struct tcp_reasm *r, int from_a, uint32_t seq, uint8_t flags, size_t off, size_t n)
{
	struct tcp_segment s = { .seq = seq, .flags = flags, .payload = pattern + off, .len = n, .wire_len = n };

	s.src = from_a ? ep(1, 40000) : ep(2, 2443);
	s.dst = from_a ? ep(2, 2443) : ep(1, 40000);
	assert_int_equal(tcp_reasm_add(r, &s), 0);
}

static struct tcp_reasm *new_reasm(struct got *g, size_t max_streams)
{
	struct tcp_limits lim = { .max_streams = max_streams };
	struct tcp_hooks h = { on_data, on_done, g };

	memset(g->bytes, 0, sizeof g->bytes);
	return tcp_reasm_new(&lim, &h);
}

static void setup_pattern(void)
{
	for (size_t i = 0; i < MAXB; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
}

static void test_in_order_and_wrap(void **state)
{
	static const uint32_t isns[] = { 1000, 0xfffffff0u, 0x7fffffffu };

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		struct got g = { 0 };
		struct tcp_reasm *r = new_reasm(&g, 0);
		uint32_t isn = isns[k];

		seg(r, 1, isn, TCP_SYN, 0, 0);
		seg(r, 0, 5000, TCP_SYN | TCP_ACK, 0, 0);
		seg(r, 1, isn + 1, TCP_ACK, 0, 100);
		seg(r, 1, isn + 101, TCP_ACK, 100, 100);
		seg(r, 0, 5001, TCP_ACK, 0, 50);
		seg(r, 1, isn + 201, TCP_FIN | TCP_ACK, 200, 20);
		assert_int_equal(g.done, 0);
		seg(r, 0, 5051, TCP_FIN | TCP_ACK, 0, 0);
		assert_int_equal(g.done, 1); /* FIN both ways ends it */
		assert_int_equal(g.len[0], 220);
		assert_memory_equal(g.bytes[0], pattern, 220);
		assert_int_equal(g.len[1], 50);
		assert_int_equal(g.a.port, 40000);
		assert_false(g.gap[0]);
		seg(r, 1, isn + 221, TCP_ACK, 0, 0); /* the last ACK opens nothing */
		tcp_reasm_flush(r);
		assert_int_equal(g.done, 1);
		tcp_reasm_free(r);
	}
}

static void test_out_of_order_and_retransmit(void **state)
{
	struct got g = { 0 };
	struct tcp_reasm *r = new_reasm(&g, 0);

	(void)state;
	seg(r, 1, 100, TCP_SYN, 0, 0);
	seg(r, 1, 301, 0, 200, 100);     /* early */
	seg(r, 1, 201, 0, 100, 100);     /* early */
	seg(r, 1, 401, 0, 300, 100);     /* early */
	assert_int_equal(g.len[0], 0);
	seg(r, 1, 101, 0, 0, 100);       /* fills the gap: everything flows */
	assert_int_equal(g.len[0], 400);
	seg(r, 1, 151, 0, 50, 100);      /* retransmission overlapping the end */
	seg(r, 1, 101, 0, 0, 50);        /* a pure duplicate */
	seg(r, 1, 451, 0, 350, 150);     /* half old, half new */
	assert_int_equal(g.len[0], 500);
	assert_memory_equal(g.bytes[0], pattern, 500);
	assert_int_equal(tcp_reasm_stats(r)->ooo_segments, 3);
	assert_int_equal(tcp_reasm_stats(r)->retransmitted, 3);
	seg(r, 1, 601, TCP_RST, 0, 0);
	assert_int_equal(g.done, 1);
	assert_false(g.gap[0]);
	tcp_reasm_free(r);
}

static void test_lost_segment(void **state)
{
	struct got g = { 0 };
	struct tcp_reasm *r = new_reasm(&g, 0);

	(void)state;
	seg(r, 1, 0, TCP_SYN, 0, 0);
	seg(r, 1, 1, 0, 0, 100);
	seg(r, 1, 201, 0, 200, 100);     /* 101..200 never comes */
	tcp_reasm_flush(r);
	assert_int_equal(g.done, 1);
	assert_int_equal(g.len[0], 100);
	assert_true(g.gap[0]);
	assert_non_null(strstr(g.gap_why[0], "missing"));
	assert_non_null(strstr(g.gap_why[0], "after byte 100"));
	tcp_reasm_free(r);
}

static void test_snap_length(void **state)
{
	struct got g = { 0 };
	struct tcp_reasm *r = new_reasm(&g, 0);
	struct tcp_segment s = { .src = ep(1, 40000), .dst = ep(2, 2443), .seq = 1, .payload = pattern,
				 .len = 60, .wire_len = 1400 };

	(void)state;
	assert_int_equal(tcp_reasm_add(r, &s), 0);
	seg(r, 1, 1401, 0, 1400, 100);
	tcp_reasm_flush(r);
	assert_int_equal(g.len[0], 60);
	assert_true(g.gap[0]);
	assert_non_null(strstr(g.gap_why[0], "snap length"));
	tcp_reasm_free(r);
}

static void test_queue_limit(void **state)
{
	struct got g = { 0 };
	struct tcp_reasm *r = new_reasm(&g, 0);

	(void)state;
	seg(r, 1, 0, TCP_SYN, 0, 0);
	for (uint32_t i = 1; i <= TCP_MAX_OOO + 5; i++) /* byte 1..10 never comes */
		seg(r, 1, 1 + i * 10, 0, i * 10, 10);
	seg(r, 1, 1, 0, 0, 10);          /* too late: the direction already gave up */
	tcp_reasm_flush(r);
	assert_true(g.gap[0]);
	assert_non_null(strstr(g.gap_why[0], "too many segments out of order"));
	assert_int_equal(g.len[0], 0);
	tcp_reasm_free(r);
}

/* The queue budget over all streams: the second stream's early segment does not fit. */
static void test_total_queue_budget(void **state)
{
	struct got g = { 0 };
	struct tcp_limits lim = { .max_total_ooo_bytes = 150 };
	struct tcp_hooks h = { on_data, on_done, &g };
	struct tcp_reasm *r = tcp_reasm_new(&lim, &h);
	struct tcp_segment a = { .src = ep(1, 1000), .dst = ep(2, 80), .seq = 0, .flags = TCP_SYN };
	struct tcp_segment b = { .src = ep(1, 1001), .dst = ep(2, 80), .seq = 0, .flags = TCP_SYN };

	(void)state;
	assert_int_equal(tcp_reasm_add(r, &a), 0);
	assert_int_equal(tcp_reasm_add(r, &b), 0);
	a.flags = b.flags = 0;
	a.seq = b.seq = 101;               /* bytes 100..199: early, 1..100 missing */
	a.payload = b.payload = pattern;
	a.len = a.wire_len = b.len = b.wire_len = 100;
	assert_int_equal(tcp_reasm_add(r, &a), 0); /* fits: 100 of 150 */
	assert_int_equal(tcp_reasm_add(r, &b), 0); /* does not: the direction gives up */
	a.seq = b.seq = 1;                  /* the missing bytes arrive for both */
	assert_int_equal(tcp_reasm_add(r, &a), 0);
	assert_int_equal(tcp_reasm_add(r, &b), 0);
	tcp_reasm_flush(r);
	assert_int_equal(g.done, 2);
	/* stream a delivered 200 bytes, stream b none (its gap came first); both in g.len[0] */
	assert_int_equal(g.len[0], 200);
	assert_true(g.gap[0]);             /* the last stream finished is b */
	assert_non_null(strstr(g.gap_why[0], "too many segments out of order"));
	tcp_reasm_free(r);
}

static void test_enough(void **state)
{
	struct got g = { .enough_after = 150 };
	struct tcp_reasm *r = new_reasm(&g, 0);

	(void)state;
	seg(r, 1, 0, TCP_SYN, 0, 0);
	seg(r, 1, 301, 0, 300, 100);     /* queued */
	seg(r, 1, 1, 0, 0, 100);
	seg(r, 1, 101, 0, 100, 100);     /* consumer has enough after this */
	seg(r, 1, 201, 0, 200, 100);
	tcp_reasm_flush(r);
	assert_int_equal(g.len[0], 200);
	assert_false(g.gap[0]);          /* the queue was dropped on purpose, not lost */
	tcp_reasm_free(r);
}

static void test_syn_ack_first_and_eviction(void **state)
{
	struct got g = { 0 };
	struct tcp_reasm *r = new_reasm(&g, 2);
	struct tcp_segment s = { .seq = 1, .payload = pattern, .len = 10, .wire_len = 10 };

	(void)state;
	seg(r, 0, 7000, TCP_SYN | TCP_ACK, 0, 0);   /* capture starts at the SYN+ACK */
	seg(r, 0, 7001, 0, 0, 10);
	for (uint16_t port = 1; port <= 2; port++) {  /* two more streams: the first is evicted */
		s.src = ep(3, port);
		s.dst = ep(4, 80);
		assert_int_equal(tcp_reasm_add(r, &s), 0);
	}
	assert_int_equal(g.done, 1);
	assert_int_equal(g.evicted, 1);
	assert_int_equal(g.a.port, 40000);          /* the opener, though its SYN was not seen */
	assert_int_equal(g.len[1], 10);
	assert_int_equal(tcp_reasm_stats(r)->evicted, 1);
	assert_int_equal(tcp_reasm_stats(r)->peak_streams, 2);
	tcp_reasm_flush(r);
	assert_int_equal(g.done, 3);
	tcp_reasm_free(r);
}

static void test_endpoint_text(void **state)
{
	struct tcp_endpoint v6 = { .family = 6, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .port = 2443 };
	struct tcp_endpoint v4 = ep(10, 5060);
	char buf[64];

	(void)state;
	tcp_endpoint_text(&v6, buf, sizeof buf);
	assert_string_equal(buf, "[2001:db8::1]:2443");
	tcp_endpoint_text(&v4, buf, sizeof buf);
	assert_string_equal(buf, "192.0.2.10:5060");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_wrap),
		cmocka_unit_test(test_out_of_order_and_retransmit),
		cmocka_unit_test(test_lost_segment),
		cmocka_unit_test(test_snap_length),
		cmocka_unit_test(test_queue_limit),
		cmocka_unit_test(test_total_queue_budget),
		cmocka_unit_test(test_enough),
		cmocka_unit_test(test_syn_ack_first_and_eviction),
		cmocka_unit_test(test_endpoint_text),
	};
	setup_pattern();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
