/*
 * log.c: stderr logging with levels, shared by the daemon, CLI and emulator.
 * A mutex keeps lines whole when worker threads log at once; control
 * characters inside a message are escaped, so one call is one line.
 */
#include "common/log.h"
#include "common/util.h"

#include <openssl/err.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The message, formatted: into buf when it fits, else into a malloc'd text
 * (*heap set); NULL when it cannot be formatted. */
static char *format_msg(char *buf, size_t cap, size_t *len, char **heap, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static char *format_msg(char *buf, size_t cap, size_t *len, char **heap, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	*heap = NULL;
	va_copy(again, ap);
	n = vsnprintf(buf, cap, fmt, ap);
	if (n >= 0 && (size_t)n >= cap && (*heap = malloc((size_t)n + 1)) != NULL)
		n = vsnprintf(*heap, (size_t)n + 1, fmt, again);
	va_end(again);
	if (n < 0)
		return NULL;
	*len = *heap ? (size_t)n : strnlen(buf, cap);
	return *heap ? *heap : buf;
}

/* The whole line in one write (stderr is unbuffered: three calls would be
 * three system calls per line). Control characters inside the message are
 * written as \xNN (text_escape_controls), so whatever a caller passes, one
 * call is one line: the last resort against forged log lines; text from
 * the network is escaped before it gets here. */
void log_msg(enum log_level lvl, const char *fmt, ...)
{
	char stamp[32] = "", msg[2048], line[4096], *heap, *big = NULL, *out = line;
	const char *text;
	size_t len = 0, head, need;
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
	va_start(ap, fmt);
	text = format_msg(msg, sizeof msg, &len, &heap, fmt, ap);
	va_end(ap);
	if (!text) {
		text = "(a message that cannot be formatted)";
		len = strlen(text);
	}
	head = (size_t)snprintf(line, sizeof line, "%s%s: %s: ", stamp, log_progname, level_name(lvl));
	if (head > sizeof line - 1)
		head = sizeof line - 1;
	need = text_escape_controls(line + head, sizeof line - head - 1, text, len);
	if (head + need + 1 >= sizeof line && (big = malloc(head + need + 2)) != NULL) {
		memcpy(big, line, head);
		text_escape_controls(big + head, need + 1, text, len);
		out = big;
	}
	len = head + strlen(out + head);
	out[len++] = '\n';
	pthread_mutex_lock(&log_lock);
	fwrite(out, 1, len, stderr);
	pthread_mutex_unlock(&log_lock);
	free(big);
	free(heap);
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
