/*
 * test_backup.c: the backup archive format (admin/backup_archive.c):
 * archives written and read back, plain and encrypted, and every way an
 * archive is refused with its reason: foreign, newer, truncated at any
 * length, any byte altered, trailing bytes, wrong or missing passphrase,
 * and manifests that name unsafe paths, the same file twice or no database.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/backup.h"
#include "common/util.h"

#define PASS "correct horse"

static struct backup_file files[3] = {
	{ "opencapf.db", 0600, (const uint8_t *)"SQLite format 3\0 database bytes", 32 },
	{ "keys/capf-1.key", 0600, (const uint8_t *)"-----BEGIN PRIVATE KEY-----", 27 },
	{ "certs/capf.pem", 0644, (const uint8_t *)"", 0 },
};

static void encode(size_t nfiles, const char *pass, uint8_t **out, size_t *len)
{
	struct backup_archive a = { .created = 1764892800, .schema = 5, .files = files, .nfiles = nfiles };
	char err[ERRLEN];

	assert_int_equal(backup_encode(&a, pass, 1000, out, len, err, sizeof err), 0);
}

/* decode must fail and say `why`. */
static void refused(const uint8_t *d, size_t len, const char *pass, const char *why)
{
	struct backup_read_opts o = { .passphrase = pass };
	struct backup_archive a;
	char err[ERRLEN] = "";

	assert_int_equal(backup_decode(d, len, &o, &a, err, sizeof err), -1);
	if (!strstr(err, why))
		fail_msg("wanted '%s' in '%s'", why, err);
}

static void test_roundtrip(void **state)
{
	for (int enc = 0; enc < 2; enc++) {
		struct backup_read_opts o = { .passphrase = enc ? PASS : NULL };
		struct backup_archive a;
		char err[ERRLEN];
		uint8_t *d;
		size_t len;

		encode(3, enc ? PASS : NULL, &d, &len);
		assert_int_equal(backup_decode(d, len, &o, &a, err, sizeof err), 0);
		assert_int_equal(a.encrypted, enc);
		assert_int_equal(a.schema, 5);
		assert_int_equal(a.created, 1764892800);
		assert_int_equal(a.nfiles, 3);
		for (size_t i = 0; i < 3; i++) {
			assert_string_equal(a.files[i].name, files[i].name);
			assert_int_equal(a.files[i].mode, files[i].mode);
			assert_int_equal(a.files[i].len, files[i].len);
			assert_memory_equal(a.files[i].data, files[i].data, files[i].len);
		}
		if (enc)
			assert_null(memmem(d, len, "PRIVATE KEY", 11));
		backup_archive_free(&a);
		free(d);
	}
	(void)state;
}

static void test_truncated_and_altered(void **state)
{
	for (int enc = 0; enc < 2; enc++) {
		uint8_t *d;
		size_t len;

		encode(3, enc ? PASS : NULL, &d, &len);
		for (size_t n = 0; n < len; n++)
			refused(d, n, PASS, n < 16 ? "not an opencapf backup" : n < 28 || (enc && n < 60) ?
				"shorter than the header" : "truncated");
		for (size_t i = 0; i < len; i++) {
			d[i] ^= 0x01;
			refused(d, len, PASS, "");
			d[i] ^= 0x01;
		}
		d = realloc(d, len + 1);
		d[len] = 0;
		refused(d, len + 1, PASS, "trailing garbage");
		free(d);
	}
	(void)state;
}

static void test_refusals(void **state)
{
	uint8_t *d;
	size_t len;

	refused((const uint8_t *)"PK\3\4 a zip file", 16, NULL, "not an opencapf backup");
	encode(3, NULL, &d, &len);
	d[16] = 2;
	refused(d, len, NULL, "archive format version 2: this opencapf reads version 1");
	free(d);
	encode(3, PASS, &d, &len);
	refused(d, len, NULL, "the archive is encrypted: a passphrase is needed");
	refused(d, len, "wrong", "authentication failed: wrong passphrase, or the archive was altered");
	free(d);
	encode(0, NULL, &d, &len);
	refused(d, len, NULL, "the archive holds no opencapf.db");
	free(d);
	(void)state;
}

static void test_manifest_rules(void **state)
{
	static const char *const bad[] = { "../etc/passwd", "/etc/passwd", "keys/../x", ".hidden", "a//b", "a b",
					   "keys/" };
	struct backup_file saved = files[1];
	uint8_t *d;
	size_t len;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(files[1].name, sizeof files[1].name, "%s", bad[i]);
		encode(2, NULL, &d, &len);
		refused(d, len, NULL, "bad manifest line");
		free(d);
	}
	snprintf(files[1].name, sizeof files[1].name, "opencapf.db");
	encode(2, NULL, &d, &len);
	refused(d, len, NULL, "manifest lists opencapf.db twice");
	free(d);
	files[1] = saved;
	saved = files[0];
	files[0] = files[1];
	encode(1, NULL, &d, &len);
	refused(d, len, NULL, "the archive holds no opencapf.db");
	free(d);
	files[0] = saved;
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncated_and_altered),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_manifest_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
