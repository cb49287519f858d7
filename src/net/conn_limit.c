/*
 * conn_limit.c: per-listener connection pools, per-address counts, and the
 * accept-error pause of conn_limit.h.
 *
 * The address table is chained, sized from the listener's cap, and hashed
 * with a per-process random seed so that nobody can choose addresses that
 * all land in one chain. An entry lives while its address has a connection
 * open. Log lines are formatted under the lock and written after it.
 */
#include "net/conn_limit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"

#define LINE_MAX_LEN 400
#define FLUSH_TICK_SECONDS 2

struct addr_entry {
	struct addr_entry *next;
	uint8_t addr[16];
	uint8_t family;
	int count;
};

/* Refusals not logged yet. */
struct refusals {
	unsigned long full, address;
	int64_t since_ms;            /* the first of them */
	int64_t logged_ms;           /* the last line written; 0 none yet */
	char addr[INET6_ADDRSTRLEN]; /* the last address over its limit */
	int other_addrs;             /* and another address since the last line */
};

/* Accept errors not logged yet. */
struct accept_errors {
	unsigned long count;
	int64_t since_ms, logged_ms;
	int last_errno;
};

/* One worker's listener: accept errors pause it (conn_limit.h). */
struct conn_guard {
	struct conn_guard *next_foreign; /* conn_limit_guard's registry */
	struct conn_limit *limit;
	struct evconnlistener *lev;
	struct event *resume;
	evconnlistener_cb cb;
	void *arg;
	int pause_ms;                /* the last pause; 0 after an accepted connection */
};

struct conn_limit {
	char name[32];
	struct listener_limits lim;
	pthread_mutex_t lock;
	int open;
	struct addr_entry **buckets; /* NULL: no per-address limit */
	size_t nbuckets;             /* a power of two */
	uint64_t seed;
	struct refusals ref;
	struct accept_errors acc;
	struct conn_guard *guards;
	int nguards;
	struct conn_guard *foreign;  /* conn_limit_guard's (one listener at most) */
	struct event *flush_timer;
	int draining;
};

/* Guards of listeners whose callback argument is not ours (evhttp's):
 * their error callback finds them by listener. */
static pthread_mutex_t foreign_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn_guard *foreign_guards;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int log_due(int64_t logged_ms, int64_t now)
{
	return logged_ms == 0 || now - logged_ms >= CONN_LIMIT_LOG_SECONDS * 1000;
}

/* " in the last N s" for more than one event. */
static void span_text(char *out, size_t cap, unsigned long n, int64_t since, int64_t now)
{
	int64_t secs = (now - since + 999) / 1000;

	if (n <= 1)
		out[0] = '\0';
	else
		snprintf(out, cap, " in the last %lld s", (long long)(secs < 1 ? 1 : secs));
}

/* ---- the address table ---- */

static void ticket_key(const struct sockaddr *sa, struct conn_ticket *t)
{
	memset(t, 0, sizeof *t);
	if (sa && sa->sa_family == AF_INET) {
		t->family = AF_INET;
		memcpy(t->addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			t->family = AF_INET;
			memcpy(t->addr, a->s6_addr + 12, 4);
		} else {
			t->family = AF_INET6;
			memcpy(t->addr, a->s6_addr, 16);
		}
	}
}

static size_t key_len(uint8_t family)
{
	return family == AF_INET ? 4 : 16;
}

static size_t bucket_of(const struct conn_limit *l, const struct conn_ticket *t)
{
	uint64_t h = l->seed ^ t->family;

	for (size_t i = 0; i < key_len(t->family); i++) {
		h ^= t->addr[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	h ^= h >> 32;
	return (size_t)h & (l->nbuckets - 1);
}

/* The entry of t's address; *link points at the pointer that holds it. */
static struct addr_entry *entry_find(struct conn_limit *l, const struct conn_ticket *t, struct addr_entry ***link)
{
	struct addr_entry **p = &l->buckets[bucket_of(l, t)];

	for (; *p; p = &(*p)->next)
		if ((*p)->family == t->family && memcmp((*p)->addr, t->addr, key_len(t->family)) == 0)
			break;
	*link = p;
	return *p;
}

static void address_text(const struct conn_ticket *t, char *out, size_t cap)
{
	if (!inet_ntop(t->family == AF_INET ? AF_INET : AF_INET6, t->addr, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

static size_t table_size(int max_connections)
{
	size_t want = max_connections > 0 ? (size_t)max_connections / 2 : 1024, n = 64;

	while (n < want && n < 65536)
		n <<= 1;
	return n;
}

/* ---- limits ---- */

/* Out of the registry, and freed. */
static void foreign_forget(struct conn_limit *l)
{
	struct conn_guard **p;

	if (!l->foreign)
		return;
	pthread_mutex_lock(&foreign_lock);
	for (p = &foreign_guards; *p && *p != l->foreign; p = &(*p)->next_foreign)
		;
	if (*p)
		*p = l->foreign->next_foreign;
	pthread_mutex_unlock(&foreign_lock);
	if (l->foreign->resume)
		event_free(l->foreign->resume);
	free(l->foreign);
	l->foreign = NULL;
}

struct conn_limit *conn_limit_new(const char *name, const struct listener_limits *lim)
{
	struct conn_limit *l = calloc(1, sizeof *l);

	if (!l)
		return NULL;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->lim = *lim;
	if (pthread_mutex_init(&l->lock, NULL) != 0) {
		free(l);
		return NULL;
	}
	if (getrandom(&l->seed, sizeof l->seed, 0) != (ssize_t)sizeof l->seed)
		l->seed = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ULL;
	if (lim->max_per_address > 0) {
		l->nbuckets = table_size(lim->max_connections);
		if (!(l->buckets = calloc(l->nbuckets, sizeof *l->buckets))) {
			conn_limit_free(l);
			return NULL;
		}
	}
	return l;
}

void conn_limit_free(struct conn_limit *l)
{
	if (!l)
		return;
	conn_limit_flush(l);
	for (int i = 0; i < l->nguards; i++)
		if (l->guards[i].resume)
			event_free(l->guards[i].resume);
	free(l->guards);
	foreign_forget(l);
	if (l->flush_timer)
		event_free(l->flush_timer);
	for (size_t i = 0; l->buckets && i < l->nbuckets; i++)
		while (l->buckets[i]) {
			struct addr_entry *e = l->buckets[i];

			l->buckets[i] = e->next;
			free(e);
		}
	free(l->buckets);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

/* Under the lock: the refusal line into `line` ("" when none is due). */
static void refusal_line(struct conn_limit *l, int64_t now, char *line, size_t cap)
{
	struct refusals *r = &l->ref;
	unsigned long n = r->full + r->address;
	char span[48], full[64], addr[160];

	line[0] = '\0';
	if (n == 0 || !log_due(r->logged_ms, now))
		return;
	span_text(span, sizeof span, n, r->since_ms, now);
	snprintf(full, sizeof full, "connection cap (%d) reached", l->lim.max_connections);
	snprintf(addr, sizeof addr, "per-address limit %d reached for %s%s", l->lim.max_per_address, r->addr,
		 r->other_addrs ? " and other addresses" : "");
	if (r->full && r->address)
		snprintf(line, cap, "%s: refused %lu connections%s: %s (%lu), %s (%lu)", l->name, n, span, full,
			 r->full, addr, r->address);
	else
		snprintf(line, cap, "%s: refused %lu connection%s%s: %s", l->name, n, n == 1 ? "" : "s", span,
			 r->full ? full : addr);
	r->full = r->address = 0;
	r->other_addrs = 0;
	r->logged_ms = now;
}

static void note_refusal(struct conn_limit *l, enum conn_limit_result why, const struct conn_ticket *t,
			 char *line, size_t cap)
{
	struct refusals *r = &l->ref;
	int64_t now = now_ms();

	if (r->full + r->address == 0)
		r->since_ms = now;
	if (why == CONN_LIMIT_ADDRESS) {
		char text[INET6_ADDRSTRLEN];

		address_text(t, text, sizeof text);
		if (r->address && strcmp(text, r->addr) != 0)
			r->other_addrs = 1;
		snprintf(r->addr, sizeof r->addr, "%s", text);
		r->address++;
	} else
		r->full++;
	refusal_line(l, now, line, cap);
}

/* Under the lock: admit t or say why not. */
static enum conn_limit_result admit(struct conn_limit *l, const struct conn_ticket *t)
{
	struct addr_entry **link, *e = NULL;

	if (l->draining)
		return CONN_LIMIT_DRAINING;
	if (l->buckets && t->family && (e = entry_find(l, t, &link)) && e->count >= l->lim.max_per_address)
		return CONN_LIMIT_ADDRESS;
	if (l->lim.max_connections > 0 && l->open >= l->lim.max_connections)
		return CONN_LIMIT_FULL;
	if (l->buckets && t->family && !e) {
		if (!(e = calloc(1, sizeof *e)))
			return CONN_LIMIT_FULL;
		e->family = t->family;
		memcpy(e->addr, t->addr, sizeof e->addr);
		*link = e;
	}
	if (e)
		e->count++;
	l->open++;
	return CONN_LIMIT_OK;
}

enum conn_limit_result conn_limit_take(struct conn_limit *l, const struct sockaddr *sa, struct conn_ticket *t)
{
	enum conn_limit_result rc;
	char line[LINE_MAX_LEN] = "";

	ticket_key(sa, t);
	pthread_mutex_lock(&l->lock);
	rc = admit(l, t);
	if (rc == CONN_LIMIT_OK)
		t->held = 1;
	else if (rc != CONN_LIMIT_DRAINING)
		note_refusal(l, rc, t, line, sizeof line);
	pthread_mutex_unlock(&l->lock);
	if (line[0])
		log_warn("%s", line);
	return rc;
}

void conn_limit_drain(struct conn_limit *l)
{
	pthread_mutex_lock(&l->lock);
	l->draining = 1;
	pthread_mutex_unlock(&l->lock);
}

int conn_limit_open_count(struct conn_limit *l)
{
	int n;

	pthread_mutex_lock(&l->lock);
	n = l->open;
	pthread_mutex_unlock(&l->lock);
	return n;
}

void conn_limit_release(struct conn_limit *l, struct conn_ticket *t)
{
	struct addr_entry **link, *e;

	if (!t->held)
		return;
	pthread_mutex_lock(&l->lock);
	l->open--;
	if (l->buckets && t->family && (e = entry_find(l, t, &link)) && --e->count <= 0) {
		*link = e->next;
		free(e);
	}
	pthread_mutex_unlock(&l->lock);
	memset(t, 0, sizeof *t);
}

int conn_limit_open(struct conn_limit *l, const struct sockaddr *sa)
{
	struct conn_ticket t;
	struct addr_entry **link, *e;
	int n;

	ticket_key(sa, &t);
	pthread_mutex_lock(&l->lock);
	if (!sa)
		n = l->open;
	else
		n = l->buckets && t.family && (e = entry_find(l, &t, &link)) ? e->count : 0;
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* ---- accept errors ---- */

/* Under the lock: the accept-error line into `line` ("" when none is due). */
static void accept_error_line(struct conn_limit *l, int64_t now, char *line, size_t cap)
{
	struct accept_errors *a = &l->acc;
	char span[48];

	line[0] = '\0';
	if (a->count == 0 || !log_due(a->logged_ms, now))
		return;
	span_text(span, sizeof span, a->count, a->since_ms, now);
	snprintf(line, cap, "%s: accept failed %lu time%s%s: %s; the listener pauses %d-%d ms before trying again",
		 l->name, a->count, a->count == 1 ? "" : "s", span, strerror(a->last_errno), CONN_LIMIT_PAUSE_MIN_MS,
		 CONN_LIMIT_PAUSE_MAX_MS);
	a->count = 0;
	a->logged_ms = now;
}

static void note_accept_error(struct conn_limit *l, int e)
{
	char line[LINE_MAX_LEN];
	int64_t now = now_ms();

	pthread_mutex_lock(&l->lock);
	if (l->acc.count++ == 0)
		l->acc.since_ms = now;
	l->acc.last_errno = e;
	accept_error_line(l, now, line, sizeof line);
	pthread_mutex_unlock(&l->lock);
	if (line[0])
		log_warn("%s", line);
}

void conn_limit_flush(struct conn_limit *l)
{
	char refused[LINE_MAX_LEN], failed[LINE_MAX_LEN];
	int64_t now = now_ms();

	pthread_mutex_lock(&l->lock);
	refusal_line(l, now, refused, sizeof refused);
	accept_error_line(l, now, failed, sizeof failed);
	pthread_mutex_unlock(&l->lock);
	if (refused[0])
		log_warn("%s", refused);
	if (failed[0])
		log_warn("%s", failed);
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_limit_flush(arg);
}

/* ---- guarded listeners ---- */

static void guard_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct conn_guard *g = arg;

	g->pause_ms = 0;
	g->cb(lev, fd, sa, salen, g->arg);
}

static void guard_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conn_guard *g = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(g->lev);
}

/* accept() failed with `e`, something other than "try again": pause, then retry. */
static void guard_pause(struct conn_guard *g, struct evconnlistener *lev, int e)
{
	struct timeval tv;

	evconnlistener_disable(lev);
	g->pause_ms = g->pause_ms ? g->pause_ms * 2 : CONN_LIMIT_PAUSE_MIN_MS;
	if (g->pause_ms > CONN_LIMIT_PAUSE_MAX_MS)
		g->pause_ms = CONN_LIMIT_PAUSE_MAX_MS;
	tv.tv_sec = g->pause_ms / 1000;
	tv.tv_usec = (g->pause_ms % 1000) * 1000;
	evtimer_add(g->resume, &tv);
	note_accept_error(g->limit, e);
}

static void guard_error(struct evconnlistener *lev, void *arg)
{
	guard_pause(arg, lev, EVUTIL_SOCKET_ERROR());
}

static void foreign_error(struct evconnlistener *lev, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();
	struct conn_guard *g;

	(void)arg;
	pthread_mutex_lock(&foreign_lock);
	for (g = foreign_guards; g && g->lev != lev; g = g->next_foreign)
		;
	pthread_mutex_unlock(&foreign_lock);
	if (g)
		guard_pause(g, lev, e);
	else
		evconnlistener_disable(lev); /* cannot happen: never spin */
}

static int start_flush_timer(struct conn_limit *l, struct event_base *base)
{
	struct timeval tick = { FLUSH_TICK_SECONDS, 0 };

	if (l->flush_timer)
		return 0;
	l->flush_timer = event_new(base, -1, EV_PERSIST, flush_cb, l);
	return l->flush_timer && event_add(l->flush_timer, &tick) == 0 ? 0 : -1;
}

int conn_limit_guard(struct conn_limit *l, struct evconnlistener *lev)
{
	struct event_base *base = evconnlistener_get_base(lev);
	struct conn_guard *g;

	if (l->foreign || !(g = calloc(1, sizeof *g)))
		return -1;
	*g = (struct conn_guard){ .limit = l, .lev = lev };
	l->foreign = g;
	if (!(g->resume = evtimer_new(base, guard_resume, g)) || start_flush_timer(l, base) < 0)
		return -1;
	pthread_mutex_lock(&foreign_lock);
	g->next_foreign = foreign_guards;
	foreign_guards = g;
	pthread_mutex_unlock(&foreign_lock);
	evconnlistener_set_error_cb(lev, foreign_error);
	return 0;
}

static int guards_init(struct conn_limit *l, struct worker_pool *pool, evconnlistener_cb cb, void *args,
		       size_t arg_size)
{
	if (!(l->guards = calloc((size_t)pool->count, sizeof *l->guards)))
		return -1;
	l->nguards = pool->count;
	for (int i = 0; i < pool->count; i++) {
		struct conn_guard *g = &l->guards[i];

		*g = (struct conn_guard){ .limit = l, .cb = cb, .arg = (char *)args + (size_t)i * arg_size };
		if (!(g->resume = evtimer_new(pool->workers[i].base, guard_resume, g)))
			return -1;
	}
	return 0;
}

int conn_limit_listen(struct conn_limit *l, struct worker_pool *pool, struct evconnlistener **listeners,
		      evconnlistener_cb cb, void *args, size_t arg_size, const struct sockaddr *sa, socklen_t salen,
		      const char *addr, char *err, size_t errlen)
{
	if (guards_init(l, pool, cb, args, arg_size) < 0) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	if (worker_pool_listen(pool, listeners, guard_accept, l->guards, sizeof *l->guards, sa, salen, addr, err,
			       errlen) < 0)
		return -1;
	for (int i = 0; i < pool->count; i++) {
		l->guards[i].lev = listeners[i];
		evconnlistener_set_error_cb(listeners[i], guard_error);
	}
	if (start_flush_timer(l, pool->workers[0].base) < 0) {
		seterr(err, errlen, "cannot start the %s listener's log timer", l->name);
		return -1;
	}
	return 0;
}
