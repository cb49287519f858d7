/*
 * api_provision.c: the daemon keeps the provisioning folder current. Every
 * PROV_TICK seconds it looks at what the folder depends on — the newest
 * audit entry (every change to a phone, a setting, a certificate or an
 * operation's outcome writes one) and the templates (their names, sizes and
 * times) — and when that changed since the last publish it runs
 * admin_provision_publish (admin/provision.h), which rewrites only the files
 * that differ. It runs on the API's thread with the API's store handle, and
 * only when the templates folder exists.
 *
 * The same tick keeps the published ITL current (admin/itl_follow.h): a
 * certificate or ITL setting changed through another node of a cluster
 * (docs/cluster.md) is republished here within a tick. The check reads the
 * state's certificates and the file, and writes only when they differ (no
 * audit row: like the publish after a local change), so idle nodes write
 * nothing and a republish starts nothing on the other nodes.
 */
#include <dirent.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/itl_follow.h"
#include "admin/phone_config.h"
#include "admin/provision.h"
#include "api/api_internal.h"
#include "common/log.h"
#include "store/store_search.h"

#define PROV_TICK 10

static int newest_audit(const struct audit_entry *e, void *arg)
{
	*(int64_t *)arg = e->id;
	return 0;
}

/* A digest of the templates folder: entries, their sizes and times. 1 when
 * the folder does not exist. */
static int templates_sum(const char *dir, unsigned long long *sum)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	char path[4400];

	if (!d)
		return 1;
	*sum = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) > 0 &&
		    stat(path, &sb) == 0)
			*sum = *sum * 1000003ULL + (unsigned long long)sb.st_size * 31ULL +
			       (unsigned long long)sb.st_mtim.tv_sec * 7ULL + (unsigned long long)sb.st_mtim.tv_nsec +
			       strlen(e->d_name);
	closedir(d);
	return 0;
}

/* What the folder depends on, as text; 1 when there is no templates folder. */
static int provision_state(struct api_server *srv, char *out, size_t cap)
{
	struct audit_filter f = { .limit = 1 };
	struct prov_settings s;
	unsigned long long sum = 0;
	int64_t newest = 0;
	char err[512];

	if (prov_settings_load(srv->st, &s, err, sizeof err) < 0 || templates_sum(s.templates, &sum) != 0)
		return 1;
	if (store_audit_select(srv->st, &f, newest_audit, &newest) != 0)
		return -1;
	snprintf(out, cap, "%lld/%llu", (long long)newest, sum);
	return 0;
}

/* The published ITL against the state; a failure is logged when it is new. */
static void itl_tick(struct api_server *srv)
{
	char err[1024];
	int rc = itl_follow(srv->st, err, sizeof err);

	if (rc < 0) {
		if (strcmp(err, srv->itl_failed) != 0)
			log_warn("ITL: cannot bring the published ITL up to date: %s (trying again every %d s)", err,
				 PROV_TICK);
		snprintf(srv->itl_failed, sizeof srv->itl_failed, "%s", err);
		return;
	}
	srv->itl_failed[0] = '\0';
	if (rc == 1)
		log_info("ITL: republished: the published file did not list the state's current certificates or "
			 "ITL settings (changed through another node, or by hand)");
}

static void provision_tick(evutil_socket_t fd, short what, void *arg)
{
	struct api_server *srv = arg;
	struct provision_result r;
	char now[64], err[1400];

	(void)fd;
	(void)what;
	itl_tick(srv);
	if (provision_state(srv, now, sizeof now) != 0 || strcmp(now, srv->prov_seen) == 0)
		return;
	if (admin_provision_publish(srv->st, "opencapfd", 0, &r, err, sizeof err) < 0) {
		log_warn("provisioning: %s", err);
		return;
	}
	if (r.written || r.failed)
		log_info("provisioning: %zu configuration%s written, %zu unchanged, %zu failed%s", r.written,
			 r.written == 1 ? "" : "s", r.unchanged, r.failed, r.failed ? " (see 'opencapf provision')" : "");
	provision_result_free(&r);
	/* our own audit row is part of what we have seen */
	if (provision_state(srv, now, sizeof now) == 0)
		snprintf(srv->prov_seen, sizeof srv->prov_seen, "%s", now);
}

int api_provision_timer_start(struct api_server *srv)
{
	struct timeval tv = { PROV_TICK, 0 }, now = { 0, 0 };

	srv->prov_timer = event_new(srv->base, -1, EV_PERSIST, provision_tick, srv);
	if (!srv->prov_timer || event_add(srv->prov_timer, &tv) < 0)
		return -1;
	return event_base_once(srv->base, -1, EV_TIMEOUT, provision_tick, srv, &now);
}

void api_provision_free(struct api_server *srv)
{
	if (srv->prov_timer)
		event_free(srv->prov_timer);
	srv->prov_timer = NULL;
}
