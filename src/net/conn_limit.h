/*
 * conn_limit.h: what one listener admits, and how it behaves when the
 * process runs out of descriptors. Exhaustion must degrade service, never
 * spin the daemon or grow its log without bound.
 *
 * Each listener (CAPF, TVS, registration) has a pool of its own: a cap on
 * its open connections, and a count of open connections per source address
 * (IPv4 or IPv6 address, port ignored; an IPv4-mapped IPv6 address counts
 * as the IPv4 one) in a small hash table under a mutex, shared by the
 * listener's workers. So idle sockets from one address can neither starve
 * the phones of other addresses nor the other services. Refusals are
 * logged at most once per CONN_LIMIT_LOG_SECONDS per listener, with a count
 * ("refused 123 connections in the last 10 s: per-address limit 64 reached
 * for 127.0.0.5"), never once per connection.
 *
 * conn_limit_listen opens the listener on every worker and guards each one
 * against accept errors (EMFILE, ENFILE, ENOBUFS, ENOMEM, ...): instead of
 * libevent's retry without pause, the listener is disabled and enabled
 * again after CONN_LIMIT_PAUSE_MIN_MS, doubling up to CONN_LIMIT_PAUSE_MAX_MS
 * while accept keeps failing, back to the minimum after a connection is
 * accepted. Accept errors are logged like refusals: once per interval, with
 * a count. conn_limit_guard does the same for a listener evhttp owns (the
 * HTTP API): libevent 2.1's evhttp has no connection cap, so the API gets
 * only the pause, and a limit without caps for its log lines.
 */
#ifndef OPENCAPF_NET_CONN_LIMIT_H
#define OPENCAPF_NET_CONN_LIMIT_H

#include <event2/listener.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/workers.h"

#define CONN_LIMIT_LOG_SECONDS 10
#define CONN_LIMIT_PAUSE_MIN_MS 100
#define CONN_LIMIT_PAUSE_MAX_MS 1000
#define CONN_LIMIT_PER_ADDRESS_DEFAULT 64
#define CONN_LIMIT_HANDSHAKE_TIMEOUT_DEFAULT 10

/* A listener's limits, from the configuration. */
struct listener_limits {
	int max_connections;         /* this listener's cap; 0 = none */
	int max_per_address;         /* open connections from one address; 0 = no limit */
	int handshake_timeout;       /* seconds for the TLS handshake; 0 = the default */
};

enum conn_limit_result {
	CONN_LIMIT_OK = 0,
	CONN_LIMIT_FULL,             /* the listener's cap is reached */
	CONN_LIMIT_ADDRESS,          /* this address holds max_per_address connections */
	CONN_LIMIT_DRAINING,         /* the daemon is stopping: no new connection */
};

/* What an admitted connection holds; conn_limit_release gives it back. */
struct conn_ticket {
	uint8_t addr[16];            /* IPv4: the first 4 bytes */
	uint8_t family;              /* AF_INET, AF_INET6, or 0: no address counted */
	uint8_t held;                /* a slot is held */
};

struct conn_limit;

/* `name` ("capf") prefixes the log lines. NULL when out of memory. */
struct conn_limit *conn_limit_new(const char *name, const struct listener_limits *lim);
/* From now on every new connection is refused (CONN_LIMIT_DRAINING, not
 * logged): the daemon is stopping and lets the open ones finish. */
void conn_limit_drain(struct conn_limit *l);
/* Connections open now. */
int conn_limit_open_count(struct conn_limit *l);

/* After the listeners opened with conn_limit_listen are freed (and the workers stopped). */
void conn_limit_free(struct conn_limit *l);

/* A slot for a connection from `sa` (any thread): CONN_LIMIT_OK and *t
 * filled, or the reason of the refusal (counted for the log). */
enum conn_limit_result conn_limit_take(struct conn_limit *l, const struct sockaddr *sa, struct conn_ticket *t);
/* Give the slot back (a ticket holding nothing is fine; the ticket is cleared). */
void conn_limit_release(struct conn_limit *l, struct conn_ticket *t);
/* Open connections now: all, or from the address of `sa`. */
int conn_limit_open(struct conn_limit *l, const struct sockaddr *sa);

/* Write the refusal and accept-error lines that are due (the timer of
 * conn_limit_listen calls it; exposed for tests). */
void conn_limit_flush(struct conn_limit *l);

/* worker_pool_listen, with every listener guarded against accept errors as
 * described above (the pause timers live on each worker's loop, the log
 * timer on worker 0's). cb gets args[i] on worker i as before. */
int conn_limit_listen(struct conn_limit *l, struct worker_pool *pool, struct evconnlistener **listeners,
		      evconnlistener_cb cb, void *args, size_t arg_size, const struct sockaddr *sa, socklen_t salen,
		      const char *addr, char *err, size_t errlen);

/* The same guard for a listener that belongs to someone else (evhttp, which
 * replaces the listener's callback and argument): accept errors on `lev`
 * pause it and are logged under l's name. Its timers live on lev's loop.
 * conn_limit_free(l) after the listener is freed. 0 or -1 (out of memory). */
int conn_limit_guard(struct conn_limit *l, struct evconnlistener *lev);

#endif
