/*
 * worker_stores.c: a store handle per worker (worker_stores.h).
 */
#include "net/worker_stores.h"

int worker_pool_open_stores(struct worker_pool *pool, const char *state_dir, char *err, size_t errlen)
{
	for (int i = 0; i < pool->count; i++)
		if (store_open(state_dir, STORE_OPEN_EXISTING, &pool->workers[i].st, err, errlen) < 0)
			return -1;
	return 0;
}

void worker_pool_close_stores(struct worker_pool *pool)
{
	for (int i = 0; i < pool->count; i++) {
		store_close(pool->workers[i].st);
		pool->workers[i].st = NULL;
	}
}
