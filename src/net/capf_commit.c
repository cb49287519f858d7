/*
 * capf_commit.c: the committer thread of capf_commit.h: deliveries and
 * installs queued by the workers, recorded a batch per transaction, results
 * handed back to each worker's loop after COMMIT.
 */
#include "net/capf_commit.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define BATCH_MAX 1024
#define PORTS_MAX 64         /* workers whose wake-up is batched */

struct capf_committer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct capf_commit_job *head, *tail;
	int stopping;
	struct store *st;
	long installs, batches;
};

/* ---- ports: results back to a worker's loop ---- */

static void port_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capf_commit_port *p = arg;
	struct capf_commit_job *job;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->lock);
	job = p->head;
	p->head = p->tail = NULL;
	pthread_mutex_unlock(&p->lock);
	while (job) {
		struct capf_commit_job *next = job->next;
		job->next = NULL;
		p->done(job);       /* may free the job */
		job = next;
	}
}

int capf_commit_port_init(struct capf_commit_port *p, struct event_base *base, capf_commit_done_fn done)
{
	memset(p, 0, sizeof *p);
	p->done = done;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return -1;
	p->ev = event_new(base, -1, 0, port_cb, p);
	return p->ev ? 0 : -1;
}

void capf_commit_port_free(struct capf_commit_port *p)
{
	if (!p->ev)
		return;
	event_free(p->ev);
	p->ev = NULL;
	pthread_mutex_destroy(&p->lock);
}

/* Queue the job at its port; the caller wakes the port's loop. */
static void port_queue(struct capf_commit_job *job)
{
	struct capf_commit_port *p = job->port;

	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	pthread_mutex_unlock(&p->lock);
}

/* Hand a recorded batch back: every job to its port, then one wake-up per
 * port (a wake-up per job cost each worker a futex and an eventfd write). */
static void deliver_batch(struct capf_commit_job *batch)
{
	struct capf_commit_port *woken[PORTS_MAX];
	int n = 0;

	while (batch) {
		struct capf_commit_job *next = batch->next;
		struct capf_commit_port *p = batch->port;
		int i;

		port_queue(batch);
		for (i = 0; i < n && woken[i] != p; i++)
			;
		if (i == n && n < PORTS_MAX)
			woken[n++] = p;
		else if (i == n)
			event_active(p->ev, EV_TIMEOUT, 0);   /* more ports than slots: wake at once */
		batch = next;
	}
	for (int i = 0; i < n; i++)
		event_active(woken[i]->ev, EV_TIMEOUT, 0);
}

/* ---- the committer ---- */

void capf_commit_submit(struct capf_committer *c, struct capf_commit_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&c->lock);
	if (c->tail)
		c->tail->next = job;
	else
		c->head = job;
	c->tail = job;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
}

/* Up to BATCH_MAX queued jobs, waiting for one; NULL when stopping with none. */
static struct capf_commit_job *take_batch(struct capf_committer *c)
{
	struct capf_commit_job *batch, *last;
	int n = 1;

	pthread_mutex_lock(&c->lock);
	while (!c->head && !c->stopping)
		pthread_cond_wait(&c->wake, &c->lock);
	batch = last = c->head;
	while (last && last->next && n < BATCH_MAX) {
		last = last->next;
		n++;
	}
	if (last) {
		c->head = last->next;
		if (!c->head)
			c->tail = NULL;
		last->next = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	return batch;
}

static void fail_all(struct capf_commit_job *batch, const char *why)
{
	for (struct capf_commit_job *j = batch; j; j = j->next)
		if (j->rc == 0) {
			j->rc = -1;
			seterr(j->err, sizeof j->err, "%s", why);
		}
}

static int record_job(struct store *st, const struct capf_commit_job *j)
{
	if (j->kind == CAPF_COMMIT_DELIVER)
		return store_capf_lsc_delivered(st, j->device, j->der, j->len, j->capf_sha256, &j->h);
	return store_capf_complete_install(st, j->device, j->der, j->len, j->capf_sha256, &j->h);
}

/* One transaction for the batch; each record in its own savepoint. */
static void record_batch(struct capf_committer *c, struct capf_commit_job *batch)
{
	long n = 0, ok = 0;

	for (struct capf_commit_job *j = batch; j; j = j->next)
		j->rc = 0;
	if (store_begin(c->st) < 0) {
		fail_all(batch, store_errmsg(c->st));
		return;
	}
	for (struct capf_commit_job *j = batch; j; j = j->next, n++) {
		if (record_job(c->st, j) == 0) {
			ok += j->kind == CAPF_COMMIT_CONFIRM;
			continue;
		}
		j->rc = -1;
		seterr(j->err, sizeof j->err, "%s", store_errmsg(c->st));
	}
	if (store_commit(c->st) < 0) {
		log_err("capf: cannot commit %ld LSC records: %s", n, store_errmsg(c->st));
		fail_all(batch, store_errmsg(c->st));
		store_rollback(c->st);
		return;
	}
	pthread_mutex_lock(&c->lock);
	c->batches++;
	c->installs += ok;
	pthread_mutex_unlock(&c->lock);
}

static void *committer_main(void *arg)
{
	struct capf_committer *c = arg;
	struct capf_commit_job *batch;

	while ((batch = take_batch(c)) != NULL) {
		record_batch(c, batch);
		deliver_batch(batch);
	}
	return NULL;
}

int capf_committer_start(struct capf_committer **out, const char *state_dir, char *err, size_t errlen)
{
	struct capf_committer *c = calloc(1, sizeof *c);

	*out = NULL;
	if (!c) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->wake, NULL);
	if (store_open(state_dir, STORE_OPEN_EXISTING, &c->st, err, errlen) < 0)
		goto fail;
	if (pthread_create(&c->thread, NULL, committer_main, c) != 0) {
		seterr(err, errlen, "cannot start the committer thread");
		goto fail;
	}
	*out = c;
	return 0;
fail:
	store_close(c->st);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return -1;
}

void capf_committer_stop(struct capf_committer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	log_info("capf: %ld installs recorded in %ld transactions", c->installs, c->batches);
	store_close(c->st);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void capf_committer_counts(struct capf_committer *c, long *installs, long *batches)
{
	pthread_mutex_lock(&c->lock);
	*installs = c->installs;
	*batches = c->batches;
	pthread_mutex_unlock(&c->lock);
}
