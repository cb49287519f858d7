/*
 * tvs_listener.c: TVS connections on libevent with non-blocking OpenSSL
 * (tvs_listener.h).
 *
 * The phone speaks first: each complete message (10-byte header + body, at
 * most TVS_MAX_MSG bytes, enforced by the read watermark and the framing)
 * gets one response, handed to the TLS layer as one chunk (one SSL_write,
 * one TLS record). A message that is not a VERIFY_REQUEST we can answer
 * ends the connection without a reply, as a phone cannot use half an
 * answer. The connection's life (pool slot, handshake deadline, one chunk
 * per reply, closing) is tls_conn.h's; this file supplies its callbacks and
 * closes a connection after idle_timeout seconds without a request.
 * Worker 0 follows the state's TVS certificate (tvs_listener.h).
 */
#include "net/tvs_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "net/metrics.h"
#include "store/store_tvs.h"
#include "wire/tvs_msg.h"

/* A TVS connection's own state (tls_conn's user). */
struct tvs_conn {
	unsigned requests;
};

int tvs_store_lookup(void *arg, const char *sha256, struct tvs_answer *ans)
{
	const struct tvs_store_lookup *l = arg;
	struct tvs_cert_row row;
	int rc = store_tvs_get(l->st, sha256, &row);

	if (rc != 0)
		return rc;
	memset(ans, 0, sizeof *ans);
	for (size_t i = 0; i < row.nroles && i < TVS_ANSWER_ROLES_MAX; i++)
		ans->roles[ans->nroles++] = (uint8_t)row.roles[i];
	ans->ttl = row.ttl < 0 ? l->default_ttl : (uint32_t)row.ttl;
	return 0;
}

static void log_request(const struct tls_conn *c, const struct tvs_request_info *info)
{
	uint16_t roles[TVS_ANSWER_ROLES_MAX];
	char text[256] = "";

	for (size_t i = 0; i < info->ans.nroles; i++)
		roles[i] = info->ans.roles[i];
	if (info->known == 1) {
		tvs_roles_text(roles, info->ans.nroles, text, sizeof text);
		log_info("tvs: peer=%s device=%s session=%u sha256=%s result=valid roles=%s ttl=%u", c->peer,
			 info->device[0] ? info->device : "-", info->session_id, info->sha256, text, info->ans.ttl);
	} else {
		log_info("tvs: peer=%s device=%s session=%u sha256=%s result=invalid", c->peer,
			 info->device[0] ? info->device : "-", info->session_id, info->sha256);
	}
}

/* 1 handled one message, 0 need more bytes, -1 close the connection. */
static int handle_frame(struct tls_conn *c, struct evbuffer *in)
{
	const struct tvs_service *svc = c->svc->owner;
	struct tvs_store_lookup lookup = { c->worker->st, svc->cfg.default_ttl };
	struct tvs_conn *tc = c->user;
	struct tvs_request_info info;
	size_t avail = evbuffer_get_length(in), total = 0;
	const uint8_t *data;
	struct buf out;
	char err[ERRLEN];
	int rc;

	if (avail < TVS_HEADER_LEN)
		return 0;
	data = evbuffer_pullup(in, TVS_HEADER_LEN);
	rc = tvs_frame_length(data, avail, &total, err, sizeof err);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_warn("tvs: peer=%s closed: %s", c->peer, err);
		return -1;
	}
	data = evbuffer_pullup(in, (ssize_t)total);
	buf_init(&out);
	rc = tvs_server_handle(data, total, tvs_store_lookup, &lookup, &out, &info, err, sizeof err);
	evbuffer_drain(in, total);
	tc->requests++;
	metrics_tvs_request(rc < 0 ? METRICS_TVS_ERROR : info.known == 1 ? METRICS_TVS_VALID : METRICS_TVS_INVALID);
	if (rc < 0) {
		log_warn("tvs: peer=%s device=%s closed: %s", c->peer, info.device[0] ? info.device : "-", err);
	} else {
		log_request(c, &info);
		if (out.failed || out.len == 0 || tls_conn_send(c, out.data, out.len) < 0)
			rc = -1;
	}
	buf_free(&out);
	return rc < 0 ? -1 : 1;
}

static int idle_timeout(const struct tls_conn *c)
{
	return ((const struct tvs_service *)c->svc->owner)->cfg.idle_timeout;
}

static void on_connected(struct tls_conn *c)
{
	tls_conn_arm(c, idle_timeout(c));
}

static void on_read(struct tls_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int rc;

	while ((rc = handle_frame(c, in)) > 0)
		tls_conn_arm(c, idle_timeout(c));
	if (rc < 0) {
		evbuffer_drain(in, evbuffer_get_length(in));
		tls_conn_finish(c);
	}
}

static void on_timeout(struct tls_conn *c)
{
	log_debug("tvs: peer=%s idle for %d s", c->peer, idle_timeout(c));
	tls_conn_free(c);
}

static void on_end(struct tls_conn *c, const char *why)
{
	if (!c->handshake_done || strncmp(why, "TLS error", 9) != 0)
		log_debug("tvs: peer=%s %s", c->peer, why);
	else
		log_warn("tvs: peer=%s %s", c->peer, why);
	tls_conn_free(c);
}

static void on_free(struct tls_conn *c)
{
	const struct tvs_conn *tc = c->user;

	log_debug("tvs: peer=%s closed after %u request%s", c->peer, tc->requests, tc->requests == 1 ? "" : "s");
}

static const struct tls_conn_ops tvs_conn_ops = {
	.on_connected = on_connected,
	.on_read = on_read,
	.on_timeout = on_timeout,
	.on_end = on_end,
	.on_free = on_free,
};

/* ---- following the state's TVS certificate (worker 0) ---- */

static void switch_ctx(struct tvs_service *svc, const char *sha256)
{
	char err[ERRLEN], cn[128] = "";
	SSL_CTX *ctx = svc->follow(svc->follow_arg, svc->st, cn, sizeof cn, err, sizeof err);

	if (!ctx || tls_service_set_ctx(&svc->conns, ctx) < 0) {
		if (strcmp(svc->failed_sha256, sha256) != 0)
			log_err("tvs: cannot switch to the new TVS certificate %.16s...: %s; new connections keep the "
				"previous one (trying again every %d s: a cluster's other nodes need the key in keys/)",
				sha256, ctx ? "out of memory" : err, TVS_WATCH_SECONDS);
		snprintf(svc->failed_sha256, sizeof svc->failed_sha256, "%s", sha256);
		SSL_CTX_free(ctx);
		return;
	}
	SSL_CTX_free(ctx); /* the service holds its own reference */
	snprintf(svc->sha256, sizeof svc->sha256, "%s", sha256);
	svc->failed_sha256[0] = '\0';
	log_info("tvs: TVS certificate changed to %s (SHA-256 %.16s...): new connections get it", cn, sha256);
}

static void watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tvs_service *svc = arg;
	struct service_cert_row row;

	(void)fd;
	(void)what;
	if (store_service_cert_get(svc->st, SERVICE_TVS, &row) != 0)
		return;
	if (strcmp(row.sha256, svc->sha256) != 0)
		switch_ctx(svc, row.sha256);
	service_cert_row_free(&row);
}

static int watch_start(struct tvs_service *svc, struct worker_pool *pool, char *err, size_t errlen)
{
	struct timeval tv = { TVS_WATCH_SECONDS, 0 };
	struct service_cert_row row;

	svc->st = pool->workers[0].st;
	if (store_service_cert_get(svc->st, SERVICE_TVS, &row) == 0) {
		snprintf(svc->sha256, sizeof svc->sha256, "%s", row.sha256);
		service_cert_row_free(&row);
	}
	svc->watch = event_new(pool->workers[0].base, -1, EV_PERSIST, watch_cb, svc);
	if (!svc->watch || event_add(svc->watch, &tv) < 0) {
		seterr(err, errlen, "cannot start the TVS certificate watch");
		return -1;
	}
	return 0;
}

/* ---- the service ---- */

int tvs_service_start(struct tvs_service *svc, struct worker_pool *pool, const char *addr, SSL_CTX *ssl_ctx,
		      const struct tvs_service_cfg *cfg, char *err, size_t errlen)
{
	svc->cfg = *cfg;
	if (svc->cfg.idle_timeout <= 0)
		svc->cfg.idle_timeout = TVS_IDLE_TIMEOUT_DEFAULT;
	svc->conns.name = "tvs";
	svc->conns.ssl_ctx = ssl_ctx;
	svc->conns.ops = &tvs_conn_ops;
	svc->conns.owner = svc;
	svc->conns.user_size = sizeof(struct tvs_conn);
	svc->conns.max_msg = TVS_MAX_MSG;
	svc->conns.limits = svc->limits;
	if (tls_service_start(&svc->conns, pool, addr, err, errlen) < 0)
		return -1;
	return svc->follow ? watch_start(svc, pool, err, errlen) : 0;
}

void tvs_service_close(struct tvs_service *svc)
{
	if (svc->watch)
		event_free(svc->watch);
	svc->watch = NULL;
	tls_service_close(&svc->conns, NULL);
}
