/*
 * tls_parse.h: what one direction of a TCP connection says in the clear
 * while a TLS handshake runs.
 *
 * Bytes in (the reassembled stream of one side, from its first byte), facts
 * out: the hello and its version, the server's cipher suite and the version
 * it chose (TLS 1.3 through supported_versions), the certificate chain the
 * side sent (TLS 1.0-1.2 send it in the clear), whether the server asked for
 * a client certificate, and the alerts sent before encryption started.
 *
 * Pure: no I/O, no OpenSSL, no globals; every length is checked against the
 * bytes that are there, so any input is safe (fuzz/fuzz_tls_parse.c). The
 * parser stops at the first ChangeCipherSpec or encrypted record of the side:
 * what follows is not readable. Memory is bounded: one handshake message of
 * at most TLS_MAX_HANDSHAKE bytes is buffered, at most TLS_MAX_CHAIN
 * certificates are copied.
 */
#ifndef OPENCAPF_DIAG_TLS_PARSE_H
#define OPENCAPF_DIAG_TLS_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define TLS_MAX_RECORD (16384 + 2048)    /* TLSCiphertext limit of RFC 5246 */
#define TLS_MAX_HANDSHAKE (64 * 1024)    /* one handshake message; phone chains are a few KiB */
#define TLS_MAX_CHAIN 10
#define TLS_MAX_ALERTS 4

/* Content types and handshake types used here (RFC 5246, RFC 8446). */
enum {
	TLS_CT_CHANGE_CIPHER_SPEC = 20, TLS_CT_ALERT = 21, TLS_CT_HANDSHAKE = 22, TLS_CT_APPLICATION_DATA = 23,
	TLS_HT_CLIENT_HELLO = 1, TLS_HT_SERVER_HELLO = 2, TLS_HT_CERTIFICATE = 11,
	TLS_HT_SERVER_KEY_EXCHANGE = 12, TLS_HT_CERTIFICATE_REQUEST = 13, TLS_HT_SERVER_HELLO_DONE = 14,
	TLS_HT_CERTIFICATE_VERIFY = 15, TLS_HT_CLIENT_KEY_EXCHANGE = 16,
};

enum tls_side_state {
	TLS_SIDE_EMPTY,        /* no byte yet */
	TLS_SIDE_CLEAR,        /* records read so far are in the clear */
	TLS_SIDE_ENCRYPTED,    /* ChangeCipherSpec or encrypted records: parsing stopped */
	TLS_SIDE_NOT_TLS,      /* the first bytes are not a TLS record */
	TLS_SIDE_ERROR,        /* malformed record or message: `error` says where */
};

struct tls_cert {
	uint8_t *der;          /* malloc'd copy */
	size_t len;
};

struct tls_alert {
	uint8_t level;         /* 1 warning, 2 fatal */
	uint8_t desc;          /* AlertDescription */
};

/* What one side sent. Zero-initialise, feed bytes with tls_side_feed (in
 * any chunks), read the fields, then tls_side_free. */
struct tls_side {
	enum tls_side_state state;
	char error[160];

	int client_hello;           /* a ClientHello was seen */
	int server_hello;           /* a ServerHello was seen */
	int hello_retry;            /* the ServerHello was a TLS 1.3 HelloRetryRequest */
	uint16_t record_version;    /* of the first record */
	uint16_t hello_version;     /* legacy_version field of the hello */
	uint16_t max_version;       /* ClientHello: highest of supported_versions, else hello_version */
	uint16_t selected_version;  /* ServerHello: supported_versions if present, else hello_version */
	uint16_t cipher;            /* ServerHello: the cipher suite */
	size_t ciphers_offered;     /* ClientHello: number of cipher suites */
	char sni[256];              /* ClientHello: server_name (host_name), "" if none */
	int cert_request;           /* a CertificateRequest was seen */
	int certificate_msg;        /* a Certificate message was seen (its chain may be empty) */
	int cert_verify;            /* a CertificateVerify was seen */
	size_t ncerts;              /* certificates copied into certs[] */
	size_t ncerts_total;        /* certificates in the message (> ncerts when the chain is longer) */
	struct tls_cert certs[TLS_MAX_CHAIN];
	size_t nalerts;
	struct tls_alert alerts[TLS_MAX_ALERTS];
	size_t nmsgs;               /* handshake messages read in the clear */
	uint8_t msg_types[16];      /* the first 16 of them, in order */
	size_t records;             /* records read, clear or not */
	uint64_t bytes;             /* bytes fed */

	/* parser state */
	uint8_t hdr[5];
	size_t hdr_have;
	size_t rec_left;            /* bytes of the current record still to come */
	uint8_t rec_type;
	uint8_t alert_buf[2];
	size_t alert_have;
	uint64_t rec_start;         /* stream offset of the current record, for errors */
	uint8_t hs_hdr[4];
	size_t hs_hdr_have;
	uint8_t *hs;                /* the body of the handshake message being assembled (malloc'd) */
	size_t hs_have, hs_len;
};

/* Feed the next bytes of the side's stream. Returns 0 while more may be
 * useful, 1 once parsing stopped (encrypted, not TLS, error): later bytes
 * are counted but not read. */
int tls_side_feed(struct tls_side *s, const uint8_t *data, size_t len);
/* 1 once the side no longer needs bytes (same as the last feed's answer). */
int tls_side_done(const struct tls_side *s);
/* Free the parsing buffers, keep the facts (certs stay until tls_side_free). */
void tls_side_finish(struct tls_side *s);
void tls_side_free(struct tls_side *s);

/* "TLS 1.2", "TLS 1.0", "SSL 3.0", "TLS 1.3", or "0x7f1c" for others. */
const char *tls_version_name(uint16_t v, char *buf, size_t cap);
/* OpenSSL's name of a cipher suite ("AES256-SHA", "TLS_AES_128_GCM_SHA256"),
 * as phones log them, or "0x00ff"-style hex for one not in the table. */
const char *tls_cipher_name(uint16_t suite, char *buf, size_t cap);
/* OpenSSL's long description of an alert ("unknown CA", "certificate expired"),
 * NULL for an unknown code. */
const char *tls_alert_name(uint8_t desc);
/* "ClientHello", "Certificate", ... or NULL. */
const char *tls_handshake_name(uint8_t type);

/* A quick look at the first bytes of a stream: 1 if they start a TLS (or
 * SSLv2-compatible hello) record, 0 if not, -1 if too few bytes to tell. */
int tls_looks_like_tls(const uint8_t *data, size_t len);

#endif
