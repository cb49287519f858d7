/*
 * cmd_load_ceiling.c: `phonesim load-ceiling`, a CAPF server that does only
 * what every install session costs any server, so that `phonesim load` can
 * measure the ceiling of this machine, with this client, over loopback:
 *
 *   accept, TLS handshake (the daemon's own server context, net/tls.c),
 *   AUTH_REQUEST (no authentication), KEY_GENERATE_REQUEST, the phone's key
 *   read (pki_pubkey_from_der), one LSC issued and signed (pki_lsc_issue_der,
 *   as opencapfd), STORE_CERTIFICATE_REQUEST, END_SESSION, close.
 *
 * It keeps no state: no store, no phone records, no history, no audit, no
 * log line per session; every device name is accepted. The difference
 * between its rate and opencapfd's is what opencapfd's own bookkeeping costs;
 * the difference between its rate and `phonesim load-limit` is what the
 * transport and the event loops cost on this machine (physics, not server).
 * Loopback addresses only; it stops on SIGINT/SIGTERM or after --max-seconds
 * and prints, last: served=N failed=N seconds=S cpu_us_per_session=X
 *
 * A connection's life (pool slot, SSL, bufferevent, replies as one chunk,
 * close after the output drained) is the daemon's own, net/tls_conn.c; this
 * file holds only the session. No connection cap, no per-address limit, and
 * a handshake deadline past --max-seconds: nothing is cut during the run.
 */
#include "cmd/phonesim/load.h"

#include <event2/buffer.h>
#include <limits.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "net/addr.h"
#include "net/tls.h"
#include "net/tls_conn.h"
#include "net/workers.h"
#include "wire/capf_msg.h"

static const char ceiling_usage[] =
	"usage: phonesim load-ceiling --listen ADDR:PORT --cert CAPF.pem --key CAPF.key\n"
	"                             [--threads N] [--phone-key SPEC] [--max-seconds S]\n\n"
	"Serve CAPF install sessions doing only what each one costs any server: the\n"
	"TLS handshake, the protocol's messages and one LSC signature; no store, no\n"
	"records. Run `phonesim load` against it to measure the ceiling of this\n"
	"machine with that client. Loopback only. Stops on SIGINT/SIGTERM or after\n"
	"--max-seconds, then prints last:\n"
	"  served=N failed=N seconds=S cpu_us_per_session=X\n\n"
	"  --listen ADDR:PORT  where to listen (127.0.0.0/8 or [::1])\n"
	"  --cert FILE         the CAPF certificate (PEM) the server presents and signs with\n"
	"  --key FILE          its private key (PEM)\n"
	"  --threads N         event loops, one per core by default\n"
	"  --phone-key SPEC    the key the phones are asked for (default ec:p256)\n"
	"  --max-seconds S     stop after S seconds at most (default 3600)\n";

struct ceiling {
	struct worker_pool pool;
	struct tls_service svc;
	SSL_CTX *ctx;
	struct signer *signer;
	uint8_t key_type;
	int key_bits;
	atomic_long served, failed;
	atomic_uint next_id;
};

enum ceiling_state { CEIL_WAIT_AUTH, CEIL_WAIT_KEY, CEIL_WAIT_STORE, CEIL_DONE };

/* A connection's session (its tls_conn's user state). */
struct ceiling_conn {
	struct ceiling *cl;
	uint32_t id;
	enum ceiling_state state;
	char device[64];
};

/* ---- one session ---- */

static int fail(struct ceiling_conn *c, struct buf *out)
{
	atomic_fetch_add(&c->cl->failed, 1);
	c->state = CEIL_DONE;
	capf_put_end_session(out, c->id, CAPF_REASON_INVALID_ELEMENT);
	return 1;
}

static int on_key(struct ceiling_conn *c, const struct capf_msg *m, struct buf *out)
{
	const struct capf_elem *k = capf_msg_find(m, CAPF_TAG_PUBLIC_KEY);
	char err[ERRLEN];
	uint8_t *der = NULL;
	size_t len;
	EVP_PKEY *pub;
	int rc;

	if (m->cmd == CAPF_CMD_REQUEST_IN_PROGRESS)
		return 0;
	if (m->cmd != CAPF_CMD_KEY_GENERATE_RESPONSE || !k || !(pub = pki_pubkey_from_der(k->val, k->len, err, sizeof err)))
		return fail(c, out);
	rc = pki_lsc_issue_der(c->cl->signer, c->device, pub, 1825, &der, &len, err, sizeof err);
	EVP_PKEY_free(pub);
	if (rc < 0 || capf_put_store_lsc(out, c->id, der, len) < 0) {
		OPENSSL_free(der);
		return fail(c, out);
	}
	OPENSSL_free(der);
	c->state = CEIL_WAIT_STORE;
	return 0;
}

/* One whole message in; replies appended to out. 1 when the session is over. */
static int on_message(struct ceiling_conn *c, const uint8_t *data, size_t len, struct buf *out)
{
	struct capf_msg m;
	char err[ERRLEN];
	uint8_t reason;

	if (capf_msg_decode(&m, data, len, err, sizeof err) < 0 || m.session_id != c->id)
		return fail(c, out);
	switch (c->state) {
	case CEIL_WAIT_AUTH:
		if (m.cmd != CAPF_CMD_AUTH_RESPONSE ||
		    capf_msg_get_cstr(&m, CAPF_TAG_DEVICE_NAME, c->device, sizeof c->device) < 0)
			return fail(c, out);
		c->state = CEIL_WAIT_KEY;
		return capf_put_key_request(out, c->id, c->cl->key_type, c->cl->key_bits) < 0 ? fail(c, out) : 0;
	case CEIL_WAIT_KEY:
		return on_key(c, &m, out);
	case CEIL_WAIT_STORE:
		if (m.cmd != CAPF_CMD_STORE_CERTIFICATE_RESPONSE || capf_msg_get_u8(&m, CAPF_TAG_REASON, &reason) < 0 ||
		    reason != CAPF_REASON_UPDATE_CERTIFICATE)
			return fail(c, out);
		atomic_fetch_add(&c->cl->served, 1);
		c->state = CEIL_DONE;
		capf_put_end_session(out, c->id, CAPF_REASON_UPDATE_CERTIFICATE);
		return 1;
	default:
		return fail(c, out);
	}
}

/* ---- the connection: callbacks of net/tls_conn ---- */

static int conn_new(struct tls_conn *tc, SSL *ssl)
{
	struct ceiling_conn *c = tc->user;

	(void)ssl;
	c->cl = tc->svc->owner;
	c->id = atomic_fetch_add(&c->cl->next_id, 1);
	return 0;
}

static void conn_gone(struct tls_conn *tc)
{
	struct ceiling_conn *c = tc->user;

	if (c->state != CEIL_DONE && c->state != CEIL_WAIT_AUTH)
		atomic_fetch_add(&c->cl->failed, 1);
}

/* Queue `out` as one chunk: one SSL_write, one TLS record, as the daemon. */
static int send_out(struct tls_conn *tc, const struct buf *out)
{
	return out->failed ? -1 : tls_conn_send(tc, out->data, out->len);
}

static void conn_connected(struct tls_conn *tc)
{
	struct ceiling_conn *c = tc->user;
	struct buf out;

	buf_init(&out);
	if (capf_put_auth_request(&out, c->id) < 0 || send_out(tc, &out) < 0)
		tls_conn_finish(tc);
	buf_free(&out);
}

static void conn_read(struct tls_conn *tc)
{
	struct ceiling_conn *c = tc->user;
	struct evbuffer *in = bufferevent_get_input(tc->bev);
	size_t avail, total;
	char err[ERRLEN];
	struct buf out;
	int done = 0, rc;

	while (!done && (avail = evbuffer_get_length(in)) >= CAPF_HEADER_LEN) {
		rc = capf_frame_length(evbuffer_pullup(in, CAPF_HEADER_LEN), avail, &total, err, sizeof err);
		if (rc == 0)
			return;
		if (rc < 0)
			total = avail;
		buf_init(&out);
		done = rc < 0 ? fail(c, &out) : on_message(c, evbuffer_pullup(in, (ssize_t)total), total, &out) != 0;
		evbuffer_drain(in, total);
		if (send_out(tc, &out) < 0)
			done = 1;
		buf_free(&out);
	}
	if (done)
		tls_conn_finish(tc);
}

/* A TLS or socket error, the peer gone: on_end is NULL, so tls_conn frees
 * the connection (conn_gone counts an unfinished session as failed). */
static const struct tls_conn_ops ceiling_ops = {
	.on_new = conn_new,
	.on_connected = conn_connected,
	.on_read = conn_read,
	.on_free = conn_gone,
};

/* ---- options and the run ---- */

struct ceiling_args {
	const char *listen, *cert_path, *key_path, *phone_key;
	int threads;
	double max_seconds;
};

static int parse_args(struct ceiling_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' }, { "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' }, { "threads", required_argument, NULL, 't' },
		{ "phone-key", required_argument, NULL, 'p' }, { "max-seconds", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc = 0;

	while (rc == 0 && (c = ps_getopt(argc, argv, "", opts, ceiling_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == 'l')
			a->listen = optarg;
		else if (c == 'c')
			a->cert_path = optarg;
		else if (c == 'k')
			a->key_path = optarg;
		else if (c == 'p')
			a->phone_key = optarg;
		else if (c == 't')
			rc = ps_parse_int("--threads", optarg, 1, 64, &a->threads);
		else if (c == 'm')
			rc = ps_parse_seconds("--max-seconds", optarg, &a->max_seconds);
		else if (c == '?')
			rc = -1;
	}
	if (rc == 0 && ps_expect_args(argc, argv, 0, ceiling_usage) < 0)
		rc = -1;
	if (rc == 0 && (!a->listen || !a->cert_path || !a->key_path)) {
		ps_error("load-ceiling: --listen, --cert and --key are required");
		rc = -1;
	}
	return rc;
}

/* The TLS context, the signer and the key asked for. */
static int ceiling_setup(struct ceiling *cl, const struct ceiling_args *a, char *err, size_t errlen)
{
	STACK_OF(X509) *certs = pki_certs_load(a->cert_path, err, errlen);
	EVP_PKEY *key = certs ? pki_key_load(a->key_path, err, errlen) : NULL;
	enum pki_key_kind kind;
	int rc = -1;

	if (key && pki_key_parse_spec(a->phone_key, &kind, &cl->key_bits, err, errlen) == 0) {
		cl->key_type = (uint8_t)kind;
		if (!(cl->signer = signer_local_new(sk_X509_value(certs, 0), key)))
			seterr(err, errlen, "the key does not belong to the certificate");
		else
			cl->ctx = tls_server_ctx(TLS_PROFILE_LEGACY, NULL, sk_X509_value(certs, 0), key, err, errlen);
		rc = cl->ctx ? 0 : -1;
	}
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	return rc;
}

static int ceiling_listen(struct ceiling *cl, const struct ceiling_args *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	if (addr_parse(a->listen, &ss, &sslen, err, errlen) < 0)
		return -1;
	if (!load_is_loopback((const struct sockaddr *)&ss)) {
		seterr(err, errlen, "%s is not a loopback address", a->listen);
		return -1;
	}
	if (worker_pool_init(&cl->pool, a->threads, 0, err, errlen) < 0)
		return -1;
	cl->svc = (struct tls_service){
		.name = "load-ceiling", .ssl_ctx = cl->ctx, .ops = &ceiling_ops, .owner = cl,
		.user_size = sizeof(struct ceiling_conn), .max_msg = CAPF_MAX_MSG, .nodelay = 1,
		.release_buffers = 1,
		/* no cap, no per-address limit, no handshake cut short during the run */
		.limits = { .handshake_timeout = a->max_seconds < INT_MAX - 1 ? (int)a->max_seconds + 1 : INT_MAX },
	};
	return tls_service_start(&cl->svc, &cl->pool, a->listen, err, errlen);
}

static double process_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

/* Serve until SIGINT/SIGTERM or max_seconds (signals blocked in every thread). */
static void serve(struct ceiling *cl, const struct ceiling_args *a, const sigset_t *stop)
{
	struct timespec t0, t1, limit = { (time_t)a->max_seconds, 0 };
	double cpu0 = process_cpu(), secs, cpu;
	long served, failed;
	char err[ERRLEN];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (worker_pool_run(&cl->pool, err, sizeof err) < 0) {
		ps_error("load-ceiling: %s", err);
		return;
	}
	printf("load-ceiling: listening on %s (%d threads)\n", a->listen, a->threads);
	fflush(stdout);
	sigtimedwait(stop, NULL, &limit);
	worker_pool_stop(&cl->pool);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cpu = process_cpu() - cpu0;
	served = atomic_load(&cl->served);
	failed = atomic_load(&cl->failed);
	printf("served=%ld failed=%ld seconds=%.2f cpu_us_per_session=%.0f\n", served, failed, secs,
	       served ? cpu * 1e6 / (double)served : 0.0);
}

/* After the workers stopped: the listeners and the connections still open. */
static void ceiling_free(struct ceiling *cl)
{
	tls_service_close(&cl->svc, NULL);
	worker_pool_free(&cl->pool);
	SSL_CTX_free(cl->ctx);
	signer_free(cl->signer);
}

int cmd_load_ceiling(int argc, char **argv)
{
	struct ceiling_args a = { .phone_key = "ec:p256", .max_seconds = 3600,
				  .threads = (int)sysconf(_SC_NPROCESSORS_ONLN) };
	struct ceiling cl;
	sigset_t stop;
	char err[ERRLEN];
	uint32_t first;
	int rc = parse_args(&a, argc, argv);

	if (rc != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	memset(&cl, 0, sizeof cl);
	RAND_bytes((unsigned char *)&first, sizeof first);
	atomic_init(&cl.next_id, first);
	atomic_init(&cl.served, 0);
	atomic_init(&cl.failed, 0);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (ceiling_setup(&cl, &a, err, sizeof err) < 0 || ceiling_listen(&cl, &a, err, sizeof err) < 0) {
		ps_error("load-ceiling: %s", err);
		rc = PS_EXIT_LOCAL;
	} else {
		serve(&cl, &a, &stop);
	}
	ceiling_free(&cl);
	return rc;
}
