/*
 * json_util.h: JSON values every layer that speaks JSON (API, CLI, reports,
 * diagnostics) writes the same way.
 */
#ifndef OPENCAPF_COMMON_JSON_UTIL_H
#define OPENCAPF_COMMON_JSON_UTIL_H

#include <jansson.h>
#include <stdint.h>

/* A time as "YYYY-MM-DDTHH:MM:SSZ" (UTC), or null for 0 ("never"). */
json_t *json_time_utc(int64_t t);

#endif
