/*
 * fuzz_tvs_server.c: fuzz target for the TVS server's request path
 * (src/tvs/tvs_server.h) and the client's response reader
 * (src/tvs/tvs_client.h), the code between the codec and the daemon.
 *
 * Any bytes must either be refused with an error sentence and no answer, or
 * be a VERIFY_REQUEST answered with one VERIFY_RESPONSE that decodes, echoes
 * the session id, says STATUS valid with exactly the looked-up roles and TTL
 * or STATUS invalid alone, and that the client reads back the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tvs/tvs_client.h"
#include "tvs/tvs_server.h"
#include "wire/tvs_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* Known when the fingerprint's first digit is even; a failure for 'f'. */
static int lookup(void *arg, const char *sha256, struct tvs_answer *ans)
{
	(void)arg;
	check(strlen(sha256) == 64);
	if (sha256[0] == 'f')
		return -1;
	if (strchr("13579bd", sha256[0]))
		return 1;
	memset(ans, 0, sizeof *ans);
	ans->nroles = (size_t)(sha256[1] % 4) + 1;
	for (size_t i = 0; i < ans->nroles && i < sizeof ans->roles; i++)
		ans->roles[i] = (uint8_t)sha256[2 + i];
	ans->ttl = (uint32_t)sha256[10] << 8;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tvs_request_info info;
	struct tvs_verdict v;
	struct tvs_msg req;
	struct buf out;
	char err[ERRLEN] = "";
	int rc;

	buf_init(&out);
	rc = tvs_server_handle(data, size, lookup, NULL, &out, &info, err, sizeof err);
	if (rc < 0) {
		check(err[0] != '\0' && out.len == 0);
		buf_free(&out);
		return 0;
	}
	check(tvs_msg_decode(&req, data, size, err, sizeof err) == 0 && req.cmd == TVS_CMD_VERIFY_REQUEST);
	check(info.session_id == req.session_id && (info.known == 0 || info.known == 1));
	check(tvs_client_response(out.data, out.len, req.session_id, &v, err, sizeof err) == 0);
	if (info.known) {
		check(v.status == TVS_STATUS_VALID && v.nroles == info.ans.nroles && v.has_ttl &&
		      v.ttl == info.ans.ttl);
		check(memcmp(v.roles, info.ans.roles, v.nroles) == 0);
	} else {
		check(v.status == TVS_STATUS_INVALID && v.nroles == 0 && !v.has_ttl);
	}
	buf_free(&out);
	return 0;
}
