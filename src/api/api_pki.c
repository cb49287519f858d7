/*
 * api_pki.c: what the daemon's HTTP server publishes for certificate
 * checkers, without authentication: the CRLs (GET /crl/NAME.crl as DER,
 * /crl/NAME.pem as PEM, from the TFTP folder: admin/crl.h), the OCSP
 * responder (RFC 6960 appendix A: POST /ocsp with an
 * application/ocsp-request body, GET /ocsp/<url-encoded base64 request>;
 * admin/ocsp.h), and the timer that publishes the CRLs that are due (at
 * start, then every API_CRL_TICK seconds: after revocations made anywhere,
 * and well before nextUpdate).
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "admin/crl.h"
#include "admin/ocsp.h"
#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"

#define API_CRL_TICK 5
#define OCSP_MAX 65536

void api_crl_get(struct api_req *r)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int pem = 0, rc = admin_crl_read(r->st, r->param[0], &data, &len, &pem);

	if (rc != 0) {
		api_reply_error(r, 404, "no CRL named %s (names: CAPF-xxxxxxxx.crl, CAPF-xxxxxxxx.pem)", r->param[0]);
		return;
	}
	api_header(r, "Cache-Control", "max-age=300");
	api_reply_text(r, 200, pem ? "application/x-pem-file" : "application/pkix-crl", data, len);
	free(data);
}

static int crl_json(const struct admin_crl *c, void *arg)
{
	char tu[40] = "", nu[40] = "", der[120], pem[120];
	json_t *o;

	fmt_time_utc(c->this_update, tu, sizeof tu);
	fmt_time_utc(c->next_update, nu, sizeof nu);
	snprintf(der, sizeof der, "/crl/%s.crl", c->name);
	snprintf(pem, sizeof pem, "/crl/%s.pem", c->name);
	o = json_pack("{s:s, s:s, s:s, s:b, s:I}", "name", c->name, "capf_sha256", c->capf_sha256, "state", c->state,
		      "crl_sign", c->can_sign, "number", (json_int_t)c->number);
	json_object_set_new(o, "this_update", c->number ? json_string(tu) : json_null());
	json_object_set_new(o, "next_update", c->number ? json_string(nu) : json_null());
	json_object_set_new(o, "der", c->can_sign ? json_string(der) : json_null());
	json_object_set_new(o, "pem", c->can_sign ? json_string(pem) : json_null());
	json_array_append_new(arg, o);
	return 0;
}

/* GET /api/v1/crl: each CAPF certificate's CRL as `opencapf crl show` lists it. */
void api_crl_list(struct api_req *r)
{
	json_t *list = json_array();
	char err[512] = "";

	if (admin_crl_publish(r->st, -1, crl_json, list, err, sizeof err) < 0) {
		json_decref(list);
		api_reply_error(r, 500, "%s", err);
		return;
	}
	api_reply_json(r, 200, json_pack("{s:o, s:i, s:I}", "crls", list, "crl_days", admin_crl_days(r->st),
					 "superseded_grace", (json_int_t)admin_crl_superseded_grace(r->st)));
}

static void ocsp_reply(struct api_req *r, const uint8_t *req, size_t len)
{
	uint8_t *resp = NULL;
	size_t rlen = 0;
	char err[256] = "";

	if (!r->srv->ocsp && !(r->srv->ocsp = admin_ocsp_new())) {
		api_reply_error(r, 500, "out of memory");
		return;
	}
	if (admin_ocsp_answer(r->srv->ocsp, r->st, req, len, &resp, &rlen, err, sizeof err) < 0) {
		log_warn("OCSP: %s", err);
		api_reply_error(r, 500, "OCSP: %s", err);
		return;
	}
	if (r->method == EVHTTP_REQ_GET)
		api_header(r, "Cache-Control", "max-age=300");
	api_reply_text(r, 200, "application/ocsp-response", resp, rlen);
	OPENSSL_free(resp);
}

/* GET /ocsp/BASE64: the rest of the raw path, percent-decoded, base64-decoded. */
static void ocsp_get(struct api_req *r)
{
	const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->req));
	char *dec = raw && strlen(raw) > 6 ? evhttp_uridecode(raw + 6, 0, NULL) : NULL;
	size_t n = dec ? strlen(dec) : 0;
	uint8_t *der = n && n <= OCSP_MAX * 2 ? malloc(n) : NULL;
	int len = der ? EVP_DecodeBlock(der, (const unsigned char *)dec, (int)n) : -1;

	if (len < 0) {
		api_reply_error(r, 400, "GET /ocsp/ needs a base64 OCSP request after the slash");
	} else {
		/* EVP_DecodeBlock counts the '=' padding as zero bytes */
		while (n > 0 && dec[n - 1] == '=' && len > 0) {
			n--;
			len--;
		}
		ocsp_reply(r, der, (size_t)len);
	}
	free(der);
	free(dec);
}

void api_ocsp(struct api_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);

	if (r->method == EVHTTP_REQ_GET && strncmp(r->path, "/ocsp/", 6) == 0) {
		ocsp_get(r);
	} else if (r->method == EVHTTP_REQ_POST && strcmp(r->path, "/ocsp") == 0) {
		if (len > OCSP_MAX) {
			api_header(r, "Connection", "close");
			api_reply_error(r, 413, "an OCSP request of %zu bytes (at most %d)", len, OCSP_MAX);
			return;
		}
		ocsp_reply(r, evbuffer_pullup(in, -1), len);
	} else {
		api_header(r, "Allow", "GET, POST");
		api_reply_error(r, 405, "OCSP takes POST /ocsp or GET /ocsp/<base64 request>");
	}
}

static int crl_logged(const struct admin_crl *c, void *arg)
{
	(void)arg;
	if (c->written)
		log_info("CRL %s number %lld published (%zu revoked, next update in %d days)", c->name,
			 (long long)c->number, c->entries, (int)((c->next_update - c->this_update) / 86400));
	return 0;
}

static void crl_tick(evutil_socket_t fd, short what, void *arg)
{
	struct api_server *srv = arg;
	char err[512] = "";

	(void)fd;
	(void)what;
	if (admin_crl_publish(srv->st, 0, crl_logged, NULL, err, sizeof err) < 0)
		log_warn("CRL publication: %s", err);
}

int api_crl_timer_start(struct api_server *srv)
{
	struct timeval tv = { API_CRL_TICK, 0 }, now = { 0, 0 };

	srv->crl_timer = event_new(srv->base, -1, EV_PERSIST, crl_tick, srv);
	if (!srv->crl_timer || event_add(srv->crl_timer, &tv) < 0)
		return -1;
	/* once at start: a revocation recorded before a crash is published now */
	return event_base_once(srv->base, -1, EV_TIMEOUT, crl_tick, srv, &now);
}

void api_pki_free(struct api_server *srv)
{
	if (srv->crl_timer)
		event_free(srv->crl_timer);
	admin_ocsp_free(srv->ocsp);
}
