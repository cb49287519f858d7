/*
 * sgn_build.c: writing `.sgn` / `.enc.sgn` files (sgn.h,
 * docs/protocol/provisioning.md §3-4): the header with every length
 * computed (HEADER_LENGTH, the containers), a zero signature of the
 * modulus's size, padding to a multiple of 4, then the content. Signing is
 * the caller's (pki_sgn.c): it signs sgn_signed_data of the decoded result
 * and writes the signature over the zeros.
 */
#include "wire/sgn.h"

#include <string.h>

#include "wire/tlv.h"

#define HEADER_ALIGN 4
#define MAX_SIG 512

static void put_u8(struct buf *out, uint8_t tag, uint8_t v)
{
	wire_tlv_put(out, tag, &v, 1);
}

static void put_u16(struct buf *out, uint8_t tag, uint16_t v)
{
	const uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	wire_tlv_put(out, tag, be, 2);
}

static void put_text(struct buf *out, uint8_t tag, const char *s)
{
	wire_tlv_put(out, tag, s, strlen(s) + 1); /* the NUL is part of the value */
}

static void put_container(struct buf *out, uint8_t tag, size_t len)
{
	buf_put_u8(out, tag);
	buf_put_u16(out, (uint16_t)len);
}

static size_t iv_info_len(void)
{
	return 4 + WIRE_TLV_HDR + SGN_AES_BLOCK + 5; /* tag 18, IV, PADDING */
}

static size_t key_info_len(const struct sgn_enc_spec *e)
{
	return 4 + 5 + 4 + WIRE_TLV_HDR + e->key_len; /* tag 22, KEY_SIZE, KEY_ALGORITHM, KEY */
}

static int check_spec(const struct sgn_spec *s, char *err, size_t errlen)
{
	const struct sgn_enc_spec *e = s->enc;

	if (!s->signer_name || !s->issuer_name || !s->filename || !s->serial || !s->serial_len) {
		seterr(err, errlen, "a signed file needs a signer name, issuer name, serial number "
		       "and file name");
		return -1;
	}
	if (sgn_modulus_bytes(s->modulus_index) == 0) {
		seterr(err, errlen, "signature modulus index %u is not one of 0..3", s->modulus_index);
		return -1;
	}
	if (strlen(s->signer_name) + strlen(s->issuer_name) + s->serial_len + 12 > UINT16_MAX ||
	    strlen(s->filename) + 1 > UINT16_MAX) {
		seterr(err, errlen, "the signer names or file name are too long for the header");
		return -1;
	}
	if (e && (!e->iv || !e->key || !e->key_len || e->key_len > 4096 || !e->hash ||
		  e->hash_len > 64 || e->pad > SGN_AES_BLOCK)) {
		seterr(err, errlen, "the encryption fields are incomplete or oversized");
		return -1;
	}
	return 0;
}

static void put_signer_info(struct buf *out, const struct sgn_spec *s)
{
	size_t len = 3 * WIRE_TLV_HDR + strlen(s->signer_name) + 1 + strlen(s->issuer_name) + 1 +
		     s->serial_len;

	put_container(out, SGN_SIGNER_INFO, len);
	put_text(out, SGN_SIGNER_NAME, s->signer_name);
	put_text(out, SGN_ISSUER_NAME, s->issuer_name);
	wire_tlv_put(out, SGN_SERIAL_NUMBER, s->serial, s->serial_len);
}

static void put_signature_info(struct buf *out, const struct sgn_spec *s)
{
	/* Fixed sizes: HASH_ALGORITHM (4) + the algorithm info container (3 + 8). */
	put_container(out, SGN_SIGNATURE_INFO, 15);
	put_u8(out, SGN_HASH_ALGORITHM, s->hash_alg);
	put_container(out, SGN_SIGNATURE_ALGORITHM_INFO, 8);
	put_u8(out, SGN_SIGNATURE_ALGORITHM, 0);
	put_u8(out, SGN_SIGNATURE_MODULUS, s->modulus_index);
}

static void put_encryption(struct buf *out, const struct sgn_enc_spec *e)
{
	put_container(out, SGN_ENCRYPTION_INFO, 2 * WIRE_TLV_HDR + iv_info_len() + key_info_len(e));
	put_container(out, SGN_ENCRYPTION_IV_INFO, iv_info_len());
	put_u8(out, SGN_ENCRYPTION_IV_TYPE, 0);
	wire_tlv_put(out, SGN_ENCRYPTION_IV, e->iv, SGN_AES_BLOCK);
	put_u16(out, SGN_ENCRYPTION_PADDING, e->pad);
	put_container(out, SGN_ENCRYPTION_KEY_INFO, key_info_len(e));
	put_u8(out, SGN_ENCRYPTION_KEY_TYPE, 0);
	put_u16(out, SGN_ENCRYPTION_KEY_SIZE, (uint16_t)(e->key_len * 8));
	put_u8(out, SGN_ENCRYPTION_KEY_ALGORITHM, 1);
	wire_tlv_put(out, SGN_ENCRYPTION_KEY, e->key, e->key_len);
	put_u8(out, SGN_ENCRYPTION_HASH_ALGORITHM, e->hash_alg);
	wire_tlv_put(out, SGN_ENCRYPTION_HASH, e->hash, e->hash_len);
}

int sgn_build(const struct sgn_spec *s, const uint8_t *content, size_t content_len,
	      struct buf *out, size_t *sig_at, char *err, size_t errlen)
{
	static const uint8_t zeros[MAX_SIG];
	size_t start = out->len, hlen_at, siglen = sgn_modulus_bytes(s->modulus_index);
	const uint8_t version[2] = { s->version_major, s->version_minor };

	if (check_spec(s, err, errlen) < 0)
		return -1;
	wire_tlv_put(out, SGN_VERSION, version, 2);
	hlen_at = out->len + WIRE_TLV_HDR;
	put_u16(out, SGN_HEADER_LENGTH, 0); /* patched below */
	put_signer_info(out, s);
	put_signature_info(out, s);
	*sig_at = out->len + WIRE_TLV_HDR;
	wire_tlv_put(out, SGN_SIGNATURE, zeros, siglen);
	put_text(out, SGN_FILENAME, s->filename);
	buf_put_u8(out, SGN_TIMESTAMP);
	buf_put_u16(out, 4);
	buf_put_u32(out, s->timestamp);
	if (s->enc)
		put_encryption(out, s->enc);
	while ((out->len - start) % HEADER_ALIGN)
		buf_put_u8(out, SGN_PADDING);
	if (out->failed || out->len - start > UINT16_MAX) {
		seterr(err, errlen, "%s", out->failed ? "out of memory building the header" :
		       "the header is over 65535 bytes");
		out->len = start;
		return -1;
	}
	buf_set_u16(out, hlen_at, (uint16_t)(out->len - start));
	buf_put(out, content, content_len);
	if (out->failed) {
		seterr(err, errlen, "out of memory building the file");
		out->len = start;
		return -1;
	}
	return 0;
}
