/*
 * util.h: small helpers every layer uses: a growable byte buffer, hex,
 * constant-time comparison, files written atomically with a given mode,
 * directories, time formatting, text checks and escaping, and the
 * error-text convention.
 *
 * Error convention: functions that can fail for a reason a user must read take
 * `char *err, size_t errlen` and fill it with one clear sentence (no trailing
 * newline); they return 0 on success and -1 on failure.
 */
#ifndef OPENCAPF_UTIL_H
#define OPENCAPF_UTIL_H

#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#define ERRLEN 256

void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A growable byte buffer. On allocation failure `failed` is set and every
 * later put is ignored, so encoders check once at the end. */
struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int failed;
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_put(struct buf *b, const void *p, size_t n);
/* A Prometheus counter with one label: its HELP and TYPE lines, then
 * NAME{LABEL="values[i]"} counts[i] for i < n. */
void prom_counter_family(struct buf *out, const char *name, const char *help, const char *label,
			 const char *const *values, const atomic_ullong *counts, int n);
/* Formatted text appended (no NUL counted in len); failed set on error. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_put_u8(struct buf *b, uint8_t v);
void buf_put_u16(struct buf *b, uint16_t v);     /* big-endian */
void buf_put_u32(struct buf *b, uint32_t v);     /* big-endian */
void buf_set_u16(struct buf *b, size_t at, uint16_t v); /* patch a length */

uint16_t get_u16(const uint8_t *p);  /* big-endian */
uint32_t get_u32(const uint8_t *p);  /* big-endian */

/* Hex: lower-case, no separators. hex_decode returns bytes written or -1. */
void hex_encode(const uint8_t *in, size_t n, char *out /* 2n+1 */);
void hex_encode_sep(const uint8_t *in, size_t n, char sep, int upper, char *out /* 3n */);
ssize_t hex_decode(const char *hex, uint8_t *out, size_t outcap);

/* Constant-time equality of two byte strings (length is not secret). */
int ct_equal(const void *a, size_t alen, const void *b, size_t blen);

int mkdir_p(const char *path, mode_t mode);
/* Write to PATH.tmp.PID, fsync, chmod, rename over PATH, fsync the folder. */
/* Every byte of data[0..n) to the socket fd (EINTR retried, no SIGPIPE); 0 / -1. */
int send_all(int fd, const void *data, size_t n);

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      char *err, size_t errlen);

/* Many files made atomic together, at the cost of one sync: each is written
 * to PATH.tmp.PID (atomic_batch_write), then atomic_batch_commit syncs the
 * file system of DIR once and renames them all into place, so a crash
 * leaves every file old or whole, never half-written (a failed rename
 * leaves the rest as they were). atomic_batch_abort removes the .tmp files. */
struct atomic_batch {
	char **paths;                /* tmp, final, tmp, final, ... */
	size_t n, cap;
};
int atomic_batch_write(struct atomic_batch *b, const char *path, const void *data, size_t len, mode_t mode,
		       char *err, size_t errlen);
int atomic_batch_commit(struct atomic_batch *b, const char *dir, char *err, size_t errlen);
void atomic_batch_abort(struct atomic_batch *b);
/* Read a whole file of at most `max` bytes; *out is malloc'd and NUL-terminated. */
int read_file(const char *path, size_t max, uint8_t **out, size_t *outlen,
	      char *err, size_t errlen);
/* Remove a folder and everything in it (no symlinks followed). */
int remove_tree(const char *path);
int path_join(char *out, size_t outcap, const char *a, const char *b);

/* "2026-11-24 18:23:30 UTC" */
void fmt_time_utc(int64_t t, char *out, size_t outcap);
/* Parse "YYYY-MM-DD HH:MM[:SS]" (UTC) or "YYYY-MM-DDTHH:MM[:SS]Z"; -1 on error. */
int parse_time_utc(const char *s, int64_t *out);
/* parse_time_utc's forms, a bare "YYYY-MM-DD" (midnight UTC), or an age
 * before now: "45s", "30m", "12h", "7d", "2w"; -1 on error. */
int parse_time_or_age(const char *s, int64_t *out);
int64_t now_utc(void);

/* A MAC-based device name as people type it ("sep001122334455",
 * "SEP00-11-22-33-44-55", "00:11:22:33:44:55", "0011.2233.4455") to the
 * canonical "SEP" + 12 upper-case hex digits in out (cap >= 16); one kind
 * of separator, only between digits. 0, or -1 when it is no such name. */
int devname_normalize(const char *in, char *out, size_t cap);
/* A device name CAPF serves: a phone, "SEP" + 12 upper-case hex digits; or
 * a soft client, "CSF" (desktop), "BOT" (Android), "TCT" (iPhone) or "TAB"
 * (tablet) + 1 to 12 upper-case letters and digits (15 characters in all,
 * the call-control limit). Returns 1 if valid. */
int devname_valid(const char *name);
/* What a device name may be, for error sentences. */
#define DEVNAME_RULE "SEP followed by 12 hex digits (e.g. SEP001122334455), the phone's MAC address, " \
		     "or a soft client's CSF, BOT, TCT or TAB followed by up to 12 upper-case letters and digits"

/* Text a phone field may hold: valid UTF-8, no control characters. 1 if so. */
int text_valid(const char *s);

/* Text from the network made safe to show in the log, the store, the CLI and
 * the web UI: srclen bytes of src (a NUL among them too) into dst, always
 * NUL-terminated, with every control character (0x00-0x1f, 0x7f), C1 control
 * (U+0080-U+009F) and byte that is not part of valid UTF-8 written as \xNN
 * (lower-case hex) and a backslash as \\, so that the escape is unambiguous;
 * other UTF-8 is kept. A result longer than cap - 1 is cut before an escape
 * or a character, never inside one. Returns the length the whole result
 * needs (not counting the NUL), like snprintf: >= cap means it was cut. dst
 * may be src (escaped in place); other overlaps are not allowed. */
size_t text_escape(char *dst, size_t cap, const char *src, size_t srclen);
/* The same, but a backslash is kept as it is: for text already escaped by
 * its own rules (RFC 4514 names, text_escape's output) that must not be
 * escaped twice. The log writer passes every line through it. */
size_t text_escape_controls(char *dst, size_t cap, const char *src, size_t srclen);

#endif
