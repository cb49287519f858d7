/*
 * api_routes.c: the one table of the API: method, path pattern, handler,
 * who may call it, and whether it takes a JSON body. docs/api.md follows
 * this table; keep them in step.
 *
 * A pattern's "{}" matches one path segment, which reaches the handler
 * percent-decoded in r->param[] (a segment that decodes to something holding
 * '/' or NUL does not match). Matching is exact otherwise: no trailing
 * slash, no prefix matches.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PATCH EVHTTP_REQ_PATCH
#define DELETE EVHTTP_REQ_DELETE

static const struct api_route routes[] = {
	{ GET, "/api/v1/health", api_health, API_OPEN, 0 },
	{ POST, "/api/v1/login", api_login, API_OPEN, 1 },
	{ POST, "/api/v1/logout", api_logout, API_READ, 0 },
	{ GET, "/api/v1/session", api_session, API_READ, 0 },
	{ GET, "/api/v1/dashboard", api_dashboard, API_READ, 0 },

	{ GET, "/api/v1/phones", api_phones_list, API_READ, 0 },
	{ POST, "/api/v1/phones", api_phones_create, API_ADMIN, 1 },
	{ POST, "/api/v1/phones/schedule", api_phones_schedule, API_ADMIN, 1 },
	{ GET, "/api/v1/phones/{}", api_phone_show, API_READ, 0 },
	{ PATCH, "/api/v1/phones/{}", api_phone_update, API_ADMIN, 1 },
	{ DELETE, "/api/v1/phones/{}", api_phone_delete, API_ADMIN, 0 },
	{ POST, "/api/v1/phones/{}/operation", api_phone_operation, API_ADMIN, 1 },
	{ GET, "/api/v1/phones/{}/history", api_phone_history, API_READ, 0 },
	{ POST, "/api/v1/phones/{}/revoke", api_phone_revoke, API_ADMIN, 1 },
	{ POST, "/api/v1/certs/{}/revoke", api_cert_revoke, API_ADMIN, 1 },
	{ GET, "/api/v1/phones/{}/diagnose", api_phone_diagnose, API_READ, 0 },

	{ GET, "/api/v1/report", api_report, API_READ, 0 },
	{ GET, "/api/v1/audit", api_audit_list, API_READ, 0 },

	{ GET, "/api/v1/trust", api_trust_list, API_READ, 0 },
	{ GET, "/api/v1/trust/{}", api_trust_show, API_READ, 0 },
	{ POST, "/api/v1/trust/{}", api_trust_add, API_ADMIN, 1 },
	{ GET, "/api/v1/trust/{}/export", api_trust_export, API_READ, 0 },
	{ DELETE, "/api/v1/trust/{}/{}", api_trust_remove, API_ADMIN, 0 },

	{ GET, "/api/v1/capf", api_capf_show, API_READ, 0 },
	{ GET, "/api/v1/capf/cert", api_capf_cert, API_READ, 0 },
	{ POST, "/api/v1/capf/regenerate", api_capf_regenerate, API_ADMIN, 1 },
	{ POST, "/api/v1/capf/csr", api_capf_csr, API_ADMIN, 1 },
	{ POST, "/api/v1/capf/import", api_capf_import, API_ADMIN, 1 },

	{ GET, "/api/v1/itl", api_itl_show, API_READ, 0 },
	{ POST, "/api/v1/itl/rebuild", api_itl_rebuild, API_ADMIN, 0 },

	{ GET, "/api/v1/tvs", api_tvs_list, API_READ, 0 },
	{ POST, "/api/v1/tvs", api_tvs_add, API_ADMIN, 1 },
	{ DELETE, "/api/v1/tvs/{}", api_tvs_remove, API_ADMIN, 0 },
	{ GET, "/api/v1/ctl", api_ctl_show, API_READ, 0 },

	{ GET, "/api/v1/tokens", api_tokens_list, API_ADMIN, 0 },
	{ POST, "/api/v1/tokens", api_tokens_create, API_ADMIN, 1 },
	{ DELETE, "/api/v1/tokens/{}", api_tokens_revoke, API_ADMIN, 0 },

	{ GET, "/api/v1/stats/lsc-expiry", api_stats_lsc_expiry, API_READ, 0 },
	{ GET, "/api/v1/stats/campaign", api_stats_campaign, API_READ, 0 },
	{ GET, "/api/v1/stats/rates", api_stats_rates, API_READ, 0 },

	{ GET, "/metrics", api_metrics, API_READ, 0 },

	{ GET, "/crl/{}", api_crl_get, API_OPEN, 0 },
	{ GET, "/api/v1/crl", api_crl_list, API_READ, 0 },
};

static void free_params(struct api_req *r)
{
	for (int i = 0; i < r->nparam; i++)
		free(r->param[i]);
	r->nparam = 0;
}

/* One decoded segment, or NULL when it is not a plain name. */
static char *decode_segment(const char *seg, size_t n)
{
	char *raw = strndup(seg, n), *dec;
	size_t len = 0;

	if (!raw)
		return NULL;
	dec = evhttp_uridecode(raw, 0, &len);
	free(raw);
	if (dec && (len == 0 || len != strlen(dec) || strchr(dec, '/'))) {
		free(dec);
		return NULL;
	}
	return dec;
}

/* Match the raw (still encoded) path against a pattern; params collected. */
static int match(struct api_req *r, const char *pattern, const char *path)
{
	free_params(r);
	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");
			char *v;
			if (n == 0 || r->nparam == API_MAX_PARAMS || !(v = decode_segment(path, n)))
				return 0;
			r->param[r->nparam++] = v;
			pattern += 2;
			path += n;
		} else if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

static void allow_add(char *allow, size_t cap, enum evhttp_cmd_type m)
{
	const char *name = api_method_name(m);
	size_t n = strlen(allow);

	if (strstr(allow, name))
		return;
	snprintf(allow + n, cap - n, "%s%s", n ? ", " : "", name);
}

const struct api_route *api_route_find(struct api_req *r, int *path_known, char *allow, size_t allowcap)
{
	const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(r->req));
	enum evhttp_cmd_type m = r->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : r->method;
	const struct api_route *found = NULL;

	*path_known = 0;
	allow[0] = '\0';
	for (size_t i = 0; raw && i < sizeof routes / sizeof routes[0]; i++) {
		if (!match(r, routes[i].pattern, raw))
			continue;
		*path_known = 1;
		allow_add(allow, allowcap, routes[i].method);
		if (routes[i].method == EVHTTP_REQ_GET)
			allow_add(allow, allowcap, EVHTTP_REQ_HEAD);
		if (!found && routes[i].method == m)
			found = &routes[i];
	}
	free_params(r);
	if (found)
		match(r, found->pattern, raw);
	return found;
}

void api_route_free(struct api_req *r)
{
	free_params(r);
}
