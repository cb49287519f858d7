/*
 * signer_proc.h: the signer process. opencapfd forks it at start, before any
 * thread exists; it alone opens key files, holds no socket but one end of
 * each socketpair it was given, answers requests (signer_policy.h) with one
 * thread per channel, and ends when the daemon closes the channels or dies
 * (PR_SET_PDEATHSIG). The daemon watches for its end with SIGCHLD.
 */
#ifndef OPENCAPF_SIGNER_PROC_H
#define OPENCAPF_SIGNER_PROC_H

#include <sys/types.h>

#include "signer/signer_policy.h"

#define SIGNER_CHANNELS_MAX 64
#define SIGNER_DOOR_SOCKET "signer.sock" /* the door's socket in the state folder, opened by the daemon */

struct signer_proc_cfg {
	char keys_dir[SIGNER_PATH_MAX];
	const char *extra[SIGNER_EXTRA_KEYS]; /* other key files TLS listeners present */
	int nextra;
	struct signer_limits limits;
	int channels;                          /* socketpairs, one per thread that signs at once */
	int switch_user;                       /* become uid/gid (only when started as root) */
	uid_t uid;
	gid_t gid;
	char key_store[1024];                  /* the state's PKCS#11 key store ("": new keys in files) */
};

/* Fork the signer: fds[0..channels-1] receive the daemon's ends (close-on-exec),
 * *door the daemon's end of the administrators' door. The child never
 * returns. The signer's pid, or -1 with err.
 *
 * The door: the daemon accepts administrators' connections (the opencapf
 * command on the same state) and passes each one over the door
 * (signer_door_pass); the signer checks who connected (SO_PEERCRED: root
 * or the signer's own user, else the connection is answered with a refusal
 * and closed) and answers its requests one connection at a time with
 * signer_handle_admin, 60 s at most between two requests. */
pid_t signer_spawn(const struct signer_proc_cfg *cfg, int *fds, int *door, char *err, size_t errlen);

/* Pass a connected socket over the door (the caller still closes its copy). */
int signer_door_pass(int door, int fd);

#endif
