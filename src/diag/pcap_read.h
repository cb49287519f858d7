/*
 * pcap_read.h: packets from a capture file into TCP segments.
 *
 * libpcap reads the file (pcap or pcapng, whichever it is); this file
 * decodes each frame down to TCP: Ethernet (with up to two VLAN tags), Linux
 * cooked capture v1 and v2 (tcpdump -i any), BSD loopback/null, and raw IP;
 * IPv4 (fragments are counted and skipped) and IPv6 (extension headers
 * walked). Every length is checked against the captured bytes; a frame that
 * does not hold together is counted as malformed, never read beyond.
 */
#ifndef OPENCAPF_DIAG_PCAP_READ_H
#define OPENCAPF_DIAG_PCAP_READ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag/tcp_reasm.h"

struct pcap_counts {
	uint64_t frames;
	uint64_t tcp;            /* TCP segments handed on (after the port filter) */
	uint64_t filtered;       /* TCP segments of other ports */
	uint64_t other;          /* not IP, or IP but not TCP */
	uint64_t fragments;      /* IP fragments (not reassembled) */
	uint64_t malformed;      /* frames that do not hold together */
	uint64_t cut;            /* frames the snap length cut short */
	char linktype[48];       /* "EN10MB (Ethernet)" */
};

/* Decode one frame of link type `dlt` (a DLT_ value). 1: *seg is a TCP
 * segment pointing into `frame`; 0: not TCP (counted in c); -1: malformed
 * (counted). */
int pcap_decode_frame(int dlt, const uint8_t *frame, size_t caplen, size_t wirelen,
		      struct tcp_segment *seg, struct pcap_counts *c);
/* 1 if this build decodes the link type. */
int pcap_linktype_supported(int dlt);

/* Read a capture and hand each TCP segment with `port` as source or
 * destination (0: every port) to the reassembler. 0 when the whole file was
 * read; -1 with err when it could not be opened, or when it broke off
 * (truncated or corrupt): what came before was still handed on, and
 * *partial says so (1). */
int pcap_read_file(const char *path, uint16_t port, struct tcp_reasm *r, struct pcap_counts *c,
		   int *partial, char *err, size_t errlen);
/* Same from an open stream (fuzzing: fmemopen); the stream is closed. */
int pcap_read_stream(FILE *f, uint16_t port, struct tcp_reasm *r, struct pcap_counts *c,
		     int *partial, char *err, size_t errlen);

#endif
