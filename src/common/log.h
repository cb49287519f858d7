/*
 * log.h: one place where every program writes its diagnostics.
 *
 * Lines go to stderr as "LEVEL message" (with a UTC timestamp when the
 * program is a daemon). Secrets never go through here: callers pass names,
 * serials and fingerprints, never keys or authentication strings.
 */
#ifndef OPENCAPF_LOG_H
#define OPENCAPF_LOG_H

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

void log_init(const char *progname, int with_timestamps);
void log_set_level(enum log_level min);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)

/* Print the OpenSSL error queue (then clear it) as one line after a message. */
void log_openssl(const char *what);

#endif
