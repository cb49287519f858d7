/*
 * fetch.c: the phone's file client, one file into memory: HTTP/1.1 GET on
 * a plain socket (port 6970 on phones), the same over TLS with the server's
 * certificate checked by the caller (6971), and a TFTP read (RFC 1350 in
 * octet mode, with the blksize and tsize options of RFC 2347-2349), built
 * and parsed with net/tftp_proto. Every wait is bounded by the timeout and
 * every file by a size limit; TFTP retransmits its last packet on silence.
 */
#include "cmd/phonesim/boot.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net/tftp_proto.h"

#define HTTP_HEADER_MAX 16384
#define TFTP_RETRIES 5

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* Back to blocking, with send/receive timeouts on every wait. */
static void set_blocking_timeouts(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* One address: a non-blocking connect bounded by the timeout. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *why)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	*why = errno;
	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	*why = errno;
	if (errno == EINPROGRESS) {
		int rc = wait_fd(fd, POLLOUT, timeout_ms);

		*why = ETIMEDOUT;
		if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
			return fd;
		if (rc > 0)
			*why = soerr;
	}
	close(fd);
	return -1;
}

/* A TCP connection to host:port within the timeout; -1 with err. */
static int tcp_connect(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char portstr[16];
	int fd = -1, rc, why = 0;

	snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		seterr(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms, &why);
	freeaddrinfo(res);
	if (fd < 0) {
		seterr(err, errlen, "cannot connect to %s port %d: %s", host, port, strerror(why));
		return -1;
	}
	set_blocking_timeouts(fd, timeout_ms);
	return fd;
}

/* ---- HTTP over a socket or TLS ---- */

struct http_io {
	int fd;
	SSL *ssl;
};

static int io_write(struct http_io *io, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = io->ssl ? SSL_write(io->ssl, p, (int)n) : send(io->fd, p, n, MSG_NOSIGNAL);

		if (w <= 0) {
			if (!io->ssl && w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* >0 bytes, 0 the end, -1 error or timeout. */
static ssize_t io_read(struct http_io *io, uint8_t *p, size_t n)
{
	if (io->ssl) {
		int r = SSL_read(io->ssl, p, (int)n);

		if (r > 0)
			return r;
		int e = SSL_get_error(io->ssl, r);

		return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0) ? 0 : -1;
	}
	for (;;) {
		ssize_t r = recv(io->fd, p, n, 0);

		if (r >= 0 || errno != EINTR)
			return r;
	}
}

/* The value of a header in the header block, or NULL. */
static const char *header_value(const char *hdr, const char *name, char *out, size_t outcap)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(hdr, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *s = l + 2;

		if (strncasecmp(s, name, nl) == 0 && s[nl] == ':') {
			const char *v = s + nl + 1, *end = strstr(v, "\r\n");
			size_t n;

			while (*v == ' ' || *v == '\t')
				v++;
			n = end ? (size_t)(end - v) : strlen(v);
			snprintf(out, outcap, "%.*s", (int)(n < outcap ? n : outcap - 1), v);
			return out;
		}
	}
	return NULL;
}

/* Split the whole response into status and body (moved to the front of resp). */
static int http_parse(struct buf *resp, char *err, size_t errlen)
{
	char *hdr, *end, val[64];
	int status = 0;
	size_t hlen, blen;

	buf_put_u8(resp, 0); /* a terminator for the string functions, dropped below */
	hdr = (char *)resp->data;
	end = strstr(hdr, "\r\n\r\n");
	if (resp->failed || !end || sscanf(hdr, "HTTP/1.%*d %d", &status) != 1) {
		seterr(err, errlen, "not an HTTP response");
		return FETCH_FAILED;
	}
	end[2] = '\0';
	hlen = (size_t)(end - hdr) + 4;
	blen = resp->len - 1 - hlen;
	if (header_value(hdr, "Transfer-Encoding", val, sizeof val) && strcasecmp(val, "identity") != 0) {
		seterr(err, errlen, "transfer encoding '%s' is not supported", val);
		return FETCH_FAILED;
	}
	if (status == 404)
		return FETCH_NOT_FOUND;
	if (status != 200) {
		seterr(err, errlen, "HTTP status %d", status);
		return FETCH_FAILED;
	}
	if (header_value(hdr, "Content-Length", val, sizeof val) && strtoull(val, NULL, 10) != blen) {
		seterr(err, errlen, "%zu bytes came, Content-Length said %s", blen, val);
		return FETCH_FAILED;
	}
	memmove(resp->data, resp->data + hlen, blen);
	resp->len = blen;
	return FETCH_OK;
}

static int http_get(struct http_io *io, const struct fetch_opts *o, int port, const char *name, struct buf *out,
		    char *err, size_t errlen)
{
	uint8_t chunk[16384];
	struct buf req;
	ssize_t n;
	int bracket = strchr(o->host, ':') != NULL;

	buf_init(&req);
	buf_printf(&req, "GET /%s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUser-Agent: phonesim/" OPENCAPF_VERSION
		   "\r\nConnection: close\r\n\r\n", name, bracket ? "[" : "", o->host, bracket ? "]" : "", port);
	n = req.failed ? -1 : io_write(io, (const char *)req.data, req.len);
	buf_free(&req);
	if (n < 0) {
		seterr(err, errlen, "cannot send the request");
		return FETCH_FAILED;
	}
	buf_reset(out);
	while ((n = io_read(io, chunk, sizeof chunk)) > 0) {
		buf_put(out, chunk, (size_t)n);
		if (out->failed || out->len > o->max + HTTP_HEADER_MAX) {
			seterr(err, errlen, "larger than %zu bytes", o->max);
			return FETCH_FAILED;
		}
	}
	if (n < 0) {
		seterr(err, errlen, "%s", errno == EAGAIN ? "no answer in time" : "the connection broke");
		return FETCH_FAILED;
	}
	return http_parse(out, err, errlen);
}

int fetch_http(const struct fetch_opts *o, int port, const char *name, struct buf *out, char *err, size_t errlen)
{
	struct http_io io = { .fd = tcp_connect(o->host, port, o->timeout_ms, err, errlen) };
	int rc;

	if (io.fd < 0)
		return FETCH_FAILED;
	rc = http_get(&io, o, port, name, out, err, errlen);
	close(io.fd);
	return rc;
}

int fetch_https(const struct fetch_opts *o, int port, const char *name, int (*trust)(void *arg, X509 *peer),
		void *arg, struct buf *out, char *err, size_t errlen)
{
	struct tls_client *c;
	struct http_io io = { .fd = -1 };
	char hostport[320];
	X509 *peer;
	int rc = FETCH_FAILED;

	snprintf(hostport, sizeof hostport, strchr(o->host, ':') ? "[%s]:%d" : "%s:%d", o->host, port);
	if (tls_client_open(hostport, NULL, TLS_MAX_DEFAULT, o->timeout_ms, &c, err, errlen) < 0)
		return FETCH_FAILED;
	peer = tls_client_peer(c);
	if (!peer || trust(arg, peer) != 1)
		seterr(err, errlen, "the server's certificate is not trusted (not in the ITL with the TFTP role)");
	else {
		io.ssl = tls_client_ssl(c);
		rc = http_get(&io, o, port, name, out, err, errlen);
	}
	X509_free(peer);
	tls_client_close(c);
	return rc;
}

/* ---- TFTP ---- */

struct tftp_xfer {
	int fd;
	struct sockaddr_storage server, tid;
	socklen_t server_len, tid_len;
	uint8_t last[TFTP_MAX_REQUEST];   /* the last packet sent, for retransmission */
	size_t last_len;
	unsigned blksize;
	uint16_t next;                    /* the block expected */
	int oack;                         /* the server acknowledged options */
	int has_tsize;
	uint64_t tsize;
	int done;
};

static int send_last(struct tftp_xfer *x)
{
	const struct sockaddr *to = (const struct sockaddr *)(x->tid_len ? &x->tid : &x->server);

	return sendto(x->fd, x->last, x->last_len, 0, to, x->tid_len ? x->tid_len : x->server_len) < 0 ? -1 : 0;
}

static int send_ack(struct tftp_xfer *x, uint16_t block)
{
	x->last_len = tftp_build_ack(x->last, sizeof x->last, block);
	return send_last(x);
}

/* OACK: the options the server took (RFC 2347); a blksize it chose larger
 * than asked for, or an option not asked for, fails the transfer. */
static int tftp_oack(struct tftp_xfer *x, const struct fetch_opts *o, const uint8_t *p, size_t len, char *err,
		     size_t errlen)
{
	size_t at = 2;

	x->oack = 1;
	while (at < len) {
		const char *opt = (const char *)p + at, *val;
		size_t ol = strnlen(opt, len - at);

		if (at + ol + 1 >= len)
			goto bad;
		val = opt + ol + 1;
		at += ol + 1 + strnlen(val, len - at - ol - 1) + 1;
		if (at > len)
			goto bad;
		if (strcasecmp(opt, "blksize") == 0 && o->tftp_blksize) {
			unsigned long b = strtoul(val, NULL, 10);

			if (b < TFTP_MIN_BLKSIZE || b > o->tftp_blksize)
				goto bad;
			x->blksize = (unsigned)b;
		} else if (strcasecmp(opt, "tsize") == 0 && o->tftp_blksize) {
			x->has_tsize = 1;
			x->tsize = strtoull(val, NULL, 10);
		} else {
			goto bad;
		}
	}
	if (x->has_tsize && x->tsize > o->max) {
		seterr(err, errlen, "the file has %llu bytes, more than %zu", (unsigned long long)x->tsize, o->max);
		return -1;
	}
	return send_ack(x, 0);
bad:
	seterr(err, errlen, "the server's option acknowledgement is malformed");
	return -1;
}

/* One DATA packet: kept when it is the block expected, acknowledged. */
static int tftp_data(struct tftp_xfer *x, const struct fetch_opts *o, const uint8_t *p, size_t len,
		     struct buf *out, char *err, size_t errlen)
{
	uint16_t block = (uint16_t)(p[2] << 8 | p[3]);
	size_t n = len - TFTP_HDR;

	if (block == (uint16_t)(x->next - 1))
		return send_ack(x, block); /* our ACK was lost: say it again */
	if (block != x->next)
		return 0;
	if (n > x->blksize || out->len + n > o->max) {
		seterr(err, errlen, n > x->blksize ? "a block larger than agreed" : "the file is larger than %zu bytes",
		       o->max);
		return -1;
	}
	buf_put(out, p + TFTP_HDR, n);
	x->next++;
	x->done = n < x->blksize;
	return send_ack(x, block);
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
			      sizeof(struct in_addr)) == 0;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

/* One packet from the server: 0 go on, FETCH_NOT_FOUND, or FETCH_FAILED. */
static int tftp_packet(struct tftp_xfer *x, const struct fetch_opts *o, const uint8_t *p, size_t len,
		       struct buf *out, char *err, size_t errlen)
{
	uint16_t block = 0, code = 0;
	int op = tftp_parse_reply(p, len, &block, &code);

	if (op == TFTP_ERROR) {
		if (code == TFTP_ENOTFOUND)
			return FETCH_NOT_FOUND;
		seterr(err, errlen, "TFTP error %u: %.*s", code, len > 4 ? (int)strnlen((const char *)p + 4, len - 4) : 0,
		       (const char *)p + 4);
		return FETCH_FAILED;
	}
	if (op == TFTP_OACK && x->next == 1 && out->len == 0 && !x->oack)
		return tftp_oack(x, o, p, len, err, errlen) < 0 ? FETCH_FAILED : 0;
	if (op == TFTP_DATA) {
		if (x->next == 1 && out->len == 0 && !x->oack)
			x->blksize = TFTP_DEFAULT_BLKSIZE; /* no OACK: the server ignored the options */
		return tftp_data(x, o, p, len, out, err, errlen) < 0 ? FETCH_FAILED : 0;
	}
	return 0; /* anything else is ignored, like a stray ACK */
}

/* Receive until the transfer ends, retransmitting on silence. */
static int tftp_loop(struct tftp_xfer *x, const struct fetch_opts *o, struct buf *out, char *err, size_t errlen)
{
	uint8_t pkt[TFTP_HDR + TFTP_MAX_BLKSIZE];
	int retries = 0, rc;

	while (!x->done) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n;

		if (wait_fd(x->fd, POLLIN, o->timeout_ms) <= 0) {
			if (++retries > TFTP_RETRIES) {
				seterr(err, errlen, "TFTP timeout (%d tries)", TFTP_RETRIES + 1);
				return FETCH_FAILED;
			}
			send_last(x);
			continue;
		}
		n = recvfrom(x->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
		if (n < TFTP_HDR || !same_host(&from, &x->server))
			continue;
		if (!x->tid_len) {
			memcpy(&x->tid, &from, fl);
			x->tid_len = fl;
		} else if (fl != x->tid_len || memcmp(&from, &x->tid, fl) != 0) {
			uint8_t e[64];
			size_t el = tftp_build_error(e, sizeof e, TFTP_EBADID, "unknown transfer ID");

			sendto(x->fd, e, el, 0, (struct sockaddr *)&from, fl);
			continue;
		}
		retries = 0;
		rc = tftp_packet(x, o, pkt, (size_t)n, out, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (x->has_tsize && x->tsize != out->len) {
		seterr(err, errlen, "%zu bytes came, tsize said %llu", out->len, (unsigned long long)x->tsize);
		return FETCH_FAILED;
	}
	return FETCH_OK;
}

static int tftp_socket(struct tftp_xfer *x, const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;
	char portstr[16];
	int rc;

	snprintf(portstr, sizeof portstr, "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		seterr(err, errlen, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	x->fd = socket(res->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(&x->server, res->ai_addr, res->ai_addrlen);
	x->server_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (x->fd < 0) {
		seterr(err, errlen, "cannot open a UDP socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int fetch_tftp(const struct fetch_opts *o, int port, const char *name, struct buf *out, char *err, size_t errlen)
{
	struct tftp_xfer x = { .fd = -1, .next = 1, .blksize = o->tftp_blksize ? o->tftp_blksize : TFTP_DEFAULT_BLKSIZE };
	char blk[16];
	const char *opts[4] = { "blksize", blk, "tsize", "0" };
	int rc;

	snprintf(blk, sizeof blk, "%u", o->tftp_blksize);
	buf_reset(out);
	if (tftp_socket(&x, o->host, port, err, errlen) < 0)
		return FETCH_FAILED;
	x.last_len = tftp_build_request(x.last, sizeof x.last, TFTP_RRQ, name, "octet", opts,
					o->tftp_blksize ? 4 : 0);
	if (x.last_len == 0 || send_last(&x) < 0) {
		seterr(err, errlen, "cannot send the TFTP request: %s", x.last_len ? strerror(errno) : "too long");
		close(x.fd);
		return FETCH_FAILED;
	}
	rc = tftp_loop(&x, o, out, err, errlen);
	close(x.fd);
	if (rc == FETCH_OK && out->failed) {
		seterr(err, errlen, "out of memory");
		rc = FETCH_FAILED;
	}
	return rc;
}
