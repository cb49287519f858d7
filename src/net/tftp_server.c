/*
 * tftp_server.c: the read-only TFTP server (tftp_server.h) on libevent.
 *
 * The listening socket only receives requests and answers refusals; each
 * accepted read gets a socket of its own (a new transfer ID, connected to
 * the client so the kernel drops other peers' packets) with a read event and
 * a retransmission timer. A transfer holds its open file and one packet
 * buffer; blocks are read with pread at their offset, so retransmitting is
 * sending the same buffer again and a duplicate ACK is ignored (no
 * Sorcerer's Apprentice). Names are checked (tftp_name_check), then
 * resolved with realpath and served only when the result lies inside the
 * folder: symbolic links are followed and refused when they lead out.
 */
#include "net/tftp_server.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "net/addr.h"
#include "net/file_folder.h"
#include "net/tftp_proto.h"

#define RECV_BATCH 64
#define PEER_TEXT 64
#define NAME_TEXT (4 * TFTP_NAME_MAX + 1)

enum result { R_SENT, R_NOT_FOUND, R_ACCESS, R_BAD_REQUEST, R_OPTION, R_WRITE, R_BUSY, R_TIMEOUT,
	      R_ABORTED, R_ERROR, R_COUNT };

static const char *const result_names[R_COUNT] = {
	"sent", "not_found", "access_violation", "bad_request", "bad_option", "write_refused", "busy",
	"timeout", "aborted", "error",
};

static atomic_ullong results[R_COUNT];
static atomic_ullong bytes_sent;
static atomic_llong active_transfers;

struct transfer;

struct tftp_server {
	struct event_base *base;
	int fd;
	struct event *ev;
	struct sockaddr_storage local;
	socklen_t local_len;
	struct file_folder folder;
	unsigned timeout_ms, retries, max_transfers, max_per_address, active;
	struct transfer *list;
};

struct transfer {
	struct tftp_server *s;
	struct transfer *prev, *next;
	int sock, file;
	struct event *ev, *timer;
	uint64_t size, block, bytes;  /* block: the one last sent (0: the OACK) */
	unsigned blksize, tries;
	int last_sent;
	uint8_t *pkt;
	size_t pkt_len;
	struct timespec started;
	struct sockaddr_storage addr; /* the client (its port too) */
	char peer[PEER_TEXT], name[NAME_TEXT], opts[96];
};

static void peer_text(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
	char host[NI_MAXHOST], port[NI_MAXSERV];

	if (getnameinfo(sa, len, host, sizeof host, port, sizeof port,
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, cap, "?");
	else
		snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void escape_name(const char *name, char *out, size_t cap)
{
	text_escape(out, cap, name, strlen(name));
}

/* An error packet from the listening socket, the refusal logged and counted. */
static void refuse(struct tftp_server *s, const struct sockaddr *peer, socklen_t plen, int code,
		   const char *why, const char *what, enum result r)
{
	uint8_t pkt[TFTP_HDR + 256];
	char text[PEER_TEXT];
	size_t n = tftp_build_error(pkt, sizeof pkt, (uint16_t)code, why);

	if (n > 0 && sendto(s->fd, pkt, n, 0, peer, plen) < 0)
		log_debug("tftp: cannot send an error packet: %s", strerror(errno));
	peer_text(peer, plen, text, sizeof text);
	log_info("tftp %s %s: refused, error %d (%s): %s", text, what, code, tftp_error_text(code), why);
	atomic_fetch_add(&results[r], 1);
}

/* ---- transfers ---- */

static double elapsed(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void finish(struct transfer *t, enum result r, const char *detail)
{
	struct tftp_server *s = t->s;

	if (r == R_SENT)
		log_info("tftp %s RRQ \"%s\"%s: sent %llu bytes in %llu blocks, %.3f s", t->peer, t->name,
			 t->opts, (unsigned long long)t->bytes, (unsigned long long)t->block,
			 elapsed(&t->started));
	else
		log_info("tftp %s RRQ \"%s\"%s: %s after %llu of %llu bytes", t->peer, t->name, t->opts,
			 detail, (unsigned long long)t->bytes, (unsigned long long)t->size);
	atomic_fetch_add(&results[r], 1);
	atomic_fetch_add(&bytes_sent, t->bytes);
	atomic_fetch_sub(&active_transfers, 1);
	if (t->prev)
		t->prev->next = t->next;
	else
		s->list = t->next;
	if (t->next)
		t->next->prev = t->prev;
	s->active--;
	event_free(t->ev);
	event_free(t->timer);
	close(t->sock);
	close(t->file);
	free(t->pkt);
	free(t);
}

/* Send the current packet and (re)arm the retransmission timer. */
static void send_pkt(struct transfer *t)
{
	struct timeval tv = { (time_t)(t->s->timeout_ms / 1000),
			      (suseconds_t)(t->s->timeout_ms % 1000) * 1000 };

	if (send(t->sock, t->pkt, t->pkt_len, 0) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		log_debug("tftp %s: send: %s", t->peer, strerror(errno));
	evtimer_add(t->timer, &tv);
}

/* Send block number `block`; -1 when reading failed and the transfer ended. */
static int send_block(struct transfer *t, uint64_t block)
{
	ssize_t n = pread(t->file, t->pkt + TFTP_HDR, t->blksize, (off_t)((block - 1) * t->blksize));

	if (n < 0) {
		finish(t, R_ERROR, strerror(errno));
		return -1;
	}
	tftp_put_data_header(t->pkt, (uint16_t)block); /* rolls over from 65535 to 0 */
	t->pkt_len = TFTP_HDR + (size_t)n;
	t->block = block;
	t->last_sent = (size_t)n < t->blksize;
	t->tries = 0;
	send_pkt(t);
	return 0;
}

/* One packet on the transfer's socket; returns 1 when the transfer ended. */
static int on_packet(struct transfer *t, const uint8_t *p, size_t n)
{
	uint16_t block = 0, code = 0;
	char why[64];
	int op = tftp_parse_reply(p, n, &block, &code);

	if (op == TFTP_ERROR) {
		snprintf(why, sizeof why, "aborted by the client (error %u)", code);
		finish(t, R_ABORTED, why);
		return 1;
	}
	if (op != TFTP_ACK || block != (uint16_t)t->block)
		return 0; /* a duplicate or stray packet: the timer resends if need be */
	if (t->block > 0)
		t->bytes += t->pkt_len - TFTP_HDR;
	if (t->block > 0 && t->last_sent) {
		finish(t, R_SENT, NULL);
		return 1;
	}
	return send_block(t, t->block + 1) < 0 ? 1 : 0;
}

static void on_reply(evutil_socket_t fd, short what, void *arg)
{
	struct transfer *t = arg;
	uint8_t buf[1024];

	(void)what;
	for (int i = 0; i < RECV_BATCH; i++) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				finish(t, R_ABORTED, "the client is unreachable");
			return;
		}
		if (on_packet(t, buf, (size_t)n))
			return;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct transfer *t = arg;
	char why[80];

	(void)fd;
	(void)what;
	if (++t->tries > t->s->retries) {
		snprintf(why, sizeof why, "timed out after %u retransmissions of block %llu",
			 t->s->retries, (unsigned long long)t->block);
		finish(t, R_TIMEOUT, why);
		return;
	}
	send_pkt(t);
}

static int transfer_socket(const struct tftp_server *s, const struct sockaddr *peer,
			   socklen_t plen)
{
	struct sockaddr_storage local = s->local;
	int fd = socket(peer->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (local.ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&local)->sin6_port = 0;
	if (bind(fd, (struct sockaddr *)&local, s->local_len) < 0 || connect(fd, peer, plen) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void options_text(const struct tftp_request *r, char *out, size_t cap)
{
	char unknown[NAME_TEXT];
	size_t used;

	snprintf(out, cap, "%s", strcmp(r->mode, "octet") == 0 ? "" : " netascii");
	used = strlen(out);
	if (r->has_blksize)
		used += (size_t)snprintf(out + used, cap - used, " blksize=%u", r->blksize);
	if (r->has_tsize && used < cap)
		used += (size_t)snprintf(out + used, cap - used, " tsize");
	if (r->unknown_options && used < cap) {
		escape_name(r->first_unknown, unknown, sizeof unknown);
		snprintf(out + used, cap - used, " ignored \"%.24s\"%s", unknown,
			 r->unknown_options > 1 ? " and more" : "");
	}
}

static struct transfer *transfer_new(struct tftp_server *s, const struct tftp_request *r, int file,
				     uint64_t size, int sock)
{
	struct transfer *t = calloc(1, sizeof *t);
	unsigned blksize = r->has_blksize ? r->blksize : TFTP_DEFAULT_BLKSIZE;

	if (!t)
		return NULL;
	*t = (struct transfer){ .s = s, .sock = sock, .file = file, .size = size, .blksize = blksize };
	t->pkt = malloc(blksize + TFTP_HDR > 128 ? blksize + TFTP_HDR : 128);
	t->ev = event_new(s->base, sock, EV_READ | EV_PERSIST, on_reply, t);
	t->timer = evtimer_new(s->base, on_timeout, t);
	if (!t->pkt || !t->ev || !t->timer || event_add(t->ev, NULL) < 0) {
		if (t->ev)
			event_free(t->ev);
		if (t->timer)
			event_free(t->timer);
		free(t->pkt);
		free(t);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t->started);
	options_text(r, t->opts, sizeof t->opts);
	return t;
}

static void start_transfer(struct tftp_server *s, const struct tftp_request *r, int file,
			   uint64_t size, const struct sockaddr *peer, socklen_t plen)
{
	int sock = transfer_socket(s, peer, plen);
	struct transfer *t = sock < 0 ? NULL : transfer_new(s, r, file, size, sock);

	if (!t) {
		if (sock >= 0)
			close(sock);
		close(file);
		refuse(s, peer, plen, TFTP_EUNDEF, "server out of resources", "RRQ", R_BUSY);
		return;
	}
	peer_text(peer, plen, t->peer, sizeof t->peer);
	memcpy(&t->addr, peer, plen < sizeof t->addr ? plen : sizeof t->addr);
	escape_name(r->filename, t->name, sizeof t->name);
	t->next = s->list;
	if (s->list)
		s->list->prev = t;
	s->list = t;
	s->active++;
	atomic_fetch_add(&active_transfers, 1);
	if (r->has_blksize || r->has_tsize) {
		struct tftp_request acked = *r;

		/* tsize 0 is left out: curl takes it for an invalid OACK (RFC 2349
		 * lets a server leave any option out). */
		acked.has_tsize = r->has_tsize && size > 0;
		if (!acked.has_blksize && !acked.has_tsize) {
			(void)send_block(t, 1);
			return;
		}
		t->pkt_len = tftp_build_oack(t->pkt, 128, &acked, t->blksize, size);
		send_pkt(t);
	} else {
		(void)send_block(t, 1);
	}
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (b->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

/* Whether another transfer would pass the caps (all, and this address's). */
static int has_room(const struct tftp_server *s, const struct sockaddr *peer)
{
	unsigned n = 0;

	if (s->active >= s->max_transfers)
		return 0;
	for (const struct transfer *t = s->list; t; t = t->next)
		if (same_host(&t->addr, peer) && ++n >= s->max_per_address)
			return 0;
	return 1;
}

static void handle_request(struct tftp_server *s, const uint8_t *p, size_t n,
			   const struct sockaddr *peer, socklen_t plen)
{
	struct tftp_request r;
	char why[128], what[NAME_TEXT + 16], name[NAME_TEXT];
	const char *reason;
	uint64_t size = 0;
	int code = 0, fd = -1, kind = 0;

	if (n >= 2 && get_u16(p) == TFTP_ERROR)
		return; /* never answered (RFC 1350): a client ending after our error */
	if (tftp_parse_request(p, n, &r, &code, why, sizeof why) < 0) {
		escape_name(r.filename, name, sizeof name);
		snprintf(what, sizeof what, "request \"%s\"", name);
		refuse(s, peer, plen, code, why, what, code == TFTP_EOPTNEG ? R_OPTION : R_BAD_REQUEST);
		return;
	}
	escape_name(r.filename, name, sizeof name);
	snprintf(what, sizeof what, "%s \"%s\"", r.opcode == TFTP_WRQ ? "WRQ" : "RRQ", name);
	if (r.opcode == TFTP_WRQ)
		refuse(s, peer, plen, TFTP_EACCESS, "read-only server: writes are refused", what, R_WRITE);
	else if (!has_room(s, peer))
		refuse(s, peer, plen, TFTP_EUNDEF, "server busy, try again", what, R_BUSY);
	else if (file_folder_open(&s->folder, r.filename, &fd, &size, &kind, &reason) < 0)
		refuse(s, peer, plen, kind == FILE_OPEN_MISSING ? TFTP_ENOTFOUND : TFTP_EACCESS, reason,
		       what, kind == FILE_OPEN_MISSING ? R_NOT_FOUND : R_ACCESS);
	else
		start_transfer(s, &r, fd, size, peer, plen);
}

static void on_request(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_server *s = arg;
	uint8_t buf[TFTP_MAX_REQUEST + 1];

	(void)what;
	for (int i = 0; i < RECV_BATCH; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof peer;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&peer, &plen);

		if (n < 0)
			return;
		if ((size_t)n > TFTP_MAX_REQUEST)
			n = TFTP_MAX_REQUEST + 1; /* the parser refuses it */
		handle_request(s, buf, (size_t)n, (struct sockaddr *)&peer, plen);
	}
}

/* ---- the server ---- */

static int open_listener(struct tftp_server *s, const char *listen, char *err, size_t errlen)
{
	if (addr_parse(listen, &s->local, &s->local_len, err, errlen) < 0)
		return -1;
	s->fd = socket(s->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&s->local, s->local_len) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&s->local, &s->local_len) < 0) {
		seterr(err, errlen, "TFTP on %s: %s", listen, strerror(errno));
		return -1;
	}
	s->ev = event_new(s->base, s->fd, EV_READ | EV_PERSIST, on_request, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		seterr(err, errlen, "TFTP on %s: cannot add the event", listen);
		return -1;
	}
	return 0;
}

struct tftp_server *tftp_server_new(struct event_base *base, const char *listen,
				    const struct tftp_server_opts *o, char *err, size_t errlen)
{
	struct tftp_server *s = calloc(1, sizeof *s);

	if (!s) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->fd = -1;
	s->timeout_ms = o->timeout_ms ? o->timeout_ms : 1000;
	s->retries = o->retries ? o->retries : 5;
	s->max_transfers = o->max_transfers ? o->max_transfers : 1024;
	s->max_per_address = o->max_per_address ? o->max_per_address : 64;
	if (file_folder_init(&s->folder, o->root, err, errlen) < 0 ||
	    open_listener(s, listen, err, errlen) < 0) {
		tftp_server_free(s);
		return NULL;
	}
	return s;
}

int tftp_server_port(const struct tftp_server *s)
{
	if (s->local.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&s->local)->sin6_port);
	return ntohs(((const struct sockaddr_in *)&s->local)->sin_port);
}

void tftp_server_free(struct tftp_server *s)
{
	if (!s)
		return;
	while (s->list)
		finish(s->list, R_ABORTED, "stopped with the server");
	if (s->ev)
		event_free(s->ev);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

void tftp_metrics_render(struct buf *out)
{
	char line[160];
	int n;

	prom_counter_family(out, "opencapf_tftp_requests_total", "TFTP requests by outcome.", "outcome", result_names,
			    results, R_COUNT);
	n = snprintf(line, sizeof line, "# HELP opencapf_tftp_bytes_total File bytes sent over "
		     "TFTP.\n# TYPE opencapf_tftp_bytes_total counter\nopencapf_tftp_bytes_total %llu\n",
		     atomic_load(&bytes_sent));
	buf_put(out, line, (size_t)n);
	n = snprintf(line, sizeof line, "# HELP opencapf_tftp_transfers TFTP transfers running now.\n"
		     "# TYPE opencapf_tftp_transfers gauge\nopencapf_tftp_transfers %lld\n",
		     atomic_load(&active_transfers));
	buf_put(out, line, (size_t)n);
}
