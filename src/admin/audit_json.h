/*
 * audit_json.h: one audit entry as JSON, the one shape of `opencapf audit
 * --json` and GET /api/v1/audit: id, time ("YYYY-MM-DD HH:MM:SS UTC"),
 * unix_time, actor, action, object, and detail as the JSON it was written
 * as (or as text when it is not JSON).
 */
#ifndef OPENCAPF_ADMIN_AUDIT_JSON_H
#define OPENCAPF_ADMIN_AUDIT_JSON_H

#include <jansson.h>

#include "store/store.h"

/* A new object, or NULL when out of memory. */
json_t *admin_audit_json(const struct audit_entry *e);

#endif
