/*
 * tls_parse.c: the clear part of one side of a TLS handshake (tls_parse.h).
 *
 * Two layers, both streaming so that bytes may arrive in any chunks:
 *  - records: a 5-byte header (type, version, length) then the fragment;
 *    handshake fragments are appended to the message being assembled,
 *    alert fragments to a 2-byte alert, anything else is skipped;
 *  - handshake messages: a 4-byte header (type, 24-bit length) then the
 *    body, which may span records; a complete message is decoded with a
 *    bounds-checked reader (struct rd) that never reads past its slice.
 * The first ChangeCipherSpec or application-data record ends the clear part.
 * A malformed record or message stops the side with an error naming the
 * stream offset; the facts gathered before stay valid.
 */
#include "diag/tls_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a bounds-checked reader over one message ---- */

struct rd {
	const uint8_t *p;
	size_t left;
	int bad;                 /* set by any read past the end; reads then return 0 */
};

static uint32_t rd_uint(struct rd *r, size_t n)
{
	uint32_t v = 0;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

/* A sub-reader over the next n bytes (which are skipped in r). */
static struct rd rd_sub(struct rd *r, size_t n)
{
	struct rd s = { r->p, n, 0 };

	if (r->bad || r->left < n) {
		r->bad = 1;
		s.left = 0;
		s.bad = 1;
		return s;
	}
	r->p += n;
	r->left -= n;
	return s;
}

/* A sub-reader over a vector with an n-byte length prefix. */
static struct rd rd_vec(struct rd *r, size_t lenbytes)
{
	size_t n = rd_uint(r, lenbytes);

	return rd_sub(r, n);
}

/* ---- names ---- */

const char *tls_version_name(uint16_t v, char *buf, size_t cap)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default:
		snprintf(buf, cap, "0x%04x", v);
		return buf;
	}
}

static const struct { uint16_t id; const char *name; } cipher_names[] = {
	{ 0x000a, "DES-CBC3-SHA" }, { 0x002f, "AES128-SHA" }, { 0x0033, "DHE-RSA-AES128-SHA" },
	{ 0x0035, "AES256-SHA" }, { 0x0039, "DHE-RSA-AES256-SHA" }, { 0x003c, "AES128-SHA256" },
	{ 0x003d, "AES256-SHA256" }, { 0x009c, "AES128-GCM-SHA256" }, { 0x009d, "AES256-GCM-SHA384" },
	{ 0x009e, "DHE-RSA-AES128-GCM-SHA256" }, { 0x009f, "DHE-RSA-AES256-GCM-SHA384" },
	{ 0x1301, "TLS_AES_128_GCM_SHA256" }, { 0x1302, "TLS_AES_256_GCM_SHA384" },
	{ 0x1303, "TLS_CHACHA20_POLY1305_SHA256" }, { 0xc009, "ECDHE-ECDSA-AES128-SHA" },
	{ 0xc00a, "ECDHE-ECDSA-AES256-SHA" }, { 0xc013, "ECDHE-RSA-AES128-SHA" },
	{ 0xc014, "ECDHE-RSA-AES256-SHA" }, { 0xc023, "ECDHE-ECDSA-AES128-SHA256" },
	{ 0xc024, "ECDHE-ECDSA-AES256-SHA384" }, { 0xc027, "ECDHE-RSA-AES128-SHA256" },
	{ 0xc028, "ECDHE-RSA-AES256-SHA384" }, { 0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ 0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384" }, { 0xc02f, "ECDHE-RSA-AES128-GCM-SHA256" },
	{ 0xc030, "ECDHE-RSA-AES256-GCM-SHA384" }, { 0xcca8, "ECDHE-RSA-CHACHA20-POLY1305" },
	{ 0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305" },
};

const char *tls_cipher_name(uint16_t suite, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof cipher_names / sizeof cipher_names[0]; i++)
		if (cipher_names[i].id == suite)
			return cipher_names[i].name;
	snprintf(buf, cap, "0x%04x", suite);
	return buf;
}

const char *tls_alert_name(uint8_t desc)
{
	switch (desc) {
	case 0: return "close notify";
	case 10: return "unexpected_message";
	case 20: return "bad record mac";
	case 21: return "decryption failed";
	case 22: return "record overflow";
	case 30: return "decompression failure";
	case 40: return "handshake failure";
	case 41: return "no certificate";
	case 42: return "bad certificate";
	case 43: return "unsupported certificate";
	case 44: return "certificate revoked";
	case 45: return "certificate expired";
	case 46: return "certificate unknown";
	case 47: return "illegal parameter";
	case 48: return "unknown CA";
	case 49: return "access denied";
	case 50: return "decode error";
	case 51: return "decrypt error";
	case 60: return "export restriction";
	case 70: return "protocol version";
	case 71: return "insufficient security";
	case 80: return "internal error";
	case 86: return "inappropriate fallback";
	case 90: return "user canceled";
	case 100: return "no renegotiation";
	case 109: return "missing extension";
	case 110: return "unsupported extension";
	case 112: return "unrecognized name";
	case 116: return "certificate required";
	case 120: return "no application protocol";
	default: return NULL;
	}
}

const char *tls_handshake_name(uint8_t type)
{
	switch (type) {
	case 0: return "HelloRequest";
	case TLS_HT_CLIENT_HELLO: return "ClientHello";
	case TLS_HT_SERVER_HELLO: return "ServerHello";
	case 4: return "NewSessionTicket";
	case 8: return "EncryptedExtensions";
	case TLS_HT_CERTIFICATE: return "Certificate";
	case TLS_HT_SERVER_KEY_EXCHANGE: return "ServerKeyExchange";
	case TLS_HT_CERTIFICATE_REQUEST: return "CertificateRequest";
	case TLS_HT_SERVER_HELLO_DONE: return "ServerHelloDone";
	case TLS_HT_CERTIFICATE_VERIFY: return "CertificateVerify";
	case TLS_HT_CLIENT_KEY_EXCHANGE: return "ClientKeyExchange";
	case 20: return "Finished";
	case 22: return "CertificateStatus";
	default: return NULL;
	}
}

/* ---- errors ---- */

static void __attribute__((format(printf, 2, 3))) side_fail(struct tls_side *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof s->error, fmt, ap);
	va_end(ap);
	s->state = TLS_SIDE_ERROR;
}

/* ---- handshake messages ---- */

/* GREASE values (RFC 8701) are placeholders, never real versions. */
static int is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static void client_extension(struct tls_side *s, uint16_t type, struct rd *ext)
{
	if (type == 0) { /* server_name: list of (type, name) */
		struct rd list = rd_vec(ext, 2);
		while (list.left > 0 && !list.bad) {
			uint8_t kind = (uint8_t)rd_uint(&list, 1);
			struct rd name = rd_vec(&list, 2);
			if (kind == 0 && !name.bad && !s->sni[0] && name.left < sizeof s->sni) {
				for (size_t i = 0; i < name.left; i++) /* printable ASCII only */
					s->sni[i] = name.p[i] >= 0x20 && name.p[i] < 0x7f ? (char)name.p[i] : '?';
				s->sni[name.left] = '\0';
			}
		}
	} else if (type == 43) { /* supported_versions: 1-byte length, 2-byte versions */
		struct rd list = rd_vec(ext, 1);
		while (list.left >= 2) {
			uint16_t v = (uint16_t)rd_uint(&list, 2);
			if (!is_grease(v) && v > s->max_version)
				s->max_version = v;
		}
	}
}

/* Walk the extensions block, calling fn for each; -1 if malformed. */
static int walk_extensions(struct tls_side *s, struct rd *r,
			   void (*fn)(struct tls_side *, uint16_t, struct rd *))
{
	struct rd exts;

	if (r->left == 0)
		return 0; /* no extensions at all (allowed before TLS 1.3) */
	exts = rd_vec(r, 2);
	while (exts.left > 0 && !exts.bad) {
		uint16_t type = (uint16_t)rd_uint(&exts, 2);
		struct rd body = rd_vec(&exts, 2);
		if (!body.bad)
			fn(s, type, &body);
	}
	return exts.bad || r->bad ? -1 : 0;
}

static void client_hello(struct tls_side *s, struct rd *r)
{
	struct rd ciphers;

	s->client_hello = 1;
	s->hello_version = (uint16_t)rd_uint(r, 2);
	s->max_version = s->hello_version;
	rd_sub(r, 32);                 /* random */
	rd_vec(r, 1);                  /* session id */
	ciphers = rd_vec(r, 2);
	rd_vec(r, 1);                  /* compression methods */
	if (r->bad || ciphers.left % 2) {
		side_fail(s, "malformed ClientHello at stream offset %llu", (unsigned long long)s->rec_start);
		return;
	}
	s->ciphers_offered = ciphers.left / 2;
	if (walk_extensions(s, r, client_extension) < 0)
		side_fail(s, "malformed ClientHello extensions at stream offset %llu",
			  (unsigned long long)s->rec_start);
}

static void server_extension(struct tls_side *s, uint16_t type, struct rd *ext)
{
	if (type == 43 && ext->left == 2) /* supported_versions: the chosen one */
		s->selected_version = (uint16_t)rd_uint(ext, 2);
}

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void server_hello(struct tls_side *s, struct rd *r)
{
	struct rd random;

	s->server_hello = 1;
	s->hello_version = (uint16_t)rd_uint(r, 2);
	s->selected_version = s->hello_version;
	random = rd_sub(r, 32);
	rd_vec(r, 1);                  /* session id */
	s->cipher = (uint16_t)rd_uint(r, 2);
	rd_uint(r, 1);                 /* compression method */
	if (r->bad) {
		side_fail(s, "malformed ServerHello at stream offset %llu", (unsigned long long)s->rec_start);
		return;
	}
	s->hello_retry = memcmp(random.p, hrr_random, sizeof hrr_random) == 0;
	if (walk_extensions(s, r, server_extension) < 0)
		side_fail(s, "malformed ServerHello extensions at stream offset %llu",
			  (unsigned long long)s->rec_start);
}

/* TLS 1.0-1.2 Certificate: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
static void certificate(struct tls_side *s, struct rd *r)
{
	struct rd list = rd_vec(r, 3);

	if (s->certificate_msg)
		return; /* the first chain counts; a second one cannot be in the clear */
	s->certificate_msg = 1;
	if (r->bad || r->left != 0) {
		side_fail(s, "Certificate message: list length does not match the message (stream offset %llu)",
			  (unsigned long long)s->rec_start);
		return;
	}
	while (list.left > 0) {
		struct rd cert = rd_vec(&list, 3);
		if (cert.bad || cert.left == 0) {
			side_fail(s, "Certificate message: certificate %zu overruns the list (stream offset %llu)",
				  s->ncerts_total + 1, (unsigned long long)s->rec_start);
			return;
		}
		s->ncerts_total++;
		if (s->ncerts < TLS_MAX_CHAIN) {
			uint8_t *copy = malloc(cert.left);
			if (!copy) {
				side_fail(s, "out of memory");
				return;
			}
			memcpy(copy, cert.p, cert.left);
			s->certs[s->ncerts].der = copy;
			s->certs[s->ncerts++].len = cert.left;
		}
	}
}

static void handshake_message(struct tls_side *s, uint8_t type, const uint8_t *body, size_t len)
{
	struct rd r = { body, len, 0 };

	if (s->nmsgs < sizeof s->msg_types)
		s->msg_types[s->nmsgs] = type;
	s->nmsgs++;
	switch (type) {
	case TLS_HT_CLIENT_HELLO: client_hello(s, &r); break;
	case TLS_HT_SERVER_HELLO: server_hello(s, &r); break;
	case TLS_HT_CERTIFICATE: certificate(s, &r); break;
	case TLS_HT_CERTIFICATE_REQUEST: s->cert_request = 1; break;
	case TLS_HT_CERTIFICATE_VERIFY: s->cert_verify = 1; break;
	default: break;
	}
}

/* Handshake fragment bytes: complete messages are decoded as they close. */
static void handshake_bytes(struct tls_side *s, const uint8_t *p, size_t n)
{
	while (n > 0 && s->state == TLS_SIDE_CLEAR) {
		if (s->hs_hdr_have < 4) {
			s->hs_hdr[s->hs_hdr_have++] = *p++;
			n--;
			if (s->hs_hdr_have < 4)
				continue;
			s->hs_len = (size_t)s->hs_hdr[1] << 16 | (size_t)s->hs_hdr[2] << 8 | s->hs_hdr[3];
			if (s->hs_len > TLS_MAX_HANDSHAKE) {
				side_fail(s, "handshake message of %zu bytes at stream offset %llu exceeds %d bytes",
					  s->hs_len, (unsigned long long)s->rec_start, TLS_MAX_HANDSHAKE);
				return;
			}
			if (!(s->hs = malloc(s->hs_len ? s->hs_len : 1))) {
				side_fail(s, "out of memory");
				return;
			}
			s->hs_have = 0;
		} else {
			size_t take = s->hs_len - s->hs_have < n ? s->hs_len - s->hs_have : n;
			memcpy(s->hs + s->hs_have, p, take);
			s->hs_have += take;
			p += take;
			n -= take;
		}
		if (s->hs_hdr_have == 4 && s->hs_have == s->hs_len) {
			handshake_message(s, s->hs_hdr[0], s->hs, s->hs_len);
			free(s->hs);
			s->hs = NULL;
			s->hs_hdr_have = 0;
		}
	}
}

static void alert_bytes(struct tls_side *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->alert_buf[s->alert_have++] = p[i];
		if (s->alert_have < 2)
			continue;
		s->alert_have = 0;
		if (s->nalerts < TLS_MAX_ALERTS)
			s->alerts[s->nalerts++] = (struct tls_alert){ s->alert_buf[0], s->alert_buf[1] };
	}
}

/* ---- records ---- */

int tls_looks_like_tls(const uint8_t *data, size_t len)
{
	if (len < 3)
		return -1;
	if (data[0] >= TLS_CT_CHANGE_CIPHER_SPEC && data[0] <= 24 && data[1] == 3 && data[2] <= 4)
		return 1;
	/* SSLv2-compatible ClientHello: 2-byte header with the top bit set, then type 1 */
	return (data[0] & 0x80) && data[2] == 1;
}

/* A complete record header: check it and decide what its fragment is. */
static void record_header(struct tls_side *s)
{
	uint8_t type = s->hdr[0];
	size_t len = (size_t)s->hdr[3] << 8 | s->hdr[4];

	if (s->records == 0 && tls_looks_like_tls(s->hdr, 5) != 1) {
		s->state = TLS_SIDE_NOT_TLS;
		return;
	}
	if (s->records == 0 && (s->hdr[0] & 0x80)) {
		s->state = TLS_SIDE_NOT_TLS;
		snprintf(s->error, sizeof s->error, "SSLv2-compatible ClientHello (not decoded)");
		return;
	}
	if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > 24 || s->hdr[1] != 3 || len > TLS_MAX_RECORD) {
		side_fail(s, "bad TLS record header at stream offset %llu (type %u, version %u.%u, length %zu)",
			  (unsigned long long)s->rec_start, type, s->hdr[1], s->hdr[2], len);
		return;
	}
	if (s->records++ == 0)
		s->record_version = (uint16_t)(s->hdr[1] << 8 | s->hdr[2]);
	if (type == TLS_CT_CHANGE_CIPHER_SPEC || type == TLS_CT_APPLICATION_DATA) {
		s->state = TLS_SIDE_ENCRYPTED;
		return;
	}
	s->rec_type = type;
	s->rec_left = len;
}

int tls_side_feed(struct tls_side *s, const uint8_t *data, size_t len)
{
	s->bytes += len;
	if (s->state == TLS_SIDE_EMPTY && len > 0)
		s->state = TLS_SIDE_CLEAR;
	while (len > 0 && s->state == TLS_SIDE_CLEAR) {
		if (s->rec_left == 0) {
			if (s->hdr_have == 0)
				s->rec_start = s->bytes - len;
			s->hdr[s->hdr_have++] = *data++;
			len--;
			if (s->hdr_have == 5) {
				s->hdr_have = 0;
				record_header(s);
			}
			continue;
		}
		size_t take = s->rec_left < len ? s->rec_left : len;
		if (s->rec_type == TLS_CT_HANDSHAKE)
			handshake_bytes(s, data, take);
		else if (s->rec_type == TLS_CT_ALERT)
			alert_bytes(s, data, take);
		s->rec_left -= take;
		data += take;
		len -= take;
	}
	return tls_side_done(s);
}

int tls_side_done(const struct tls_side *s)
{
	return s->state == TLS_SIDE_ENCRYPTED || s->state == TLS_SIDE_NOT_TLS || s->state == TLS_SIDE_ERROR;
}

void tls_side_finish(struct tls_side *s)
{
	free(s->hs);
	s->hs = NULL;
	s->hs_hdr_have = 0;
}

void tls_side_free(struct tls_side *s)
{
	for (size_t i = 0; i < s->ncerts; i++)
		free(s->certs[i].der);
	free(s->hs);
	s->ncerts = 0;
	s->hs = NULL;
}
