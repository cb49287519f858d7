/*
 * workers.h: the daemon's worker threads. Each worker is one event loop on
 * one thread with its own store handle; listeners are opened once per worker
 * with SO_REUSEPORT so the kernel spreads connections (and so TLS handshakes
 * and LSC signing) over every core, and a slow phone only ever occupies a
 * socket, never a thread.
 */
#ifndef OPENCAPF_NET_WORKERS_H
#define OPENCAPF_NET_WORKERS_H

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdatomic.h>

struct store;

struct worker {
	int index;
	pthread_t thread;
	struct event_base *base;
	struct store *st;            /* the daemon's: worker_pool_open_stores (worker_stores.h) */
};

struct worker_pool {
	int count;
	struct worker *workers;
	atomic_int open_connections;   /* across all workers and listeners */
	int max_connections;
};

/* A new event loop for a worker thread (daemon or load generator): epoll
 * with its change list, so that a write interest enabled and dropped again
 * in one loop turn (every TLS record sent whole) costs no epoll_ctl. */
struct event_base *worker_event_base_new(void);

/* Event bases for `count` workers (threads not started). */
int worker_pool_init(struct worker_pool *pool, int count, int max_connections, char *err, size_t errlen);
int worker_pool_run(struct worker_pool *pool, char *err, size_t errlen);
/* Ask every loop to stop and join the threads. */
void worker_pool_stop(struct worker_pool *pool);
void worker_pool_free(struct worker_pool *pool);

/* One listener per worker on the same address (SO_REUSEPORT), accepting
 * into cb with args[i] for worker i (args: an array of arg_size-byte
 * elements). listeners: pool->count slots. `addr` names the address in the
 * error sentence. 0 or -1. */
int worker_pool_listen(struct worker_pool *pool, struct evconnlistener **listeners, evconnlistener_cb cb,
		       void *args, size_t arg_size, const struct sockaddr *sa, socklen_t salen, const char *addr,
		       char *err, size_t errlen);

/* Connection slots: 0 and one taken, or -1 when the cap is reached. */
int worker_pool_take_slot(struct worker_pool *pool);
void worker_pool_release_slot(struct worker_pool *pool);

#endif
