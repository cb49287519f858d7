/*
 * load_stats.c: what `phonesim load` counts: completed and failed sessions,
 * one latency per completed session (or TVS request), and the failures by
 * kind with the first full text of each, so a report can say why without
 * printing thousands of lines.
 *
 * Each worker thread has its own load_stats; the report merges them after
 * the threads have ended, so nothing here locks.
 */
#include "cmd/phonesim/load.h"

#include <stdlib.h>
#include <string.h>

static int lat_push(struct load_stats *s, double ms)
{
	if (s->nlat == s->latcap) {
		size_t cap = s->latcap ? s->latcap * 2 : 1024;
		float *p = realloc(s->lat_ms, cap * sizeof *p);
		if (!p)
			return -1;
		s->lat_ms = p;
		s->latcap = cap;
	}
	s->lat_ms[s->nlat++] = (float)ms;
	return 0;
}

void load_stats_ok(struct load_stats *s, double latency_ms, double now)
{
	s->completed++;
	s->last_done = now;
	lat_push(s, latency_ms);
}

static void fail_add(struct load_stats *s, const char *kind, const char *example, long n)
{
	int i;

	for (i = 0; i < LOAD_FAIL_KINDS && s->fails[i].n; i++)
		if (strcmp(s->fails[i].kind, kind) == 0) {
			s->fails[i].n += n;
			return;
		}
	if (i == LOAD_FAIL_KINDS) {
		s->fails_other += n;
		return;
	}
	snprintf(s->fails[i].kind, sizeof s->fails[i].kind, "%s", kind);
	snprintf(s->fails[i].example, sizeof s->fails[i].example, "%s", example ? example : "");
	s->fails[i].n = n;
}

void load_stats_fail(struct load_stats *s, const char *kind, const char *example, double now)
{
	s->failed++;
	s->last_done = now;
	fail_add(s, kind, example, 1);
}

int load_stats_merge(struct load_stats *a, const struct load_stats *b)
{
	a->completed += b->completed;
	a->failed += b->failed;
	a->resumed += b->resumed;
	a->failovers += b->failovers;
	a->tvs_valid += b->tvs_valid;
	a->tvs_invalid += b->tvs_invalid;
	a->fails_other += b->fails_other;
	if (b->last_done > a->last_done)
		a->last_done = b->last_done;
	for (int i = 0; i < LOAD_FAIL_KINDS && b->fails[i].n; i++)
		fail_add(a, b->fails[i].kind, b->fails[i].example, b->fails[i].n);
	for (size_t i = 0; i < b->nlat; i++)
		if (lat_push(a, b->lat_ms[i]) < 0)
			return -1;
	return 0;
}

void load_stats_free(struct load_stats *s)
{
	free(s->lat_ms);
	memset(s, 0, sizeof *s);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

double load_stats_percentile(struct load_stats *s, double p)
{
	size_t rank;

	if (s->nlat == 0)
		return 0;
	qsort(s->lat_ms, s->nlat, sizeof *s->lat_ms, cmp_float);
	rank = (size_t)(p / 100.0 * (double)s->nlat + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->nlat)
		rank = s->nlat;
	return s->lat_ms[rank - 1];
}

double load_stats_max(const struct load_stats *s)
{
	float m = 0;

	for (size_t i = 0; i < s->nlat; i++)
		if (s->lat_ms[i] > m)
			m = s->lat_ms[i];
	return m;
}
