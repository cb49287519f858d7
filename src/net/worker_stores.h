/*
 * worker_stores.h: one store handle per worker of the daemon, so that each
 * worker's sessions read and write the state without sharing a SQLite
 * connection across threads. Kept apart from workers.c, which the load
 * generator also uses and which knows no database.
 */
#ifndef OPENCAPF_NET_WORKER_STORES_H
#define OPENCAPF_NET_WORKER_STORES_H

#include <stddef.h>

#include "net/workers.h"
#include "store/store.h"

/* Open the state in `state_dir` once per worker (worker->st). 0 or -1. */
int worker_pool_open_stores(struct worker_pool *pool, const char *state_dir, char *err, size_t errlen);
/* Close them (before or after worker_pool_free). */
void worker_pool_close_stores(struct worker_pool *pool);

#endif
