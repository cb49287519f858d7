/*
 * signer_msg.c: the signer messages' codec (signer_msg.h). Pure: checks
 * lengths and ranges, copies nothing but a LOAD_KEY path, never allocates.
 */
#include "signer/signer_msg.h"

#include <string.h>
#include <strings.h>

#include "common/util.h"

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int length_field(const uint8_t *hdr, size_t *len, char *err, size_t errlen)
{
	uint32_t n = get_u32(hdr + 4);

	if (n > SIGNER_MSG_MAX) {
		seterr(err, errlen, "payload length %u is over the limit of %d bytes", (unsigned)n, SIGNER_MSG_MAX);
		return -1;
	}
	*len = n;
	return 0;
}

int signer_req_header(const uint8_t *hdr, size_t *len, char *err, size_t errlen)
{
	if (hdr[0] != SIGNER_MSG_VERSION) {
		seterr(err, errlen, "unknown message version %u", hdr[0]);
		return -1;
	}
	if (hdr[1] == 0 || hdr[1] > SIGNER_TYPE_MAX) {
		seterr(err, errlen, "unknown request type %u", hdr[1]);
		return -1;
	}
	if (hdr[2] > SIGNER_PURPOSE_MAX) {
		seterr(err, errlen, "unknown purpose %u", hdr[2]);
		return -1;
	}
	return length_field(hdr, len, err, errlen);
}

int signer_resp_header(const uint8_t *hdr, size_t *len, char *err, size_t errlen)
{
	if (hdr[0] != SIGNER_MSG_VERSION) {
		seterr(err, errlen, "unknown message version %u", hdr[0]);
		return -1;
	}
	if (hdr[1] > SIGNER_STATUS_MAX || hdr[2] != 0 || hdr[3] != 0) {
		seterr(err, errlen, "bad response status %u or reserved bytes %u %u", hdr[1], hdr[2], hdr[3]);
		return -1;
	}
	return length_field(hdr, len, err, errlen);
}

int signer_req_decode(const uint8_t *buf, size_t n, struct signer_req *req, char *err, size_t errlen)
{
	size_t len;

	if (n < SIGNER_MSG_HEADER) {
		seterr(err, errlen, "request of %zu bytes is shorter than its %d-byte header", n, SIGNER_MSG_HEADER);
		return -1;
	}
	if (signer_req_header(buf, &len, err, errlen) < 0)
		return -1;
	if (len != n - SIGNER_MSG_HEADER) {
		seterr(err, errlen, "request announces %zu payload bytes but carries %zu", len, n - SIGNER_MSG_HEADER);
		return -1;
	}
	req->type = buf[1];
	req->purpose = buf[2];
	req->slot = buf[3];
	req->payload = buf + SIGNER_MSG_HEADER;
	req->len = len;
	return 0;
}

int signer_resp_decode(const uint8_t *buf, size_t n, struct signer_resp *resp, char *err, size_t errlen)
{
	size_t len;

	if (n < SIGNER_MSG_HEADER) {
		seterr(err, errlen, "response of %zu bytes is shorter than its %d-byte header", n, SIGNER_MSG_HEADER);
		return -1;
	}
	if (signer_resp_header(buf, &len, err, errlen) < 0)
		return -1;
	if (len != n - SIGNER_MSG_HEADER) {
		seterr(err, errlen, "response announces %zu payload bytes but carries %zu", len, n - SIGNER_MSG_HEADER);
		return -1;
	}
	resp->status = buf[1];
	resp->payload = buf + SIGNER_MSG_HEADER;
	resp->len = len;
	return 0;
}

int signer_req_header_encode(uint8_t *hdr, uint8_t type, uint8_t purpose, uint8_t slot, size_t len)
{
	if (len > SIGNER_MSG_MAX || type == 0 || type > SIGNER_TYPE_MAX || purpose > SIGNER_PURPOSE_MAX)
		return -1;
	hdr[0] = SIGNER_MSG_VERSION;
	hdr[1] = type;
	hdr[2] = purpose;
	hdr[3] = slot;
	put_u32(hdr + 4, (uint32_t)len);
	return 0;
}

int signer_resp_header_encode(uint8_t *hdr, uint8_t status, size_t len)
{
	if (len > SIGNER_MSG_MAX || status > SIGNER_STATUS_MAX)
		return -1;
	hdr[0] = SIGNER_MSG_VERSION;
	hdr[1] = status;
	hdr[2] = hdr[3] = 0;
	put_u32(hdr + 4, (uint32_t)len);
	return 0;
}

int signer_sig_params_decode(const uint8_t *p, size_t n, struct signer_sig_params *sp, const uint8_t **data,
			     size_t *datalen, char *err, size_t errlen)
{
	if (n < SIGNER_SIG_PARAMS_LEN) {
		seterr(err, errlen, "signature request of %zu bytes has no room for its parameters", n);
		return -1;
	}
	sp->md = p[0];
	sp->pad = p[1];
	sp->saltlen = (int16_t)get_u16(p + 2);
	if (sp->md == 0 || sp->md > SIGNER_MD_MAX) {
		seterr(err, errlen, "unknown digest %u", sp->md);
		return -1;
	}
	if (sp->pad > SIGNER_PAD_MAX) {
		seterr(err, errlen, "unknown padding %u", sp->pad);
		return -1;
	}
	if (sp->saltlen < -1 || (sp->pad != SIGNER_PAD_PSS && sp->saltlen != 0)) {
		seterr(err, errlen, "salt length %d does not fit padding %u", sp->saltlen, sp->pad);
		return -1;
	}
	*data = p + SIGNER_SIG_PARAMS_LEN;
	*datalen = n - SIGNER_SIG_PARAMS_LEN;
	return 0;
}

void signer_sig_params_encode(uint8_t *out, const struct signer_sig_params *sp)
{
	uint16_t salt = (uint16_t)sp->saltlen;

	out[0] = sp->md;
	out[1] = sp->pad;
	out[2] = (uint8_t)(salt >> 8);
	out[3] = (uint8_t)salt;
}

int signer_load_decode(const uint8_t *p, size_t n, char *path, size_t pathcap, const uint8_t **der, size_t *derlen,
		       char *err, size_t errlen)
{
	size_t plen;

	if (n < 2) {
		seterr(err, errlen, "key request of %zu bytes has no path length", n);
		return -1;
	}
	plen = get_u16(p);
	if (plen == 0 || plen > n - 2 || plen >= pathcap) {
		seterr(err, errlen, "key path length %zu does not fit the %zu bytes that follow (limit %zu)", plen,
		       n - 2, pathcap - 1);
		return -1;
	}
	if (memchr(p + 2, 0, plen)) {
		seterr(err, errlen, "key path holds a NUL byte");
		return -1;
	}
	memcpy(path, p + 2, plen);
	path[plen] = 0;
	*der = p + 2 + plen;
	*derlen = n - 2 - plen;
	return 0;
}

int signer_generate_decode(const uint8_t *p, size_t n, unsigned *kind, unsigned *bits, char *err, size_t errlen)
{
	if (n != 3) {
		seterr(err, errlen, "key generation request of %zu bytes (expected 3: kind, bits)", n);
		return -1;
	}
	*kind = p[0];
	*bits = get_u16(p + 1);
	if (*kind != SIGNER_KIND_RSA && *kind != SIGNER_KIND_EC) {
		seterr(err, errlen, "unknown key kind %u (1 RSA, 2 EC)", *kind);
		return -1;
	}
	return 0;
}

void signer_generate_encode(uint8_t out[3], unsigned kind, unsigned bits)
{
	out[0] = (uint8_t)kind;
	out[1] = (uint8_t)(bits >> 8);
	out[2] = (uint8_t)bits;
}

int signer_decrypt_decode(const uint8_t *p, size_t n, unsigned *client_version, unsigned *negotiated_version,
			  const uint8_t **ct, size_t *ctlen, char *err, size_t errlen)
{
	if (n < 4 + 64) {
		seterr(err, errlen, "decryption request of %zu bytes is too short for versions and an RSA block", n);
		return -1;
	}
	*client_version = get_u16(p);
	*negotiated_version = get_u16(p + 2);
	*ct = p + 4;
	*ctlen = n - 4;
	return 0;
}

const char *signer_type_name(unsigned type)
{
	static const char *const names[] = { "?", "load-key", "sign-cert", "sign", "decrypt-tls", "generate-key",
						     "save-key" };

	return type <= SIGNER_TYPE_MAX ? names[type] : "?";
}

const char *signer_purpose_name(unsigned purpose)
{
	static const char *const names[] = { "none", "lsc", "tls", "file", "crl", "ocsp" };

	return purpose <= SIGNER_PURPOSE_MAX ? names[purpose] : "?";
}

static const char *const md_names[] = { NULL, "SHA1", "SHA256", "SHA384", "SHA512", "MD5-SHA1" };

const char *signer_md_name(unsigned md)
{
	return md >= 1 && md <= SIGNER_MD_MAX ? md_names[md] : NULL;
}

int signer_md_from_name(const char *name)
{
	static const struct { const char *alias; int md; } aliases[] = {
		{ "SHA-1", SIGNER_MD_SHA1 }, { "SHA2-256", SIGNER_MD_SHA256 }, { "SHA-256", SIGNER_MD_SHA256 },
		{ "SHA2-384", SIGNER_MD_SHA384 }, { "SHA-384", SIGNER_MD_SHA384 },
		{ "SHA2-512", SIGNER_MD_SHA512 }, { "SHA-512", SIGNER_MD_SHA512 },
	};

	if (!name)
		return 0;
	for (int i = 1; i <= SIGNER_MD_MAX; i++)
		if (strcasecmp(name, md_names[i]) == 0)
			return i;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			return aliases[i].md;
	return 0;
}
