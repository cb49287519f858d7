/*
 * store_lock.c: the state directory's daemon lock (store_lock.h).
 */
#include "store/store_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/util.h"

/* The pid the holder wrote, or 0 when unreadable. */
static long holder_pid(int fd)
{
	char buf[32] = "";
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);

	return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int store_lock_state(const char *dir, int *fd, char *err, size_t errlen)
{
	char path[4200], pid[32];
	int n;

	if (path_join(path, sizeof path, dir, STORE_LOCK_FILE) < 0) {
		seterr(err, errlen, "%s: path too long", dir);
		return -1;
	}
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (*fd < 0 && errno == ENOENT)
		seterr(err, errlen, "no state directory %s (create one with 'opencapf init')", dir);
	else if (*fd < 0)
		seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
	if (*fd < 0)
		return -1;
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		long holder = errno == EWOULDBLOCK ? holder_pid(*fd) : 0;
		if (errno == EWOULDBLOCK && holder > 0)
			seterr(err, errlen, "another opencapfd (pid %ld) already serves the state %s (lock %s); stop it first",
			       holder, dir, path);
		else
			seterr(err, errlen, "cannot lock %s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(*fd, 0) < 0 || pwrite(*fd, pid, (size_t)n, 0) != n) {
		seterr(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}
