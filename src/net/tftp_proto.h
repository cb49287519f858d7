/*
 * tftp_proto.h: TFTP packets, pure (no I/O): RFC 1350 with the option
 * extension of RFC 2347 and the options phones send, blksize (RFC 2348) and
 * tsize (RFC 2349). The server (tftp_server.c) reads requests and
 * acknowledgements with these parsers and writes DATA, OACK and ERROR
 * packets with these builders; the fuzz target drives the parsers.
 *
 * What a request may be: opcode RRQ or WRQ, a file name and a mode, each
 * NUL-terminated, then option/value pairs, each NUL-terminated, the whole at
 * most TFTP_MAX_REQUEST bytes (RFC 2347). Option names are case-insensitive;
 * an option this server does not know is counted and left out of the OACK
 * (RFC 2347); a repeated option keeps its first value. A blksize that is not
 * a number of 8..65464 makes the request fail option negotiation (error 8);
 * tsize in a read request must be a number (normally 0), else error 8 too.
 *
 * File names are checked by tftp_name_check: relative, no "..", no empty
 * component, printable; the server additionally resolves the name inside its
 * folder.
 */
#ifndef OPENCAPF_NET_TFTP_PROTO_H
#define OPENCAPF_NET_TFTP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define TFTP_MAX_REQUEST 512      /* RFC 2347: request packets stay within 512 bytes */
#define TFTP_NAME_MAX 255
#define TFTP_DEFAULT_BLKSIZE 512
#define TFTP_MIN_BLKSIZE 8
#define TFTP_MAX_BLKSIZE 65464
#define TFTP_HDR 4                /* opcode + block number of DATA */

enum tftp_opcode {
	TFTP_RRQ = 1,
	TFTP_WRQ = 2,
	TFTP_DATA = 3,
	TFTP_ACK = 4,
	TFTP_ERROR = 5,
	TFTP_OACK = 6,
};

enum tftp_error_code {
	TFTP_EUNDEF = 0,       /* not defined, see the message */
	TFTP_ENOTFOUND = 1,    /* file not found */
	TFTP_EACCESS = 2,      /* access violation */
	TFTP_ENOSPACE = 3,
	TFTP_EBADOP = 4,       /* illegal TFTP operation */
	TFTP_EBADID = 5,       /* unknown transfer ID */
	TFTP_EEXISTS = 6,
	TFTP_ENOUSER = 7,
	TFTP_EOPTNEG = 8,      /* option negotiation refused (RFC 2347) */
};

struct tftp_request {
	int opcode;                      /* TFTP_RRQ or TFTP_WRQ */
	char filename[TFTP_NAME_MAX + 1];
	char mode[16];                   /* lower case: "octet", "netascii", "mail" */
	int has_blksize;
	unsigned blksize;                /* 8..65464 when has_blksize */
	int has_tsize;
	uint64_t tsize;
	unsigned unknown_options;        /* options left out of the OACK */
	char first_unknown[32];          /* the first one's name, for the log (escaped by the caller) */
};

/* Parse a request. 0 when it is usable; otherwise -1 with *code the error
 * packet's code (4 malformed, 8 a bad option value) and why a sentence. */
int tftp_parse_request(const uint8_t *p, size_t len, struct tftp_request *r, int *code, char *why,
		       size_t whylen);

/* A packet from a client during a transfer: ACK (*block) or ERROR (*code).
 * Returns the opcode, or -1 when malformed. */
int tftp_parse_reply(const uint8_t *p, size_t len, uint16_t *block, uint16_t *code);

/* NULL when name may be served, else why not (access violation). */
const char *tftp_name_check(const char *name);

/* Builders: bytes written into out (cap bytes), 0 when it does not fit. */
size_t tftp_build_error(uint8_t *out, size_t cap, uint16_t code, const char *msg);
size_t tftp_build_oack(uint8_t *out, size_t cap, const struct tftp_request *r, unsigned blksize,
		       uint64_t tsize);
/* The 4-byte DATA header; the data follows it in the caller's buffer. */
void tftp_put_data_header(uint8_t *out, uint16_t block);
size_t tftp_build_ack(uint8_t *out, size_t cap, uint16_t block);
size_t tftp_build_request(uint8_t *out, size_t cap, int opcode, const char *name, const char *mode,
			  const char *const *opts, size_t nopts);

/* "file not found", ... for a code (the standard RFC 1350 wording). */
const char *tftp_error_text(int code);

#endif
