/*
 * load.h: the pieces of `phonesim load`, the load generator (cmd_load.c).
 *
 * One process drives many emulated phones at once: a few threads, each with
 * its own libevent loop, each keeping its share of the --concurrency
 * sessions in flight over non-blocking OpenSSL connections
 * (bufferevent_openssl). The phone side of CAPF is the same state machine the
 * one-phone `phonesim capf` uses (src/capf/phone_session.h), so the load
 * speaks exactly the protocol document; the TVS side uses src/tvs/tvs_client.h.
 * Keys come from a pool generated once per (kind, bits), so the client's key
 * generation never limits what is measured.
 *
 *   cmd_load.c      options, the run (threads, deadline), the report
 *   load_conn.c     one emulated phone's connection (CAPF session or TVS requests)
 *   load_keypool.c  the pool of pre-generated phone keys
 *   load_stats.c    counters, latencies, failure reasons, percentiles
 *   load_received.c --received: the record of every LSC the phones received
 *   cmd_load_limit.c `phonesim load-limit`: the server's signing and handshake cost
 *   cmd_load_ceiling.c `phonesim load-ceiling`: a stateless CAPF server doing only that work
 *
 * Invariants: a worker's connections, counters and latencies belong to its
 * thread alone; only the next-device counter, the stop flag and the key pool
 * are shared (atomics and a mutex). Nothing is sent to a server before its
 * certificate passed the --trust check.
 */
#ifndef OPENCAPF_PHONESIM_LOAD_H
#define OPENCAPF_PHONESIM_LOAD_H

#include <event2/event.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cmd/phonesim/phonesim.h"
#include "pki/pki.h"

/* What each emulated phone expects the server to do. */
enum load_op {
	LOAD_OP_INSTALL = 0,   /* an LSC installed (END_SESSION reason 1) */
	LOAD_OP_TROUBLESHOOT,  /* the phone's certificate fetched (reason 0) */
	LOAD_OP_DELETE,        /* the LSC deleted (reason 1) */
	LOAD_OP_ANY,           /* whatever the server asks, including nothing */
	LOAD_OP_TVS,           /* TVS VERIFY_REQUEST / VERIFY_RESPONSE */
};
const char *load_op_name(enum load_op op);

enum load_expect { LOAD_EXPECT_ANY = 0, LOAD_EXPECT_VALID, LOAD_EXPECT_INVALID };

#define LOAD_MAX_SERVERS 8

struct load_config {
	const char *hostport;           /* --capf or --tvs: HOST:PORT[,HOST:PORT...] */
	struct sockaddr_storage addr;   /* resolved once (the first server) */
	socklen_t addrlen;
	/* Every server, in order: phone i starts with server i mod nservers and
	 * moves to the next when it cannot finish its session there. */
	struct sockaddr_storage servers[LOAD_MAX_SERVERS];
	socklen_t server_lens[LOAD_MAX_SERVERS];
	int nservers;
	STACK_OF(X509) *trusted;        /* --trust */
	char prefix[16];                /* device names: prefix + `width` hex digits */
	int width;
	uint64_t first;
	long count;
	int concurrency, threads, key_pool;
	double max_seconds, timeout, keygen_delay;
	double ramp;                    /* new sessions per second at most (0: no limit) */
	enum load_op op;
	enum tls_max tls_max;
	int resume;
	const char *auth_string;
	X509 *lsc;                      /* --lsc: the LSC every phone holds, or NULL */
	EVP_PKEY *lsc_key;
	/* TVS */
	uint8_t *tvs_der;               /* the certificate each request asks about */
	size_t tvs_derlen;
	int tvs_requests;               /* per connection */
	enum load_expect tvs_expect;
	const char *model;
	int received_fd;                /* --received: O_APPEND file of LSCs received, or -1 */
};

/* 127.0.0.0/8, ::1 or a v4-mapped 127.x address: where load traffic may go. */
int load_is_loopback(const struct sockaddr *sa);

/* ---- the key pool (load_keypool.c) ---- */

struct key_pool;
struct key_pool *key_pool_new(int per_type);
void key_pool_free(struct key_pool *kp);
/* Fill the pool for each "rsa:2048,ec:p256"-style spec now. */
int key_pool_fill(struct key_pool *kp, const char *specs, char *err, size_t errlen);
/* A new reference to a pool key of that kind and size; the first `per_type`
 * requests of a kind generate a key each (timed: see key_pool_lazy). */
EVP_PKEY *key_pool_get(struct key_pool *kp, enum pki_key_kind kind, int bits, char *err, size_t errlen);
/* Keys generated on demand during the run and the seconds that took. */
void key_pool_lazy(struct key_pool *kp, int *keys, double *seconds);
/* "rsa 2048 x8, ec 256 x8" */
void key_pool_describe(struct key_pool *kp, char *out, size_t outcap);

/* ---- counters (load_stats.c) ---- */

#define LOAD_FAIL_KINDS 12

struct load_stats {
	long completed, failed;
	long resumed;                   /* TLS handshakes that resumed a session */
	long failovers;                 /* sessions moved to the next server */
	long tvs_valid, tvs_invalid;
	float *lat_ms;                  /* one per completed session or request */
	size_t nlat, latcap;
	double last_done;               /* seconds since the start */
	struct { char kind[48]; char example[200]; long n; } fails[LOAD_FAIL_KINDS];
	long fails_other;
};
void load_stats_ok(struct load_stats *s, double latency_ms, double now);
/* kind: a short category ("timeout", "server reason 7"); example: one full text. */
void load_stats_fail(struct load_stats *s, const char *kind, const char *example, double now);
/* Add b into a (b is left alone). */
int load_stats_merge(struct load_stats *a, const struct load_stats *b);
void load_stats_free(struct load_stats *s);
/* Nearest-rank percentile of the latencies (sorts them); 0 with none. */
double load_stats_percentile(struct load_stats *s, double p);
double load_stats_max(const struct load_stats *s);

/* ---- the run ---- */

struct load_shared {
	const struct load_config *cfg;
	SSL_CTX *ctx;
	struct key_pool *keys;
	atomic_long next;               /* next device index to start */
	atomic_int stop;                /* --max-seconds reached */
	struct timespec t0;
};

struct load_conn;

struct load_worker {
	struct load_shared *sh;
	struct event_base *base;
	struct event *fill;             /* starts sessions up to `target` */
	struct event *ramp;             /* --ramp: the next start is due later */
	long started;
	struct event *deadline;         /* --max-seconds */
	pthread_t thread;
	int index;
	int target, active;
	int done_starting;
	struct load_conn *conns;        /* in flight */
	SSL_SESSION *resume;            /* for --resume */
	struct load_stats stats;
};

/* The phones' TLS context: no client certificate, no OpenSSL verification
 * (the server is checked against --trust per connection), idle buffers
 * released; --tls-max 1.0 behaves like an old phone. NULL on failure. */
SSL_CTX *load_client_ctx(enum tls_max max);
/* Seconds since sh->t0. */
double load_now(const struct load_shared *sh);
/* Start the session of device `index` (0-based from --first): 0, or -1 with
 * the failure already counted. */
int load_conn_start(struct load_worker *w, long index);
/* Abort every session in flight (deadline reached). */
void load_conn_abort_all(struct load_worker *w, const char *why);
/* A session ended: ask the worker's loop to start the next ones. */
void load_worker_refill(struct load_worker *w);
/* --received: one line "<device> <sha256 hex of the DER> <serial hex>" per
 * LSC a phone receives in STORE_CERTIFICATE_REQUEST, written with one
 * write(2) on the O_APPEND descriptor before the phone answers. 0 when the
 * message carried no certificate to record or the line was written, -1 (err)
 * when the write failed. */
int load_record_received(int fd, const char *devname, const uint8_t *msg, size_t len, char *err, size_t errlen);
/* "SEP0011223344AB" for an index. */
void load_devname(const struct load_config *cfg, long index, char *out, size_t outcap);

#endif
