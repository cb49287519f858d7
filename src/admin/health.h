/*
 * health.h: the rules of `opencapf check`: what in a state needs an
 * administrator's attention soon. Service certificates (CAPF, TVS, SAST and
 * any other PEM certificate named, such as the API's HTTPS one) that expire
 * within a window, phones whose LSC expires within it or has expired,
 * pending operations past their deadline, and listeners that do not accept
 * connections. Nothing here prints: each finding goes to a callback with its
 * level and one sentence; the CLI formats them (monitoring-plugin style).
 *
 * Levels: a certificate expired or within `critical_days` is critical, one
 * within `days` a warning; expiring or expired LSCs and overdue operations
 * are warnings; a listener that refuses or times out is critical.
 */
#ifndef OPENCAPF_ADMIN_HEALTH_H
#define OPENCAPF_ADMIN_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum health_level { HEALTH_OK = 0, HEALTH_WARNING = 1, HEALTH_CRITICAL = 2, HEALTH_UNKNOWN = 3 };

struct health_finding {
	enum health_level level;
	const char *subject;        /* "capf", "tvs", "sast", "cert", "lsc", "operation", "listener" */
	char text[512];             /* one sentence, no newline */
	int64_t count;              /* phones or operations concerned (0 for a single certificate) */
};
typedef void (*health_fn)(const struct health_finding *f, void *arg);

struct health_options {
	int days;                   /* warning window in days (> 0) */
	int critical_days;          /* critical window for service certificates (>= 0, <= days) */
	int64_t now;                /* reference time; 0: now */
	int list_max;               /* names listed in a sentence at most (e.g. overdue phones) */
};
void health_options_default(struct health_options *o); /* 30 days, critical 7, 5 names */

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *health_level_name(enum health_level l);

/* The state's findings to fn. Returns 0, or -1 with err when the state
 * cannot be read (the caller reports UNKNOWN). */
int health_check_state(struct store *st, const struct health_options *o, health_fn fn, void *arg, char *err,
		       size_t errlen);

/* One PEM certificate file (the first certificate in it), as "cert"
 * findings naming the file. -1 with err when it cannot be read. */
int health_check_cert_file(const char *path, const struct health_options *o, health_fn fn, void *arg,
			   char *err, size_t errlen);

/* A TCP connection to HOST:PORT within timeout_ms: a "listener" finding
 * (critical) when it fails, nothing when it connects. -1 with err when the
 * address is malformed. */
int health_probe_listener(const char *hostport, int timeout_ms, health_fn fn, void *arg, char *err,
			  size_t errlen);

#endif
