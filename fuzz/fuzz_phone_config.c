/*
 * fuzz_phone_config.c: fuzz target for the configuration templates the
 * administrator's PBX writes (admin/phone_config.c, read with libxml2). Any
 * bytes must either be refused with a "FILE:LINE: ..." sentence or merge
 * into a document; merging that document again must give the same bytes
 * (the elements are replaced where they are, never added twice).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/phone_config.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prov_settings s = { .ncapf = 2, .security_mode = 2 };
	struct buf once, twice;
	struct phone p;
	char err[1400];

	snprintf(s.capf_host[0], sizeof s.capf_host[0], "capf1.example");
	snprintf(s.capf_host[1], sizeof s.capf_host[1], "capf2.example");
	s.capf_port[0] = s.capf_port[1] = 3804;
	phone_defaults(&p, "SEP001122334455");
	p.op = OP_INSTALL;
	buf_init(&once);
	buf_init(&twice);
	err[0] = '\0';
	if (phone_config_merge(&p, &s, "t.xml", data, size, &once, err, sizeof err) < 0) {
		if (strncmp(err, "t.xml", 5) != 0 && strcmp(err, "out of memory") != 0)
			abort();
	} else if (phone_config_merge(&p, &s, "t.xml", once.data, once.len, &twice, err, sizeof err) < 0 ||
		   twice.len != once.len || memcmp(twice.data, once.data, once.len) != 0) {
		abort();
	}
	buf_free(&once);
	buf_free(&twice);
	return 0;
}
