/*
 * fuzz_capf_msg.c: fuzz target for the CAPF message codec
 * (src/wire/capf_msg.h). Any bytes must either decode or be refused with an
 * error sentence. What decodes must frame to exactly its length, re-encode to
 * the same bytes, and survive every accessor; the value parsers (wrapped
 * certificate, SHA2_SIGNED_DATA, SUDI_DATA) must rebuild what they accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/capf_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void cert_round_trip(const uint8_t *v, size_t n)
{
	const uint8_t *der;
	size_t derlen;
	uint8_t type;
	char err[ERRLEN] = "";
	struct buf b;

	if (capf_cert_unwrap(v, n, &der, &derlen, &type, err, sizeof err) != 0) {
		check(err[0] != '\0');
		return;
	}
	check(der == v + 5 && derlen == n - 5);
	buf_init(&b);
	capf_cert_wrap(&b, der, derlen, type);
	/* Byte 3 is not checked by unwrap; wrap always writes 0 there. */
	check(!b.failed && b.len == n && memcmp(b.data, v, 3) == 0 &&
	      memcmp(b.data + 4, v + 4, n - 4) == 0);
	buf_free(&b);
}

static void sha2_round_trip(const uint8_t *v, size_t n)
{
	const uint8_t *sig;
	size_t siglen;
	uint8_t id;
	char err[ERRLEN] = "";
	struct buf b;

	if (capf_sha2_signed_parse(v, n, &id, &sig, &siglen, err, sizeof err) != 0) {
		check(err[0] != '\0');
		return;
	}
	buf_init(&b);
	capf_sha2_signed_build(&b, id, sig, siglen);
	check(!b.failed && b.len == n && memcmp(b.data, v, n) == 0);
	buf_free(&b);
}

static void sudi_round_trip(const uint8_t *v, size_t n)
{
	struct capf_sudi s, again;
	char err[ERRLEN] = "";
	struct buf b;

	if (capf_sudi_parse(v, n, &s, err, sizeof err) != 0) {
		check(err[0] != '\0');
		return;
	}
	buf_init(&b);
	capf_sudi_build(&b, &s);
	check(!b.failed && b.len == n); /* same parts, maybe in another order */
	check(capf_sudi_parse(b.data, b.len, &again, err, sizeof err) == 0);
	check(again.certlen == s.certlen && memcmp(again.cert, s.cert, s.certlen) == 0);
	check(again.sig_sha1_len == s.sig_sha1_len && again.sig_sha512_len == s.sig_sha512_len);
	buf_free(&b);
}

static void exercise(const struct capf_msg *m)
{
	static const uint8_t text_tags[] = { CAPF_TAG_DEVICE_NAME, CAPF_TAG_PASSWORD,
					     CAPF_TAG_REASON_INFO };
	const struct capf_elem *e;
	char text[128];
	uint8_t u8;
	uint16_t u16;

	(void)capf_cmd_name(m->cmd);
	for (size_t i = 0; i < m->nelems; i++) {
		e = &m->elems[i];
		check(capf_tag_name(e->tag) != NULL);
		check(capf_msg_find(m, e->tag) != NULL);
		if (capf_msg_get_u8(m, e->tag, &u8) == 0)
			(void)capf_reason_name(u8);
		(void)capf_msg_get_u16(m, e->tag, &u16);
	}
	for (size_t i = 0; i < sizeof text_tags; i++)
		if (capf_msg_get_cstr(m, text_tags[i], text, sizeof text) == 0)
			check(strlen(text) + 1 == capf_msg_find(m, text_tags[i])->len);
	if ((e = capf_msg_find(m, CAPF_TAG_CERTIFICATE)))
		cert_round_trip(e->val, e->len);
	if ((e = capf_msg_find(m, CAPF_TAG_SHA2_SIGNED_DATA)))
		sha2_round_trip(e->val, e->len);
	if ((e = capf_msg_find(m, CAPF_TAG_SUDI_DATA)))
		sudi_round_trip(e->val, e->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capf_msg m;
	char err[ERRLEN] = "";
	size_t total = 0;
	int framed = capf_frame_length(data, size, &total, err, sizeof err);
	struct buf b;

	err[0] = '\0';
	if (capf_msg_decode(&m, data, size, err, sizeof err) != 0) {
		check(err[0] != '\0');
	} else {
		check(framed == 1 && total == size);
		buf_init(&b);
		check(capf_msg_encode(&m, &b) == 0);
		check(b.len == size && memcmp(b.data, data, size) == 0);
		buf_free(&b);
		exercise(&m);
	}
	/* The value parsers see raw bytes too, not only what fits a message. */
	cert_round_trip(data, size);
	sha2_round_trip(data, size);
	sudi_round_trip(data, size);
	return 0;
}
