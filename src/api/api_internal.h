/*
 * api_internal.h: what the files of src/api share.
 *
 *   api_config.c   the [http] settings
 *   api_server.c   the thread, the evhttp listener (HTTPS when configured),
 *                  request limits and the path from a request to a handler
 *   api_conn.c     the bufferevent under each connection: TLS, and the
 *                  request size limit answered with a JSON 413
 *   api_routes.c   the routing table: method + path -> handler, role
 *   api_http.c     replies (JSON, errors, text), query strings, cookies
 *   api_auth.c     tokens, browser sessions, CSRF, failed-login limits
 *   api_input.c    JSON request bodies -> checked values (fuzzed: api_input.h)
 *   api_phones.c   /api/v1/phones...
 *   api_trust.c    /api/v1/trust...
 *   api_capf.c     /api/v1/capf..., /api/v1/itl...
 *   api_misc.c     health, dashboard, report, audit, metrics
 *   api_static.c   the web UI's files
 *   api_revoke.c   /api/v1/phones/NAME/revoke, /api/v1/certs/SERIAL/revoke
 *   api_pki.c      /crl/NAME, /ocsp, and the CRL publication timer
 *   api_tokens.c   /api/v1/tokens (list, create, revoke)
 *   api_records.c  /api/v1/tvs, /api/v1/ctl
 *   api_diag.c     /api/v1/phones/NAME/diagnose
 *   api_stats.c    /api/v1/stats/... (the web UI's pictures)
 *
 * Every handler runs on the API thread with that thread's store handle and
 * answers exactly once (api_reply_*). Errors are JSON {"error": "..."} with
 * a 4xx/5xx status; a request that fails changes nothing (each change is one
 * transaction).
 */
#ifndef OPENCAPF_API_INTERNAL_H
#define OPENCAPF_API_INTERNAL_H

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "api/api.h"
#include "store/store.h"
#include "store/store_api.h"

/* Request bodies: bigger ones get a JSON 413, from api_conn.c (api_conn.h)
 * before the body is read when the head gives its length; evhttp itself has
 * no limit, as its refusals are HTML. */
#define API_BODY_MAX (1024 * 1024)
#define API_MAX_PARAMS 3

struct api_server {
	struct api_config cfg;
	struct event_base *base;
	struct evhttp *http;
	struct conn_limit *accept_guard; /* pauses the listener on accept errors (conn_limit.h) */
	struct store *st;
	void *ssl_ctx;              /* SSL_CTX *, NULL for plain HTTP */
	pthread_t thread;
	int started;
	char web_dir[1024];         /* resolved, "" when there is none */
	struct admin_ocsp *ocsp;    /* the OCSP responder's cache (api_pki.c) */
	struct event *crl_timer;    /* publishes the CRLs that are due */
	struct event *prov_timer;   /* keeps the provisioning folder current (api_provision.c) */
	char prov_seen[64];         /* what the folder was last published from */
	char itl_failed[1024];      /* why the published ITL could not be updated, "" (api_provision.c) */
};

enum api_auth_via { API_VIA_NONE, API_VIA_TOKEN, API_VIA_COOKIE };

struct api_req {
	struct api_server *srv;
	struct evhttp_request *req;
	struct store *st;
	enum evhttp_cmd_type method;
	char path[1024];                     /* decoded path, no query */
	char *param[API_MAX_PARAMS];         /* decoded {} parts of the route, malloc'd */
	int nparam;
	struct evkeyvalq query;              /* decoded query parameters */
	json_t *body;                        /* the parsed JSON body, or NULL */
	char peer[64];                       /* client address */
	enum api_auth_via via;
	struct api_token who;                /* valid when via != NONE */
	char cookie[API_SECRET_TEXT_MAX];    /* session cookie value when via == COOKIE */
	char actor[64];                      /* audit actor: "api:token-3" */
	int replied;
};

/* ---- routing (api_routes.c) ---- */

enum api_access {
	API_OPEN,        /* anyone (health, login, the UI's files) */
	API_READ,        /* any valid token or session */
	API_ADMIN,       /* an admin token or session */
};

typedef void (*api_handler)(struct api_req *r);

struct api_route {
	enum evhttp_cmd_type method;
	const char *pattern;             /* "/api/v1/phones/{}": {} matches one path segment */
	api_handler fn;
	enum api_access access;
	int wants_body;                  /* a JSON object body is required */
};

/* The route for method + path, its parameters decoded into r->param.
 * Returns the route, or NULL with *path_known set when the path exists for
 * other methods (405; allow lists them, e.g. "GET, PATCH"). */
const struct api_route *api_route_find(struct api_req *r, int *path_known, char *allow, size_t allowcap);
void api_route_free(struct api_req *r);

/* ---- replies (api_http.c) ---- */

void api_reply_json(struct api_req *r, int code, json_t *body);            /* steals body */
void api_reply_error(struct api_req *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The store's current error as a 500, or 409/400 when the message says so. */
void api_reply_store_error(struct api_req *r, const char *what);
void api_reply_text(struct api_req *r, int code, const char *content_type, const void *data, size_t len);
void api_reply_empty(struct api_req *r, int code);
/* Extra response header (before the reply). */
void api_header(struct api_req *r, const char *name, const char *value);
const char *api_request_header(struct api_req *r, const char *name);
const char *api_query(struct api_req *r, const char *name);
/* Query integer in [lo, hi], def when absent; -1 (400 sent) on a bad value. */
int api_query_int(struct api_req *r, const char *name, int64_t lo, int64_t hi, int64_t def, int64_t *out);
/* Query boolean: "1", "true", "yes" / "0", "false", "no"; -1 (400 sent) otherwise. */
int api_query_bool(struct api_req *r, const char *name, int *out);
/* A cookie's value from the Cookie header into out; 1 = absent. */
int api_cookie(struct api_req *r, const char *name, char *out, size_t outcap);
/* "2026-11-24 18:23:30 UTC" (as the CLI's JSON), or JSON null for 0. */
const char *api_method_name(enum evhttp_cmd_type m);

/* ---- authentication (api_auth.c) ---- */

/* Find who is asking (Bearer token or session cookie) and check `access`.
 * Returns 0 to go on, -1 when a reply (401, 403, 429) was sent. */
int api_authenticate(struct api_req *r, enum api_access access);
/* Audit a change made through the API (never pass secrets). */
int api_audit(struct api_req *r, const char *action, const char *object, const char *detail);

void api_login(struct api_req *r);          /* POST /api/v1/login */
void api_logout(struct api_req *r);         /* POST /api/v1/logout */
void api_session(struct api_req *r);        /* GET /api/v1/session */

/* ---- handlers ---- */

void api_health(struct api_req *r);
void api_dashboard(struct api_req *r);
void api_report(struct api_req *r);
void api_audit_list(struct api_req *r);
void api_metrics(struct api_req *r);

void api_phones_list(struct api_req *r);
void api_phones_create(struct api_req *r);
void api_phones_schedule(struct api_req *r);
void api_phone_show(struct api_req *r);
void api_phone_update(struct api_req *r);
void api_phone_delete(struct api_req *r);
void api_phone_operation(struct api_req *r);
void api_phone_history(struct api_req *r);

void api_trust_list(struct api_req *r);
void api_trust_show(struct api_req *r);
void api_trust_add(struct api_req *r);
void api_trust_remove(struct api_req *r);
void api_trust_export(struct api_req *r);

void api_capf_show(struct api_req *r);
void api_capf_cert(struct api_req *r);
void api_capf_regenerate(struct api_req *r);
void api_capf_csr(struct api_req *r);
void api_capf_import(struct api_req *r);
void api_itl_show(struct api_req *r);
void api_itl_rebuild(struct api_req *r);

/* api_pki.c: /crl/NAME, /ocsp (no authentication) and the CRL timer. */
void api_crl_get(struct api_req *r);
void api_crl_list(struct api_req *r);       /* GET /api/v1/crl */
void api_ocsp(struct api_req *r);
int api_crl_timer_start(struct api_server *srv);
void api_pki_free(struct api_server *srv);
int api_provision_timer_start(struct api_server *srv);
void api_provision_free(struct api_server *srv);

/* api_revoke.c */
void api_phone_revoke(struct api_req *r);
void api_cert_revoke(struct api_req *r);
struct revocation;
json_t *api_revocation_json(const struct revocation *rv);

void api_tokens_list(struct api_req *r);
void api_tokens_create(struct api_req *r);
void api_tokens_revoke(struct api_req *r);
/* Who a request acts as in the audit log: its token's or session's name, else "api". */
const char *api_actor(const struct api_req *r);
void api_tvs_list(struct api_req *r);
void api_tvs_add(struct api_req *r);
void api_tvs_remove(struct api_req *r);
void api_ctl_show(struct api_req *r);
void api_phone_diagnose(struct api_req *r);
void api_stats_lsc_expiry(struct api_req *r);
void api_stats_campaign(struct api_req *r);
void api_stats_rates(struct api_req *r);
/* Phones with a pending install, delete, troubleshoot (in that order), and
 * of those the ones whose last attempt failed; 0 / -1 (api_stats.c). */
int api_ops_counts(struct store *st, int64_t pending[3], int64_t failed[3]);

/* The web UI (api_static.c): serve a file below web_dir, 404 otherwise. */
void api_static(struct api_req *r);
/* Find the web folder (cfg->web_dir, else near argv0 or the source tree). */
int api_static_find_dir(const struct api_config *cfg, char *out, size_t outcap);

#endif
