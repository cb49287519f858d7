/*
 * tftp_server.h: a read-only TFTP server over one folder, on a libevent
 * loop: what phones fetch at boot (ITLFile.tlv, SEP<MAC>.cnf.xml.sgn, ...)
 * when HTTP on 6970 fails (docs/protocol/provisioning.md §1).
 *
 * RFC 1350 read requests in octet mode (netascii is served as the bytes
 * are), RFC 2347 options with blksize (RFC 2348) and tsize (RFC 2349); each
 * transfer on its own socket (a new transfer ID), lock-step with
 * retransmission of the last packet after `timeout_ms`, at most `retries`
 * times, and block numbers rolling over from 65535 to 0 for files of more
 * than 65535 blocks. Refused, with the RFC's error packets and nothing
 * changed: write requests (2 access violation), absolute paths and paths with
 * ".." (2), names that resolve outside the folder through a symbolic link
 * (2), what is not a regular file (2), missing files (1), malformed requests
 * (4), a bad blksize or tsize (8). Unknown options are left out of the OACK.
 * Beyond max_transfers at once, or max_per_address from one address, a
 * request gets error 0 ("server busy"): one host cannot take every slot.
 *
 * Every request is logged on one line (peer, escaped name, options, outcome)
 * and counted for /metrics (tftp_metrics_render).
 */
#ifndef OPENCAPF_NET_TFTP_SERVER_H
#define OPENCAPF_NET_TFTP_SERVER_H

#include <event2/event.h>
#include <sys/socket.h>

#include "common/util.h"

struct tftp_server_opts {
	const char *root;        /* the folder served (must exist) */
	unsigned timeout_ms;     /* retransmission timeout; 0 = 1000 */
	unsigned retries;        /* retransmissions before giving up; 0 = 5 */
	unsigned max_transfers;  /* transfers at once; 0 = 1024 */
	unsigned max_per_address; /* transfers at once from one address; 0 = 64 */
};

struct tftp_server;

/* Bind ADDR:PORT (text as addr_parse takes it) on base. NULL with err. */
struct tftp_server *tftp_server_new(struct event_base *base, const char *listen,
				    const struct tftp_server_opts *o, char *err, size_t errlen);
void tftp_server_free(struct tftp_server *s);
/* The port actually bound (for listen addresses with port 0). */
int tftp_server_port(const struct tftp_server *s);

/* Append the TFTP counters in the Prometheus text format. */
void tftp_metrics_render(struct buf *out);

#endif
