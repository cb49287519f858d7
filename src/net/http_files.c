/*
 * http_files.c: the read-only HTTP file server (http_files.h) on evhttp.
 * One generic callback: method check, path decoding, the folder's rules
 * (file_folder.c), then the file by sendfile with its Content-Length; HEAD
 * gets the same head and no body.
 */
#include "net/http_files.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "net/addr.h"
#include "net/file_folder.h"
#include "net/tftp_proto.h"
#include "wire/sgn.h"

#define NAME_TEXT (4 * TFTP_NAME_MAX + 1)
#define CONFIG_SGN ".cnf.xml.sgn"
#define SGN_READ_MAX (4 * 1024 * 1024) /* a configuration stripped on the fly */

enum outcome { O_SENT, O_NOT_FOUND, O_FORBIDDEN, O_BAD_REQUEST, O_METHOD, O_ERROR, O_COUNT };

static const char *const outcome_names[O_COUNT] = {
	"sent", "not_found", "forbidden", "bad_request", "bad_method", "error",
};

static atomic_ullong outcomes[O_COUNT];
static atomic_ullong bytes_sent;

struct http_files {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct file_folder folder;
	int unsigned_configs;
	int port;
	SSL_CTX *ssl;
};

static void peer_of(struct evhttp_request *req, char *out, size_t cap)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	const char *addr = NULL;
	ev_uint16_t port = 0;

	if (c)
		evhttp_connection_get_peer(c, (char **)&addr, &port);
	snprintf(out, cap, "%s:%u", addr ? addr : "?", port);
}

static void reply(struct evhttp_request *req, int status, const char *reason, const char *what,
		  const char *why, enum outcome o)
{
	char peer[80];

	peer_of(req, peer, sizeof peer);
	log_info("http-files %s %s: %d %s (%s)", peer, what, status, reason, why);
	atomic_fetch_add(&outcomes[o], 1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
	evhttp_send_error(req, status, reason);
}

static const char *content_type(const char *name)
{
	size_t n = strlen(name);

	if (n > 4 && strcmp(name + n - 4, ".xml") == 0)
		return "text/xml";
	return "application/octet-stream";
}

/* The decoded path without its leading '/', or NULL (400) when malformed. */
static char *decoded_name(struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	size_t len = 0;
	char *name;

	if (!path || path[0] != '/')
		return NULL;
	name = evhttp_uridecode(path + 1, 0, &len);
	if (name && (strlen(name) != len || len > TFTP_NAME_MAX)) {
		free(name); /* an encoded NUL, or too long */
		return NULL;
	}
	return name;
}

/* Over HTTPS, SEP<MAC>.cnf.xml.sgn is answered with SEP<MAC>.cnf.xml: 1
 * when name asked for such a file (name then has ".sgn" cut off). */
static int unsigned_variant(const struct http_files *h, char *name)
{
	size_t n = strlen(name), s = strlen(CONFIG_SGN);

	if (!h->unsigned_configs || n <= s || strcmp(name + n - s, CONFIG_SGN) != 0)
		return 0;
	name[n - 4] = '\0';
	return 1;
}

/* The content of a signed file, its header cut off, into body. */
static int strip_signed(int fd, uint64_t size, struct evbuffer *body, const char **why)
{
	uint8_t *data = size <= SGN_READ_MAX ? malloc(size ? size : 1) : NULL;
	struct sgn_file f;
	char err[ERRLEN];
	int rc = -1;

	*why = "the signed file is too big to strip";
	if (data && pread(fd, data, size, 0) == (ssize_t)size) {
		*why = "the signed file does not decode";
		if (sgn_decode(&f, data, size, err, sizeof err) == 0 && !f.enc.present &&
		    evbuffer_add(body, f.content, f.content_len) == 0)
			rc = 0;
	}
	free(data);
	close(fd);
	return rc;
}

/* 200 with body (for HEAD: the head alone, of the length body would have). */
static void send_body(struct evhttp_request *req, struct evbuffer *body, uint64_t size,
		      const char *name, const char *what)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	char len[32], peer[80];
	int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;

	snprintf(len, sizeof len, "%llu", (unsigned long long)size);
	evhttp_add_header(hdr, "Content-Type", content_type(name));
	evhttp_add_header(hdr, "Content-Length", len);
	if (head)
		evbuffer_drain(body, evbuffer_get_length(body));
	peer_of(req, peer, sizeof peer);
	log_info("http-files %s %s: 200, %s bytes", peer, what, len);
	atomic_fetch_add(&outcomes[O_SENT], 1);
	if (!head)
		atomic_fetch_add(&bytes_sent, size);
	evhttp_send_reply(req, 200, "OK", body);
}

static void send_file(struct evhttp_request *req, int fd, uint64_t size, const char *name,
		      const char *what, int strip)
{
	struct evbuffer *body = evbuffer_new();
	int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
	const char *why = "cannot queue the file";
	int rc;

	if (!body)
		rc = -1;
	else if (strip)
		rc = strip_signed(fd, size, body, &why); /* closes fd */
	else if (head || size == 0)
		rc = close(fd);
	else
		rc = evbuffer_add_file(body, fd, 0, (ev_off_t)size); /* owns fd from here */
	if (rc < 0) {
		if (!body || (!strip && !head && size > 0))
			close(fd);
		reply(req, 500, "Internal Server Error", what, why, O_ERROR);
	} else {
		send_body(req, body, strip ? evbuffer_get_length(body) : size, name, what);
	}
	if (body)
		evbuffer_free(body);
}

/* The file name asks for, by the folder's rules and the HTTPS variant. */
static void serve(struct http_files *h, struct evhttp_request *req, char *name, const char *what)
{
	int fd = -1, kind = 0, variant = unsigned_variant(h, name), strip = 0;
	const char *why = NULL;
	uint64_t size = 0;
	int rc = file_folder_open(&h->folder, name, &fd, &size, &kind, &why);

	if (rc < 0 && variant && kind == FILE_OPEN_MISSING) {
		name[strlen(name)] = '.'; /* back to the .sgn, served without its header */
		rc = file_folder_open(&h->folder, name, &fd, &size, &kind, &why);
		strip = 1;
	}
	if (rc == 0)
		send_file(req, fd, size, name, what, strip);
	else if (kind == FILE_OPEN_MISSING)
		reply(req, 404, "Not Found", what, why, O_NOT_FOUND);
	else
		reply(req, 403, "Forbidden", what, why, O_FORBIDDEN);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http_files *h = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	char what[NAME_TEXT + 16], esc[NAME_TEXT];
	const char *uri = evhttp_request_get_uri(req);
	char *name;

	text_escape(esc, sizeof esc, uri ? uri : "", uri ? strlen(uri) : 0);
	snprintf(what, sizeof what, "%s \"%s\"", cmd == EVHTTP_REQ_HEAD ? "HEAD" : "GET", esc);
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		reply(req, 405, "Method Not Allowed", "request", "read-only: GET and HEAD only", O_METHOD);
		return;
	}
	if (!(name = decoded_name(req))) {
		reply(req, 400, "Bad Request", what, "malformed path", O_BAD_REQUEST);
		return;
	}
	serve(h, req, name, what);
	free(name);
}

/* HTTPS: each connection a TLS bufferevent (http_files_new with a context). */
static struct bufferevent *tls_bev(struct event_base *base, void *arg)
{
	struct http_files *h = arg;
	SSL *ssl = SSL_new(h->ssl);

	if (!ssl)
		return NULL;
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
}

struct http_files *http_files_new(struct event_base *base, const char *listen, const char *dir,
				  SSL_CTX *ssl, char *err, size_t errlen)
{
	struct http_files *h = calloc(1, sizeof *h);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char host[128];

	if (!h || file_folder_init(&h->folder, dir, err, errlen) < 0 ||
	    addr_parse(listen, &ss, &len, err, errlen) < 0 || !(h->http = evhttp_new(base))) {
		if (h && !err[0])
			seterr(err, errlen, "cannot create the HTTP file server");
		http_files_free(h);
		return NULL;
	}
	h->ssl = ssl;
	h->unsigned_configs = ssl != NULL;
	if (ssl) {
		SSL_CTX_up_ref(ssl);
		evhttp_set_bevcb(h->http, tls_bev, h);
	}
	addr_host((struct sockaddr *)&ss, host, sizeof host);
	h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset for IPv6 */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
				   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_max_headers_size(h->http, 16384);
	evhttp_set_max_body_size(h->http, 4096); /* no request here has a body */
	evhttp_set_gencb(h->http, on_request, h);
	if (!(h->sock = evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)h->port))) {
		seterr(err, errlen, "HTTP files on %s: cannot bind", listen);
		http_files_free(h);
		return NULL;
	}
	return h;
}

int http_files_port(const struct http_files *h)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	evutil_socket_t fd = evhttp_bound_socket_get_fd(h->sock);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return h->port;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void http_files_free(struct http_files *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	SSL_CTX_free(h->ssl);
	free(h);
}

void http_files_metrics_render(struct buf *out)
{
	char line[160];
	int n;

	prom_counter_family(out, "opencapf_http_files_requests_total", "HTTP file requests by outcome.", "outcome",
			    outcome_names, outcomes, O_COUNT);
	n = snprintf(line, sizeof line, "# HELP opencapf_http_files_bytes_total File bytes sent over "
		     "HTTP.\n# TYPE opencapf_http_files_bytes_total counter\n"
		     "opencapf_http_files_bytes_total %llu\n", atomic_load(&bytes_sent));
	buf_put(out, line, (size_t)n);
}
