/*
 * privsep.c: the signer process's start and end, and the workers' user
 * (privsep.h).
 */
#include "cmd/opencapfd/privsep.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "signer/signer_client.h"
#include "signer/signer_proc.h"
#include "signer/signer_provider.h"

#define DEFAULT_USER "opencapf"

/* Started as root: whom the workers become. The default user may be missing
 * (a warning: the example configuration names it); another one must exist. */
static int resolve_user(struct privsep *ps, const struct daemon_config *cfg, char *err, size_t errlen)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	if (!(pw = getpwnam(cfg->user))) {
		if ((cfg->user_set && strcmp(cfg->user, DEFAULT_USER) != 0) || errno) {
			seterr(err, errlen, "no user '%s' to run the workers as (--user)", cfg->user);
			return -1;
		}
		log_warn("privileges: no user '%s': the workers stay root (create the user, or pass --user)",
			 cfg->user);
		return 0;
	}
	if (pw->pw_uid == 0) {
		log_warn("privileges: --user %s is root: the workers keep every privilege", cfg->user);
		return 0;
	}
	ps->drop = 1;
	ps->uid = pw->pw_uid;
	ps->gid = pw->pw_gid;
	return 0;
}

/* Started as root: the signer becomes keys/'s owner, unless that is the
 * workers' user (then it stays root, and the workers could read the files). */
static void signer_identity(struct privsep *ps, struct signer_proc_cfg *sc)
{
	struct stat st;

	if (geteuid() != 0 || stat(sc->keys_dir, &st) != 0)
		return;
	if (ps->drop && st.st_uid == ps->uid) {
		log_warn("privileges: %s belongs to the workers' user: they could read the keys; "
			 "'chown -R root: %s' keeps them out", sc->keys_dir, sc->keys_dir);
		return;
	}
	if (st.st_uid != 0) {
		sc->switch_user = 1;
		sc->uid = st.st_uid;
		sc->gid = st.st_gid;
	}
}

int privsep_start(struct privsep *ps, const struct daemon_config *cfg, int lsc_days, int channels,
		  const char *key_store, char *err, size_t errlen)
{
	struct signer_proc_cfg sc = { .channels = channels > SIGNER_CHANNELS_MAX ? SIGNER_CHANNELS_MAX : channels,
				      .limits = { cfg->signer_lsc_rate, cfg->signer_ops_rate, lsc_days } };
	int fds[SIGNER_CHANNELS_MAX];

	ps->door = ps->door_listen = -1;
	if (resolve_user(ps, cfg, err, errlen) < 0)
		return -1;
	snprintf(sc.keys_dir, sizeof sc.keys_dir, "%s/keys", cfg->state_dir);
	if (cfg->files.https_key[0])
		sc.extra[sc.nextra++] = cfg->files.https_key;
	if (cfg->http.cert_file[0] && cfg->http.key_file[0])
		sc.extra[sc.nextra++] = cfg->http.key_file;
	if (key_store)
		snprintf(sc.key_store, sizeof sc.key_store, "%s", key_store);
	signer_identity(ps, &sc);
	if (signer_provider_load(err, errlen) < 0)
		return -1;
	if ((ps->signer_pid = signer_spawn(&sc, fds, &ps->door, err, errlen)) < 0)
		return -1;
	if (!(ps->client = signer_client_new(fds, sc.channels, ps->signer_pid))) {
		seterr(err, errlen, "out of memory");
		for (int i = 0; i < sc.channels; i++)
			close(fds[i]);
		return -1;
	}
	signer_client_install(ps->client);
	log_info("privileges: signer process %ld holds the keys of %s (%d channels; at most %d LSCs and %d other "
		 "signatures a second)", (long)ps->signer_pid, sc.keys_dir, sc.channels, cfg->signer_lsc_rate,
		 cfg->signer_ops_rate);
	return 0;
}

int privsep_drop(struct privsep *ps, const struct daemon_config *cfg, char *err, size_t errlen)
{
	if (ps->drop && (setgroups(1, &ps->gid) < 0 || setgid(ps->gid) < 0 || setuid(ps->uid) < 0)) {
		seterr(err, errlen, "cannot become user %s (uid %ld): %s", cfg->user, (long)ps->uid, strerror(errno));
		return -1;
	}
	if (ps->drop && (setuid(0) == 0 || geteuid() == 0)) {
		seterr(err, errlen, "still root after becoming user %s", cfg->user);
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		seterr(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (ps->drop && access(cfg->state_dir, W_OK | X_OK) != 0) {
		seterr(err, errlen, "user %s cannot write the state folder %s: %s (chown it, keeping keys/ for root)",
		       cfg->user, cfg->state_dir, strerror(errno));
		return -1;
	}
	log_info("privileges: workers run as %s (uid %ld), no new privileges", ps->drop ? cfg->user : "the starting user",
		 (long)getuid());
	return 0;
}

int privsep_signer_ended(struct privsep *ps)
{
	int status = 0;

	if (ps->signer_pid <= 0 || waitpid(ps->signer_pid, &status, WNOHANG) != ps->signer_pid)
		return 0;
	if (WIFSIGNALED(status))
		log_err("the signer process %ld was killed by signal %d: stopping", (long)ps->signer_pid,
			WTERMSIG(status));
	else
		log_err("the signer process %ld exited with status %d: stopping", (long)ps->signer_pid,
			WEXITSTATUS(status));
	ps->signer_pid = 0;
	return 1;
}

/* ---- the administrators' door ---- */

/* Until the listening socket is shut down (EINVAL): a descriptor shortage
 * only pauses it, so that commands are never left waiting in the backlog. */
static void *door_relay(void *arg)
{
	struct privsep *ps = arg;
	int fd;

	for (;;) {
		if ((fd = accept4(ps->door_listen, NULL, NULL, SOCK_CLOEXEC)) < 0) {
			if (errno == EINVAL || errno == EBADF)
				break;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				usleep(100000);
			continue;
		}
		if (signer_door_pass(ps->door, fd) < 0)
			log_warn("privileges: cannot pass an administrator's connection to the signer: %s", strerror(errno));
		close(fd);
	}
	return NULL;
}

/* No door: the socket is gone, so commands open the keys themselves. */
static void door_not_opened(struct privsep *ps, int fd, const char *why)
{
	log_warn("privileges: cannot open %s: %s: opencapf commands open the keys themselves", ps->door_path, why);
	if (fd >= 0)
		close(fd);
	unlink(ps->door_path);
	ps->door_path[0] = 0;
}

void privsep_door_open(struct privsep *ps, const struct daemon_config *cfg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (ps->door < 0)
		return;
	if ((size_t)snprintf(ps->door_path, sizeof ps->door_path, "%s/%s", cfg->state_dir, SIGNER_DOOR_SOCKET) >=
	    sizeof ps->door_path) {
		log_warn("privileges: the state's path is too long for %s: opencapf commands open the keys themselves",
			 SIGNER_DOOR_SOCKET);
		ps->door_path[0] = 0;
		return;
	}
	memcpy(sa.sun_path, ps->door_path, strlen(ps->door_path) + 1);
	unlink(ps->door_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 || fchmod(fd, 0600) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(ps->door_path, 0600) < 0 || listen(fd, 16) < 0) {
		door_not_opened(ps, fd, strerror(errno));
		return;
	}
	ps->door_listen = fd; /* before the relay starts: it accepts on this */
	if ((rc = pthread_create(&ps->door_thread, NULL, door_relay, ps)) != 0) {
		ps->door_listen = -1;
		door_not_opened(ps, fd, strerror(rc));
		return;
	}
	log_info("privileges: opencapf commands reach the signer through %s", ps->door_path);
}

static void door_close(struct privsep *ps)
{
	if (!ps->client)
		return;   /* never started: the descriptors were never set */
	if (ps->door_listen >= 0) {
		shutdown(ps->door_listen, SHUT_RDWR);
		pthread_join(ps->door_thread, NULL);
		close(ps->door_listen);
		unlink(ps->door_path);
		ps->door_listen = -1;
	}
	if (ps->door >= 0)
		close(ps->door);
	ps->door = -1;
}

void privsep_stop(struct privsep *ps)
{
	door_close(ps);
	pki_key_hooks_set(NULL);
	signer_client_free(ps->client);
	ps->client = NULL;
	if (ps->signer_pid > 0)
		waitpid(ps->signer_pid, NULL, 0);
	ps->signer_pid = 0;
}
