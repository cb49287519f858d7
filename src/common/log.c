/*
 * log.c: stderr logging with levels, shared by the daemon, CLI and emulator.
 * A mutex keeps lines whole when worker threads log at once.
 */
#include "common/log.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *log_progname = "opencapf";
static int log_timestamps;
static enum log_level log_min = LOG_LVL_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *progname, int with_timestamps)
{
	log_progname = progname;
	log_timestamps = with_timestamps;
}

void log_set_level(enum log_level min) { log_min = min; }

static const char *level_name(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_DEBUG: return "debug";
	case LOG_LVL_INFO: return "info";
	case LOG_LVL_WARN: return "warning";
	default: return "error";
	}
}

/* The whole line in one write (stderr is unbuffered: three calls would be
 * three system calls per line); a line too long for the buffer goes out in
 * pieces, still under the lock. */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char stamp[32] = "", line[2048];
	int head, n;
	va_list ap;

	if (lvl < log_min)
		return;
	if (log_timestamps) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ ", &tm);
	}
	head = snprintf(line, sizeof line, "%s%s: %s: ", stamp, log_progname, level_name(lvl));
	va_start(ap, fmt);
	n = head >= 0 && (size_t)head < sizeof line ? vsnprintf(line + head, sizeof line - (size_t)head, fmt, ap) : -1;
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	if (n >= 0 && (size_t)head + (size_t)n + 1 < sizeof line) {
		line[head + n] = '\n';
		fwrite(line, 1, (size_t)head + (size_t)n + 1, stderr);
	} else {
		fprintf(stderr, "%s%s: %s: ", stamp, log_progname, level_name(lvl));
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&log_lock);
}

void log_openssl(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0) {
		log_err("%s", what);
		return;
	}
	ERR_error_string_n(e, buf, sizeof buf);
	log_err("%s: %s", what, buf);
	ERR_clear_error();
}
