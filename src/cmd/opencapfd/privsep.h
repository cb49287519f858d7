/*
 * privsep.h: opencapfd's privilege separation. At start the daemon forks
 * the signer process (signer/signer_proc.h), which alone opens the state's
 * key files; from then on every key the daemon loads is a handle on a key
 * held there (signer/signer_client.h). Started as root, the daemon binds
 * its ports, then becomes --user (default opencapf) with no new privileges,
 * while the signer takes the identity of keys/'s owner (root by default).
 * It ends when the signer ends (SIGCHLD), and the signer when it ends.
 */
#ifndef OPENCAPF_OPENCAPFD_PRIVSEP_H
#define OPENCAPF_OPENCAPFD_PRIVSEP_H

#include <pthread.h>
#include <sys/types.h>

#include "cmd/opencapfd/config.h"

struct signer_client;

struct privsep {
	struct signer_client *client;
	pid_t signer_pid;
	int door;            /* the signer's administrators' door (signer_proc.h) */
	int door_listen;     /* STATE/signer.sock, -1 when not open */
	pthread_t door_thread;
	char door_path[108];
	int drop;            /* started as root with a user to become */
	uid_t uid;
	gid_t gid;
};

/* Fork the signer (channels: threads that may sign at once) and route the
 * daemon's keys through it. Before any thread starts. */
int privsep_start(struct privsep *ps, const struct daemon_config *cfg, int lsc_days, int channels,
		  const char *key_store, char *err, size_t errlen);
/* Once every port is bound: become the workers' user, no new privileges. */
int privsep_drop(struct privsep *ps, const struct daemon_config *cfg, char *err, size_t errlen);
/* Once privileges are dropped: STATE/signer.sock (SIGNER_DOOR_SOCKET), 0600,
 * where the opencapf command reaches the signer while the daemon runs; each
 * connection is passed to the signer's door unread. A failure is logged:
 * the command then opens the keys itself. */
void privsep_door_open(struct privsep *ps, const struct daemon_config *cfg);
/* After SIGCHLD: 1 when the signer has ended (logged), else 0. */
int privsep_signer_ended(struct privsep *ps);
/* Close the channels and wait for the signer. */
void privsep_stop(struct privsep *ps);

#endif
