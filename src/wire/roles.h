/*
 * roles.h: the certificate roles shared by TVS answers and ITL/CTL records
 * (docs/protocol/tvs-and-itl.md, "Roles"). One table, used by both codecs
 * and by everything that prints or parses a role.
 *
 * TVS carries a role in one byte, ITL/CTL in two; the API takes the wider
 * type so both fit.
 */
#ifndef OPENCAPF_WIRE_ROLES_H
#define OPENCAPF_WIRE_ROLES_H

#include <stddef.h>
#include <stdint.h>

enum trust_role {
	ROLE_SAST = 0,
	ROLE_CCM = 1,
	ROLE_CCM_TFTP = 2,
	ROLE_TFTP = 3,
	ROLE_CAPF = 4,
	ROLE_APP_SERVER = 7,
	ROLE_TVS = 21,
};

/* "SAST", "CCM+TFTP", ...; NULL for an id not in the table. */
const char *role_name(uint16_t id);

/* Name (case-insensitive, as role_name spells it) or a decimal number
 * 0..65535 to id. Returns 0 on success, -1 if the text is neither. */
int role_from_name(const char *name, uint16_t *id);

struct role_info {
	uint16_t id;
	const char *name;
};
/* The whole table in id order, for listings: returns its size and points
 * *table at it. */
size_t role_table(const struct role_info **table);

#endif
