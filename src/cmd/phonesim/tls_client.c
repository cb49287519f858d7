/*
 * tls_client.c: the phone's TLS connection to CAPF, with blocking OpenSSL
 * socket I/O and a timeout on every wait.
 *
 * Like a phone, it presents no client certificate and trusts the server only
 * if the server's certificate is the CAPF certificate it was given (or
 * chains to it); OpenSSL's own verification is off because the trust anchor
 * is "this exact certificate", which pki_verify_chain and a DER comparison
 * express directly. Nothing is sent before that check passes (the server
 * speaks first anyway).
 *
 * --tls-max 1.0 behaves like an old phone: TLS 1.0 only, AES256-SHA and
 * AES128-SHA, OpenSSL security level 0 (OpenSSL 3 refuses TLS 1.0 above it).
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pki/pki.h"
#include "wire/capf_msg.h"

#define CAPF_DEFAULT_PORT "3804"

struct tls_client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	int timeout_ms;
	size_t have;        /* bytes in buf */
	size_t consumed;    /* bytes of the message last returned */
	uint8_t buf[CAPF_MAX_MSG];
};

int tls_max_parse(const char *s, enum tls_max *out)
{
	if (strcmp(s, "1.0") == 0)
		*out = TLS_MAX_1_0;
	else if (strcmp(s, "1.2") == 0)
		*out = TLS_MAX_1_2;
	else if (strcmp(s, "1.3") == 0)
		*out = TLS_MAX_1_3;
	else
		return -1;
	return 0;
}

static void ossl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[200] = "";

	if (e)
		ERR_error_string_n(e, detail, sizeof detail);
	ERR_clear_error();
	seterr(err, errlen, "%s%s%s", what, detail[0] ? ": " : "", detail);
}

/* "host:port", "[v6]:port", "host" (port 3804); a bare IPv6 address too. */
static int split_hostport(const char *s, char *host, size_t hostcap, char *port, size_t portcap)
{
	const char *colon = strrchr(s, ':');
	size_t hlen;

	snprintf(port, portcap, "%s", CAPF_DEFAULT_PORT);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		hlen = (size_t)(end - s - 1);
		if (end[1] == ':')
			snprintf(port, portcap, "%s", end + 2);
		s++;
	} else if (colon && strchr(s, ':') == colon) {
		hlen = (size_t)(colon - s);
		snprintf(port, portcap, "%s", colon + 1);
	} else {
		hlen = strlen(s);
	}
	if (hlen == 0 || hlen >= hostcap || !port[0])
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	return 0;
}

int tls_hostport_valid(const char *hostport)
{
	char host[256], port[32];

	return split_hostport(hostport, host, sizeof host, port, sizeof port) == 0;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	return rc;
}

/* The local address connections start from (--source), if one was set. */
static struct sockaddr_storage source_addr;
static socklen_t source_len;

int tls_client_set_source(const char *addr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_flags = AI_NUMERICHOST }, *res;

	if (getaddrinfo(addr, NULL, &hints, &res) != 0)
		return -1;
	memcpy(&source_addr, res->ai_addr, res->ai_addrlen);
	source_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int bind_source(int fd, int family)
{
	if (!source_len || source_addr.ss_family != family)
		return 0;
	return bind(fd, (struct sockaddr *)&source_addr, source_len);
}

/* A non-blocking connect bounded by the timeout, then back to blocking with
 * send/receive timeouts as a second line of defence. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	int fd, soerr = 0;
	socklen_t len = sizeof soerr;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (bind_source(fd, ai->ai_family) < 0)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, timeout_ms) <= 0) {
			if (errno == 0 || errno == EINPROGRESS)
				errno = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr) {
			errno = soerr ? soerr : errno;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
fail:
	soerr = errno;
	close(fd);
	errno = soerr;
	return -1;
}

static int connect_tcp(const char *hostport, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[256], port[32];
	int fd = -1, rc;

	if (split_hostport(hostport, host, sizeof host, port, sizeof port) < 0) {
		seterr(err, errlen, "'%s' is not HOST:PORT", hostport);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		seterr(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	errno = 0;
	for (ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, timeout_ms);
	if (fd < 0)
		seterr(err, errlen, "cannot connect to %s port %s: %s", host, port,
		       strerror(errno ? errno : ECONNREFUSED));
	freeaddrinfo(res);
	return fd;
}

static SSL_CTX *client_ctx(enum tls_max max, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (!ctx) {
		ossl_err(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	switch (max) {
	case TLS_MAX_1_0:
		SSL_CTX_set_security_level(ctx, 0);
		ok = SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_cipher_list(ctx, "AES256-SHA:AES128-SHA") == 1;
		break;
	case TLS_MAX_1_2:
		ok = SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1;
		break;
	case TLS_MAX_1_3:
		ok = SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) == 1;
		break;
	default:
		ok = 1;
	}
	if (!ok) {
		ossl_err(err, errlen, "cannot configure the TLS version");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The server's certificate must be a trusted CAPF certificate or chain to one. */
static int verify_server(SSL *ssl, STACK_OF(X509) *trusted, char *err, size_t errlen)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	char why[ERRLEN], subject[256] = "?";
	int ok = 0;

	if (!peer) {
		seterr(err, errlen, "the server presented no certificate");
		return -1;
	}
	for (int i = 0; i < sk_X509_num(trusted) && !ok; i++)
		ok = X509_cmp(peer, sk_X509_value(trusted, i)) == 0;
	if (!ok && pki_verify_chain(peer, trusted, 0, NULL, why, sizeof why) == 0)
		ok = 1;
	if (!ok) {
		pki_name_text(X509_get_subject_name(peer), PKI_NAME_RFC4514, subject, sizeof subject);
		seterr(err, errlen, "the server's certificate (%s) is not the trusted CAPF certificate: %s",
		       subject, why);
	}
	X509_free(peer);
	return ok ? 0 : -1;
}

static int handshake(struct tls_client *c, STACK_OF(X509) *trusted, char *err, size_t errlen)
{
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		ossl_err(err, errlen, "cannot set up TLS");
		return -1;
	}
	ERR_clear_error();
	errno = 0;
	if (SSL_connect(c->ssl) != 1) {
		if (ERR_peek_error())
			ossl_err(err, errlen, "TLS handshake failed");
		else
			seterr(err, errlen, "TLS handshake failed: %s",
			       errno == EAGAIN ? "timed out" : errno ? strerror(errno) : "connection closed");
		return -1;
	}
	return trusted ? verify_server(c->ssl, trusted, err, errlen) : 0; /* NULL: the caller checks */
}

int tls_client_open(const char *hostport, STACK_OF(X509) *trusted, enum tls_max max, int timeout_ms,
		    struct tls_client **out, char *err, size_t errlen)
{
	struct tls_client *c = calloc(1, sizeof *c);

	if (!c) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	c->timeout_ms = timeout_ms;
	c->fd = connect_tcp(hostport, timeout_ms, err, errlen);
	if (c->fd < 0 || !(c->ctx = client_ctx(max, err, errlen)) || handshake(c, trusted, err, errlen) < 0) {
		tls_client_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

int tls_client_send(struct tls_client *c, const uint8_t *data, size_t len, char *err, size_t errlen)
{
	ERR_clear_error();
	if (len > INT32_MAX || SSL_write(c->ssl, data, (int)len) != (int)len) {
		ossl_err(err, errlen, "cannot send to the server");
		return -1;
	}
	return 0;
}

/* A whole message at the front of buf: 1, not yet: 0, not CAPF: -1. */
static int framed(struct tls_client *c, size_t *total)
{
	char why[ERRLEN];
	int rc;

	if (c->have == 0)
		return 0;
	rc = capf_frame_length(c->buf, c->have, total, why, sizeof why);
	if (rc < 0)
		return -1;
	return rc == 1 && *total <= c->have;
}

/* More bytes from the server: >0 read, 0 closed, -1 timeout or error. */
static int read_more(struct tls_client *c, char *err, size_t errlen)
{
	int n, e;

	if (SSL_pending(c->ssl) == 0 && wait_fd(c->fd, POLLIN, c->timeout_ms) == 0) {
		seterr(err, errlen, "no message from the server within %g s", c->timeout_ms / 1000.0);
		return -1;
	}
	ERR_clear_error();
	n = SSL_read(c->ssl, c->buf + c->have, (int)(sizeof c->buf - c->have));
	if (n > 0)
		return n;
	e = SSL_get_error(c->ssl, n);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && (errno == 0 || errno == ECONNRESET)))
		return 0;
	if (e == SSL_ERROR_WANT_READ || errno == EAGAIN)
		seterr(err, errlen, "no message from the server within %g s", c->timeout_ms / 1000.0);
	else
		ossl_err(err, errlen, "cannot read from the server");
	return -1;
}

int tls_client_recv(struct tls_client *c, const uint8_t **msg, size_t *len, char *err, size_t errlen)
{
	size_t total = 0;
	int rc;

	memmove(c->buf, c->buf + c->consumed, c->have - c->consumed);
	c->have -= c->consumed;
	c->consumed = 0;
	while ((rc = framed(c, &total)) == 0) {
		int n = read_more(c, err, errlen);
		if (n <= 0)
			return n;
		c->have += (size_t)n;
	}
	*msg = c->buf;
	if (rc < 0) {
		*len = c->have;
		c->consumed = c->have;
		return -2;
	}
	*len = total;
	c->consumed = total;
	return 1;
}

X509 *tls_client_peer(const struct tls_client *c)
{
	return SSL_get1_peer_certificate(c->ssl);
}

SSL *tls_client_ssl(struct tls_client *c)
{
	return c->ssl;
}

void tls_client_describe(const struct tls_client *c, char *out, size_t outcap)
{
	snprintf(out, outcap, "%s %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
}

void tls_client_close(struct tls_client *c)
{
	if (!c)
		return;
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(c);
}
