/*
 * api_http.c: answering a request: JSON bodies, JSON errors, plain files,
 * response headers, and reading query parameters and cookies.
 *
 * Every reply goes through send_reply, which marks the request answered so
 * that api_server.c can catch a handler that forgot to reply (a bug: 500)
 * and a handler can never reply twice.
 */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"

static const char *reason_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return code < 300 ? "OK" : code < 500 ? "Client Error" : "Server Error";
	}
}

static void send_reply(struct api_req *r, int code, struct evbuffer *buf)
{
	if (r->replied) {
		log_err("api: %s %s answered twice (bug)", api_method_name(r->method), r->path);
		return;
	}
	r->replied = 1;
	log_debug("api: %s %s %s -> %d", r->peer, api_method_name(r->method), r->path, code);
	evhttp_send_reply(r->req, code, reason_phrase(code), buf);
}

void api_header(struct api_req *r, const char *name, const char *value)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, value);
}

const char *api_request_header(struct api_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

void api_reply_text(struct api_req *r, int code, const char *content_type, const void *data, size_t len)
{
	struct evbuffer *buf = evbuffer_new();

	if (content_type)
		api_header(r, "Content-Type", content_type);
	if (buf && len)
		evbuffer_add(buf, data, len);
	send_reply(r, code, buf);
	if (buf)
		evbuffer_free(buf);
}

void api_reply_empty(struct api_req *r, int code)
{
	send_reply(r, code, NULL);
}

void api_reply_json(struct api_req *r, int code, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
	struct evbuffer *buf = text ? evbuffer_new() : NULL;

	json_decref(body);
	api_header(r, "Content-Type", "application/json");
	api_header(r, "Cache-Control", "no-store");
	if (!buf || evbuffer_add(buf, text, strlen(text)) < 0 || evbuffer_add(buf, "\n", 1) < 0) {
		static const char oom[] = "{\"error\":\"out of memory\"}\n";
		api_reply_text(r, 500, NULL, oom, sizeof oom - 1);
	} else
		send_reply(r, code, buf);
	if (buf)
		evbuffer_free(buf);
	free(text);
}

void api_reply_error(struct api_req *r, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	api_reply_json(r, code, json_pack("{s:s}", "error", msg));
}

void api_reply_store_error(struct api_req *r, const char *what)
{
	const char *msg = store_errmsg(r->st);

	log_warn("api: %s %s: %s: %s", api_method_name(r->method), r->path, what, msg);
	if (strstr(msg, "database is locked") || strstr(msg, "busy"))
		api_reply_error(r, 503, "%s: the database is busy, try again", what);
	else
		api_reply_error(r, 500, "%s: %s", what, msg);
}

const char *api_query(struct api_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

int api_query_int(struct api_req *r, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out)
{
	const char *v = api_query(r, name);
	char *end;
	long long n;

	*out = def;
	if (!v)
		return 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
		api_reply_error(r, 400, "query parameter %s: expected a whole number from %" PRId64 " to %" PRId64,
				name, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

int api_query_bool(struct api_req *r, const char *name, int *out)
{
	const char *v = api_query(r, name);

	*out = 0;
	if (!v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !*v)
		*out = 1;
	else if (strcmp(v, "0") && strcmp(v, "false") && strcmp(v, "no")) {
		api_reply_error(r, 400, "query parameter %s: expected true or false", name);
		return -1;
	}
	return 0;
}

int api_cookie(struct api_req *r, const char *name, char *out, size_t outcap)
{
	const char *h = api_request_header(r, "Cookie");
	size_t nlen = strlen(name);

	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		if (strncmp(h, name, nlen) == 0 && h[nlen] == '=') {
			const char *v = h + nlen + 1;
			size_t n = strcspn(v, ";");
			while (n > 0 && v[n - 1] == ' ')
				n--;
			if (n >= outcap)
				return 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return 0;
		}
		h = strchr(h, ';');
	}
	return 1;
}

const char *api_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}
