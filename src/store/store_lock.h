/*
 * store_lock.h: one daemon per state directory. opencapfd holds an
 * exclusive lock on DIR/opencapfd.lock (flock, released by the kernel when
 * the process ends, however it ends) with its pid written in the file, so a
 * second daemon on the same state refuses to start and names the first.
 */
#ifndef OPENCAPF_STORE_LOCK_H
#define OPENCAPF_STORE_LOCK_H

#include <stddef.h>

#define STORE_LOCK_FILE "opencapfd.lock"

/* Take the lock of state directory dir for this process; *fd stays open
 * for the process's life. 0, or -1 with err ("another opencapfd (pid N)
 * serves DIR ..." when it is held). */
int store_lock_state(const char *dir, int *fd, char *err, size_t errlen);

#endif
