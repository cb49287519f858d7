/*
 * tvs_server.c: answering TVS VERIFY_REQUESTs (tvs_server.h).
 *
 * Every byte of the request is checked by the codec (wire/tvs_msg.c) before
 * anything here reads it; this file only decides the answer. The response
 * is built from stack storage and encoded before returning, so nothing
 * outlives the call. The device name is the phone's own text: it leaves
 * here escaped (text_escape), ready for the log.
 */
#include "tvs/tvs_server.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "wire/roles.h"
#include "wire/tvs_msg.h"

void tvs_roles_text(const uint16_t *roles, size_t n, char *out, size_t outcap)
{
	size_t len = 0;

	if (outcap == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < n && len < outcap; i++) {
		const char *name = role_name(roles[i]);
		int w = name ? snprintf(out + len, outcap - len, "%s%s", i ? "," : "", name)
			     : snprintf(out + len, outcap - len, "%s%u", i ? "," : "", roles[i]);

		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static int sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;

	if (EVP_Digest(data, len, h, &hlen, EVP_sha256(), NULL) != 1 || hlen != 32)
		return -1;
	hex_encode(h, hlen, out);
	return 0;
}

static int respond(const struct tvs_msg *req, int known, const struct tvs_answer *ans, struct buf *out)
{
	struct tvs_msg resp;
	uint8_t status = known ? TVS_STATUS_VALID : TVS_STATUS_INVALID, ttl[4];

	tvs_msg_init(&resp, TVS_CMD_VERIFY_RESPONSE, req->session_id);
	if (tvs_msg_add_u8(&resp, TVS_TAG_STATUS, &status) < 0)
		return -1;
	if (known && (tvs_msg_add(&resp, TVS_TAG_ROLES, ans->roles, ans->nroles) < 0 ||
		      tvs_msg_add_u32(&resp, TVS_TAG_TTL, ttl, ans->ttl) < 0))
		return -1;
	return tvs_msg_encode(&resp, out);
}

int tvs_server_handle(const uint8_t *msg, size_t len, tvs_lookup_fn lookup, void *arg, struct buf *out,
		      struct tvs_request_info *info, char *err, size_t errlen)
{
	struct tvs_request_info local;
	struct tvs_msg req;
	const struct tvs_elem *cert;
	int rc;

	if (!info)
		info = &local;
	memset(info, 0, sizeof *info);
	info->known = -1;
	if (tvs_msg_decode(&req, msg, len, err, errlen) < 0)
		return -1;
	info->session_id = req.session_id;
	info->cmd = req.cmd;
	if (tvs_msg_get_device_name(&req, info->device, sizeof info->device) < 0)
		info->device[0] = '\0';
	text_escape(info->device, sizeof info->device, info->device, strlen(info->device));
	if (req.cmd != TVS_CMD_VERIFY_REQUEST) {
		seterr(err, errlen, "unexpected %s (command %u): only VERIFY_REQUEST is served",
		       tvs_cmd_name(req.cmd), req.cmd);
		return -1;
	}
	cert = tvs_msg_find(&req, TVS_TAG_CERTIFICATE);
	if (!cert || cert->len == 0) {
		seterr(err, errlen, "VERIFY_REQUEST without a certificate");
		return -1;
	}
	if (sha256_hex(cert->val, cert->len, info->sha256) < 0) {
		seterr(err, errlen, "cannot hash the certificate");
		return -1;
	}
	rc = lookup(arg, info->sha256, &info->ans);
	if (rc < 0) {
		seterr(err, errlen, "cannot look the certificate up");
		return -1;
	}
	if (rc == 0 && (info->ans.nroles == 0 || info->ans.nroles > TVS_ANSWER_ROLES_MAX)) {
		seterr(err, errlen, "the certificate is known without roles");
		return -1;
	}
	info->known = rc == 0;
	if (respond(&req, info->known, &info->ans, out) < 0) {
		seterr(err, errlen, "cannot encode the response");
		return -1;
	}
	return 0;
}
