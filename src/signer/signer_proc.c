/*
 * signer_proc.c: forking the signer process and its life (signer_proc.h):
 * closing every descriptor it must not hold, dying with its parent, taking
 * the key owner's identity when started as root, one thread per channel
 * reading whole frames, answering through signer_handle.
 */
#include "signer/signer_proc.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "signer/signer_msg.h"
#include "signer/signer_p11.h"

struct channel {
	int fd;
	struct signer_keys *keys;
	pthread_t thread;
};

static int read_exact(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* A header that cannot be trusted leaves the stream unreadable: answer it,
 * then give up this channel. */
static void *channel_main(void *arg)
{
	struct channel *ch = arg;
	uint8_t *frame = malloc(SIGNER_MSG_HEADER + SIGNER_MSG_MAX);
	struct buf resp;
	char err[ERRLEN];
	size_t len;

	buf_init(&resp);
	while (frame && read_exact(ch->fd, frame, SIGNER_MSG_HEADER) == 0) {
		if (signer_req_header(frame, &len, err, sizeof err) < 0) {
			signer_handle(ch->keys, frame, SIGNER_MSG_HEADER, &resp);
			send_all(ch->fd, resp.data, resp.len);
			log_warn("signer: closing a channel after a request it cannot frame");
			break;
		}
		if (read_exact(ch->fd, frame + SIGNER_MSG_HEADER, len) < 0)
			break;
		signer_handle(ch->keys, frame, SIGNER_MSG_HEADER + len, &resp);
		if (send_all(ch->fd, resp.data, resp.len) < 0)
			break;
	}
	buf_free(&resp);
	free(frame);
	close(ch->fd);
	return NULL;
}

/* Every descriptor but stdio and the signer's channel ends. */
static void close_others(const int *keep, int nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[4096], n = 0;

	while (d && (e = readdir(d)) && n < 4096) {
		int fd = atoi(e->d_name), kept = fd <= 2 || fd == dirfd(d) || e->d_name[0] == '.';

		for (int i = 0; i < nkeep && !kept; i++)
			kept = fd == keep[i];
		if (!kept)
			fds[n++] = fd;
	}
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static int become_owner(const struct signer_proc_cfg *cfg)
{
	if (!cfg->switch_user || geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) < 0 || setgid(cfg->gid) < 0 || setuid(cfg->uid) < 0) {
		log_err("signer: cannot become uid %ld gid %ld: %s", (long)cfg->uid, (long)cfg->gid, strerror(errno));
		return -1;
	}
	return 0;
}

static void signals_for_child(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, SIG_IGN);  /* a terminal's ^C stops the daemon, which closes the channels */
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
}

static void child_run(const struct signer_proc_cfg *cfg, const int *ends, pid_t parent)
{
	static struct signer_keys keys;
	struct channel *ch = calloc((size_t)cfg->channels, sizeof *ch);
	char err[ERRLEN];
	int started = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, "opencapf-signer");
	signals_for_child();
	close_others(ends, cfg->channels);
	if (become_owner(cfg) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	prctl(PR_SET_DUMPABLE, 0); /* no ptrace or /proc/PID/mem for processes of the same user */
	if (signer_p11_install(err, sizeof err) < 0 || /* key files may name keys in a PKCS#11 token */
	    signer_keys_init(&keys, cfg->keys_dir, cfg->extra, cfg->nextra, &cfg->limits, err, sizeof err) < 0) {
		log_err("%s", err);
		_exit(1);
	}
	for (int i = 0; ch && i < cfg->channels; i++) {
		ch[i] = (struct channel){ .fd = ends[i], .keys = &keys };
		if (pthread_create(&ch[i].thread, NULL, channel_main, &ch[i]) == 0)
			started++;
		else
			close(ends[i]);
	}
	log_info("signer: process %ld serving %d channel%s, keys from %s", (long)getpid(), started,
		 started == 1 ? "" : "s", cfg->keys_dir);
	for (int i = 0; ch && i < started; i++)
		pthread_join(ch[i].thread, NULL);
	log_info("signer: the daemon closed its channels; exiting (%lu request%s refused)", keys.refused,
		 keys.refused == 1 ? "" : "s");
	_exit(0);
}

pid_t signer_spawn(const struct signer_proc_cfg *cfg, int *fds, char *err, size_t errlen)
{
	int ends[SIGNER_CHANNELS_MAX];
	pid_t parent = getpid(), pid;
	int n = cfg->channels;

	if (n < 1 || n > SIGNER_CHANNELS_MAX) {
		seterr(err, errlen, "signer: %d channels is not between 1 and %d", n, SIGNER_CHANNELS_MAX);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			seterr(err, errlen, "signer: socketpair: %s", strerror(errno));
			for (int j = 0; j < i; j++) {
				close(fds[j]);
				close(ends[j]);
			}
			return -1;
		}
		fds[i] = sv[0];
		ends[i] = sv[1];
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_run(cfg, ends, parent);
	for (int i = 0; i < n; i++)
		close(ends[i]);
	if (pid < 0) {
		seterr(err, errlen, "signer: fork: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			close(fds[i]);
	}
	return pid;
}
