/*
 * pcap_read.c: capture files through libpcap, frames down to TCP
 * (pcap_read.h).
 *
 * The decoders work on (pointer, length) slices: each layer checks that its
 * header is there before it reads it and hands the rest to the next layer,
 * cut to the length its own header claims (so Ethernet padding never looks
 * like TCP payload). Captured length and length on the wire are carried
 * separately, so the reassembler knows when the snap length cut a segment.
 */
#include "diag/pcap_read.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <string.h>

#include "common/util.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

struct slice {
	const uint8_t *p;
	size_t len;              /* captured */
	size_t wire;             /* on the wire (>= len) */
};

static int skip(struct slice *s, size_t n)
{
	if (s->len < n)
		return -1;
	s->p += n;
	s->len -= n;
	s->wire = s->wire >= n ? s->wire - n : 0;
	return 0;
}

/* The layer below claims `claimed` bytes from here on. */
static int limit(struct slice *s, size_t claimed)
{
	if (claimed > s->wire)
		return -1; /* claims more than the frame had on the wire */
	s->wire = claimed;
	if (s->len > claimed)
		s->len = claimed;
	return 0;
}

/* ---- transport ---- */

static int decode_tcp(struct slice s, struct tcp_segment *seg)
{
	size_t hl;

	if (s.len < 20)
		return -1;
	hl = (size_t)(s.p[12] >> 4) * 4;
	if (hl < 20 || hl > s.len)
		return -1;
	seg->src.port = get_u16(s.p);
	seg->dst.port = get_u16(s.p + 2);
	seg->seq = get_u32(s.p + 4);
	seg->flags = s.p[13];
	skip(&s, hl);
	seg->payload = s.p;
	seg->len = s.len;
	seg->wire_len = s.wire;
	return 1;
}

static int decode_ipv4(struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	size_t hl, total;
	uint16_t frag;

	if (s.len < 20 || (s.p[0] >> 4) != 4)
		return -1;
	hl = (size_t)(s.p[0] & 0x0f) * 4;
	total = get_u16(s.p + 2);
	if (hl < 20 || hl > s.len || total < hl || limit(&s, total) < 0)
		return -1;
	frag = get_u16(s.p + 6);
	if (frag & 0x3fff) { /* more fragments, or an offset */
		c->fragments++;
		return 0;
	}
	if (s.p[9] != 6) {
		c->other++;
		return 0;
	}
	seg->src.family = seg->dst.family = 4;
	memcpy(seg->src.addr, s.p + 12, 4);
	memcpy(seg->dst.addr, s.p + 16, 4);
	skip(&s, hl);
	return decode_tcp(s, seg);
}

static int decode_ipv6(struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	uint8_t next;

	if (s.len < 40 || (s.p[0] >> 4) != 6)
		return -1;
	if (limit(&s, 40 + (size_t)get_u16(s.p + 4)) < 0)
		return -1;
	next = s.p[6];
	seg->src.family = seg->dst.family = 6;
	memcpy(seg->src.addr, s.p + 8, 16);
	memcpy(seg->dst.addr, s.p + 24, 16);
	skip(&s, 40);
	/* hop-by-hop, routing, destination options: (next, length in 8-byte units - 1) */
	for (int hops = 0; next == 0 || next == 43 || next == 60; hops++) {
		size_t extlen;

		if (hops > 8 || s.len < 2)
			return -1;
		extlen = 8 + (size_t)s.p[1] * 8;
		next = s.p[0];
		if (skip(&s, extlen) < 0)
			return -1;
	}
	if (next == 44) { /* fragment header: only a whole datagram (offset 0, no more) is TCP we can use */
		if (s.len < 8)
			return -1;
		if ((get_u16(s.p + 2) & 0xfff9) != 0) {
			c->fragments++;
			return 0;
		}
		next = s.p[0];
		skip(&s, 8);
	}
	if (next != 6) {
		c->other++;
		return 0;
	}
	return decode_tcp(s, seg);
}

static int decode_ip(struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	if (s.len < 1)
		return -1;
	switch (s.p[0] >> 4) {
	case 4: return decode_ipv4(s, seg, c);
	case 6: return decode_ipv6(s, seg, c);
	default: c->other++; return 0;
	}
}

static int by_ethertype(uint16_t type, struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	if (type == 0x0800)
		return decode_ipv4(s, seg, c);
	if (type == 0x86dd)
		return decode_ipv6(s, seg, c);
	c->other++;
	return 0;
}

/* ---- link layers ---- */

static int decode_ethernet(struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	uint16_t type;

	if (s.len < 14)
		return -1;
	type = get_u16(s.p + 12);
	skip(&s, 14);
	for (int tags = 0; (type == 0x8100 || type == 0x88a8) && tags < 2; tags++) {
		if (s.len < 4)
			return -1;
		type = get_u16(s.p + 2);
		skip(&s, 4);
	}
	return by_ethertype(type, s, seg, c);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static int decode_null(struct slice s, struct tcp_segment *seg, struct pcap_counts *c)
{
	uint32_t be, le;

	if (s.len < 4)
		return -1;
	be = get_u32(s.p);
	le = (uint32_t)s.p[0] | (uint32_t)s.p[1] << 8 | (uint32_t)s.p[2] << 16 | (uint32_t)s.p[3] << 24;
	skip(&s, 4);
	if (be == 2 || le == 2)
		return decode_ipv4(s, seg, c);
	if (be == 10 || le == 10 || be == 24 || le == 24 || be == 28 || le == 28 || be == 30 || le == 30)
		return decode_ipv6(s, seg, c);
	c->other++;
	return 0;
}

int pcap_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_NULL: case DLT_LOOP: case DLT_RAW: case 101:
	case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_IPV4: case DLT_IPV6:
		return 1;
	default:
		return 0;
	}
}

int pcap_decode_frame(int dlt, const uint8_t *frame, size_t caplen, size_t wirelen,
		      struct tcp_segment *seg, struct pcap_counts *c)
{
	struct slice s = { frame, caplen, wirelen < caplen ? caplen : wirelen };
	int rc;

	memset(seg, 0, sizeof *seg);
	switch (dlt) {
	case DLT_EN10MB:
		rc = decode_ethernet(s, seg, c);
		break;
	case DLT_NULL: case DLT_LOOP:
		rc = decode_null(s, seg, c);
		break;
	case DLT_LINUX_SLL: /* 16 bytes, protocol last */
		rc = s.len < 16 ? -1 : by_ethertype(get_u16(s.p + 14), (struct slice){ s.p + 16, s.len - 16, s.wire - 16 },
						    seg, c);
		break;
	case DLT_LINUX_SLL2: /* 20 bytes, protocol first */
		rc = s.len < 20 ? -1 : by_ethertype(get_u16(s.p), (struct slice){ s.p + 20, s.len - 20, s.wire - 20 },
						    seg, c);
		break;
	case DLT_IPV4:
		rc = decode_ipv4(s, seg, c);
		break;
	case DLT_IPV6:
		rc = decode_ipv6(s, seg, c);
		break;
	default: /* raw IP: DLT_RAW, and LINKTYPE_RAW (101) should libpcap not map it */
		rc = pcap_linktype_supported(dlt) ? decode_ip(s, seg, c) : -1;
		break;
	}
	if (rc < 0)
		c->malformed++;
	return rc;
}

/* ---- the file ---- */

static void link_name(int dlt, char *out, size_t cap)
{
	const char *name = pcap_datalink_val_to_name(dlt), *desc = pcap_datalink_val_to_description(dlt);

	snprintf(out, cap, "%s (%s)", name ? name : "?", desc ? desc : "unknown");
}

static int read_packets(pcap_t *p, uint16_t port, struct tcp_reasm *r, struct pcap_counts *c,
			int *partial, char *err, size_t errlen)
{
	int dlt = pcap_datalink(p), rc;
	struct pcap_pkthdr *h;
	const u_char *data;

	link_name(dlt, c->linktype, sizeof c->linktype);
	if (!pcap_linktype_supported(dlt)) {
		seterr(err, errlen, "link type %s is not supported (Ethernet, Linux cooked, loopback and raw IP are)",
		       c->linktype);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		struct tcp_segment seg;

		c->frames++;
		if (h->caplen < h->len)
			c->cut++;
		if (pcap_decode_frame(dlt, data, h->caplen, h->len, &seg, c) != 1)
			continue;
		if (port && seg.src.port != port && seg.dst.port != port) {
			c->filtered++;
			continue;
		}
		c->tcp++;
		/* a corrupt record can hold any time: keep the arithmetic in range */
		if (h->ts.tv_sec >= 0 && h->ts.tv_sec < ((int64_t)1 << 40) && h->ts.tv_usec >= 0 && h->ts.tv_usec < 1000000000)
			seg.ts_usec = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		if (tcp_reasm_add(r, &seg) < 0) {
			seterr(err, errlen, "out of memory after %llu frames", (unsigned long long)c->frames);
			*partial = 1;
			return -1;
		}
	}
	if (rc == PCAP_ERROR) {
		seterr(err, errlen, "the capture breaks off after %llu frames: %s", (unsigned long long)c->frames,
		       pcap_geterr(p));
		*partial = 1;
		return -1;
	}
	return 0;
}

int pcap_read_stream(FILE *f, uint16_t port, struct tcp_reasm *r, struct pcap_counts *c,
		     int *partial, char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_fopen_offline(f, perr);
	int rc;

	*partial = 0;
	if (!p) {
		fclose(f);
		seterr(err, errlen, "not a capture file libpcap can read: %s", perr[0] ? perr : "unknown format");
		return -1;
	}
	rc = read_packets(p, port, r, c, partial, err, errlen);
	pcap_close(p); /* closes f */
	return rc;
}

int pcap_read_file(const char *path, uint16_t port, struct tcp_reasm *r, struct pcap_counts *c,
		   int *partial, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");

	*partial = 0;
	if (!f) {
		seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	return pcap_read_stream(f, port, r, c, partial, err, errlen);
}
