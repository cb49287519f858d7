/*
 * phone_view.h: how a phone is shown: for people (text), for scripts (JSON),
 * and as the before/after detail of an audit entry (never the auth string).
 */
#ifndef OPENCAPF_PHONE_VIEW_H
#define OPENCAPF_PHONE_VIEW_H

#include <jansson.h>

#include "store/store.h"

/* Settings and status of a phone, without secrets ("auth_string_set": bool). */
json_t *phone_settings_json(const struct phone *p);
/* {"before":{...},"after":{...}}, malloc'd text; either side may be NULL. */
char *phone_audit_detail(const struct phone *before, const struct phone *after);

int phone_print_text(struct store *st, const struct phone *p);
int phone_print_json(struct store *st, const struct phone *p);
int phone_print_list(struct store *st, int json);

#endif
