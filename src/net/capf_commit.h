/*
 * capf_commit.h: group commit of issued LSCs and finished installs.
 *
 * Two records per install are durable SQLite transactions (synchronous=FULL:
 * one fsync of the WAL each): the LSC as delivered, before it is sent, and
 * the phone's confirmation, before END_SESSION.
 * one fsync of the WAL). Done in the worker's event loop, one per session,
 * every phone of that worker waits while the disk syncs, and the workers
 * take turns on SQLite's write lock (its busy handler sleeps for
 * milliseconds). Instead the workers hand each record to one committer
 * thread with its own store handle; it takes every record queued so far,
 * writes them in one BEGIN IMMEDIATE ... COMMIT (each in its own SAVEPOINT,
 * so one failure rolls back only itself), and only after COMMIT returned
 * hands the results back to each worker's loop, which then sends the LSC
 * (a delivery) or ends the session (a confirmation: END_SESSION REASON 1,
 * or REASON 7 if it could not be recorded).
 * While one batch syncs, the next one fills: the more sessions finish at
 * once, the fewer fsyncs per install.
 *
 * Invariant: a job's result is delivered only after the transaction holding
 * its record committed (or failed); no LSC leaves before it is on disk, and
 * no phone is told "success" before its confirmation is.
 *
 * Threads: submit from any worker; results come back on the worker's own
 * event loop (the port's event, made active from the committer thread;
 * libevent's pthread locking is on, see workers.c).
 */
#ifndef OPENCAPF_NET_CAPF_COMMIT_H
#define OPENCAPF_NET_CAPF_COMMIT_H

#include <event2/event.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "store/store.h"

struct capf_commit_port;

enum capf_commit_kind {
	CAPF_COMMIT_DELIVER,             /* store_capf_lsc_delivered */
	CAPF_COMMIT_CONFIRM,             /* store_capf_complete_install */
};

/* One record to write: the arguments of the store call of its kind. The
 * submitter keeps the job (and what it points to) alive until it comes back. */
struct capf_commit_job {
	enum capf_commit_kind kind;
	const char *device;
	const uint8_t *der;
	size_t len;
	const char *capf_sha256;
	struct history_entry h;
	/* result */
	int rc;                          /* 0 recorded and committed, -1 not */
	char err[ERRLEN];
	/* routing */
	struct capf_commit_port *port;
	void *arg;                       /* the submitter's, e.g. its connection */
	struct capf_commit_job *next;
};

typedef void (*capf_commit_done_fn)(struct capf_commit_job *job);

/* Where a worker receives its results. */
struct capf_commit_port {
	struct event *ev;
	pthread_mutex_t lock;
	struct capf_commit_job *head, *tail;
	capf_commit_done_fn done;
};

struct capf_committer;

/* Start the committer thread with its own handle on the state directory. */
int capf_committer_start(struct capf_committer **out, const char *state_dir, char *err, size_t errlen);
/* Record what is queued, then stop and join the thread. Results not yet
 * delivered stay in the ports (the loops have stopped). */
void capf_committer_stop(struct capf_committer *c);

int capf_commit_port_init(struct capf_commit_port *p, struct event_base *base, capf_commit_done_fn done);
void capf_commit_port_free(struct capf_commit_port *p);

/* Queue a job (job->port must be set). */
void capf_commit_submit(struct capf_committer *c, struct capf_commit_job *job);

/* Installs recorded, transactions committed (for tests and logs). */
void capf_committer_counts(struct capf_committer *c, long *installs, long *batches);

#endif
