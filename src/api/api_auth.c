/*
 * api_auth.c: who is asking, and may they.
 *
 * Two ways in, both ending at an API token (store_api.h):
 *  - scripts send "Authorization: Bearer ocapf_<id>_<secret>";
 *  - browsers log in once with a token (POST /api/v1/login) and get a
 *    session cookie: HttpOnly, SameSite=Strict, Path=/, Secure under HTTPS.
 *    Requests that change something must also carry the header
 *    X-CSRF-Token, whose value is derived from the cookie (SHA-256 of a
 *    label and the cookie value): a page of another site can neither read
 *    the cookie nor set the header, and no state is kept for it.
 * A read token (or a session opened with one) gets 403 on every change.
 *
 * Failed logins (a wrong token in the header or on the login page) are
 * recorded per client address (store_api.h keeps that table bounded). A
 * valid token or session is always accepted, whatever its address did: the
 * limit only slows down noise, since guessing a 256-bit token is hopeless,
 * and must not let anyone lock a victim out. Bad tokens from an address get
 * 429 (with Retry-After) for login_window seconds after each
 * login_max_failures failures of the day, the block doubling with every
 * further round, at most a day; while blocked nothing is written. Failures
 * are audited (without the text that was tried) until the first block,
 * then each block as one "api.login_blocked" entry.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/util.h"

#define SESSION_COOKIE "opencapf_session"
#define CSRF_HEADER "X-CSRF-Token"
#define CSRF_LEN 43

/* Failures kept per source: enough rounds that the block reaches a day. */
#define LOGIN_ROUNDS_KEPT 10

const char *api_actor(const struct api_req *r)
{
	return r->actor[0] ? r->actor : "api";
}

int api_audit(struct api_req *r, const char *action, const char *object, const char *detail)
{
	return store_audit(r->st, api_actor(r), action, object ? object : "",
			   detail ? detail : "{}");
}

/* The CSRF token of a session: the first 43 hex digits of SHA-256("opencapf-csrf:" cookie). */
static void csrf_for(const char *cookie, char out[CSRF_LEN + 1])
{
	static const char label[] = "opencapf-csrf:";
	unsigned char md[32];
	char hex[65];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	memset(md, 0, sizeof md);
	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, label, sizeof label - 1) == 1 && EVP_DigestUpdate(ctx, cookie, strlen(cookie)) == 1)
		EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	hex_encode(md, sizeof md, hex);
	memcpy(out, hex, CSRF_LEN);
	out[CSRF_LEN] = '\0';
}

/* ---- failed logins ---- */

/* How long a round of failures blocks: login_window, doubled for every
 * earlier round of the day, at most a day. */
static int64_t block_span(int window, int round)
{
	int64_t span = window;

	for (int i = 1; i < round && span < STORE_LOGIN_FAILURE_MEMORY; i++)
		span *= 2;
	return span < STORE_LOGIN_FAILURE_MEMORY ? span : STORE_LOGIN_FAILURE_MEMORY;
}

/* Seconds the source of r still gets 429 for a bad token (0: none). Every
 * login_max_failures-th failure of the day starts a block (no failure is
 * recorded during one), so each round between blocks has as many tries. */
static int64_t blocked_for(struct api_req *r)
{
	const struct api_config *c = &r->srv->cfg;
	int64_t now = now_utc(), since = now - STORE_LOGIN_FAILURE_MEMORY, until;
	int n = store_api_login_failures(r->st, r->peer, since), round;

	if (n < c->login_max_failures)
		return 0;
	round = n / c->login_max_failures;
	until = store_api_login_failure_time(r->st, r->peer, since, round * c->login_max_failures) +
		block_span(c->login_window, round);
	return until > now ? until - now : 0;
}

static void reply_blocked(struct api_req *r, int64_t wait)
{
	char secs[24];

	snprintf(secs, sizeof secs, "%lld", (long long)wait);
	api_header(r, "Retry-After", secs);
	api_reply_error(r, 429, "too many failed logins from %s; try again in %lld s", r->peer, (long long)wait);
}

/* Record and audit one failed login; `via` is "bearer" or "login". Audited:
 * every failure before the first block, then the start of each block. */
static void login_failed(struct api_req *r, const char *via, const char *why)
{
	const struct api_config *c = &r->srv->cfg;
	char actor[96], detail[256], why_json[128];
	int n;

	if (store_api_login_failed(r->st, r->peer, c->login_max_failures * LOGIN_ROUNDS_KEPT) < 0)
		log_warn("api: %s", store_errmsg(r->st));
	n = store_api_login_failures(r->st, r->peer, now_utc() - STORE_LOGIN_FAILURE_MEMORY);
	snprintf(actor, sizeof actor, "api:%s", r->peer);
	store_json_str(why_json, sizeof why_json, why);
	snprintf(detail, sizeof detail, "{\"via\":\"%s\",\"reason\":%s,\"failures\":%d}", via, why_json, n);
	log_warn("api: failed login from %s (%s, %s)", r->peer, via, why);
	if (n > 0 && n % c->login_max_failures == 0)
		store_audit(r->st, actor, "api.login_blocked", "", detail);
	else if (n < c->login_max_failures)
		store_audit(r->st, actor, "api.login_failed", "", detail);
}

/* A token that is not valid: 429 while its source is blocked (nothing is
 * recorded then: the noise costs no write), else recorded and 401 (429 when
 * this failure starts a block). A valid token never comes here. */
static void bad_token(struct api_req *r, const char *via)
{
	static const char msg[] = "the token is not valid (revoked, mistyped or unknown)";
	int64_t wait = blocked_for(r);

	if (wait == 0) {
		login_failed(r, via, "invalid or revoked token");
		wait = blocked_for(r);
	}
	if (wait > 0) {
		reply_blocked(r, wait);
		return;
	}
	if (strcmp(via, "bearer") == 0)
		api_header(r, "WWW-Authenticate", "Bearer realm=\"opencapf\"");
	api_reply_error(r, 401, "%s", msg);
}

static void reply_unauthorized(struct api_req *r, const char *msg)
{
	api_header(r, "WWW-Authenticate", "Bearer realm=\"opencapf\"");
	api_reply_error(r, 401, "%s", msg);
}

/* ---- finding who is asking ---- */

/* The Bearer token of the request: 0 found, 1 no Authorization header, -1 another scheme. */
static int bearer_token(struct api_req *r, const char **token)
{
	const char *h = api_request_header(r, "Authorization");

	if (!h)
		return 1;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	for (h += 7; *h == ' '; h++)
		;
	*token = h;
	return 0;
}

static void set_actor(struct api_req *r, const char *kind)
{
	snprintf(r->actor, sizeof r->actor, "%s:token-%lld", kind, (long long)r->who.id);
}

/* 0 identified, 1 no credentials, -1 a reply was sent. */
static int identify(struct api_req *r, int quiet)
{
	const char *token;
	int rc = bearer_token(r, &token);

	if (rc == 0) {
		rc = store_api_token_check(r->st, token, &r->who);
		if (rc == 0) {
			r->via = API_VIA_TOKEN;
			set_actor(r, "api");
			return 0;
		}
		if (rc < 0) {
			api_reply_store_error(r, "cannot check the token");
			return -1;
		}
		if (quiet)
			return 1;
		bad_token(r, "bearer");
		return -1;
	}
	if (rc < 0) {
		if (!quiet)
			reply_unauthorized(r, "expected Authorization: Bearer TOKEN");
		return quiet ? 1 : -1;
	}
	if (api_cookie(r, SESSION_COOKIE, r->cookie, sizeof r->cookie) != 0)
		return 1;
	rc = store_api_session_check(r->st, r->cookie, &r->who, NULL);
	if (rc == 0) {
		r->via = API_VIA_COOKIE;
		set_actor(r, "web");
		return 0;
	}
	if (rc < 0) {
		api_reply_store_error(r, "cannot check the session");
		return -1;
	}
	r->cookie[0] = '\0';
	if (!quiet)
		reply_unauthorized(r, "the session has expired: log in again");
	return quiet ? 1 : -1;
}

static int is_safe_method(enum evhttp_cmd_type m)
{
	return m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
}

static int csrf_ok(struct api_req *r)
{
	const char *got = api_request_header(r, CSRF_HEADER);
	char want[CSRF_LEN + 1];

	if (!got)
		return 0;
	csrf_for(r->cookie, want);
	return ct_equal(got, strlen(got), want, CSRF_LEN);
}

int api_authenticate(struct api_req *r, enum api_access access)
{
	int rc;

	if (access == API_OPEN) {
		if (identify(r, 1) < 0)
			return -1;
		return 0;
	}
	rc = identify(r, 0);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		reply_unauthorized(r, "authentication required: send Authorization: Bearer TOKEN, or log in");
		return -1;
	}
	if (r->via == API_VIA_COOKIE && !is_safe_method(r->method) && !csrf_ok(r)) {
		api_reply_error(r, 403, "missing or wrong %s header (reload the page)", CSRF_HEADER);
		return -1;
	}
	if (access == API_ADMIN && r->who.role != API_ROLE_ADMIN) {
		api_reply_error(r, 403, "token %lld is read-only: this needs an admin token", (long long)r->who.id);
		return -1;
	}
	return 0;
}

/* ---- login, logout, session ---- */

static void set_session_cookie(struct api_req *r, const char *value, int max_age)
{
	char c[256];

	snprintf(c, sizeof c, SESSION_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", value, max_age,
		 r->srv->ssl_ctx ? "; Secure" : "");
	api_header(r, "Set-Cookie", c);
	OPENSSL_cleanse(c, sizeof c);
}

static json_t *session_json(struct api_req *r, int64_t expires)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "token_id", (json_int_t)r->who.id, "label", r->who.label,
			      "role", api_role_name(r->who.role),
			      "via", r->via == API_VIA_COOKIE ? "session" : "token");
	char csrf[CSRF_LEN + 1];

	if (r->via == API_VIA_COOKIE) {
		csrf_for(r->cookie, csrf);
		json_object_set_new(o, "csrf", json_string(csrf));
		json_object_set_new(o, "expires", json_time_utc(expires));
	}
	return o;
}

void api_login(struct api_req *r)
{
	json_t *t = json_object_get(r->body, "token");
	int minutes = r->srv->cfg.session_minutes;
	int64_t expires;
	int rc;

	if (!json_is_string(t) || json_object_size(r->body) != 1) {
		api_reply_error(r, 400, "expected {\"token\": \"ocapf_...\"}");
		return;
	}
	rc = store_api_token_check(r->st, json_string_value(t), &r->who);
	if (rc < 0) {
		api_reply_store_error(r, "cannot check the token");
		return;
	}
	if (rc > 0) {
		bad_token(r, "login");
		return;
	}
	if (store_api_session_create(r->st, r->who.id, minutes * 60, r->peer, r->cookie, sizeof r->cookie,
				     &expires) < 0) {
		api_reply_store_error(r, "cannot open a session");
		return;
	}
	r->via = API_VIA_COOKIE;
	set_actor(r, "web");
	api_audit(r, "api.login", "", "{}");
	set_session_cookie(r, r->cookie, minutes * 60);
	api_reply_json(r, 200, session_json(r, expires));
}

void api_logout(struct api_req *r)
{
	if (r->via == API_VIA_COOKIE && store_api_session_delete(r->st, r->cookie) < 0) {
		api_reply_store_error(r, "cannot end the session");
		return;
	}
	set_session_cookie(r, "", 0);
	api_reply_json(r, 200, json_pack("{s:b}", "logged_out", 1));
}

void api_session(struct api_req *r)
{
	int64_t expires = 0;

	if (r->via == API_VIA_COOKIE)
		store_api_session_check(r->st, r->cookie, &r->who, &expires);
	api_reply_json(r, 200, session_json(r, expires));
}
