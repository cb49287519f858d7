/*
 * api_diag.c: GET /api/v1/phones/NAME/diagnose: `opencapf diagnose NAME
 * --json` over the API (src/diag/diagnose.h): which certificate the phone
 * presents, whether each server trust store accepts it, whether its CAPF
 * operation can work, and each problem with its fix. Reads only.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/util.h"
#include "diag/diagnose.h"

void api_phone_diagnose(struct api_req *r)
{
	struct diag_report *rep;
	char name[16], err[ERRLEN];

	if (devname_normalize(r->param[0], name, sizeof name) != 0) {
		if (!devname_valid(r->param[0])) {
			api_reply_error(r, 404, "no phone named '%.64s' (device names are SEP + 12 hex digits, "
				"or a MAC address)", text_valid(r->param[0]) ? r->param[0] : "?");
			return;
		}
		snprintf(name, sizeof name, "%s", r->param[0]);
	}
	if (!(rep = calloc(1, sizeof *rep))) {
		api_reply_error(r, 500, "out of memory");
		return;
	}
	if (diag_phone(r->st, name, 0, rep, err, sizeof err) < 0)
		api_reply_error(r, 500, "cannot diagnose %s: %s", name, err);
	else if (!rep->known)
		api_reply_error(r, 404, "no phone named %s", name);
	else
		api_reply_json(r, 200, diag_report_json(rep));
	free(rep);
}
