/*
 * capture.h: the TLS handshakes in a capture file, connection by connection
 * (what `opencapf pcap` reports, phone-certificates.md §8 for every phone
 * of a capture at once).
 *
 * pcap_read decodes frames, tcp_reasm puts each direction back in order,
 * tls_parse reads the clear part of the handshake; this file ties them
 * together, decides which side is the client (the one that sent the
 * ClientHello), and describes each connection as JSON with the client
 * certificate classified (classify.h).
 */
#ifndef OPENCAPF_DIAG_CAPTURE_H
#define OPENCAPF_DIAG_CAPTURE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "common/util.h"
#include "diag/classify.h"
#include "diag/pcap_read.h"
#include "diag/tcp_reasm.h"
#include "diag/tls_parse.h"

#define CAPTURE_MAX_CONNS 100000   /* connections listed; later ones are only counted */
#define CAPTURE_MAX_CERT_BYTES (64 * 1024 * 1024) /* certificates kept; later chains are dropped */

struct capture_conn {
	uint64_t index;              /* the stream's number in the capture */
	struct tcp_endpoint client, server;
	int64_t first_ts, last_ts;
	struct tls_side c, s;        /* what the client and the server sent in the clear */
	int gap[2];                  /* [0] client -> server, [1] server -> client */
	char gap_why[2][112];
	int evicted;                 /* finished early: too many connections open at once */
	int chains_dropped;          /* its certificates exceeded CAPTURE_MAX_CERT_BYTES */
};

struct capture_result {
	struct capture_conn *conns;
	size_t n, cap;
	uint64_t not_listed;         /* TLS connections beyond CAPTURE_MAX_CONNS */
	uint64_t not_tls;            /* TCP streams with payload that were not TLS */
	size_t cert_bytes;           /* DER kept in conns */
	struct pcap_counts counts;
	struct tcp_stats tcp;
	int partial;                 /* the file broke off: results up to there */
	char error[ERRLEN];
};

/* 0, or -1 with res->error (res still holds what was found before). */
int capture_analyse_file(const char *path, uint16_t port, const struct tcp_limits *lim,
			 struct capture_result *res);
int capture_analyse_stream(FILE *f, uint16_t port, const struct tcp_limits *lim, struct capture_result *res);
void capture_result_free(struct capture_result *res);

/* The negotiated version as far as the capture shows ("TLS 1.2"), and 1 if
 * it is TLS 1.3 (certificates encrypted). */
int capture_conn_version(const struct capture_conn *c, char *out, size_t outcap);

/* One connection as JSON: endpoints, version, cipher, both chains (each
 * certificate with subject, issuer, serial, sha256; the client's leaf with
 * kind and rule), alerts, notes. ctx may be NULL. */
json_t *capture_conn_json(const struct capture_conn *c, const struct classify_ctx *ctx);

#endif
