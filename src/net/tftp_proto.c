/*
 * tftp_proto.c: parsing and building TFTP packets (tftp_proto.h): RFC 1350
 * requests, acknowledgements and errors, RFC 2347 options with blksize
 * (RFC 2348) and tsize (RFC 2349). Every read is bounds-checked against the
 * packet length; nothing here does I/O or allocates.
 */
#include "net/tftp_proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

static const char *const error_texts[] = {
	"not defined", "file not found", "access violation", "disk full or allocation exceeded",
	"illegal TFTP operation", "unknown transfer ID", "file already exists", "no such user",
	"option negotiation refused",
};

const char *tftp_error_text(int code)
{
	if (code < 0 || code >= (int)(sizeof error_texts / sizeof error_texts[0]))
		return "unknown error";
	return error_texts[code];
}

/* The NUL-terminated string at *pos; -1 when no NUL comes before the end. */
static int next_str(const uint8_t *p, size_t len, size_t *pos, const char **s, size_t *slen)
{
	const uint8_t *nul;

	if (*pos >= len)
		return -1;
	nul = memchr(p + *pos, '\0', len - *pos);
	if (!nul)
		return -1;
	*s = (const char *)p + *pos;
	*slen = (size_t)(nul - (p + *pos));
	*pos += *slen + 1;
	return 0;
}

/* A decimal number of at most maxdigits digits, nothing else. */
static int parse_number(const char *s, size_t len, size_t maxdigits, uint64_t *v)
{
	uint64_t n = 0;

	if (len == 0 || len > maxdigits)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*v = n;
	return 0;
}

static int fail(int *code, int c, char *why, size_t whylen, const char *msg)
{
	*code = c;
	seterr(why, whylen, "%s", msg);
	return -1;
}

static int take_blksize(struct tftp_request *r, const char *v, size_t vlen, int *code, char *why,
			size_t whylen)
{
	uint64_t n = 0;

	if (r->has_blksize)
		return 0;
	if (parse_number(v, vlen, 6, &n) < 0 || n < TFTP_MIN_BLKSIZE || n > TFTP_MAX_BLKSIZE) {
		*code = TFTP_EOPTNEG;
		seterr(why, whylen, "blksize \"%.*s\" is not a number of %d..%d", (int)(vlen < 12 ? vlen : 12),
		       v, TFTP_MIN_BLKSIZE, TFTP_MAX_BLKSIZE);
		return -1;
	}
	r->has_blksize = 1;
	r->blksize = (unsigned)n;
	return 0;
}

static int take_option(struct tftp_request *r, const char *name, size_t nlen, const char *v,
		       size_t vlen, int *code, char *why, size_t whylen)
{
	if (nlen == 7 && strncasecmp(name, "blksize", 7) == 0)
		return take_blksize(r, v, vlen, code, why, whylen);
	if (nlen == 5 && strncasecmp(name, "tsize", 5) == 0) {
		if (r->has_tsize)
			return 0;
		if (parse_number(v, vlen, 19, &r->tsize) < 0)
			return fail(code, TFTP_EOPTNEG, why, whylen, "tsize is not a number");
		r->has_tsize = 1;
		return 0;
	}
	if (r->unknown_options++ == 0)
		snprintf(r->first_unknown, sizeof r->first_unknown, "%.*s",
			 (int)(nlen < sizeof r->first_unknown - 1 ? nlen : sizeof r->first_unknown - 1),
			 name);
	return 0;
}

static int parse_mode(struct tftp_request *r, const char *m, size_t mlen, int *code, char *why,
		      size_t whylen)
{
	static const char *const modes[] = { "octet", "netascii", "mail" };

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (mlen == strlen(modes[i]) && strncasecmp(m, modes[i], mlen) == 0) {
			snprintf(r->mode, sizeof r->mode, "%s", modes[i]);
			return 0;
		}
	return fail(code, TFTP_EBADOP, why, whylen, "unknown transfer mode");
}

static int parse_options(struct tftp_request *r, const uint8_t *p, size_t len, size_t pos,
			 int *code, char *why, size_t whylen)
{
	const char *name, *val;
	size_t nlen, vlen;

	while (pos < len) {
		if (next_str(p, len, &pos, &name, &nlen) < 0)
			return fail(code, TFTP_EBADOP, why, whylen, "option name without its NUL");
		if (nlen == 0 && pos == len)
			break; /* a stray NUL at the end */
		if (next_str(p, len, &pos, &val, &vlen) < 0)
			return fail(code, TFTP_EBADOP, why, whylen, "option without a value");
		if (take_option(r, name, nlen, val, vlen, code, why, whylen) < 0)
			return -1;
	}
	return 0;
}

int tftp_parse_request(const uint8_t *p, size_t len, struct tftp_request *r, int *code, char *why,
		       size_t whylen)
{
	const char *name, *mode;
	size_t nlen, mlen, pos = 2;

	memset(r, 0, sizeof *r);
	if (len < 4)
		return fail(code, TFTP_EBADOP, why, whylen, "packet shorter than a request");
	r->opcode = get_u16(p);
	if (r->opcode != TFTP_RRQ && r->opcode != TFTP_WRQ)
		return fail(code, TFTP_EBADOP, why, whylen, "not a read or write request");
	if (len > TFTP_MAX_REQUEST)
		return fail(code, TFTP_EBADOP, why, whylen, "request over 512 bytes");
	if (next_str(p, len, &pos, &name, &nlen) < 0 || next_str(p, len, &pos, &mode, &mlen) < 0)
		return fail(code, TFTP_EBADOP, why, whylen, "file name or mode without its NUL");
	if (nlen == 0 || nlen > TFTP_NAME_MAX)
		return fail(code, TFTP_EBADOP, why, whylen, "empty file name or over 255 bytes");
	memcpy(r->filename, name, nlen);
	r->filename[nlen] = '\0';
	if (parse_mode(r, mode, mlen, code, why, whylen) < 0)
		return -1;
	return parse_options(r, p, len, pos, code, why, whylen);
}

int tftp_parse_reply(const uint8_t *p, size_t len, uint16_t *block, uint16_t *code)
{
	int op;

	if (len < 4)
		return -1;
	op = get_u16(p);
	if (op == TFTP_ACK)
		*block = get_u16(p + 2);
	else if (op == TFTP_ERROR)
		*code = get_u16(p + 2);
	return op;
}

static int is_dotdot(const char *s, size_t n)
{
	return n == 2 && s[0] == '.' && s[1] == '.';
}

const char *tftp_name_check(const char *name)
{
	const char *c = name;

	if (!name[0])
		return "empty file name";
	if (name[0] == '/')
		return "absolute path";
	for (const char *s = name; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return "control character in the file name";
	while (*c) {
		size_t n = strcspn(c, "/");

		if (is_dotdot(c, n))
			return "\"..\" in the path";
		c += n;
		if (*c == '/')
			c++;
	}
	return NULL;
}

/* ---- builders ---- */

static size_t put_str(uint8_t *out, size_t cap, size_t at, const char *s)
{
	size_t n = strlen(s) + 1;

	if (at == 0 || at + n > cap)
		return 0;
	memcpy(out + at, s, n);
	return at + n;
}

size_t tftp_build_error(uint8_t *out, size_t cap, uint16_t code, const char *msg)
{
	if (cap < 5)
		return 0;
	out[0] = 0;
	out[1] = TFTP_ERROR;
	out[2] = (uint8_t)(code >> 8);
	out[3] = (uint8_t)code;
	return put_str(out, cap, 4, msg);
}

size_t tftp_build_oack(uint8_t *out, size_t cap, const struct tftp_request *r, unsigned blksize,
		       uint64_t tsize)
{
	char num[24];
	size_t at = 2;

	if (cap < 2)
		return 0;
	out[0] = 0;
	out[1] = TFTP_OACK;
	if (r->has_blksize) {
		snprintf(num, sizeof num, "%u", blksize);
		at = put_str(out, cap, put_str(out, cap, at, "blksize"), num);
	}
	if (r->has_tsize) {
		snprintf(num, sizeof num, "%llu", (unsigned long long)tsize);
		at = put_str(out, cap, put_str(out, cap, at, "tsize"), num);
	}
	return at;
}

void tftp_put_data_header(uint8_t *out, uint16_t block)
{
	out[0] = 0;
	out[1] = TFTP_DATA;
	out[2] = (uint8_t)(block >> 8);
	out[3] = (uint8_t)block;
}

size_t tftp_build_ack(uint8_t *out, size_t cap, uint16_t block)
{
	if (cap < 4)
		return 0;
	out[0] = 0;
	out[1] = TFTP_ACK;
	out[2] = (uint8_t)(block >> 8);
	out[3] = (uint8_t)block;
	return 4;
}

size_t tftp_build_request(uint8_t *out, size_t cap, int opcode, const char *name, const char *mode,
			  const char *const *opts, size_t nopts)
{
	size_t at = 2;

	if (cap < 2)
		return 0;
	out[0] = 0;
	out[1] = (uint8_t)opcode;
	at = put_str(out, cap, put_str(out, cap, at, name), mode);
	for (size_t i = 0; i < nopts; i++)
		at = put_str(out, cap, at, opts[i]);
	return at;
}
