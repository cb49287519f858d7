/*
 * fuzz_tftp.c: fuzz target for the TFTP request parser (src/net/tftp_proto.h),
 * the bytes any host may send to the server's port.
 *
 * Any input must be parsed or refused with error code 4 or 8 and a reason.
 * A parsed request must hold a NUL-terminated name of 1..255 bytes, a known
 * mode, a blksize within 8..65464 when it has one; its name check must be
 * safe; rebuilding the request from its fields and parsing it again must
 * give the same request; the OACK built for it must fit its buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tftp_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_rebuilt(const struct tftp_request *r)
{
	char num[24];
	const char *opts[4];
	size_t n = 0, len;
	uint8_t pkt[TFTP_MAX_REQUEST + 64];
	struct tftp_request again;
	char why[128] = "";
	int code = 0;

	if (r->has_blksize) {
		snprintf(num, sizeof num, "%u", r->blksize);
		opts[n++] = "blksize";
		opts[n++] = num;
	}
	if (r->has_tsize) {
		opts[n++] = "tsize";
		opts[n++] = "0";
	}
	len = tftp_build_request(pkt, sizeof pkt, r->opcode, r->filename, r->mode, opts, n);
	check(len > 0);
	check(tftp_parse_request(pkt, len, &again, &code, why, sizeof why) == 0);
	check(strcmp(again.filename, r->filename) == 0 && strcmp(again.mode, r->mode) == 0);
	check(again.has_blksize == r->has_blksize && again.blksize == r->blksize);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tftp_request r;
	char why[128] = "";
	uint8_t out[128];
	uint16_t block, code16;
	int code = 0;

	(void)tftp_parse_reply(data, size, &block, &code16);
	if (tftp_parse_request(data, size, &r, &code, why, sizeof why) != 0) {
		check((code == TFTP_EBADOP || code == TFTP_EOPTNEG) && why[0] != '\0');
		return 0;
	}
	check(r.opcode == TFTP_RRQ || r.opcode == TFTP_WRQ);
	check(strlen(r.filename) >= 1 && strlen(r.filename) <= TFTP_NAME_MAX);
	check(!r.has_blksize || (r.blksize >= TFTP_MIN_BLKSIZE && r.blksize <= TFTP_MAX_BLKSIZE));
	(void)tftp_name_check(r.filename);
	check(tftp_build_oack(out, sizeof out, &r, r.has_blksize ? r.blksize : 512, r.tsize) > 0);
	check_rebuilt(&r);
	return 0;
}
