/*
 * capture.c: from capture file to TLS connections (capture.h).
 *
 * Each TCP stream gets two TLS side parsers as soon as it carries payload;
 * the reassembler stops delivering a direction once its parser has nothing
 * more to read (encrypted, not TLS, malformed), so a long capture of
 * encrypted traffic costs no memory beyond the open streams. When a stream
 * finishes, its parsers' findings are kept if either side spoke TLS.
 */
#include "diag/capture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json_util.h"
#include "pki/pki.h"

struct stream_state {
	struct tls_side side[2];
};

struct analysis {
	struct capture_result *res;
	int oom;
};

static int on_data(struct tcp_stream *s, int dir, const uint8_t *p, size_t n, void *arg)
{
	struct analysis *an = arg;
	struct stream_state *ss = s->user;

	if (!ss && !(ss = s->user = calloc(1, sizeof *ss))) {
		an->oom = 1;
		return 1;
	}
	return tls_side_feed(&ss->side[dir], p, n);
}

static int side_spoke_tls(const struct tls_side *t)
{
	return t->records > 0 || (t->state == TLS_SIDE_NOT_TLS && t->error[0]); /* SSLv2 hello */
}

static size_t chain_bytes(const struct tls_side *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->ncerts; i++)
		n += t->certs[i].len;
	return n;
}

/* Bounded memory over a whole capture: past the budget, chains are dropped. */
static void budget_chains(struct capture_result *res, struct capture_conn *c)
{
	size_t n = chain_bytes(&c->c) + chain_bytes(&c->s);

	if (res->cert_bytes + n <= CAPTURE_MAX_CERT_BYTES) {
		res->cert_bytes += n;
		return;
	}
	for (size_t i = 0; i < c->c.ncerts; i++)
		free(c->c.certs[i].der);
	for (size_t i = 0; i < c->s.ncerts; i++)
		free(c->s.certs[i].der);
	c->c.ncerts = c->s.ncerts = 0;
	c->chains_dropped = 1;
}

static int keep_conn(struct capture_result *res, struct capture_conn *c)
{
	if (res->n >= CAPTURE_MAX_CONNS) {
		res->not_listed++;
		return -1;
	}
	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 16;
		struct capture_conn *more = realloc(res->conns, cap * sizeof *more);
		if (!more)
			return -1;
		res->conns = more;
		res->cap = cap;
	}
	budget_chains(res, c);
	res->conns[res->n++] = *c;
	return 0;
}

static void on_done(struct tcp_stream *s, void *arg)
{
	struct analysis *an = arg;
	struct stream_state *ss = s->user;
	struct capture_conn c;
	int cl;

	if (!ss)
		return; /* no payload either way */
	s->user = NULL;
	if (!side_spoke_tls(&ss->side[0]) && !side_spoke_tls(&ss->side[1])) {
		an->res->not_tls++;
		goto drop;
	}
	/* the client is the side that sent the ClientHello, else the opener */
	cl = (ss->side[1].client_hello && !ss->side[0].client_hello) ||
	     (ss->side[0].server_hello && !ss->side[1].server_hello);
	memset(&c, 0, sizeof c);
	c.index = s->index;
	c.client = cl ? s->b : s->a;
	c.server = cl ? s->a : s->b;
	c.first_ts = s->first_ts;
	c.last_ts = s->last_ts;
	c.evicted = s->evicted;
	c.c = ss->side[cl];
	c.s = ss->side[!cl];
	for (int i = 0; i < 2; i++) {
		int d = i == 0 ? cl : !cl;
		c.gap[i] = s->dir[d].gap;
		snprintf(c.gap_why[i], sizeof c.gap_why[i], "%s", s->dir[d].gap_why);
	}
	tls_side_finish(&c.c);
	tls_side_finish(&c.s);
	if (keep_conn(an->res, &c) == 0) {
		free(ss);
		return;
	}
drop:
	tls_side_free(&ss->side[0]);
	tls_side_free(&ss->side[1]);
	free(ss);
}

static int analyse(FILE *f, const char *path, uint16_t port, const struct tcp_limits *lim,
		   struct capture_result *res)
{
	struct analysis an = { res, 0 };
	struct tcp_hooks hooks = { on_data, on_done, &an };
	struct tcp_reasm *r;
	int rc;

	memset(res, 0, sizeof *res);
	if (!(r = tcp_reasm_new(lim, &hooks))) {
		if (f)
			fclose(f);
		seterr(res->error, sizeof res->error, "out of memory");
		return -1;
	}
	if (f)
		rc = pcap_read_stream(f, port, r, &res->counts, &res->partial, res->error, sizeof res->error);
	else
		rc = pcap_read_file(path, port, r, &res->counts, &res->partial, res->error, sizeof res->error);
	tcp_reasm_flush(r);
	res->tcp = *tcp_reasm_stats(r);
	tcp_reasm_free(r);
	if (an.oom && rc == 0) {
		seterr(res->error, sizeof res->error, "out of memory: some connections are missing");
		rc = -1;
	}
	return rc;
}

int capture_analyse_file(const char *path, uint16_t port, const struct tcp_limits *lim,
			 struct capture_result *res)
{
	return analyse(NULL, path, port, lim, res);
}

int capture_analyse_stream(FILE *f, uint16_t port, const struct tcp_limits *lim, struct capture_result *res)
{
	return analyse(f, NULL, port, lim, res);
}

void capture_result_free(struct capture_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		tls_side_free(&res->conns[i].c);
		tls_side_free(&res->conns[i].s);
	}
	free(res->conns);
	memset(res, 0, sizeof *res);
}

int capture_conn_version(const struct capture_conn *c, char *out, size_t outcap)
{
	char tmp[16];

	if (c->s.server_hello) {
		snprintf(out, outcap, "%s", tls_version_name(c->s.selected_version, tmp, sizeof tmp));
		return c->s.selected_version == 0x0304;
	}
	snprintf(out, outcap, "unknown (no ServerHello in the capture)");
	return 0;
}

/* ---- JSON ---- */

static json_t *cert_json(const struct tls_cert *tc, int leaf_of_client, const struct classify_ctx *ctx)
{
	struct pki_cert_info info;
	struct cert_class cls;
	char err[ERRLEN];
	X509 *x = pki_cert_from_der(tc->der, tc->len, err, sizeof err);
	json_t *o;

	if (!x || pki_cert_info(x, &info) < 0) {
		X509_free(x);
		return json_pack("{s:s, s:I}", "error", x ? "cannot describe the certificate" : err,
				 "length", (json_int_t)tc->len);
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "subject", info.subject, "issuer", info.issuer,
		      "cn", info.cn, "issuer_cn", info.issuer_cn, "serial", info.serial, "sha256", info.sha256);
	json_object_set_new(o, "not_after", json_time_utc(info.not_after));
	if (leaf_of_client) {
		cert_classify(ctx, x, &cls);
		char device[64];
		cert_device_name(x, device, sizeof device);
		json_object_set_new(o, "device", json_string(device));
		json_object_set_new(o, "kind", json_string(cert_kind_name(cls.kind)));
		json_object_set_new(o, "rule", json_integer(cls.rule));
		json_object_set_new(o, "why", json_string(cls.why));
	}
	X509_free(x);
	return o;
}

static json_t *chain_json(const struct tls_side *t, int client, const struct classify_ctx *ctx)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->ncerts; i++)
		json_array_append_new(a, cert_json(&t->certs[i], client && i == 0, ctx));
	return a;
}

static json_t *messages_json(const struct tls_side *t)
{
	json_t *a = json_array();
	size_t n = t->nmsgs < sizeof t->msg_types ? t->nmsgs : sizeof t->msg_types;

	for (size_t i = 0; i < n; i++) {
		const char *name = tls_handshake_name(t->msg_types[i]);
		char tmp[16];
		snprintf(tmp, sizeof tmp, "type %u", t->msg_types[i]);
		json_array_append_new(a, json_string(name ? name : tmp));
	}
	return a;
}

static void add_alerts(json_t *a, const struct tls_side *t, const char *from)
{
	for (size_t i = 0; i < t->nalerts; i++) {
		const char *name = tls_alert_name(t->alerts[i].desc);
		char tmp[16];
		snprintf(tmp, sizeof tmp, "alert %u", t->alerts[i].desc);
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:i}", "from", from, "level",
						   t->alerts[i].level == 2 ? "fatal" : "warning",
						   "description", name ? name : tmp, "code", t->alerts[i].desc));
	}
}

static void note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *notes, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(notes, json_string(text));
}

static json_t *notes_json(const struct capture_conn *c, int tls13)
{
	json_t *n = json_array();

	if (tls13)
		note(n, "TLS 1.3: the certificates are encrypted and not in the capture");
	else if (c->s.server_hello && !c->s.cert_request)
		note(n, "the server did not ask for a client certificate");
	else if (c->s.cert_request && c->c.certificate_msg && c->c.ncerts_total == 0)
		note(n, "the server asked for a client certificate and the client sent none");
	if (c->c.ncerts_total > c->c.ncerts || c->s.ncerts_total > c->s.ncerts)
		note(n, "chain longer than %d certificates: the rest is not listed", TLS_MAX_CHAIN);
	if (c->c.error[0])
		note(n, "client: %s", c->c.error);
	if (c->s.error[0])
		note(n, "server: %s", c->s.error);
	for (int i = 0; i < 2; i++)
		if (c->gap[i])
			note(n, "%s: %s", i == 0 ? "client to server" : "server to client", c->gap_why[i]);
	if (c->evicted)
		note(n, "finished early: too many connections open at once in the capture");
	if (c->chains_dropped)
		note(n, "certificates not kept: the capture holds more than %d MiB of them",
		     CAPTURE_MAX_CERT_BYTES / (1024 * 1024));
	return n;
}

json_t *capture_conn_json(const struct capture_conn *c, const struct classify_ctx *ctx)
{
	char client[64], server[64], version[64], tmp[16];
	int tls13 = capture_conn_version(c, version, sizeof version);
	json_t *o, *alerts = json_array();

	tcp_endpoint_text(&c->client, client, sizeof client);
	tcp_endpoint_text(&c->server, server, sizeof server);
	o = json_pack("{s:I, s:s, s:s, s:s, s:b}", "index", (json_int_t)c->index, "client", client,
		      "server", server, "version", version, "tls13", tls13);
	json_object_set_new(o, "start", json_time_utc(c->first_ts / 1000000));
	json_object_set_new(o, "cipher", c->s.server_hello && !tls13
					 ? json_string(tls_cipher_name(c->s.cipher, tmp, sizeof tmp)) : json_null());
	json_object_set_new(o, "client_offered", c->c.client_hello
						 ? json_string(tls_version_name(c->c.max_version, tmp, sizeof tmp))
						 : json_null());
	json_object_set_new(o, "sni", c->c.sni[0] ? json_string(c->c.sni) : json_null());
	json_object_set_new(o, "certificate_request", json_boolean(c->s.cert_request));
	json_object_set_new(o, "client_messages", messages_json(&c->c));
	json_object_set_new(o, "server_messages", messages_json(&c->s));
	json_object_set_new(o, "client_chain", chain_json(&c->c, 1, ctx));
	json_object_set_new(o, "server_chain", chain_json(&c->s, 0, ctx));
	add_alerts(alerts, &c->c, "client");
	add_alerts(alerts, &c->s, "server");
	json_object_set_new(o, "alerts", alerts);
	json_object_set_new(o, "notes", notes_json(c, tls13));
	return o;
}
