/*
 * session_claims.c: a set of device names under one mutex (session_claims.h).
 *
 * A chained hash table with a fixed number of buckets: a daemon holds at
 * most its connection cap of sessions, so chains stay short without
 * resizing, and a lookup is a hash and a few string compares.
 */
#include "capf/session_claims.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct claim_entry {
	struct claim_entry *next;
	char device[];
};

struct session_claims {
	pthread_mutex_t lock;
	long count;
	struct claim_entry *bucket[BUCKETS];
};

static unsigned bucket_of(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

struct session_claims *session_claims_new(void)
{
	struct session_claims *c = calloc(1, sizeof *c);

	if (c && pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c);
		return NULL;
	}
	return c;
}

void session_claims_free(struct session_claims *c)
{
	if (!c)
		return;
	for (int i = 0; i < BUCKETS; i++)
		while (c->bucket[i]) {
			struct claim_entry *e = c->bucket[i];
			c->bucket[i] = e->next;
			free(e);
		}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int session_claims_take(struct session_claims *c, const char *device)
{
	unsigned b = bucket_of(device);
	size_t len = strlen(device);
	struct claim_entry *e;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	for (e = c->bucket[b]; e; e = e->next)
		if (strcmp(e->device, device) == 0)
			break;
	if (e)
		rc = 1;
	else if (!(e = malloc(sizeof *e + len + 1)))
		rc = -1;
	else {
		memcpy(e->device, device, len + 1);
		e->next = c->bucket[b];
		c->bucket[b] = e;
		c->count++;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void session_claims_drop(struct session_claims *c, const char *device)
{
	struct claim_entry **p;

	pthread_mutex_lock(&c->lock);
	for (p = &c->bucket[bucket_of(device)]; *p; p = &(*p)->next)
		if (strcmp((*p)->device, device) == 0) {
			struct claim_entry *e = *p;
			*p = e->next;
			free(e);
			c->count--;
			break;
		}
	pthread_mutex_unlock(&c->lock);
}

long session_claims_count(struct session_claims *c)
{
	long n;

	pthread_mutex_lock(&c->lock);
	n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}
