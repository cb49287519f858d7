/*
 * util.c: byte buffers, hex, constant-time compare, atomic file writes,
 * time parsing, device-name checks, and the text check and escaper every
 * text from the network goes through (text_escape). No global state.
 */
#include "common/util.h"

#include <openssl/crypto.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void buf_init(struct buf *b) { memset(b, 0, sizeof *b); }

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = 0;
}

static int buf_reserve(struct buf *b, size_t more)
{
	size_t want, cap;
	uint8_t *p;

	if (b->failed)
		return -1;
	if (more > SIZE_MAX - b->len) {
		b->failed = 1;
		return -1;
	}
	want = b->len + more;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n + 1) < 0) {
		b->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_put_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }

void buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, x, 2);
}

void buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	buf_put(b, x, 4);
}

void buf_set_u16(struct buf *b, size_t at, uint16_t v)
{
	if (b->failed || at + 2 > b->len)
		return;
	b->data[at] = (uint8_t)(v >> 8);
	b->data[at + 1] = (uint8_t)v;
}

uint16_t get_u16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

uint32_t get_u32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void hex_encode_sep(const uint8_t *in, size_t n, char sep, int upper, char *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i)
			out[o++] = sep;
		out[o++] = digits[in[i] >> 4];
		out[o++] = digits[in[i] & 15];
	}
	out[o] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t hex_decode(const char *hex, uint8_t *out, size_t outcap)
{
	size_t n = 0;

	while (*hex) {
		int hi, lo;
		if (*hex == ':' || *hex == ' ') {
			hex++;
			continue;
		}
		hi = hexval((unsigned char)hex[0]);
		lo = hex[1] ? hexval((unsigned char)hex[1]) : -1;
		if (hi < 0 || lo < 0 || n >= outcap)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
		hex += 2;
	}
	return (ssize_t)n;
}

int ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	if (alen != blen)
		return 0;
	if (alen == 0)
		return 1;
	return CRYPTO_memcmp(a, b, alen) == 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void fsync_dir_of(const char *path)
{
	char copy[4096];
	int fd;

	snprintf(copy, sizeof copy, "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* path's data written to path.tmp.PID (not yet synced); tmp gets its name. */
static int write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp, size_t tmpcap,
		     char *err, size_t errlen)
{
	const uint8_t *p = data;
	int fd;

	snprintf(tmp, tmpcap, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		seterr(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) < 0)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	return fd;
fail:
	seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
	close(fd);
	unlink(tmp);
	return -1;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      char *err, size_t errlen)
{
	char tmp[4200];
	int fd = write_tmp(path, data, len, mode, tmp, sizeof tmp, err, errlen);

	if (fd < 0)
		return -1;
	if (fsync(fd) < 0) {
		seterr(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		seterr(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	fsync_dir_of(path);
	return 0;
}

int atomic_batch_write(struct atomic_batch *b, const char *path, const void *data, size_t len, mode_t mode,
		       char *err, size_t errlen)
{
	char tmp[4200], **grown;
	int fd;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		if (!(grown = realloc(b->paths, cap * 2 * sizeof *grown))) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
		b->paths = grown;
		b->cap = cap;
	}
	if ((fd = write_tmp(path, data, len, mode, tmp, sizeof tmp, err, errlen)) < 0)
		return -1;
	close(fd);
	b->paths[2 * b->n] = strdup(tmp);
	b->paths[2 * b->n + 1] = strdup(path);
	if (!b->paths[2 * b->n] || !b->paths[2 * b->n + 1]) {
		free(b->paths[2 * b->n]);
		free(b->paths[2 * b->n + 1]);
		unlink(tmp);
		seterr(err, errlen, "out of memory");
		return -1;
	}
	b->n++;
	return 0;
}

void atomic_batch_abort(struct atomic_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		unlink(b->paths[2 * i]);
		free(b->paths[2 * i]);
		free(b->paths[2 * i + 1]);
	}
	free(b->paths);
	memset(b, 0, sizeof *b);
}

int atomic_batch_commit(struct atomic_batch *b, const char *dir, char *err, size_t errlen)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;
	size_t i;

	if (fd < 0 || syncfs(fd) < 0) {
		seterr(err, errlen, "cannot sync %s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		atomic_batch_abort(b);
		return -1;
	}
	for (i = 0; i < b->n && rc == 0; i++)
		if (rename(b->paths[2 * i], b->paths[2 * i + 1]) < 0) {
			seterr(err, errlen, "cannot rename %s to %s: %s", b->paths[2 * i], b->paths[2 * i + 1],
			       strerror(errno));
			rc = -1;
		}
	fsync(fd);
	close(fd);
	for (size_t k = 0; k < b->n; k++) {
		if (k >= i || rc < 0)
			unlink(b->paths[2 * k]);
		free(b->paths[2 * k]);
		free(b->paths[2 * k + 1]);
	}
	free(b->paths);
	memset(b, 0, sizeof *b);
	return rc;
}

int read_file(const char *path, size_t max, uint8_t **out, size_t *outlen,
	      char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		seterr(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			uint8_t *p;
			cap = cap ? cap * 2 : 8192;
			p = realloc(data, cap + 1);
			if (!p) {
				seterr(err, errlen, "out of memory reading %s", path);
				goto fail;
			}
			data = p;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
		if (len > max) {
			seterr(err, errlen, "%s is larger than %zu bytes", path, max);
			goto fail;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		seterr(err, errlen, "cannot read %s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	if (!data) {
		data = malloc(1);
		if (!data) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
	data[len] = '\0';
	*out = data;
	*outlen = len;
	return 0;
fail:
	fclose(f);
	free(data);
	return -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

int remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int path_join(char *out, size_t outcap, const char *a, const char *b)
{
	int n = snprintf(out, outcap, "%s/%s", a, b);
	return (n < 0 || (size_t)n >= outcap) ? -1 : 0;
}

void fmt_time_utc(int64_t t, char *out, size_t outcap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, outcap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

int parse_time_utc(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec = 0, n = 0;
	char sep;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 ||
	    (sep != ' ' && sep != 'T'))
		return -1;
	s += n;
	if (*s == ':') {
		if (sscanf(s, ":%2d%n", &sec, &n) != 1)
			return -1;
		s += n;
	}
	if (*s == 'Z')
		s++;
	else if (strcmp(s, " UTC") == 0)
		s += 4;
	if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int64_t now_utc(void) { return (int64_t)time(NULL); }

/* "CSF", "BOT", "TCT" or "TAB" + 1..12 of [A-Z0-9]. */
static int soft_client_name(const char *name, size_t n)
{
	static const char *const prefixes[] = { "CSF", "BOT", "TCT", "TAB" };
	int known = 0;

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		known |= strncmp(name, prefixes[i], 3) == 0;
	if (!known || n < 4 || n > 15)
		return 0;
	for (size_t i = 3; i < n; i++)
		if (!isdigit((unsigned char)name[i]) && !isupper((unsigned char)name[i]))
			return 0;
	return 1;
}

int devname_valid(const char *name)
{
	size_t n = strlen(name);

	if (n != 15 || strncmp(name, "SEP", 3) != 0)
		return soft_client_name(name, n);
	for (size_t i = 3; i < n; i++)
		if (!isxdigit((unsigned char)name[i]) || islower((unsigned char)name[i]))
			return 0;
	return 1;
}

int devname_normalize(const char *in, char *out, size_t cap)
{
	char hex[13];
	size_t n = 0, len = strlen(in);
	const char *p = in;
	char sep = 0;

	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	while (len && isspace((unsigned char)*p))
		p++, len--;
	if (len >= 3 && strncasecmp(p, "SEP", 3) == 0)
		p += 3, len -= 3;
	for (size_t i = 0; i < len; i++) {
		if (isxdigit((unsigned char)p[i]) && n < 12) {
			hex[n++] = (char)toupper((unsigned char)p[i]);
			continue;
		}
		if (!strchr(":-.", p[i]) || i == 0 || i + 1 == len || (sep && p[i] != sep) ||
		    !isxdigit((unsigned char)p[i - 1]))
			return -1;
		sep = p[i];
	}
	hex[n] = '\0';
	if (n != 12 || cap < 16)
		return -1;
	snprintf(out, cap, "SEP%s", hex);
	return 0;
}

/* Length of the character at p (at most `left` bytes) when it is printable
 * text: ASCII other than a control character, or well-formed UTF-8 (no
 * overlong form, surrogate or value above U+10FFFF) other than a C1 control;
 * 0 otherwise. */
static size_t text_char_len(const unsigned char *p, size_t left)
{
	unsigned c = p[0], cp;
	size_t n;

	if (c < 0x80)
		return c < 0x20 || c == 0x7f ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else
		return 0;
	if (n >= left)
		return 0;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n + 1;
}

int text_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;

	while (left > 0) {
		if ((n = text_char_len(p, left)) == 0)
			return 0;
		p += n;
		left -= n;
	}
	return 1;
}

/* One unit of escaped text: how many source bytes it takes (*used) and how
 * many bytes it is shown as (the return value). */
static size_t escape_unit(const unsigned char *p, size_t left, int backslash, size_t *used)
{
	size_t n = text_char_len(p, left);

	if (backslash && p[0] == '\\') {
		*used = 1;
		return 2;
	}
	*used = n ? n : 1;
	return n ? n : 4;
}

static size_t escape_text(char *dst, size_t cap, const char *src, size_t srclen, int backslash)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	unsigned char small[256], *copy = NULL;
	size_t need = 0, fit = 0, fit_src = 0, used, w, o = 0;

	for (size_t i = 0; i < srclen; i += used) {
		w = escape_unit(s + i, srclen - i, backslash, &used);
		if (need == fit && cap > 0 && need + w < cap) {
			fit += w;
			fit_src = i + used;
		}
		need += w;
	}
	if (cap == 0)
		return need;
	if (dst == src && fit != fit_src) {
		/* in place and growing: read from a copy */
		copy = fit_src <= sizeof small ? small : malloc(fit_src);
		if (!copy) {
			dst[0] = '\0';
			return need;
		}
		memcpy(copy, s, fit_src);
		s = copy;
	}
	for (size_t i = 0; i < fit_src; i += used) {
		w = escape_unit(s + i, fit_src - i, backslash, &used);
		if (w == used) {
			memmove(dst + o, s + i, used);
		} else if (w == 2) {
			dst[o] = dst[o + 1] = '\\';
		} else {
			dst[o] = '\\';
			dst[o + 1] = 'x';
			dst[o + 2] = hex[s[i] >> 4];
			dst[o + 3] = hex[s[i] & 0xf];
		}
		o += w;
	}
	dst[o] = '\0';
	if (copy != small)
		free(copy);
	return need;
}

size_t text_escape(char *dst, size_t cap, const char *src, size_t srclen)
{
	return escape_text(dst, cap, src, srclen, 1);
}

size_t text_escape_controls(char *dst, size_t cap, const char *src, size_t srclen)
{
	return escape_text(dst, cap, src, srclen, 0);
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", ISO with Z, or an age "30m|12h|7d|45s". */
int parse_time_or_age(const char *s, int64_t *out)
{
	char buf[40], *end;
	long long v;

	if (parse_time_utc(s, out) == 0)
		return 0;
	if (strlen(s) == 10 && snprintf(buf, sizeof buf, "%s 00:00", s) > 0 && parse_time_utc(buf, out) == 0)
		return 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	if (v < 0 || v > 100LL * 365 * 86400 || end[0] == '\0' || end[1] != '\0')
		return -1;
	switch (*end) {
	case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	case 'w': v *= 7 * 86400; break;
	default: return -1;
	}
	*out = now_utc() - (int64_t)v;
	return 0;
}

int send_all(int fd, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void prom_counter_family(struct buf *out, const char *name, const char *help, const char *label,
			 const char *const *values, const atomic_ullong *counts, int n)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (int i = 0; i < n; i++)
		buf_printf(out, "%s{%s=\"%s\"} %llu\n", name, label, values[i], atomic_load(&counts[i]));
}
