/*
 * register_listener.c: the registration TLS check on libevent with
 * non-blocking OpenSSL (register_listener.h).
 *
 * One connection = one record. What goes into it is learnt in three places:
 * the certificate verify callback (which certificate, its kind, the chain
 * check against CallManager-trust), the info callback (the alert we send),
 * and the event callback (handshake done, or the error that ended it).
 * The record is written once, when the outcome is known, by the worker that
 * owns the connection, on its own store handle.
 */
#include "net/register_listener.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <string.h>

#include "capf/trust_load.h"
#include "common/log.h"
#include "common/util.h"
#include "diag/classify.h"
#include "diag/tls_parse.h"
#include "pki/pki.h"
#include "store/store_register.h"
#include "store/store_revoke.h"

/* A registration check's own state (tls_conn's user). */
struct register_conn {
	struct tls_conn *conn;
	STACK_OF(X509) *trusted;         /* CallManager-trust, loaded for this connection's check */
	X509 *leaf;                      /* the certificate the phone presented */
	struct register_row row;
	int verified, verify_ok, recorded;
};

/* ---- the record ---- */

/* An accepted certificate is one the phone proved it holds the key of (the
 * handshake verified its CertificateVerify): for a configured phone it
 * becomes its LSC or last MIC seen, as a Troubleshoot would record it. */
static void remember_seen(struct register_conn *c)
{
	struct phone ph;
	uint8_t *der = NULL;
	size_t len;

	if (!c->leaf || (strcmp(c->row.cert_kind, "lsc") && strcmp(c->row.cert_kind, "mic")) ||
	    store_phone_get(c->conn->worker->st, c->row.phone, &ph) != 0 || pki_cert_to_der(c->leaf, &der, &len) < 0)
		return;
	if (store_seen_cert(c->conn->worker->st, c->row.phone, c->row.cert_kind, der, len) < 0)
		log_warn("register: cannot record the %s of %s: %s", c->row.cert_kind, c->row.phone,
			 store_errmsg(c->conn->worker->st));
	OPENSSL_free(der);
}

static void record(struct register_conn *c, const char *result, const char *reason)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->conn->bev);
	struct register_row *r = &c->row;

	if (c->recorded)
		return;
	c->recorded = 1;
	snprintf(r->result, sizeof r->result, "%s", result);
	if (reason && !r->reason[0])
		snprintf(r->reason, sizeof r->reason, "%s", reason);
	if (!r->cert_kind[0])
		snprintf(r->cert_kind, sizeof r->cert_kind, "none");
	if (ssl && SSL_get_current_cipher(ssl)) {
		snprintf(r->tls_version, sizeof r->tls_version, "%s", SSL_get_version(ssl));
		snprintf(r->cipher, sizeof r->cipher, "%s", SSL_get_cipher_name(ssl));
	}
	log_info("register: peer=%s phone=%s cert=%s result=%s%s%s", r->peer, r->phone[0] ? r->phone : "-",
		 r->cert_kind, result, r->alert[0] ? " alert=" : "", r->alert);
	if (store_register_add(c->conn->worker->st, r) < 0)
		log_warn("register: cannot record the connection: %s", store_errmsg(c->conn->worker->st));
	if (strcmp(result, "accepted") == 0)
		remember_seen(c);
}

/* An LSC we sent but whose phone never confirmed storing it: whoever
 * presents it took it from a session that did not finish. Named in the
 * row's rule and in the log. */
static void note_unconfirmed(struct register_conn *c)
{
	struct register_row *r = &c->row;
	struct cert_row issued;
	int confirmed;

	if (!r->sha256[0] || store_issued_find(c->conn->worker->st, r->sha256, &issued, &confirmed) != 1 || confirmed)
		return;
	snprintf(r->rule + strlen(r->rule), sizeof r->rule - strlen(r->rule),
		 "%san LSC sent to %s that the phone never confirmed storing (unconfirmed)", r->rule[0] ? "; " : "",
		 issued.phone);
	log_warn("register: peer=%s presents the unconfirmed LSC serial %s sent to %s", r->peer, issued.serial,
		 issued.phone);
}

/* What the phone presented: kind (by the rules of classify.h), names, serial. */
static void describe_leaf(struct register_conn *c, X509 *leaf)
{
	struct register_row *r = &c->row;
	struct classify_ctx ctx;
	struct pki_cert_info info;
	struct cert_class cls;
	char err[ERRLEN];
	int have_ctx = classify_ctx_load(c->conn->worker->st, &ctx, err, sizeof err) == 0;

	cert_classify(have_ctx ? &ctx : NULL, leaf, &cls);
	if (have_ctx)
		classify_ctx_free(&ctx);
	snprintf(r->cert_kind, sizeof r->cert_kind, "%s",
		 cls.kind == CERT_KIND_LSC ? "lsc" : cls.kind == CERT_KIND_MIC ? "mic" : "unknown");
	snprintf(r->rule, sizeof r->rule, "%s", cls.why);
	cert_device_name(leaf, r->phone, sizeof r->phone);
	if (pki_cert_info(leaf, &info) == 0) {
		snprintf(r->subject, sizeof r->subject, "%s", info.subject);
		snprintf(r->issuer, sizeof r->issuer, "%s", info.issuer);
		snprintf(r->serial, sizeof r->serial, "%s", info.serial);
		snprintf(r->sha256, sizeof r->sha256, "%s", info.sha256);
	}
	note_unconfirmed(c);
}

/* An LSC this state issued and revoked fails the check like a CRL-checking
 * server would fail it: error "certificate revoked", alert certificate_revoked. */
static int refuse_revoked(struct register_conn *c, X509_STORE_CTX *xs)
{
	struct store *st = c->conn->worker->st;
	struct cert_row row;
	struct revocation rv;
	int confirmed;

	if (!c->row.sha256[0] || store_issued_find(st, c->row.sha256, &row, &confirmed) != 1 ||
	    store_revocation_effective(st, row.issuer_sha256, row.serial, now_utc(), &rv) != 0)
		return 0;
	snprintf(c->row.reason, sizeof c->row.reason, "revoked (%s): the LSC serial %s is on the CRL",
		 revoke_reason_name(rv.reason), row.serial);
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REVOKED);
	return 1;
}

/* ---- OpenSSL callbacks ---- */

/* Replaces OpenSSL's chain check: the same X509_verify_cert, but against
 * CallManager-trust as read from the store now. */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct register_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);

	(void)arg;
	if (!c || !leaf)
		return 0;
	c->verified = 1;
	describe_leaf(c, leaf);
	X509_free(c->leaf);
	X509_up_ref(leaf);
	c->leaf = leaf;
	sk_X509_pop_free(c->trusted, X509_free);
	if (!(c->trusted = trust_load_stack(c->conn->worker->st, TRUST_CALLMANAGER))) {
		snprintf(c->row.reason, sizeof c->row.reason, "cannot read CallManager-trust");
		X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSPECIFIED);
		return 0;
	}
	X509_STORE_CTX_set0_trusted_stack(xs, c->trusted);
	X509_STORE_CTX_set_flags(xs, X509_V_FLAG_PARTIAL_CHAIN);
	c->verify_ok = X509_verify_cert(xs) == 1;
	if (c->verify_ok && refuse_revoked(c, xs))
		c->verify_ok = 0;
	else if (!c->verify_ok)
		snprintf(c->row.reason, sizeof c->row.reason, "CallManager-trust: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(xs)));
	return c->verify_ok;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct register_conn *c = SSL_get_app_data(ssl);

	const char *name;

	if (!c || !(where & SSL_CB_WRITE_ALERT) || (ret >> 8) != SSL3_AL_FATAL || c->row.alert[0])
		return;
	/* OpenSSL 3.0 names some TLS 1.3 alerts "unknown" (certificate required) */
	name = tls_alert_name((uint8_t)(ret & 0xff));
	snprintf(c->row.alert, sizeof c->row.alert, "%s", name ? name : SSL_alert_desc_string_long(ret));
}

/* ---- connections (tls_conn.h) ---- */

static int on_new(struct tls_conn *conn, SSL *ssl)
{
	struct register_conn *c = conn->user;

	c->conn = conn;
	snprintf(c->row.peer, sizeof c->row.peer, "%s", conn->peer);
	SSL_set_app_data(ssl, c);
	return 0;
}

static void on_free(struct tls_conn *conn)
{
	struct register_conn *c = conn->user;

	sk_X509_pop_free(c->trusted, X509_free);
	X509_free(c->leaf);
}

/* The handshake passed our check: record it, tell the phone, close. */
static void on_connected(struct tls_conn *conn)
{
	struct register_conn *c = conn->user;
	const struct register_service *svc = conn->svc->owner;
	char line[128];

	record(c, "accepted", NULL);
	snprintf(line, sizeof line, "registered %s %s\n",
		 strcmp(c->row.cert_kind, "lsc") == 0 ? "LSC" : strcmp(c->row.cert_kind, "mic") == 0 ? "MIC" : "unknown",
		 c->row.phone[0] ? c->row.phone : "-");
	tls_conn_arm(conn, svc->cfg.timeout);
	if (tls_conn_send(conn, line, strlen(line)) < 0) {
		tls_conn_free(conn);
		return;
	}
	tls_conn_finish(conn);
}

/* The handshake ended in an error (refused by our check, or failed
 * otherwise), or did not end in time. */
static void on_end(struct tls_conn *conn, const char *why)
{
	struct register_conn *c = conn->user;

	if (c->verified && !c->verify_ok)
		record(c, "refused", why);
	else if (!c->verified && c->row.alert[0])
		record(c, "refused", "the phone sent no certificate");
	else
		record(c, "failed", why);
	tls_conn_free(conn);
}

static const struct tls_conn_ops register_conn_ops = {
	.on_new = on_new,
	.on_connected = on_connected,
	.on_end = on_end,
	.on_free = on_free,
};

static void configure_ctx(SSL_CTX *ctx)
{
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
	SSL_CTX_set_info_callback(ctx, info_cb);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* every phone is checked afresh */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
}

int register_service_start(struct register_service *svc, struct worker_pool *pool, const char *addr,
			   SSL_CTX *ssl_ctx, const struct register_service_cfg *cfg, char *err, size_t errlen)
{
	svc->cfg = *cfg;
	if (svc->cfg.timeout <= 0)
		svc->cfg.timeout = REGISTER_TIMEOUT_DEFAULT;
	configure_ctx(ssl_ctx);
	svc->conns = (struct tls_service){ .name = "register", .ssl_ctx = ssl_ctx, .ops = &register_conn_ops,
					   .owner = svc, .user_size = sizeof(struct register_conn),
					   .limits = svc->limits };
	/* the handshake is most of the exchange: its deadline, if shorter, is the whole one's */
	if (svc->conns.limits.handshake_timeout <= 0 || svc->conns.limits.handshake_timeout > svc->cfg.timeout)
		svc->conns.limits.handshake_timeout = svc->cfg.timeout;
	return tls_service_start(&svc->conns, pool, addr, err, errlen);
}

void register_service_close(struct register_service *svc)
{
	tls_service_close(&svc->conns, NULL); /* unfinished connections are not recorded */
}
