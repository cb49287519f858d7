/*
 * cmd_register.c: `phonesim register PHONEDIR HOST:PORT`: the phone's TLS
 * connection to call control, as phone-certificates.md §3 describes it.
 *
 * There is no setting: the phone presents its LSC if one is installed,
 * otherwise its MIC. The console lines are the phone's own and come from
 * what happened in the handshake, not from what was expected:
 *   WRN SECD: -PXY_NO_LSC: No LSC for [SCCP], will try MIC
 *   NOT SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]
 *   ERR SECD: -STATE_SSL3_ALERT: SSL3 Alert [read]:[fatal]:[unknown CA]
 * The version is the one negotiated; the cipher is the phone's configured
 * list when it has one (--tls-max 1.0, an old phone), else the suite the
 * server chose; the alert is the one OpenSSL's info callback saw arrive.
 *
 * The server (opencapfd --register-listen) answers a certificate it accepts
 * with the line "registered KIND NAME"; under TLS 1.3 that line, or the alert
 * in its place, is the verdict, as the client's handshake ends first.
 */
#include "cmd/phonesim/phonesim.h"

#include <errno.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pki/pki.h"

#define LEGACY_CIPHERS "AES256-SHA:AES128-SHA"

static const char register_usage[] =
	"usage: phonesim register PHONEDIR HOST:PORT [--tls-max 1.0|1.2|1.3] [--timeout S]\n\n"
	"Open the phone's TLS connection to call control (opencapfd --register-listen):\n"
	"present the LSC if the phone has one, else the MIC, and print the phone's\n"
	"console lines (PXY_NO_LSC, PXY_CERT_CIPHER, STATE_SSL3_ALERT) from what the\n"
	"handshake did. The server's certificate must be in capf.pem when the phone\n"
	"has one.\n\n"
	"  --tls-max V   highest TLS version: 1.0 behaves like an old phone (TLS 1.0,\n"
	"                AES256-SHA:AES128-SHA); default: whatever both sides can\n"
	"  --timeout S   seconds for connecting and each wait (default 10)\n\n"
	"Exit status: 0 registered, 2 the server refused the certificate, 3 the\n"
	"connection or TLS failed otherwise, 1 usage or local error.\n";

struct reg_run {
	struct phone_dir pd;
	const char *hostport;
	enum tls_max max;
	double timeout;
	int use_lsc;
	char alert_read[64];         /* fatal alert from the server */
	char alert_line[160];
};

/* ---- TCP ---- */

static int split(const char *hp, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon = strrchr(hp, ':');

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');
		if (!end || end[1] != ':' || (size_t)(end - hp - 1) >= hcap)
			return -1;
		snprintf(host, hcap, "%.*s", (int)(end - hp - 1), hp + 1);
		snprintf(port, pcap, "%s", end + 2);
		return 0;
	}
	if (!colon || (size_t)(colon - hp) >= hcap || !colon[1])
		return -1;
	snprintf(host, hcap, "%.*s", (int)(colon - hp), hp);
	snprintf(port, pcap, "%s", colon + 1);
	return 0;
}

static int connect_to(const char *hostport, double timeout)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = (time_t)timeout, .tv_usec = (suseconds_t)((timeout - (time_t)timeout) * 1e6) };
	char host[256], port[32];
	int fd = -1, rc;

	if (split(hostport, host, sizeof host, port, sizeof port) < 0) {
		ps_error("register: '%s' is not HOST:PORT", hostport);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		ps_error("register: cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() too */
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			rc = errno;
			close(fd);
			fd = -1;
			errno = rc;
		}
	}
	if (fd < 0)
		ps_error("register: cannot connect to %s: %s", hostport, strerror(errno ? errno : ECONNREFUSED));
	freeaddrinfo(res);
	return fd;
}

/* ---- TLS ---- */

static void info_cb(const SSL *ssl, int where, int ret)
{
	struct reg_run *r = SSL_get_app_data(ssl);

	if (!(where & SSL_CB_ALERT) || (ret >> 8) != SSL3_AL_FATAL || r->alert_line[0])
		return;
	if (where & SSL_CB_READ)
		snprintf(r->alert_read, sizeof r->alert_read, "%s", SSL_alert_desc_string_long(ret));
	snprintf(r->alert_line, sizeof r->alert_line, "ERR SECD: -STATE_SSL3_ALERT: SSL3 Alert [%s]:[%s]:[%s]",
		 (where & SSL_CB_READ) ? "read" : "write", SSL_alert_type_string_long(ret),
		 SSL_alert_desc_string_long(ret));
}

static SSL_CTX *client_ctx(struct reg_run *r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	X509 *cert = r->use_lsc ? r->pd.lsc : r->pd.mic;
	EVP_PKEY *key = r->use_lsc ? r->pd.lsc_key : r->pd.mic_key;
	int ok;

	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* checked against capf.pem below */
	SSL_CTX_set_info_callback(ctx, info_cb);
	ok = SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
	if (r->max == TLS_MAX_1_0) {
		SSL_CTX_set_security_level(ctx, 0);
		ok = ok && SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_cipher_list(ctx, LEGACY_CIPHERS) == 1;
	} else if (r->max == TLS_MAX_1_2) {
		ok = ok && SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1;
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The server must present a certificate the phone trusts (capf.pem), if it has any. */
static int server_trusted(struct reg_run *r, SSL *ssl)
{
	X509 *peer = SSL_get1_peer_certificate(ssl);
	char why[ERRLEN] = "no certificate";
	int ok = 0;

	if (!r->pd.capf) {
		X509_free(peer);
		return 1;
	}
	for (int i = 0; peer && i < sk_X509_num(r->pd.capf) && !ok; i++)
		ok = X509_cmp(peer, sk_X509_value(r->pd.capf, i)) == 0;
	if (peer && !ok)
		ok = pki_verify_chain(peer, r->pd.capf, 0, NULL, why, sizeof why) == 0;
	if (!ok)
		ps_error("register: the server's certificate is not one the phone trusts (capf.pem): %s", why);
	X509_free(peer);
	return ok;
}

static void cert_cipher_line(struct reg_run *r, SSL *ssl)
{
	char line[300];
	const char *cipher = r->max == TLS_MAX_1_0 ? LEGACY_CIPHERS
						  : SSL_get_current_cipher(ssl) ? SSL_get_cipher_name(ssl) : "none";

	snprintf(line, sizeof line, "NOT SECD: -PXY_CERT_CIPHER: [SCCP], [%s], cert [%s], cipher [%s]",
		 SSL_get_version(ssl), r->use_lsc ? "LSC" : "MIC", cipher);
	phone_dir_console(&r->pd, line);
}

/* After the handshake: the server's verdict line, or its alert. */
static int read_verdict(struct reg_run *r, SSL *ssl, char *line, size_t cap)
{
	size_t have = 0;
	int n;

	while (have + 1 < cap) {
		ERR_clear_error();
		n = SSL_read(ssl, line + have, (int)(cap - 1 - have));
		if (n <= 0)
			break;
		have += (size_t)n;
		if (memchr(line, '\n', have))
			break;
	}
	line[have] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	return strncmp(line, "registered ", 11) == 0 ? 0 : -1;
}

static int run_tls(struct reg_run *r, int fd)
{
	SSL_CTX *ctx = client_ctx(r);
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	char verdict[128] = "";
	int rc = PS_EXIT_CONNECT, hs;

	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		ps_error("register: cannot set up TLS (the phone's key and certificate?)");
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		return PS_EXIT_LOCAL;
	}
	SSL_set_app_data(ssl, r);
	ERR_clear_error();
	hs = SSL_connect(ssl) == 1;
	cert_cipher_line(r, ssl);
	if (hs && !server_trusted(r, ssl))
		hs = -1;
	else if (hs && read_verdict(r, ssl, verdict, sizeof verdict) == 0)
		rc = PS_EXIT_OK;
	if (r->alert_line[0])
		phone_dir_console(&r->pd, r->alert_line);
	if (rc == PS_EXIT_OK)
		printf("result: registered cert=%s (%s)\n", r->use_lsc ? "LSC" : "MIC", verdict + 11);
	else if (r->alert_read[0]) {
		printf("result: refused cert=%s alert=\"%s\"\n", r->use_lsc ? "LSC" : "MIC", r->alert_read);
		rc = PS_EXIT_SERVER;
	} else if (hs >= 0) {
		unsigned long e = ERR_get_error();
		char why[200] = "the server closed the connection";
		if (e)
			ERR_error_string_n(e, why, sizeof why);
		printf("result: failed cert=%s (%s)\n", r->use_lsc ? "LSC" : "MIC", why);
	}
	ERR_clear_error();
	SSL_shutdown(ssl);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

/* ---- the command ---- */

static int parse_args(struct reg_run *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tls-max", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	r->timeout = 10;
	while ((c = ps_getopt(argc, argv, "", opts, register_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'm' && tls_max_parse(optarg, &r->max) == 0)
			continue;
		if (c == 't' && ps_parse_seconds("--timeout", optarg, &r->timeout) == 0 && r->timeout > 0)
			continue;
		if (c == 'm')
			ps_error("register: --tls-max must be 1.0, 1.2 or 1.3, not '%s'", optarg);
		return -1;
	}
	if (ps_expect_args(argc, argv, 2, register_usage) < 0)
		return -1;
	r->hostport = argv[optind + 1];
	return 0;
}

int cmd_register(int argc, char **argv)
{
	static struct reg_run r;
	char err[ERRLEN];
	int rc, fd;

	memset(&r, 0, sizeof r);
	if ((rc = parse_args(&r, argc, argv)) != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	if (phone_dir_load(argv[optind], &r.pd, err, sizeof err) < 0) {
		ps_error("register: %s", err);
		return PS_EXIT_LOCAL;
	}
	r.use_lsc = r.pd.lsc != NULL;
	if (!r.use_lsc)
		phone_dir_console(&r.pd, "WRN SECD: -PXY_NO_LSC: No LSC for [SCCP], will try MIC");
	fd = connect_to(r.hostport, r.timeout);
	rc = fd < 0 ? PS_EXIT_CONNECT : run_tls(&r, fd);
	if (fd >= 0)
		close(fd);
	phone_dir_free(&r.pd);
	return rc;
}
