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

struct signer_proc_cfg {
	char keys_dir[SIGNER_PATH_MAX];
	const char *extra[SIGNER_EXTRA_KEYS]; /* other key files TLS listeners present */
	int nextra;
	struct signer_limits limits;
	int channels;                          /* socketpairs, one per thread that signs at once */
	int switch_user;                       /* become uid/gid (only when started as root) */
	uid_t uid;
	gid_t gid;
};

/* Fork the signer: fds[0..channels-1] receive the daemon's ends (close-on-exec).
 * The child never returns. The signer's pid, or -1 with err. */
pid_t signer_spawn(const struct signer_proc_cfg *cfg, int *fds, char *err, size_t errlen);

#endif
