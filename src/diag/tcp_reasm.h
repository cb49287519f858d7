/*
 * tcp_reasm.h: TCP stream reassembly for capture analysis, in bounded memory.
 *
 * Segments go in (addresses, ports, sequence number, flags, payload), in
 * capture order; each direction's bytes come out in order, once, through
 * the `data` hook, and each connection ends through the `done` hook.
 * Retransmissions and overlaps are trimmed; segments that arrive early wait
 * (at most TCP_MAX_OOO of them and `max_ooo_bytes` per direction) until the
 * gap before them fills. A gap that never fills, a segment cut by the
 * capture's snap length, or a full queue ends that direction there, and the
 * stream says so (`gap`, `gap_why`).
 *
 * Memory is bounded: the reassembler keeps no delivered bytes, only the
 * queued early segments (per direction and in all); at most `max_streams` connections are open at once
 * (the least recently active one is finished early to make room); a
 * consumer that has seen enough of a direction says so (the data hook
 * returns 1) and later bytes of it are neither queued nor delivered.
 *
 * Pure: no I/O; the caller decodes packets (pcap_read.c).
 */
#ifndef OPENCAPF_DIAG_TCP_REASM_H
#define OPENCAPF_DIAG_TCP_REASM_H

#include <stddef.h>
#include <stdint.h>

#define TCP_MAX_OOO 64

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

struct tcp_endpoint {
	int family;              /* 4 or 6 */
	uint8_t addr[16];        /* IPv4 in the first 4 bytes */
	uint16_t port;
};

struct tcp_segment {
	struct tcp_endpoint src, dst;
	uint32_t seq;
	uint8_t flags;
	const uint8_t *payload;
	size_t len;              /* payload bytes captured */
	size_t wire_len;         /* payload bytes on the wire (> len when the snap length cut it) */
	int64_t ts_usec;         /* capture time, microseconds */
};

struct tcp_ooo {
	uint32_t seq;
	uint8_t *data;
	size_t len;
};

struct tcp_dir {
	int started;             /* next_seq is known */
	uint32_t next_seq;       /* sequence number of the next byte expected */
	uint64_t delivered;      /* bytes handed to the data hook */
	size_t nooo, ooo_bytes;
	struct tcp_ooo ooo[TCP_MAX_OOO];
	int fin;
	int enough;              /* the consumer wants no more */
	int gap;                 /* bytes are missing after `delivered`: nothing more is delivered */
	char gap_why[112];
};

struct tcp_stream {
	uint64_t index;          /* 1, 2, ... in order of first packet */
	struct tcp_endpoint a, b; /* a: the SYN sender, else the first sender */
	int syn_seen, rst, evicted;
	int64_t first_ts, last_ts;
	uint64_t packets;
	struct tcp_dir dir[2];   /* dir[0]: a -> b, dir[1]: b -> a */
	void *user;              /* the consumer's, freed by it in the done hook */
	struct tcp_stream *hnext;        /* hash chain */
	struct tcp_stream *lprev, *lnext; /* activity list, least recent first */
};

struct tcp_limits {
	size_t max_streams;      /* open at once (default 1024) */
	size_t max_ooo_bytes;    /* queued out of order per direction (default 128 KiB) */
	size_t max_total_ooo_bytes; /* queued out of order over all streams (default 32 MiB) */
};

/* Consumer hooks. data(): the next contiguous bytes of direction `dir`;
 * return 1 when no more of that direction are wanted. done(): the stream
 * is finished (FIN both ways, RST, eviction, or the end of the capture);
 * it is freed when done returns. */
struct tcp_hooks {
	int (*data)(struct tcp_stream *s, int dir, const uint8_t *p, size_t n, void *arg);
	void (*done)(struct tcp_stream *s, void *arg);
	void *arg;
};

struct tcp_stats {
	uint64_t segments, streams, evicted;
	uint64_t ooo_segments;   /* segments that arrived before a gap filled */
	uint64_t retransmitted;  /* segments wholly or partly seen before */
	uint64_t peak_streams;
};

struct tcp_reasm;

/* limits NULL or fields 0: defaults. NULL on out of memory. */
struct tcp_reasm *tcp_reasm_new(const struct tcp_limits *limits, const struct tcp_hooks *hooks);
/* 0, or -1 on out of memory (the segment is lost and the stream marked). */
int tcp_reasm_add(struct tcp_reasm *r, const struct tcp_segment *seg);
/* Finish every open stream (end of capture). */
void tcp_reasm_flush(struct tcp_reasm *r);
/* Finishes what is still open (through done, so consumers free their state). */
void tcp_reasm_free(struct tcp_reasm *r);
const struct tcp_stats *tcp_reasm_stats(const struct tcp_reasm *r);

/* "192.0.2.1:2443" or "[2001:db8::1]:2443". */
void tcp_endpoint_text(const struct tcp_endpoint *e, char *out, size_t outcap);

#endif
