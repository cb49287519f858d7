/*
 * workers.c: starting, running and stopping the worker event loops.
 * No database here (the load generator uses the same loops): the daemon
 * gives each worker its store handle (worker_stores.c).
 */
#include "net/workers.h"

#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

int worker_pool_init(struct worker_pool *pool, int count, int max_connections, char *err, size_t errlen)
{
	memset(pool, 0, sizeof *pool);
	if (evthread_use_pthreads() < 0) {
		seterr(err, errlen, "libevent has no thread support");
		return -1;
	}
	pool->workers = calloc((size_t)count, sizeof *pool->workers);
	if (!pool->workers) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	pool->count = count;
	pool->max_connections = max_connections;
	atomic_init(&pool->open_connections, 0);
	for (int i = 0; i < count; i++) {
		struct worker *w = &pool->workers[i];
		w->index = i;
		if (!(w->base = worker_event_base_new())) {
			seterr(err, errlen, "cannot create an event loop");
			return -1;
		}
	}
	return 0;
}

struct event_base *worker_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int worker_pool_run(struct worker_pool *pool, char *err, size_t errlen)
{
	for (int i = 0; i < pool->count; i++)
		if (pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) != 0) {
			seterr(err, errlen, "cannot start worker thread %d", i);
			return -1;
		}
	return 0;
}

void worker_pool_stop(struct worker_pool *pool)
{
	for (int i = 0; i < pool->count; i++)
		if (pool->workers[i].base)
			event_base_loopbreak(pool->workers[i].base);
	for (int i = 0; i < pool->count; i++)
		if (pool->workers[i].thread)
			pthread_join(pool->workers[i].thread, NULL);
}

void worker_pool_free(struct worker_pool *pool)
{
	for (int i = 0; i < pool->count; i++) {
		struct worker *w = &pool->workers[i];
		if (w->base)
			event_base_free(w->base);
	}
	free(pool->workers);
	memset(pool, 0, sizeof *pool);
}

int worker_pool_take_slot(struct worker_pool *pool)
{
	int now = atomic_fetch_add(&pool->open_connections, 1);

	if (pool->max_connections > 0 && now >= pool->max_connections) {
		atomic_fetch_sub(&pool->open_connections, 1);
		return -1;
	}
	return 0;
}

void worker_pool_release_slot(struct worker_pool *pool)
{
	atomic_fetch_sub(&pool->open_connections, 1);
}

int worker_pool_listen(struct worker_pool *pool, struct evconnlistener **listeners, evconnlistener_cb cb,
		       void *args, size_t arg_size, const struct sockaddr *sa, socklen_t salen, const char *addr,
		       char *err, size_t errlen)
{
	for (int i = 0; i < pool->count; i++) {
		listeners[i] = evconnlistener_new_bind(pool->workers[i].base, cb, (char *)args + (size_t)i * arg_size,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_EXEC,
			1024, sa, (int)salen);
		if (!listeners[i]) {
			seterr(err, errlen, "cannot listen on %s: %s", addr,
			       evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			return -1;
		}
	}
	return 0;
}
