/*
 * phone_json.h: phones as JSON, the one shape `opencapf phone show|list
 * --json`, `report --json` and the HTTP API give, and the before/after
 * detail of a phone's audit entries. Never the auth string: only whether
 * one is set.
 */
#ifndef OPENCAPF_ADMIN_PHONE_JSON_H
#define OPENCAPF_ADMIN_PHONE_JSON_H

#include <jansson.h>

#include "store/store.h"
#include "store/store_search.h"

/* Settings and status of a phone, without secrets ("auth_string_set": bool). */
json_t *phone_settings_json(const struct phone *p);
/* {"before":{...},"after":{...}}, malloc'd text; either side may be NULL. */
char *phone_audit_detail(const struct phone *before, const struct phone *after);
/* The same with one more member (e.g. "source": "phones.csv:12"); value may be NULL. */
char *phone_audit_detail_with(const struct phone *before, const struct phone *after, const char *key,
			      json_t *value);
/* A certificate summary as JSON (null when absent). */
json_t *phone_cert_brief_json(const struct phone_cert_brief *c);
/* One CAPF session of a phone's history. */
json_t *phone_history_json(const struct history_entry *h);
/* A selected phone: its settings with "lsc_state" ("none", "installed",
 * "expired"), "lsc" and "mic" (briefs, or null): the one element of
 * `phone list --json`, the API's list and the report. */
json_t *phone_row_json(const struct phone_row *r);
/* One phone in full, the one shape of `phone show --json` and the API's
 * GET /api/v1/phones/NAME: phone_row_json's members, the labels
 * (auth_label, key_order_label, operation_label), locked_until,
 * unconfirmed_lscs, lockouts and the last `history` sessions. */
json_t *phone_full_json(struct store *st, const struct phone *p, int history);

#endif
