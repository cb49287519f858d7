/*
 * test_tftp_proto.c: unit tests of the TFTP packet parser and builders
 * (src/net/tftp_proto.h): requests with and without RFC 2347 options,
 * blksize and tsize values at and past their limits, unknown options left
 * out, malformed requests with the error code the RFCs give, file names
 * refused, and the exact bytes of OACK, ERROR, ACK and DATA headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "net/tftp_proto.h"

/* A request from its fields; NUL-separated as on the wire. */
static size_t request(uint8_t *out, size_t cap, int op, const char *name, const char *mode,
		      const char *const *opts, size_t n)
{
	size_t len = tftp_build_request(out, cap, op, name, mode, opts, n);

	assert_true(len > 0);
	return len;
}

static int parse(const uint8_t *p, size_t n, struct tftp_request *r, int *code)
{
	char why[128];

	*code = -1;
	return tftp_parse_request(p, n, r, code, why, sizeof why);
}

static void test_plain_read(void **state)
{
	uint8_t p[600];
	struct tftp_request r;
	int code;
	size_t n = request(p, sizeof p, TFTP_RRQ, "SEP001122334455.cnf.xml.sgn", "octet", NULL, 0);

	(void)state;
	assert_int_equal(parse(p, n, &r, &code), 0);
	assert_int_equal(r.opcode, TFTP_RRQ);
	assert_string_equal(r.filename, "SEP001122334455.cnf.xml.sgn");
	assert_string_equal(r.mode, "octet");
	assert_false(r.has_blksize);
	assert_false(r.has_tsize);
	assert_int_equal(r.unknown_options, 0);
}

static void test_options(void **state)
{
	static const char *const opts[] = { "BlkSize", "1428", "tsize", "0", "timeout", "5",
					    "multicast", "", "blksize", "512" };
	uint8_t p[600];
	struct tftp_request r;
	int code;
	size_t n = request(p, sizeof p, TFTP_RRQ, "ITLFile.tlv", "OCTET", opts, 10);

	(void)state;
	assert_int_equal(parse(p, n, &r, &code), 0);
	assert_string_equal(r.mode, "octet");
	assert_true(r.has_blksize);
	assert_int_equal(r.blksize, 1428); /* the first of two */
	assert_true(r.has_tsize);
	assert_int_equal(r.tsize, 0);
	assert_int_equal(r.unknown_options, 2);
	assert_string_equal(r.first_unknown, "timeout");
}

static void blksize_case(const char *value, int ok)
{
	const char *opts[] = { "blksize", value };
	uint8_t p[600];
	struct tftp_request r;
	int code;
	size_t n = request(p, sizeof p, TFTP_RRQ, "f", "octet", opts, 2);

	if (ok) {
		assert_int_equal(parse(p, n, &r, &code), 0);
		return;
	}
	assert_int_equal(parse(p, n, &r, &code), -1);
	assert_int_equal(code, TFTP_EOPTNEG);
}

static void test_blksize_limits(void **state)
{
	(void)state;
	blksize_case("8", 1);
	blksize_case("65464", 1);
	blksize_case("7", 0);
	blksize_case("0", 0);
	blksize_case("65465", 0);
	blksize_case("99999999999", 0);
	blksize_case("1428x", 0);
	blksize_case("", 0);
	blksize_case("-5", 0);
}

static void malformed(const uint8_t *p, size_t n)
{
	struct tftp_request r;
	int code;

	assert_int_equal(parse(p, n, &r, &code), -1);
	assert_int_equal(code, TFTP_EBADOP);
}

static void test_malformed(void **state)
{
	static const char *const no_value[] = { "blksize" };
	uint8_t p[700];
	size_t n;

	(void)state;
	malformed((const uint8_t *)"\0\1", 2);
	malformed((const uint8_t *)"\0\1abc", 5);                 /* no NUL */
	malformed((const uint8_t *)"\0\1abc\0octet", 11);         /* mode without NUL */
	malformed((const uint8_t *)"\0\1\0octet\0", 9);           /* empty name */
	malformed((const uint8_t *)"\0\1abc\0binary\0", 13);      /* unknown mode */
	malformed((const uint8_t *)"\0\3\0\1data", 8);            /* DATA on the request port */
	n = request(p, sizeof p, TFTP_RRQ, "f", "octet", no_value, 1);
	malformed(p, n);
	memset(p, 'a', sizeof p);
	p[0] = 0;
	p[1] = TFTP_RRQ;
	p[600] = 0;
	memcpy(p + 601, "octet", 6);
	malformed(p, 607);                                        /* over 512 bytes */
}

static void test_write_request_parses(void **state)
{
	uint8_t p[64];
	struct tftp_request r;
	int code;
	size_t n = request(p, sizeof p, TFTP_WRQ, "x", "netascii", NULL, 0);

	(void)state;
	assert_int_equal(parse(p, n, &r, &code), 0);
	assert_int_equal(r.opcode, TFTP_WRQ);
	assert_string_equal(r.mode, "netascii");
}

static void test_name_check(void **state)
{
	(void)state;
	assert_null(tftp_name_check("SEP001122334455.cnf.xml"));
	assert_null(tftp_name_check("Desktops/320x212x12/back.png"));
	assert_null(tftp_name_check("..hidden"));
	assert_null(tftp_name_check("a.."));
	assert_non_null(tftp_name_check(""));
	assert_non_null(tftp_name_check("/etc/passwd"));
	assert_non_null(tftp_name_check(".."));
	assert_non_null(tftp_name_check("../x"));
	assert_non_null(tftp_name_check("a/../../x"));
	assert_non_null(tftp_name_check("a/.."));
	assert_non_null(tftp_name_check("a\nb"));
	assert_non_null(tftp_name_check("a\x7f"));
}

static void test_builders(void **state)
{
	static const char *const opts[] = { "blksize", "2000", "tsize", "0" };
	uint8_t p[600], out[128];
	struct tftp_request r;
	uint16_t block = 0, code16 = 0;
	int code;
	size_t n = request(p, sizeof p, TFTP_RRQ, "f", "octet", opts, 4);

	(void)state;
	assert_int_equal(parse(p, n, &r, &code), 0);
	n = tftp_build_oack(out, sizeof out, &r, 1428, 123456);
	assert_int_equal(n, 2 + 8 + 5 + 6 + 7);
	assert_memory_equal(out, "\0\6blksize\0" "1428\0tsize\0" "123456\0", n);
	n = tftp_build_error(out, sizeof out, TFTP_EACCESS, "no");
	assert_int_equal(n, 7);
	assert_memory_equal(out, "\0\5\0\2no\0", 7);
	assert_int_equal(tftp_build_error(out, 6, TFTP_EACCESS, "no"), 0); /* does not fit */
	n = tftp_build_ack(out, sizeof out, 0xfffe);
	assert_int_equal(tftp_parse_reply(out, n, &block, &code16), TFTP_ACK);
	assert_int_equal(block, 0xfffe);
	tftp_put_data_header(out, 0x1234);
	assert_memory_equal(out, "\0\3\x12\x34", 4);
	assert_int_equal(tftp_parse_reply((const uint8_t *)"\0\5\0\x08x\0", 6, &block, &code16),
			 TFTP_ERROR);
	assert_int_equal(code16, 8);
	assert_int_equal(tftp_parse_reply((const uint8_t *)"\0\4\0", 3, &block, &code16), -1);
	assert_string_equal(tftp_error_text(2), "access violation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_read),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_blksize_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_write_request_parses),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_builders),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
