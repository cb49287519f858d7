/*
 * roles.c: the one table of certificate roles (id <-> name) shared by the
 * TVS and ITL codecs. Pure lookups, no state.
 */
#include "wire/roles.h"

#include <string.h>
#include <strings.h>

static const struct role_info roles[] = {
	{ ROLE_SAST, "SAST" },
	{ ROLE_CCM, "CCM" },
	{ ROLE_CCM_TFTP, "CCM+TFTP" },
	{ ROLE_TFTP, "TFTP" },
	{ ROLE_CAPF, "CAPF" },
	{ ROLE_APP_SERVER, "APP-SERVER" },
	{ ROLE_TVS, "TVS" },
};
#define NROLES (sizeof roles / sizeof roles[0])

const char *role_name(uint16_t id)
{
	for (size_t i = 0; i < NROLES; i++)
		if (roles[i].id == id)
			return roles[i].name;
	return NULL;
}

static int parse_decimal_u16(const char *s, uint16_t *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int role_from_name(const char *name, uint16_t *id)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < NROLES; i++) {
		if (strcasecmp(name, roles[i].name) == 0) {
			*id = roles[i].id;
			return 0;
		}
	}
	return parse_decimal_u16(name, id);
}

size_t role_table(const struct role_info **table)
{
	*table = roles;
	return NROLES;
}
