/*
 * test_store_concurrency.c: two handles on one state (the CLI and the daemon
 * in real life): alternating writers in one process, a writer that waits
 * for another process's transaction, and two processes writing at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/util.h"
#include "store_test_util.h"

static struct store *open_second(const char *dir)
{
	struct store *st = NULL;
	char err[ERRLEN] = "";

	if (store_open(dir, STORE_OPEN_EXISTING, &st, err, sizeof err) < 0)
		fail_msg("second open: %s", err);
	return st;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_two_handles_alternate(void **state)
{
	struct fixture *f = *state;
	struct store *b = open_second(f->dir);
	struct store *who[2] = { f->st, b };
	struct history_entry h;
	struct phone p;
	char name[32];
	int64_t until;

	memset(&h, 0, sizeof h);
	for (int i = 0; i < 40; i++) {
		struct store *w = who[i % 2], *r = who[(i + 1) % 2];

		snprintf(name, sizeof name, "SEP%012X", i);
		assert_int_equal(store_begin(w), 0);
		add_phone(w, name);
		/* The other handle does not see it before the commit, and is
		 * not blocked from reading (WAL). */
		assert_int_equal(store_phone_get(r, name, &p), 1);
		assert_int_equal(store_audit(w, "test", "phone.add", name, NULL), 0);
		assert_int_equal(store_commit(w), 0);
		assert_int_equal(store_phone_get(r, name, &p), 0);
		/* The other handle completes an operation on it. */
		assert_int_equal(store_capf_attempt_failed(r, name, &h, "Upgrade Failed: test", 1, 5, 60), 0);
		assert_int_equal(store_auth_locked_until(w, name, h.peer, &until), 0);
		assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM auth_lockouts WHERE failures = 1"), i + 1);
	}
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones"), 40);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 80);
	store_close(b);
}

static void test_writer_waits_for_other_process(void **state)
{
	struct fixture *f = *state;
	int ready[2];
	pid_t pid;
	int status;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(store_begin(f->st), 0);
	add_phone(f->st, "SEP0000000000AA");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char fd[16];

		snprintf(fd, sizeof fd, "%d", ready[1]);
		execl("/proc/self/exe", "test-store-concurrency", "--child-wait", f->dir, fd, (char *)NULL);
		_exit(127);
	}
	close(ready[1]);     /* a child that dies early ends the read below */
	assert_int_equal(read(ready[0], &c, 1), 1);
	usleep(400 * 1000);
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log WHERE actor = 'child'"), 1);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones"), 1);
	close(ready[0]);
}

/* Each process adds phones PREFIX000000..PREFIX000099 with an audit row,
 * each in a transaction of its own, then a failed attempt recorded through
 * the standalone (BEGIN IMMEDIATE) path. */
static int hammer(struct store *st, const char *prefix)
{
	struct history_entry h;
	struct phone p;
	char name[32];

	memset(&h, 0, sizeof h);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "%s%06d", prefix, i);
		phone_defaults(&p, name);
		if (store_begin(st) < 0 || store_phone_insert(st, &p) < 0 ||
		    store_audit(st, "test", "phone.add", name, NULL) < 0 || store_commit(st) < 0) {
			fprintf(stderr, "%s: %s\n", name, store_errmsg(st));
			store_rollback(st);
			return -1;
		}
		if (store_capf_attempt_failed(st, name, &h, NULL, 0, 0, 0) < 0) {
			fprintf(stderr, "%s: %s\n", name, store_errmsg(st));
			return -1;
		}
	}
	return 0;
}

static void test_two_processes_write_at_once(void **state)
{
	struct fixture *f = *state;
	pid_t pid;
	int status;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test-store-concurrency", "--child-hammer", f->dir, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(hammer(f->st, "SEP222"), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phones"), 200);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM phone_history"), 200);
	assert_int_equal(raw_count(f->dir, "SELECT count(*) FROM audit_log"), 400);
}

/*
 * The second process of each test is this program again, started with exec:
 * a forked child must not use SQLite with the state it inherited from a
 * parent that has the database open (SQLite's lock bookkeeping is per
 * process), and the daemon and CLI are separate programs anyway.
 */

/* Signal readiness on fd, then write: must wait for the parent's transaction. */
static int child_wait(const char *dir, int fd)
{
	struct store *st = NULL;
	char err[ERRLEN];
	int64_t t0;
	int ok;

	if (store_open(dir, STORE_OPEN_EXISTING, &st, err, sizeof err) < 0) {
		fprintf(stderr, "child: %s\n", err);
		return 10;
	}
	if (write(fd, "r", 1) != 1)
		return 11;
	t0 = ms_now();
	if (store_begin(st) < 0) {
		fprintf(stderr, "child: %s\n", store_errmsg(st));
		store_close(st);
		return 12;
	}
	if (ms_now() - t0 < 200) {
		store_close(st);
		return 13;     /* did not wait for the parent's transaction */
	}
	ok = store_audit(st, "child", "test", "", NULL) == 0 && store_commit(st) == 0;
	store_close(st);
	return ok ? 0 : 14;
}

static int child_hammer(const char *dir)
{
	struct store *st = NULL;
	char err[ERRLEN];
	int rc;

	if (store_open(dir, STORE_OPEN_EXISTING, &st, err, sizeof err) < 0) {
		fprintf(stderr, "child: %s\n", err);
		return 10;
	}
	rc = hammer(st, "SEP111");
	store_close(st);
	return rc == 0 ? 0 : 11;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--child-wait"))
		return child_wait(argv[2], atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "--child-hammer"))
		return child_hammer(argv[2]);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_handles_alternate, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_writer_waits_for_other_process, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_two_processes_write_at_once, fixture_setup, fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
