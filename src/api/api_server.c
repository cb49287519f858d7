/*
 * api_server.c: the API thread: one event loop, one evhttp server, one
 * store handle. The loop also runs the upkeep timers (CRL publication,
 * provisioning folder, published ITL: api_pki.c, api_provision.c), also
 * when the HTTP server is off. Every request goes through handle_request:
 *
 *   target (path, query) decoded  ->  /api/... and /metrics: route lookup
 *   (404/405), body size (413), who is asking (401/403/429), JSON body
 *   (415/400), the handler  ->  anything else: a file of the web UI.
 *
 * Limits: headers 16 KiB, bodies API_BODY_MAX (a JSON 413 above it, before
 * the body is read when the head says its length: api_conn.c), 30 s to send
 * a request. Accept errors (out of descriptors) pause the
 * listener instead of spinning (conn_limit_guard). Plain HTTP is only
 * allowed on loopback addresses; anything else needs [http] cert and key,
 * and then HTTPS is all there is.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_conn.h"
#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"
#include "net/addr.h"
#include "net/conn_limit.h"
#include "pki/pki.h"

#define API_REQUEST_TIMEOUT 30

static const char csp[] =
	"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static void set_common_headers(struct api_req *r)
{
	api_header(r, "X-Content-Type-Options", "nosniff");
	api_header(r, "X-Frame-Options", "DENY");
	api_header(r, "Referrer-Policy", "no-referrer");
	api_header(r, "Content-Security-Policy", csp);
	if (r->srv->ssl_ctx)
		api_header(r, "Strict-Transport-Security", "max-age=31536000");
}

/* Path decoded (no NUL inside), query parsed; 400 otherwise. */
static int parse_target(struct api_req *r)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(r->req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	size_t len = 0;
	char *dec;

	if (!path || !*path)
		path = "/";
	dec = evhttp_uridecode(path, 0, &len);
	if (!dec || len != strlen(dec) || len >= sizeof r->path) {
		free(dec);
		snprintf(r->path, sizeof r->path, "(bad path)");
		api_reply_error(r, 400, "the request path is not valid");
		return -1;
	}
	memcpy(r->path, dec, len + 1);
	free(dec);
	if (query && evhttp_parse_query_str(query, &r->query) < 0) {
		api_reply_error(r, 400, "the query string is not valid");
		return -1;
	}
	return 0;
}

static int is_json_type(const char *ct)
{
	static const char want[] = "application/json";

	return ct && strncasecmp(ct, want, sizeof want - 1) == 0 &&
	       (ct[sizeof want - 1] == '\0' || ct[sizeof want - 1] == ';' || ct[sizeof want - 1] == ' ');
}

/* The body as a JSON object in r->body; a reply is sent otherwise. */
static int read_body(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	const char *data;

	if (len == 0) {
		api_reply_error(r, 400, "this request needs a JSON object body");
		return -1;
	}
	if (!is_json_type(api_request_header(r, "Content-Type"))) {
		api_reply_error(r, 415, "the body must be JSON (Content-Type: application/json)");
		return -1;
	}
	data = (const char *)evbuffer_pullup(in, -1);
	r->body = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!r->body) {
		api_reply_error(r, 400, "malformed JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(r->body)) {
		api_reply_error(r, 400, "the body must be a JSON object");
		return -1;
	}
	return 0;
}

static void dispatch_api(struct api_req *r)
{
	size_t body_len = evbuffer_get_length(evhttp_request_get_input_buffer(r->req));
	const struct api_route *route;
	enum api_access access;
	char allow[96];
	int known;

	route = api_route_find(r, &known, allow, sizeof allow);
	if (!route) {
		if (known) {
			api_header(r, "Allow", allow);
			api_reply_error(r, 405, "%s is not allowed on %s (allowed: %s)", api_method_name(r->method),
					r->path, allow);
		} else
			api_reply_error(r, 404, "no such endpoint: %s", r->path);
		return;
	}
	if (body_len > API_BODY_MAX) {
		api_header(r, "Connection", "close");
		api_reply_error(r, 413, "the body is %zu bytes; the limit is %d", body_len, API_BODY_MAX);
		return;
	}
	access = route->access;
	if (route->fn == api_metrics && r->srv->cfg.metrics_public)
		access = API_OPEN;
	if (api_authenticate(r, access) < 0)
		return;
	if (route->wants_body && read_body(r) < 0)
		return;
	route->fn(r);
}

static int is_api_path(const char *path)
{
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 || strcmp(path, "/metrics") == 0 ||
	       strncmp(path, "/crl/", 5) == 0;
}

static void request_peer(struct api_req *r)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(r->req);
	char *host = NULL;
	ev_uint16_t port = 0;

	if (conn)
		evhttp_connection_get_peer(conn, &host, &port);
	snprintf(r->peer, sizeof r->peer, "%s", host ? host : "?");
}

static void handle_request(struct evhttp_request *req, void *arg)
{
	struct api_req r;

	memset(&r, 0, sizeof r);
	r.srv = arg;
	r.req = req;
	r.st = r.srv->st;
	r.method = evhttp_request_get_command(req);
	TAILQ_INIT(&r.query);
	request_peer(&r);
	set_common_headers(&r);
	if (parse_target(&r) == 0) {
		if (strcmp(r.path, "/ocsp") == 0 || strncmp(r.path, "/ocsp/", 6) == 0)
			api_ocsp(&r);   /* open; its request is binary, GET's base64 may hold '/' */
		else if (is_api_path(r.path))
			dispatch_api(&r);
		else
			api_static(&r);
	}
	if (!r.replied)
		api_reply_error(&r, 500, "internal error: the request got no answer");
	api_route_free(&r);
	evhttp_clear_headers(&r.query);
	json_decref(r.body);
	OPENSSL_cleanse(r.cookie, sizeof r.cookie);
}

/* ---- HTTPS ---- */

static SSL_CTX *https_ctx(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	EVP_PKEY *key;
	char e[ERRLEN];

	if (!ctx) {
		seterr(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* pki_key_load: in opencapfd, a handle on the key its signer process holds */
	if (!(key = pki_key_load(key_file, e, sizeof e))) {
		seterr(err, errlen, "HTTPS key: %s", e);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), e, sizeof e);
		ERR_clear_error();
		seterr(err, errlen, "HTTPS certificate %s / key %s: %s", cert_file, key_file, e);
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_PKEY_free(key);
	return ctx;
}

/* ---- start and stop ---- */

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

static int check_listen_config(const struct api_config *cfg, struct sockaddr_storage *ss, socklen_t *sslen,
			       char *err, size_t errlen)
{
	if (addr_parse(cfg->listen, ss, sslen, err, errlen) < 0)
		return -1;
	if (!cfg->cert_file[0] != !cfg->key_file[0]) {
		seterr(err, errlen, "HTTPS needs both [http] cert and key");
		return -1;
	}
	if (!cfg->cert_file[0] && !is_loopback(ss)) {
		seterr(err, errlen, "the HTTP API on %s (not a loopback address) needs HTTPS: set [http] cert and key "
		       "(--http-cert, --http-key)", cfg->listen);
		return -1;
	}
	return 0;
}

/* The thread's event loop and store handle, which the upkeep timers need
 * with or without the HTTP server. */
static int setup_loop(struct api_server *srv, char *err, size_t errlen)
{
	if (evthread_use_pthreads() < 0 || !(srv->base = event_base_new())) {
		seterr(err, errlen, "cannot create the API thread's event loop");
		return -1;
	}
	return store_open(srv->cfg.state_dir, STORE_OPEN_EXISTING, &srv->st, err, errlen);
}

static int setup_http(struct api_server *srv, char *err, size_t errlen)
{
	if (!(srv->http = evhttp_new(srv->base))) {
		seterr(err, errlen, "cannot create the HTTP server");
		return -1;
	}
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
				   EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(srv->http, API_HEADERS_MAX);
	/* no evhttp body limit: api_conn.c enforces it with a JSON 413 */
	evhttp_set_timeout(srv->http, API_REQUEST_TIMEOUT);
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_default_content_type(srv->http, "application/json");
	evhttp_set_gencb(srv->http, handle_request, srv);
	if (srv->cfg.cert_file[0] && !(srv->ssl_ctx = https_ctx(srv->cfg.cert_file, srv->cfg.key_file, err, errlen)))
		return -1;
	evhttp_set_bevcb(srv->http, api_conn_bev, srv);
	return 0;
}

/* 0 bound, 1 the default address is busy (warned), -1 error. */
static int bind_listener(struct api_server *srv, const struct sockaddr_storage *ss, socklen_t sslen,
			 char *err, size_t errlen)
{
	struct evconnlistener *l = evconnlistener_new_bind(srv->base, NULL, NULL,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 128,
		(const struct sockaddr *)ss, (int)sslen);

	if (!l) {
		const char *why = evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
		if (srv->cfg.listen_is_default) {
			log_warn("HTTP API: cannot listen on %s (%s); the API and web UI are off (set --http-listen)",
				 srv->cfg.listen, why);
			return 1;
		}
		seterr(err, errlen, "HTTP API: cannot listen on %s: %s", srv->cfg.listen, why);
		return -1;
	}
	if (!evhttp_bind_listener(srv->http, l)) {
		evconnlistener_free(l);
		seterr(err, errlen, "HTTP API: cannot serve on %s", srv->cfg.listen);
		return -1;
	}
	if (!(srv->accept_guard = conn_limit_new("http", &(struct listener_limits){ 0 })) ||
	    conn_limit_guard(srv->accept_guard, l) < 0) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void *api_thread(void *arg)
{
	struct api_server *srv = arg;

	event_base_loop(srv->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static void server_free(struct api_server *srv)
{
	api_pki_free(srv);
	api_provision_free(srv);
	if (srv->http)
		evhttp_free(srv->http);
	conn_limit_free(srv->accept_guard); /* after its listener (freed with the evhttp) */
	if (srv->base)
		event_base_free(srv->base);
	SSL_CTX_free(srv->ssl_ctx);
	store_close(srv->st);
	free(srv);
}

/* The HTTP server on its listener: 0 serving, 1 off (by configuration, or
 * the default address is busy: warned), -1 error. */
static int start_http(struct api_server *srv, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int rc;

	if (!srv->cfg.listen[0] || strcmp(srv->cfg.listen, "off") == 0)
		return 1;
	if (check_listen_config(&srv->cfg, &ss, &sslen, err, errlen) < 0 || setup_http(srv, err, errlen) < 0)
		return -1;
	if ((rc = bind_listener(srv, &ss, sslen, err, errlen)) == 1) {
		evhttp_free(srv->http);
		srv->http = NULL;
	}
	if (rc != 0)
		return rc;
	if (api_static_find_dir(&srv->cfg, srv->web_dir, sizeof srv->web_dir) < 0)
		log_warn("HTTP API: no web UI folder found (set [http] web_dir); only the API is served");
	return 0;
}

int api_server_start(const struct api_config *cfg, struct api_server **out, char *err, size_t errlen)
{
	struct api_server *srv;
	int http_off;

	*out = NULL;
	if (!(srv = calloc(1, sizeof *srv))) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	srv->cfg = *cfg;
	if (setup_loop(srv, err, errlen) < 0 || (http_off = start_http(srv, err, errlen)) < 0) {
		server_free(srv);
		return -1;
	}
	if (api_crl_timer_start(srv) < 0 || api_provision_timer_start(srv) < 0) {
		seterr(err, errlen, "cannot start the CRL and provisioning timers");
		server_free(srv);
		return -1;
	}
	if (pthread_create(&srv->thread, NULL, api_thread, srv) != 0) {
		seterr(err, errlen, "cannot start the HTTP API thread");
		server_free(srv);
		return -1;
	}
	srv->started = 1;
	if (http_off)
		log_info("HTTP API off; CRL, provisioning and ITL upkeep still run");
	else
		log_info("HTTP API on %s://%s, web UI %s%s", srv->ssl_ctx ? "https" : "http", cfg->listen,
			 srv->web_dir[0] ? "from " : "off", srv->web_dir);
	*out = srv;
	return 0;
}

void api_server_stop(struct api_server *srv)
{
	if (!srv)
		return;
	if (srv->started) {
		event_base_loopbreak(srv->base);
		pthread_join(srv->thread, NULL);
	}
	server_free(srv);
}
