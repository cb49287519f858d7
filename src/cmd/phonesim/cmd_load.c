/*
 * cmd_load.c: `phonesim load`, the load generator: N emulated phones, C of
 * them in flight at a time, each running one whole CAPF session (or TVS
 * verify requests) against a server that follows the protocol document, on
 * loopback unless --allow-remote.
 *
 * The run is bounded: --count sessions at most, --max-seconds of wall time
 * at most (sessions still running then count as failed), and every wait on
 * the server by --timeout. It prints what it measured and, as its last line,
 *   completed=N failed=N seconds=S rate=R/s p50=Xms p99=Yms
 * for scripts. Exit status 0 when every session completed, 2 when some
 * failed, 1 for usage or local errors.
 *
 * The pieces are in load.h; this file parses options, sets the run up
 * (target address, trust, TLS context, key pool, worker threads), runs it
 * and reports.
 */
#include "cmd/phonesim/load.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "net/workers.h"
#include <time.h>

#define LOAD_TIMEOUT_DEFAULT 60.0
#define LOAD_MAX_SECONDS_DEFAULT 600.0
#define LOAD_MAX_THREADS 64
#define LOAD_MAX_COUNT 10000000

static const char load_usage[] =
	"usage: phonesim load --capf HOST:PORT --trust CAPF_CERT.pem --first SEPxxxxxxxxxxxx\n"
	"                     --count N [--concurrency C] [--key-pool K] [OPTIONS]\n"
	"       phonesim load --tvs HOST:PORT --trust TVS_CERT.pem --first NAME --count N [OPTIONS]\n\n"
	"Drive N emulated phones (device names count up in hex from --first) through\n"
	"one CAPF session each, C at a time, over TLS; the key type is whatever the\n"
	"server asks, answered from a pool of pre-generated keys. Loopback only\n"
	"unless --allow-remote. Prints completed, failed, rate and latencies, and\n"
	"last: completed=N failed=N seconds=S rate=R/s p50=Xms p99=Yms\n\n"
	"  --capf HOST:PORT     the CAPF server (default port 3804); several, comma-separated,\n"
	"                       are a cluster: phone i starts with server i mod N and moves\n"
	"                       to the next when the connection fails or breaks (at most\n"
	"                       2N tries), as a phone with several capfList entries does\n"
	"  --tvs HOST:PORT      a TVS server instead (default port 2445): verify requests\n"
	"  --trust FILE         the server certificate (or its CA) the phones trust (PEM)\n"
	"  --first NAME         first device name, e.g. SEP001122330000\n"
	"  --count N            number of phones (sessions)\n"
	"  --concurrency C      sessions in flight at once (default 100)\n"
	"  --threads T          event loops (threads) sharing them (default: the cores online)\n"
	"  --op OP              what the server must do: install (default), troubleshoot,\n"
	"                       delete, any\n"
	"  --key-pool K         pre-generated keys per key type (default 8)\n"
	"  --key-types LIST     fill the pool before the run, e.g. rsa:2048,ec:p256 (other\n"
	"                       types are generated on first use, and that time reported)\n"
	"  --keygen-delay SECS  a slow phone: hold KEY_GENERATE_RESPONSE this long\n"
	"  --auth-string DIGITS authentication string every phone sends\n"
	"  --lsc FILE           PEM certificate + key every phone holds as its LSC\n"
	"  --timeout SECS       longest wait for the server at any step (default 60)\n"
	"  --max-seconds SECS   end the run after this long (default 600)\n"
	"  --ramp N             start at most N sessions per second (default: at once)\n"
	"  --tls-max VERSION    1.0, 1.2 or 1.3\n"
	"  --resume             resume TLS sessions (off: every phone does a full handshake)\n"
	"  --allow-remote       allow a target that is not a loopback address\n"
	"  --received FILE      append \"<device> <sha256> <serial>\" for every LSC a phone\n"
	"                       receives, written before the phone answers\n"
	"  --verify-cert FILE   TVS: the certificate to ask about (default: the --trust one)\n"
	"  --requests R         TVS: requests per connection (default 1)\n"
	"  --expect STATUS      TVS: valid, invalid or any (default any)\n"
	"  --model MODEL        TVS: phone model in the device name (default 7962)\n\n"
	"Exit status: 0 every session completed, 2 some failed, 1 usage or local error.\n";

struct load_args {
	struct load_config cfg;
	const char *trust_path, *first, *key_types, *lsc_path, *verify_path, *received_path;
	int allow_remote, is_tvs;
};

const char *load_op_name(enum load_op op)
{
	static const char *const names[] = { "install", "troubleshoot", "delete", "any", "tvs" };

	return (size_t)op < sizeof names / sizeof names[0] ? names[op] : "?";
}

/* ---- options ---- */

static int parse_op(const char *s, struct load_config *cfg)
{
	for (int op = LOAD_OP_INSTALL; op <= LOAD_OP_ANY; op++)
		if (strcmp(s, load_op_name((enum load_op)op)) == 0) {
			cfg->op = (enum load_op)op;
			return 0;
		}
	ps_error("--op must be install, troubleshoot, delete or any, not '%s'", s);
	return -1;
}

static int parse_expect(const char *s, enum load_expect *out)
{
	if (strcmp(s, "valid") == 0)
		*out = LOAD_EXPECT_VALID;
	else if (strcmp(s, "invalid") == 0)
		*out = LOAD_EXPECT_INVALID;
	else if (strcmp(s, "any") == 0)
		*out = LOAD_EXPECT_ANY;
	else {
		ps_error("--expect must be valid, invalid or any, not '%s'", s);
		return -1;
	}
	return 0;
}

static int parse_positive_seconds(const char *what, const char *s, double *out)
{
	if (ps_parse_seconds(what, s, out) < 0)
		return -1;
	if (*out < 0.001) {
		ps_error("%s must be more than 0", what);
		return -1;
	}
	return 0;
}

static int parse_count(const char *s, long *out)
{
	int v;

	if (ps_parse_int("--count", s, 1, LOAD_MAX_COUNT, &v) < 0)
		return -1;
	*out = v;
	return 0;
}

static int parse_one(struct load_args *a, int c, const char *arg)
{
	struct load_config *cfg = &a->cfg;

	switch (c) {
	case 'C': cfg->hostport = arg; a->is_tvs = 0; return 0;
	case 'V': cfg->hostport = arg; a->is_tvs = 1; return 0;
	case 't': a->trust_path = arg; return 0;
	case 'f': a->first = arg; return 0;
	case 'n': return parse_count(arg, &cfg->count);
	case 'c': return ps_parse_int("--concurrency", arg, 1, 100000, &cfg->concurrency);
	case 'T': return ps_parse_int("--threads", arg, 1, LOAD_MAX_THREADS, &cfg->threads);
	case 'o': return parse_op(arg, cfg);
	case 'k': return ps_parse_int("--key-pool", arg, 1, 100000, &cfg->key_pool);
	case 'K': a->key_types = arg; return 0;
	case 'd': return ps_parse_seconds("--keygen-delay", arg, &cfg->keygen_delay);
	case 'a': cfg->auth_string = arg; return 0;
	case 'l': a->lsc_path = arg; return 0;
	case 'w': return parse_positive_seconds("--timeout", arg, &cfg->timeout);
	case 'm': return parse_positive_seconds("--max-seconds", arg, &cfg->max_seconds);
	case 'x':
		if (tls_max_parse(arg, &cfg->tls_max) == 0)
			return 0;
		ps_error("--tls-max must be 1.0, 1.2 or 1.3, not '%s'", arg);
		return -1;
	case 'r': cfg->resume = 1; return 0;
	case 'R': a->allow_remote = 1; return 0;
	case 'v': a->verify_path = arg; return 0;
	case 'q': return ps_parse_int("--requests", arg, 1, 1000000, &cfg->tvs_requests);
	case 'e': return parse_expect(arg, &cfg->tvs_expect);
	case 'M': cfg->model = arg; return 0;
	case 'E': a->received_path = arg; return 0;
	case 'P':
		if (ps_parse_seconds("--ramp", arg, &cfg->ramp) == 0 && cfg->ramp >= 1)
			return 0;
		ps_error("--ramp must be a number of sessions per second from 1 to 86400");
		return -1;
	default: return -1;
	}
}

static int check_required(const struct load_args *a)
{
	const char *missing = !a->cfg.hostport ? "--capf (or --tvs)" : !a->trust_path ? "--trust"
			    : !a->first ? "--first" : !a->cfg.count ? "--count" : NULL;

	if (missing) {
		ps_error("load: %s is required", missing);
		fputs(load_usage, stderr);
		return -1;
	}
	return 0;
}

/* 0 ready, 1 help printed, -1 error printed. */
static int parse_args(struct load_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "capf", required_argument, NULL, 'C' }, { "tvs", required_argument, NULL, 'V' },
		{ "trust", required_argument, NULL, 't' }, { "first", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' }, { "concurrency", required_argument, NULL, 'c' },
		{ "threads", required_argument, NULL, 'T' }, { "op", required_argument, NULL, 'o' },
		{ "key-pool", required_argument, NULL, 'k' }, { "key-types", required_argument, NULL, 'K' },
		{ "keygen-delay", required_argument, NULL, 'd' }, { "auth-string", required_argument, NULL, 'a' },
		{ "lsc", required_argument, NULL, 'l' }, { "timeout", required_argument, NULL, 'w' },
		{ "max-seconds", required_argument, NULL, 'm' }, { "tls-max", required_argument, NULL, 'x' },
		{ "resume", no_argument, NULL, 'r' }, { "allow-remote", no_argument, NULL, 'R' },
		{ "verify-cert", required_argument, NULL, 'v' }, { "requests", required_argument, NULL, 'q' },
		{ "expect", required_argument, NULL, 'e' }, { "model", required_argument, NULL, 'M' },
		{ "ramp", required_argument, NULL, 'P' }, { "received", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = ps_getopt(argc, argv, "", opts, load_usage)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || parse_one(a, c, optarg) < 0)
			return -1;
	}
	if (ps_expect_args(argc, argv, 0, load_usage) < 0 || check_required(a) < 0)
		return -1;
	if (a->is_tvs && a->received_path) {
		ps_error("load: --received goes with --capf");
		return -1;
	}
	if (a->is_tvs)
		a->cfg.op = LOAD_OP_TVS;
	else if (a->verify_path || a->cfg.tvs_expect != LOAD_EXPECT_ANY) {
		ps_error("load: --verify-cert and --expect go with --tvs");
		return -1;
	}
	return 0;
}

/* ---- device names: a prefix, then a hex number of fixed width ---- */

static int parse_first(struct load_config *cfg, const char *first)
{
	size_t len = strlen(first), start = len;
	char digits[20];

	if (strncmp(first, "SEP", 3) == 0)
		start = 3;
	else
		while (start > 0 && isxdigit((unsigned char)first[start - 1]) && len - start < 15)
			start--;
	if (start >= sizeof cfg->prefix || len - start < 1 || len - start > 15 ||
	    strspn(first + start, "0123456789abcdefABCDEF") != len - start) {
		ps_error("--first: '%s' must end in hex digits (e.g. SEP001122330000)", first);
		return -1;
	}
	memcpy(cfg->prefix, first, start);
	cfg->prefix[start] = '\0';
	cfg->width = (int)(len - start);
	snprintf(digits, sizeof digits, "%s", first + start);
	cfg->first = strtoull(digits, NULL, 16);
	if (cfg->width < 15 && cfg->first + (uint64_t)cfg->count - 1 >= (1ULL << (4 * cfg->width))) {
		ps_error("--first %s + --count %ld runs past %d hex digits", first, cfg->count, cfg->width);
		return -1;
	}
	return 0;
}

void load_devname(const struct load_config *cfg, long index, char *out, size_t outcap)
{
	snprintf(out, outcap, "%s%0*llX", cfg->prefix, cfg->width, (unsigned long long)(cfg->first + (uint64_t)index));
}

/* ---- the target: resolved once, loopback unless allowed ---- */

static int split_hostport(const char *s, const char *defport, char *host, size_t hostcap, char *port,
			  size_t portcap)
{
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hlen;

	snprintf(port, portcap, "%s", defport);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		h = s + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':')
			snprintf(port, portcap, "%s", end + 2);
	} else if (colon && strchr(s, ':') == colon) {
		hlen = (size_t)(colon - s);
		snprintf(port, portcap, "%s", colon + 1);
	} else {
		hlen = strlen(s);
	}
	if (hlen == 0 || hlen >= hostcap || !port[0])
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	return 0;
}

int load_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

static int resolve_one(struct load_config *cfg, const char *hostport, int allow_remote)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	char host[256], port[32];
	int rc, n = cfg->nservers;

	if (split_hostport(hostport, cfg->op == LOAD_OP_TVS ? "2445" : "3804", host, sizeof host, port,
			   sizeof port) < 0) {
		ps_error("load: '%s' is not HOST[:PORT]", hostport);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		ps_error("load: cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(&cfg->servers[n], res->ai_addr, res->ai_addrlen);
	cfg->server_lens[n] = res->ai_addrlen;
	freeaddrinfo(res);
	if (!allow_remote && !load_is_loopback((struct sockaddr *)&cfg->servers[n])) {
		ps_error("load: %s is not a loopback address; a load is for your own test server "
			 "(--allow-remote to override)", host);
		return -1;
	}
	cfg->nservers++;
	return 0;
}

/* HOST:PORT[,HOST:PORT...]: every server, the first also as cfg->addr. */
static int resolve_target(struct load_config *cfg, int allow_remote)
{
	char list[1024], *save = NULL;

	if ((size_t)snprintf(list, sizeof list, "%s", cfg->hostport) >= sizeof list) {
		ps_error("load: server list too long");
		return -1;
	}
	cfg->nservers = 0;
	for (char *s = strtok_r(list, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		if (cfg->nservers == LOAD_MAX_SERVERS) {
			ps_error("load: at most %d servers", LOAD_MAX_SERVERS);
			return -1;
		}
		if (resolve_one(cfg, s, allow_remote) < 0)
			return -1;
	}
	if (!cfg->nservers) {
		ps_error("load: '%s' names no server", cfg->hostport);
		return -1;
	}
	cfg->addr = cfg->servers[0];
	cfg->addrlen = cfg->server_lens[0];
	return 0;
}

/* ---- files: trust, the phones' LSC, the TVS certificate ---- */

static int load_files(struct load_args *a)
{
	struct load_config *cfg = &a->cfg;
	STACK_OF(X509) *certs;
	char err[ERRLEN];

	if (!(cfg->trusted = pki_certs_load(a->trust_path, err, sizeof err))) {
		ps_error("--trust: %s", err);
		return -1;
	}
	if (a->received_path &&
	    (cfg->received_fd = open(a->received_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		ps_error("--received: cannot open %s: %s", a->received_path, strerror(errno));
		return -1;
	}
	if (a->lsc_path) {
		if (!(certs = pki_certs_load(a->lsc_path, err, sizeof err)) ||
		    !(cfg->lsc_key = pki_key_load(a->lsc_path, err, sizeof err))) {
			sk_X509_pop_free(certs, X509_free);
			ps_error("--lsc: %s", err);
			return -1;
		}
		cfg->lsc = sk_X509_shift(certs);
		sk_X509_pop_free(certs, X509_free);
	}
	if (cfg->op != LOAD_OP_TVS)
		return 0;
	certs = a->verify_path ? pki_certs_load(a->verify_path, err, sizeof err) : X509_chain_up_ref(cfg->trusted);
	if (!certs || pki_cert_to_der(sk_X509_value(certs, 0), &cfg->tvs_der, &cfg->tvs_derlen) < 0) {
		ps_error("--verify-cert: %s", certs ? "cannot encode the certificate" : err);
		sk_X509_pop_free(certs, X509_free);
		return -1;
	}
	sk_X509_pop_free(certs, X509_free);
	return 0;
}

static void config_free(struct load_config *cfg)
{
	sk_X509_pop_free(cfg->trusted, X509_free);
	if (cfg->received_fd >= 0)
		close(cfg->received_fd);
	X509_free(cfg->lsc);
	EVP_PKEY_free(cfg->lsc_key);
	OPENSSL_free(cfg->tvs_der);
}

/* ---- the TLS context: no client certificate; the server is checked per connection ---- */

SSL_CTX *load_client_ctx(enum tls_max max)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok = ctx != NULL;

	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (max == TLS_MAX_1_0) {
		SSL_CTX_set_security_level(ctx, 0);
		ok = SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_max_proto_version(ctx, TLS1_VERSION) == 1 &&
		     SSL_CTX_set_cipher_list(ctx, "AES256-SHA:AES128-SHA") == 1;
	} else if (max == TLS_MAX_1_2) {
		ok = SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) == 1;
	}
	if (!ok) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* ---- the run ---- */

double load_now(const struct load_shared *sh)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - sh->t0.tv_sec) + (double)(ts.tv_nsec - sh->t0.tv_nsec) / 1e9;
}

void load_worker_refill(struct load_worker *w)
{
	event_active(w->fill, EV_TIMEOUT, 0);
}

/* With --ramp: may this worker start another session now? If not, the
 * ramp timer calls the fill again when the next one is due. */
static int ramp_allows(struct load_worker *w)
{
	const struct load_config *cfg = w->sh->cfg;
	double per_worker = cfg->ramp / cfg->threads, due;
	struct timeval tv;

	if (cfg->ramp <= 0)
		return 1;
	due = (double)w->started / per_worker;
	if (due <= load_now(w->sh))
		return 1;
	due -= load_now(w->sh);
	tv = (struct timeval){ (time_t)due, (suseconds_t)((due - (double)(time_t)due) * 1e6) + 1 };
	evtimer_add(w->ramp, &tv);
	return 0;
}

static void fill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load_worker *w = arg;
	struct load_shared *sh = w->sh;
	long idx;

	(void)fd;
	(void)what;
	while (!w->done_starting && w->active < w->target && !atomic_load(&sh->stop) && ramp_allows(w)) {
		idx = atomic_fetch_add(&sh->next, 1);
		if (idx >= sh->cfg->count) {
			w->done_starting = 1;
			break;
		}
		w->started++;
		load_conn_start(w, idx);
	}
	if ((w->done_starting || atomic_load(&sh->stop)) && w->active == 0)
		event_base_loopbreak(w->base);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct load_worker *w = arg;
	char why[96];

	(void)fd;
	(void)what;
	atomic_store(&w->sh->stop, 1);
	snprintf(why, sizeof why, "still running after --max-seconds %g", w->sh->cfg->max_seconds);
	load_conn_abort_all(w, why);
	event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
	struct load_worker *w = arg;
	double s = w->sh->cfg->max_seconds;
	struct timeval tv = { (time_t)s, (suseconds_t)((s - (double)(time_t)s) * 1e6) };

	evtimer_add(w->deadline, &tv);
	event_active(w->fill, EV_TIMEOUT, 0);
	event_base_dispatch(w->base);
	load_conn_abort_all(w, "the run ended");
	return NULL;
}

static int workers_init(struct load_shared *sh, struct load_worker *ws, int n)
{
	const struct load_config *cfg = sh->cfg;

	for (int i = 0; i < n; i++) {
		struct load_worker *w = &ws[i];
		w->sh = sh;
		w->index = i;
		w->target = cfg->concurrency / n + (i < cfg->concurrency % n);
		if (!(w->base = worker_event_base_new()) || !(w->fill = event_new(w->base, -1, 0, fill_cb, w)) ||
		    !(w->ramp = evtimer_new(w->base, fill_cb, w)) || !(w->deadline = evtimer_new(w->base, deadline_cb, w))) {
			ps_error("load: cannot create an event loop");
			return -1;
		}
	}
	return 0;
}

static void workers_free(struct load_worker *ws, int n)
{
	for (int i = 0; i < n; i++) {
		if (ws[i].fill)
			event_free(ws[i].fill);
		if (ws[i].ramp)
			event_free(ws[i].ramp);
		if (ws[i].deadline)
			event_free(ws[i].deadline);
		if (ws[i].base)
			event_base_free(ws[i].base);
		SSL_SESSION_free(ws[i].resume);
		load_stats_free(&ws[i].stats);
	}
}

static int workers_run(struct load_worker *ws, int n)
{
	int started = 0, rc = 0;

	for (; started < n; started++)
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0) {
			ps_error("load: cannot start thread %d", started);
			atomic_store(&ws[0].sh->stop, 1);
			rc = -1;
			break;
		}
	for (int i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	return rc;
}

/* ---- the report ---- */

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void report_failures(const struct load_stats *s)
{
	for (int i = 0; i < LOAD_FAIL_KINDS && s->fails[i].n; i++)
		printf("  %ld x %s (first: %s)\n", s->fails[i].n, s->fails[i].kind, s->fails[i].example);
	if (s->fails_other)
		printf("  %ld x other kinds\n", s->fails_other);
}

static void report(const struct load_shared *sh, struct load_stats *s, double seconds, double cpu)
{
	const struct load_config *cfg = sh->cfg;
	double rate = seconds > 0 ? (double)s->completed / seconds : 0;
	double p50 = load_stats_percentile(s, 50), p90 = load_stats_percentile(s, 90);
	double p99 = load_stats_percentile(s, 99), p999 = load_stats_percentile(s, 99.9);
	long total = s->completed + s->failed;
	char keys[256];
	struct rusage ru;
	int lazy;
	double lazy_s;

	getrusage(RUSAGE_SELF, &ru);
	key_pool_describe(sh->keys, keys, sizeof keys);
	key_pool_lazy(sh->keys, &lazy, &lazy_s);
	printf("completed: %ld\nfailed: %ld\n", s->completed, s->failed);
	report_failures(s);
	printf("seconds: %.3f\nrate: %.1f/s\n", seconds, rate);
	printf("latency: p50=%.1fms p90=%.1fms p99=%.1fms p99.9=%.1fms max=%.1fms\n", p50, p90, p99, p999,
	       load_stats_max(s));
	if (cfg->op == LOAD_OP_TVS)
		printf("tvs: valid=%ld invalid=%ld\n", s->tvs_valid, s->tvs_invalid);
	else
		printf("keys: %s (%d generated during the run, %.2f s)\n", keys, lazy, lazy_s);
	printf("tls: %ld resumed handshakes\n", s->resumed);
	if (cfg->nservers > 1)
		printf("failovers: %ld sessions moved to the next server\n", s->failovers);
	printf("client: cpu %.2f s (%.0f us per session), peak rss %ld KiB\n", cpu,
	       total ? cpu * 1e6 / (double)total : 0.0, ru.ru_maxrss);
	printf("completed=%ld failed=%ld seconds=%.2f rate=%.1f/s p50=%.1fms p99=%.1fms\n", s->completed,
	       s->failed, seconds, rate, p50, p99);
	fflush(stdout);
}

static void print_plan(const struct load_config *cfg)
{
	char first[64], last[64];

	load_devname(cfg, 0, first, sizeof first);
	load_devname(cfg, cfg->count - 1, last, sizeof last);
	printf("load: %s on %s: %ld phones %s..%s, concurrency %d, %d thread%s", load_op_name(cfg->op),
	       cfg->hostport, cfg->count, first, last, cfg->concurrency, cfg->threads, cfg->threads > 1 ? "s" : "");
	if (cfg->op == LOAD_OP_TVS)
		printf(", %d request%s each", cfg->tvs_requests, cfg->tvs_requests > 1 ? "s" : "");
	if (cfg->keygen_delay > 0)
		printf(", key generation %g s", cfg->keygen_delay);
	printf("\n");
	fflush(stdout);
}

static int run_load(struct load_shared *sh)
{
	const struct load_config *cfg = sh->cfg;
	struct load_worker *ws = calloc((size_t)cfg->threads, sizeof *ws);
	struct load_stats all = { 0 };
	double cpu0, seconds;
	int rc = PS_EXIT_LOCAL;

	if (!ws || workers_init(sh, ws, cfg->threads) < 0)
		goto out;
	print_plan(cfg);
	cpu0 = cpu_seconds();
	clock_gettime(CLOCK_MONOTONIC, &sh->t0);
	if (workers_run(ws, cfg->threads) < 0)
		goto out;
	seconds = load_now(sh);
	for (int i = 0; i < cfg->threads; i++)
		load_stats_merge(&all, &ws[i].stats);
	report(sh, &all, seconds, cpu_seconds() - cpu0);
	rc = all.failed == 0 && all.completed == cfg->count * (cfg->op == LOAD_OP_TVS ? cfg->tvs_requests : 1)
		? PS_EXIT_OK : PS_EXIT_SERVER;
out:
	if (ws)
		workers_free(ws, cfg->threads);
	free(ws);
	load_stats_free(&all);
	return rc;
}

static int setup(struct load_args *a, struct load_shared *sh)
{
	char err[ERRLEN];

	if (a->cfg.concurrency > a->cfg.count)
		a->cfg.concurrency = (int)a->cfg.count;
	if (a->cfg.threads > a->cfg.concurrency)
		a->cfg.threads = a->cfg.concurrency;
	if (parse_first(&a->cfg, a->first) < 0 || resolve_target(&a->cfg, a->allow_remote) < 0 || load_files(a) < 0)
		return -1;
	if (evthread_use_pthreads() < 0 || !(sh->ctx = load_client_ctx(a->cfg.tls_max)) ||
	    !(sh->keys = key_pool_new(a->cfg.key_pool))) {
		ps_error("load: cannot set up TLS, threads or the key pool");
		return -1;
	}
	if (a->key_types && key_pool_fill(sh->keys, a->key_types, err, sizeof err) < 0) {
		ps_error("--key-types: %s", err);
		return -1;
	}
	sh->cfg = &a->cfg;
	return 0;
}

/* One event loop per core: a single loop runs out of CPU before a local
 * daemon does. */
static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > LOAD_MAX_THREADS ? LOAD_MAX_THREADS : (int)n;
}

int cmd_load(int argc, char **argv)
{
	struct load_args a = { .cfg = { .concurrency = 100, .threads = default_threads(), .key_pool = 8, .tvs_requests = 1,
					.timeout = LOAD_TIMEOUT_DEFAULT, .max_seconds = LOAD_MAX_SECONDS_DEFAULT,
					.model = "7962", .received_fd = -1 } };
	struct load_shared sh;
	int rc;

	memset(&sh, 0, sizeof sh);
	atomic_init(&sh.next, 0);
	atomic_init(&sh.stop, 0);
	rc = parse_args(&a, argc, argv);
	if (rc != 0)
		return rc > 0 ? PS_EXIT_OK : PS_EXIT_LOCAL;
	signal(SIGPIPE, SIG_IGN);
	rc = setup(&a, &sh) < 0 ? PS_EXIT_LOCAL : run_load(&sh);
	SSL_CTX_free(sh.ctx);
	key_pool_free(sh.keys);
	config_free(&a.cfg);
	return rc;
}
