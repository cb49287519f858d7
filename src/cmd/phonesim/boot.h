/*
 * boot.h: the pieces of `phonesim boot`: the phone's file client (fetch.c:
 * one file over HTTP, HTTPS or TFTP into memory, bounded in size and time)
 * and what the phone does with its configuration file (boot_config.c: the
 * signature against the ITL, decryption with its own key, the CAPF
 * elements read with libxml2).
 */
#ifndef OPENCAPF_PHONESIM_BOOT_H
#define OPENCAPF_PHONESIM_BOOT_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/phonesim/phonesim.h"

/* ---- the file client (fetch.c) ---- */

enum { FETCH_OK = 0, FETCH_NOT_FOUND = 1, FETCH_FAILED = -1 /* err says why */ };

struct fetch_opts {
	const char *host;         /* a name or a numeric IPv4/IPv6 address */
	int timeout_ms;           /* each wait: connect, a packet, a read */
	size_t max;               /* largest file accepted */
	unsigned tftp_blksize;    /* 0: plain RFC 1350 (512, no options) */
};

/* GET http://HOST:PORT/NAME. FETCH_NOT_FOUND on 404. */
int fetch_http(const struct fetch_opts *o, int port, const char *name, struct buf *out, char *err,
	       size_t errlen);
/* GET https://HOST:PORT/NAME, the server accepted only when trust(arg, its
 * certificate) returns 1 (else FETCH_FAILED, "not trusted"). */
int fetch_https(const struct fetch_opts *o, int port, const char *name, int (*trust)(void *arg, X509 *peer),
		void *arg, struct buf *out, char *err, size_t errlen);
/* An RFC 1350 read in octet mode with blksize and tsize (RFC 2347-2349).
 * FETCH_NOT_FOUND on TFTP error 1. */
int fetch_tftp(const struct fetch_opts *o, int port, const char *name, struct buf *out, char *err,
	       size_t errlen);

/* ---- the configuration file (boot_config.c) ---- */

#define BOOT_MAX_CAPF 8

struct boot_config {
	int full_config;          /* <fullConfig>: 1 true, 0 false, -1 absent */
	int encr_config;          /* <encrConfig>true */
	int security_mode;        /* <deviceSecurityMode>, -1 absent */
	int capf_auth_mode;       /* <capfAuthMode>, -1 absent */
	char capf[BOOT_MAX_CAPF][300]; /* capfList as HOST:PORT ([V6]:PORT), in order */
	size_t ncapf;
};

/* Parse a configuration (root <device>): 0, or -1 with err naming the line. */
int boot_config_parse(const uint8_t *xml, size_t len, const char *name, struct boot_config *c, char *err,
		      size_t errlen);
/* The content of a .sgn file verified with one of signers: 0 (*content and
 * *len point into data), or -1 with err. */
int boot_sgn_verify(const uint8_t *data, size_t len, STACK_OF(X509) *signers, const uint8_t **content,
		    size_t *content_len, char *err, size_t errlen);
/* Verify a .enc.sgn with signers and decrypt it with the phone's LSC key,
 * else its MIC key: the XML appended to xml. 0, or -1 with err. */
int boot_sgn_decrypt(const uint8_t *data, size_t len, STACK_OF(X509) *signers, const struct phone_dir *pd,
		     struct buf *xml, char *err, size_t errlen);

#endif
