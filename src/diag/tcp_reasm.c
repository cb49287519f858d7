/*
 * tcp_reasm.c: TCP reassembly in bounded memory (tcp_reasm.h).
 *
 * Streams live in a hash table (chained, keyed symmetrically on both
 * endpoints, so both directions find the same stream) and on a list ordered
 * by last activity, so that the least recently active stream can be
 * finished in O(1) when the table is full. Sequence numbers are compared
 * modulo 2^32 (int32_t of the difference), so wrap-around is handled.
 */
#include "diag/tcp_reasm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_BUCKETS 4096
#define DEFAULT_MAX_STREAMS 1024
#define DEFAULT_MAX_OOO_BYTES (128 * 1024)
#define DEFAULT_MAX_TOTAL_OOO_BYTES (32 * 1024 * 1024)

struct tcp_reasm {
	struct tcp_limits lim;
	struct tcp_hooks hooks;
	struct tcp_stats stats;
	size_t open;
	size_t ooo_total;        /* bytes queued out of order, all streams */
	struct tcp_stream *lru_head, *lru_tail;
	struct tcp_stream *buckets[HASH_BUCKETS];
};

/* ---- endpoints ---- */

static int endpoint_eq(const struct tcp_endpoint *x, const struct tcp_endpoint *y)
{
	size_t n = x->family == 6 ? 16 : 4;

	return x->family == y->family && x->port == y->port && memcmp(x->addr, y->addr, n) == 0;
}

static uint32_t endpoint_hash(const struct tcp_endpoint *e)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t n = e->family == 6 ? 16 : 4;

	for (size_t i = 0; i < n; i++)
		h = (h ^ e->addr[i]) * 16777619u;
	h = (h ^ (e->port & 0xff)) * 16777619u;
	return (h ^ (e->port >> 8)) * 16777619u;
}

static size_t bucket_of(const struct tcp_endpoint *x, const struct tcp_endpoint *y)
{
	return (endpoint_hash(x) ^ endpoint_hash(y)) % HASH_BUCKETS; /* symmetric */
}

void tcp_endpoint_text(const struct tcp_endpoint *e, char *out, size_t outcap)
{
	char host[INET6_ADDRSTRLEN] = "?";

	inet_ntop(e->family == 6 ? AF_INET6 : AF_INET, e->addr, host, sizeof host);
	if (e->family == 6)
		snprintf(out, outcap, "[%s]:%u", host, e->port);
	else
		snprintf(out, outcap, "%s:%u", host, e->port);
}

/* ---- the table and the activity list ---- */

struct tcp_reasm *tcp_reasm_new(const struct tcp_limits *limits, const struct tcp_hooks *hooks)
{
	struct tcp_reasm *r = calloc(1, sizeof *r);

	if (!r)
		return NULL;
	if (limits)
		r->lim = *limits;
	if (!r->lim.max_streams)
		r->lim.max_streams = DEFAULT_MAX_STREAMS;
	if (!r->lim.max_ooo_bytes)
		r->lim.max_ooo_bytes = DEFAULT_MAX_OOO_BYTES;
	if (!r->lim.max_total_ooo_bytes)
		r->lim.max_total_ooo_bytes = DEFAULT_MAX_TOTAL_OOO_BYTES;
	r->hooks = *hooks;
	return r;
}

static void lru_unlink(struct tcp_reasm *r, struct tcp_stream *s)
{
	if (s->lprev)
		s->lprev->lnext = s->lnext;
	else
		r->lru_head = s->lnext;
	if (s->lnext)
		s->lnext->lprev = s->lprev;
	else
		r->lru_tail = s->lprev;
	s->lprev = s->lnext = NULL;
}

static void lru_append(struct tcp_reasm *r, struct tcp_stream *s)
{
	s->lprev = r->lru_tail;
	s->lnext = NULL;
	if (r->lru_tail)
		r->lru_tail->lnext = s;
	else
		r->lru_head = s;
	r->lru_tail = s;
}

static struct tcp_stream *find(struct tcp_reasm *r, const struct tcp_segment *seg, int *dir)
{
	for (struct tcp_stream *s = r->buckets[bucket_of(&seg->src, &seg->dst)]; s; s = s->hnext) {
		if (endpoint_eq(&s->a, &seg->src) && endpoint_eq(&s->b, &seg->dst)) {
			*dir = 0;
			return s;
		}
		if (endpoint_eq(&s->a, &seg->dst) && endpoint_eq(&s->b, &seg->src)) {
			*dir = 1;
			return s;
		}
	}
	return NULL;
}

static void dir_clear_queue(struct tcp_reasm *r, struct tcp_dir *d)
{
	for (size_t i = 0; i < d->nooo; i++)
		free(d->ooo[i].data);
	r->ooo_total -= d->ooo_bytes;
	d->nooo = 0;
	d->ooo_bytes = 0;
}

static void mark_gap(struct tcp_reasm *r, struct tcp_dir *d, const char *why)
{
	if (!d->gap) {
		d->gap = 1;
		snprintf(d->gap_why, sizeof d->gap_why, "%s after byte %llu", why,
			 (unsigned long long)d->delivered);
	}
	dir_clear_queue(r, d);
}

/* Unlink, report to the consumer, free. */
static void finish(struct tcp_reasm *r, struct tcp_stream *s)
{
	struct tcp_stream **pp = &r->buckets[bucket_of(&s->a, &s->b)];

	while (*pp && *pp != s)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = s->hnext;
	lru_unlink(r, s);
	r->open--;
	for (int i = 0; i < 2; i++)
		if (s->dir[i].nooo && !s->dir[i].enough)
			mark_gap(r, &s->dir[i], "segments missing from the capture");
	if (r->hooks.done)
		r->hooks.done(s, r->hooks.arg);
	for (int i = 0; i < 2; i++)
		dir_clear_queue(r, &s->dir[i]);
	free(s);
}

static struct tcp_stream *create(struct tcp_reasm *r, const struct tcp_segment *seg, int *dir)
{
	struct tcp_stream *s;
	size_t b;

	if (r->open >= r->lim.max_streams && r->lru_head) {
		r->lru_head->evicted = 1;
		r->stats.evicted++;
		finish(r, r->lru_head);
	}
	if (!(s = calloc(1, sizeof *s)))
		return NULL;
	/* a SYN+ACK comes from the server: keep `a` the side that opened */
	*dir = (seg->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
	s->a = *dir ? seg->dst : seg->src;
	s->b = *dir ? seg->src : seg->dst;
	s->index = ++r->stats.streams;
	s->first_ts = seg->ts_usec;
	b = bucket_of(&s->a, &s->b);
	s->hnext = r->buckets[b];
	r->buckets[b] = s;
	lru_append(r, s);
	if (++r->open > r->stats.peak_streams)
		r->stats.peak_streams = r->open;
	return s;
}

/* ---- bytes ---- */

static void deliver(struct tcp_reasm *r, struct tcp_stream *s, int dir, const uint8_t *p, size_t n)
{
	struct tcp_dir *d = &s->dir[dir];

	d->next_seq += (uint32_t)n;
	d->delivered += n;
	if (d->enough || n == 0)
		return;
	if (r->hooks.data && r->hooks.data(s, dir, p, n, r->hooks.arg)) {
		d->enough = 1;
		dir_clear_queue(r, d);
	}
}

/* Deliver queued segments that the stream has caught up with. */
static void drain_queue(struct tcp_reasm *r, struct tcp_stream *s, int dir)
{
	struct tcp_dir *d = &s->dir[dir];
	int progress = 1;

	while (progress && d->nooo && !d->gap && !d->enough) {
		progress = 0;
		for (size_t i = 0; i < d->nooo; i++) {
			struct tcp_ooo q = d->ooo[i];
			int32_t off = (int32_t)(q.seq - d->next_seq);

			if (off > 0)
				continue;
			d->ooo[i] = d->ooo[--d->nooo];
			d->ooo_bytes -= q.len;
			r->ooo_total -= q.len;
			if ((size_t)-(int64_t)off < q.len)
				deliver(r, s, dir, q.data + (size_t)-(int64_t)off, q.len - (size_t)-(int64_t)off);
			free(q.data);
			progress = 1;
			break;
		}
	}
}

static void enqueue(struct tcp_reasm *r, struct tcp_dir *d, uint32_t seq, const uint8_t *p, size_t n)
{
	uint8_t *copy;

	r->stats.ooo_segments++;
	if (d->nooo == TCP_MAX_OOO || d->ooo_bytes + n > r->lim.max_ooo_bytes ||
	    r->ooo_total + n > r->lim.max_total_ooo_bytes) {
		mark_gap(r, d, "too many segments out of order (lost from the capture?)");
		return;
	}
	if (!(copy = malloc(n))) {
		mark_gap(r, d, "out of memory");
		return;
	}
	memcpy(copy, p, n);
	d->ooo[d->nooo++] = (struct tcp_ooo){ seq, copy, n };
	d->ooo_bytes += n;
	r->ooo_total += n;
}

static void payload(struct tcp_reasm *r, struct tcp_stream *s, int dir, uint32_t seq,
		    const struct tcp_segment *seg)
{
	struct tcp_dir *d = &s->dir[dir];
	const uint8_t *p = seg->payload;
	size_t n = seg->len;
	int32_t off;

	if (!d->started) {
		d->started = 1;
		d->next_seq = seq;
	}
	if (d->gap || d->enough)
		return;
	if (n == 0) {
		if (seg->wire_len > 0)
			mark_gap(r, d, "the capture's snap length cut a segment");
		return;
	}
	off = (int32_t)(seq - d->next_seq);
	if (off < 0) {
		size_t dup = (size_t)-(int64_t)off;
		r->stats.retransmitted++;
		if (dup >= n)
			return;
		p += dup;
		n -= dup;
		off = 0;
	}
	if (off > 0) {
		if (seg->len < seg->wire_len)
			mark_gap(r, d, "the capture's snap length cut a segment");
		else
			enqueue(r, d, seq, p, n);
		return;
	}
	deliver(r, s, dir, p, n);
	if (seg->len < seg->wire_len)
		mark_gap(r, d, "the capture's snap length cut a segment");
	drain_queue(r, s, dir);
}

int tcp_reasm_add(struct tcp_reasm *r, const struct tcp_segment *seg)
{
	struct tcp_stream *s;
	uint32_t seq = seg->seq;
	int dir = 0;

	r->stats.segments++;
	s = find(r, seg, &dir);
	/* a fresh SYN on a stream that carried data: the port pair was reused */
	if (s && (seg->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && (s->dir[0].delivered || s->dir[1].delivered)) {
		finish(r, s);
		s = NULL;
	}
	if (!s) {
		if (!(seg->flags & TCP_SYN) && seg->wire_len == 0)
			return 0; /* a bare ACK/FIN/RST of a stream already finished or never seen */
		if (!(s = create(r, seg, &dir)))
			return -1;
	}
	lru_unlink(r, s);
	lru_append(r, s);
	s->packets++;
	s->last_ts = seg->ts_usec;
	if (seg->flags & TCP_SYN) {
		s->syn_seen = 1;
		if (!s->dir[dir].started) {
			s->dir[dir].started = 1;
			s->dir[dir].next_seq = seq + 1;
		}
		seq++;
	}
	payload(r, s, dir, seq, seg);
	if (seg->flags & TCP_FIN)
		s->dir[dir].fin = 1;
	if (seg->flags & TCP_RST)
		s->rst = 1;
	if (s->rst || (s->dir[0].fin && s->dir[1].fin))
		finish(r, s);
	return 0;
}

void tcp_reasm_flush(struct tcp_reasm *r)
{
	while (r->lru_head)
		finish(r, r->lru_head);
}

void tcp_reasm_free(struct tcp_reasm *r)
{
	if (!r)
		return;
	tcp_reasm_flush(r); /* the consumer frees its per-stream state in done */
	free(r);
}

const struct tcp_stats *tcp_reasm_stats(const struct tcp_reasm *r)
{
	return &r->stats;
}
