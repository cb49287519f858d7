/*
 * audit_json.c: an audit entry as JSON for the CLI and the API.
 */
#include "admin/audit_json.h"

#include "common/json_util.h"

json_t *admin_audit_json(const struct audit_entry *e)
{
	json_error_t jerr;
	json_t *detail = e->detail[0] ? json_loads(e->detail, JSON_DECODE_ANY, &jerr) : json_null();

	if (!detail)
		detail = json_string(e->detail); /* not JSON (or truncated): as text */
	return json_pack("{s:I, s:o, s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)e->id, "time", json_time_utc(e->time),
			 "unix_time", (json_int_t)e->time, "actor", e->actor, "action", e->action, "object", e->object,
			 "detail", detail ? detail : json_null());
}
