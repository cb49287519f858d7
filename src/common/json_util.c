/*
 * json_util.c: shared JSON values (see json_util.h).
 */
#include "common/json_util.h"

#include "common/util.h"

json_t *json_time_utc(int64_t t)
{
	char s[40];

	if (t == 0)
		return json_null();
	fmt_time_utc(t, s, sizeof s);
	return json_string(s);
}
