/*
 * tvs_client.c: VERIFY_REQUEST out, VERIFY_RESPONSE in (tvs_client.h).
 */
#include "tvs/tvs_client.h"

#include <string.h>

#include "wire/roles.h"
#include "wire/tvs_msg.h"

int tvs_client_request(struct buf *out, uint32_t session_id, const char *device, const uint8_t *der,
		       size_t len, char *err, size_t errlen)
{
	struct tvs_msg m;
	struct buf name;
	int rc = -1;

	buf_init(&name);
	tvs_msg_init(&m, TVS_CMD_VERIFY_REQUEST, session_id);
	if (tvs_msg_add_device_name(&m, &name, device) < 0 || tvs_msg_add(&m, TVS_TAG_CERTIFICATE, der, len) < 0)
		seterr(err, errlen, "the device name or the certificate is too long for a TVS request");
	else if (tvs_msg_encode(&m, out) < 0)
		seterr(err, errlen, "the TVS request is over %d bytes", TVS_MAX_MSG);
	else
		rc = 0;
	buf_free(&name);
	return rc;
}

int tvs_client_response(const uint8_t *msg, size_t len, uint32_t session_id, struct tvs_verdict *v,
			char *err, size_t errlen)
{
	struct tvs_msg m;

	memset(v, 0, sizeof *v);
	if (tvs_msg_decode(&m, msg, len, err, errlen) < 0)
		return -1;
	if (m.cmd != TVS_CMD_VERIFY_RESPONSE) {
		seterr(err, errlen, "TVS answered %s (command %u), not VERIFY_RESPONSE", tvs_cmd_name(m.cmd), m.cmd);
		return -1;
	}
	if (m.session_id != session_id) {
		seterr(err, errlen, "TVS answered session %u, not %u", m.session_id, session_id);
		return -1;
	}
	if (tvs_msg_get_u8(&m, TVS_TAG_STATUS, &v->status) < 0) {
		seterr(err, errlen, "the TVS response has no 1-byte STATUS");
		return -1;
	}
	if (tvs_msg_find(&m, TVS_TAG_ROLES) &&
	    tvs_msg_get_roles(&m, v->roles, sizeof v->roles, &v->nroles) < 0) {
		seterr(err, errlen, "the TVS response carries more than %zu roles", sizeof v->roles);
		return -1;
	}
	if (tvs_msg_find(&m, TVS_TAG_TTL)) {
		if (tvs_msg_get_u32(&m, TVS_TAG_TTL, &v->ttl) < 0) {
			seterr(err, errlen, "the TVS response has a TTL that is not 4 bytes");
			return -1;
		}
		v->has_ttl = 1;
	}
	return 0;
}

void tvs_verdict_print(FILE *out, const struct tvs_verdict *v)
{
	fprintf(out, "Status:           %s\n", v->status == TVS_STATUS_VALID ? "Valid" :
		v->status == TVS_STATUS_INVALID ? "Invalid" : "Unknown");
	for (size_t i = 0; i < v->nroles; i++) {
		const char *name = role_name(v->roles[i]);

		if (name)
			fprintf(out, "Role:             %s\n", name);
		else
			fprintf(out, "Role:             %u\n", v->roles[i]);
	}
	if (v->has_ttl)
		fprintf(out, "TTL:              %u seconds\n", v->ttl);
}
