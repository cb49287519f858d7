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

/* Requests on one stream until it ends. A header that cannot be trusted
 * leaves the stream unreadable: answer it, then give up the stream. */
static void serve(int fd, struct signer_keys *keys, int admin)
{
	void (*answer)(struct signer_keys *, const uint8_t *, size_t, struct buf *) =
		admin ? signer_handle_admin : signer_handle;
	uint8_t *frame = malloc(SIGNER_MSG_HEADER + SIGNER_MSG_MAX);
	struct buf resp;
	char err[ERRLEN];
	size_t len;

	buf_init(&resp);
	while (frame && read_exact(fd, frame, SIGNER_MSG_HEADER) == 0) {
		if (signer_req_header(frame, &len, err, sizeof err) < 0) {
			answer(keys, frame, SIGNER_MSG_HEADER, &resp);
			send_all(fd, resp.data, resp.len);
			log_warn("signer: closing a %s after a request it cannot frame", admin ? "door connection" : "channel");
			break;
		}
		if (read_exact(fd, frame + SIGNER_MSG_HEADER, len) < 0)
			break;
		answer(keys, frame, SIGNER_MSG_HEADER + len, &resp);
		if (send_all(fd, resp.data, resp.len) < 0)
			break;
	}
	buf_free(&resp);
	free(frame);
}

static void *channel_main(void *arg)
{
	struct channel *ch = arg;

	serve(ch->fd, ch->keys, 0);
	close(ch->fd);
	return NULL;
}

/* ---- the administrators' door ---- */

int signer_door_pass(int door, int fd)
{
	char data = 'c', ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c;

	memset(ctl, 0, sizeof ctl);
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	return sendmsg(door, &m, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* The next connection passed over the door: its descriptor, 0 when the
 * message carried none, -1 when the door closed. */
static int door_receive(int door)
{
	char data, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *c;
	ssize_t r;
	int fd = 0;

	do
		r = recvmsg(door, &m, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r <= 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* Root or the signer's own user may come in, welcomed by an empty OK (so a
 * command knows at once that the signer answers); anyone else gets one
 * refusal. */
static int door_admits(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof cred;
	uint8_t hdr[SIGNER_MSG_HEADER];
	char why[160];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && (cred.uid == 0 || cred.uid == geteuid())) {
		signer_resp_header_encode(hdr, SIGNER_OK, 0);
		return send_all(fd, hdr, sizeof hdr) == 0;
	}
	snprintf(why, sizeof why, "uid %ld may not use the daemon's signer (root or uid %ld only)", (long)cred.uid,
		 (long)geteuid());
	log_warn("signer: refused an administrator's connection from pid %ld: %s", (long)cred.pid, why);
	signer_resp_header_encode(hdr, SIGNER_REFUSED, strlen(why));
	send_all(fd, hdr, sizeof hdr);
	send_all(fd, why, strlen(why));
	return 0;
}

#define DOOR_VISITORS_MAX 8

struct door {
	int fd;
	struct signer_keys *keys;
	pthread_mutex_t lock;
	int visitors;          /* connections being served */
};

struct visit {
	struct door *door;
	int fd;
};

static void *visit_main(void *arg)
{
	struct visit *v = arg;

	if (door_admits(v->fd))
		serve(v->fd, v->door->keys, 1);
	close(v->fd);
	pthread_mutex_lock(&v->door->lock);
	v->door->visitors--;
	pthread_mutex_unlock(&v->door->lock);
	free(v);
	return NULL;
}

/* A thread for the connection, DOOR_VISITORS_MAX at once; beyond, it is closed. */
static void visit_start(struct door *d, int fd)
{
	struct timeval idle = { .tv_sec = 60 };
	struct visit *v = malloc(sizeof *v);
	pthread_t t;
	int room;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof idle);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &idle, sizeof idle);
	pthread_mutex_lock(&d->lock);
	room = d->visitors < DOOR_VISITORS_MAX;
	if (room && v)
		d->visitors++;
	pthread_mutex_unlock(&d->lock);
	if (!room || !v) {
		log_warn("signer: an administrator's connection closed: %s", v ? "as many as the door serves at once "
			 "are open" : "out of memory");
		free(v);
		close(fd);
		return;
	}
	*v = (struct visit){ .door = d, .fd = fd };
	if (pthread_create(&t, NULL, visit_main, v) == 0) {
		pthread_detach(t);
		return;
	}
	pthread_mutex_lock(&d->lock);
	d->visitors--;
	pthread_mutex_unlock(&d->lock);
	free(v);
	close(fd);
}

static void *door_main(void *arg)
{
	struct door *d = arg;
	int fd;

	while ((fd = door_receive(d->fd)) >= 0)
		if (fd > 0)
			visit_start(d, fd);
	close(d->fd);
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
	static struct door door;
	pthread_t door_thread;
	char err[ERRLEN];
	int started = 0;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, "opencapf-signer");
	signals_for_child();
	close_others(ends, cfg->channels + 1);
	if (become_owner(cfg) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(1);
	prctl(PR_SET_DUMPABLE, 0); /* no ptrace or /proc/PID/mem for processes of the same user */
	if (signer_p11_install(err, sizeof err) < 0 || /* key files may name keys in a PKCS#11 token */
	    (cfg->key_store[0] && signer_p11_set_store(cfg->key_store, err, sizeof err) < 0) ||
	    signer_keys_init(&keys, cfg->keys_dir, cfg->extra, cfg->nextra, &cfg->limits, err, sizeof err) < 0) {
		log_err("%s", err);
		_exit(1);
	}
	door = (struct door){ .fd = ends[cfg->channels], .keys = &keys };
	pthread_mutex_init(&door.lock, NULL);
	if (pthread_create(&door_thread, NULL, door_main, &door) == 0)
		pthread_detach(door_thread);
	else
		close(door.fd);
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

/* fds[i] and ends[i] for i < n: the channels' socketpairs, then the door's (a packet pair: one
 * message per passed connection). */
static int make_pairs(int n, int *fds, int *ends, char *err, size_t errlen)
{
	for (int i = 0; i <= n; i++) {
		int sv[2];

		if (socketpair(AF_UNIX, (i < n ? SOCK_STREAM : SOCK_SEQPACKET) | SOCK_CLOEXEC, 0, sv) < 0) {
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
	return 0;
}

pid_t signer_spawn(const struct signer_proc_cfg *cfg, int *fds, int *door, char *err, size_t errlen)
{
	int ends[SIGNER_CHANNELS_MAX + 1], mine[SIGNER_CHANNELS_MAX + 1];
	pid_t parent = getpid(), pid;
	int n = cfg->channels;

	if (n < 1 || n > SIGNER_CHANNELS_MAX) {
		seterr(err, errlen, "signer: %d channels is not between 1 and %d", n, SIGNER_CHANNELS_MAX);
		return -1;
	}
	if (make_pairs(n, mine, ends, err, errlen) < 0)
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_run(cfg, ends, parent);
	for (int i = 0; i <= n; i++)
		close(ends[i]);
	if (pid < 0) {
		seterr(err, errlen, "signer: fork: %s", strerror(errno));
		for (int i = 0; i <= n; i++)
			close(mine[i]);
		return -1;
	}
	memcpy(fds, mine, (size_t)n * sizeof *fds);
	*door = mine[n];
	return pid;
}
