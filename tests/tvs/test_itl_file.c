/*
 * test_itl_file.c: ITL / CTL files end to end inside one process:
 *  - the golden files (tests/vectors/ITLFile-*.tlv) verify and print in the
 *    vendor's layout;
 *  - building with the vectors' keys and certificates (RFC 4514 names, the
 *    recorded timestamp) reproduces them byte for byte: same structure,
 *    same deterministic PKCS#1 v1.5 signature;
 *  - truncated, tampered, re-signed-by-another-key, unknown-tag and
 *    hash-only files give the documented reasons;
 *  - a new state gets its SAST/TFTP and TVS certificates, TVS knows the
 *    service certificates, and the ITL is published (atomically) into the
 *    TFTP folder and rebuilt when a service certificate changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/capf_lifecycle.h"
#include "admin/itl_file.h"
#include "capf/itl_show.h"
#include "admin/service_certs.h"
#include "common/util.h"
#include "pki/pki.h"
#include "store/store.h"
#include "store/store_tvs.h"
#include "wire/itl.h"
#include "wire/roles.h"

static void vec_path(const char *rel, char *out, size_t cap)
{
	const char *dir = getenv("VECTORS_DIR");

	snprintf(out, cap, "%s/%s", dir ? dir : "tests/vectors", rel);
}

static uint8_t *vec_read(const char *rel, size_t *len)
{
	char path[512], err[ERRLEN];
	uint8_t *data;

	vec_path(rel, path, sizeof path);
	if (read_file(path, ITL_MAX_FILE, &data, len, err, sizeof err) < 0)
		fail_msg("%s", err);
	return data;
}

static X509 *vec_cert(const char *rel)
{
	char path[512];
	FILE *f;
	X509 *x;

	vec_path(rel, path, sizeof path);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *vec_key(const char *rel)
{
	char path[512], err[ERRLEN];
	EVP_PKEY *k;

	vec_path(rel, path, sizeof path);
	k = pki_key_load(path, err, sizeof err);
	assert_non_null(k);
	return k;
}

/* itl_show into a string; returns its result. */
static int show(const uint8_t *data, size_t len, char **text, char *err, size_t errlen)
{
	size_t n = 0;
	FILE *f = open_memstream(text, &n);
	int rc;

	assert_non_null(f);
	rc = itl_show(f, data, len, err, errlen);
	fclose(f);
	return rc;
}

static void expect_line(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("missing line '%s' in:\n%s", line, text);
}

/* ---- the golden files ---- */

static void check_vector_show(const char *file, const char *digest)
{
	size_t len;
	uint8_t *data = vec_read(file, &len);
	char *text = NULL, err[ERRLEN];

	assert_int_equal(show(data, len, &text, err, sizeof err), 0);
	expect_line(text, "Length of ITL file: 5344\n");
	expect_line(text, "Version:          1.2\n");
	expect_line(text, "HeaderLength:     480 (BYTES)\n");
	expect_line(text, "BYTEPOS TAG              LENGTH  VALUE\n-------  ---              ------  -----\n");
	expect_line(text, digest);
	expect_line(text, "5        SERIALNUMBER     20      62:4B:B2:A1:74:6F:0E:00:95:27:B5:E3:69:0F:E5:0C:52:CC:B3:BB\n");
	expect_line(text, "14       FILENAME         12      ITLFile.tlv\n");
	expect_line(text, "\nITL Record #:1\n----\nBYTEPOS TAG              LENGTH  VALUE\n");
	expect_line(text, "1        RECORDLENGTH     2       1692\n");
	expect_line(text, "3        SUBJECTNAME      67      CN=ITLRECOVERY_example,OU=Voice,O=Example,L=Wellington,ST=WGN,C=NZ\n");
	expect_line(text, "4        FUNCTION         2       System Administrator Security Token\n");
	expect_line(text, "7        PUBLICKEY        270\n");
	expect_line(text, "8        SIGNATURE        256\n");
	expect_line(text, "9        CERTIFICATE      984     9F 0B F0 DE 2F 66 71 01 3A DA 17 ED 62 DB 8F 5D 89 5F 62 7C (SHA1 Hash HEX)\n");
	expect_line(text, "This etoken was used to sign the ITL file.\n");
	expect_line(text, "4        FUNCTION         2       CAPF\n");
	expect_line(text, "9        CERTIFICATE      972     47 D7 EA 2B 2A 6C 38 2A F8 19 81 A0 BC 7D 7E 71 74 C3 89 BA (SHA1 Hash HEX)\n");
	expect_line(text, "\nITL Record #:3\n");
	expect_line(text, "4        FUNCTION         2       TVS\n");
	assert_non_null(strstr(text, "\nThe ITL file was verified successfully.\n"));
	assert_string_equal(strstr(text, "\nThe ITL file was verified successfully.\n"),
			    "\nThe ITL file was verified successfully.\n");
	free(text);
	free(data);
}

static void test_vectors_show(void **state)
{
	(void)state;
	check_vector_show("ITLFile-sha1.tlv", "8        HASHALGORITHM    1       SHA1\n");
	check_vector_show("ITLFile-sha512.tlv", "8        HASHALGORITHM    1       SHA512\n");
}

static void check_rebuild(const char *file, int hash_alg)
{
	struct itl_build_opts o;
	struct itl_file f;
	X509 *sast = vec_cert("keys/sast.crt"), *capf = vec_cert("keys/capf.crt"), *mfg = vec_cert("keys/mfg.crt");
	EVP_PKEY *key = vec_key("keys/sast.key");
	struct itl_entry e[] = { { sast, ROLE_SAST, 0 }, { capf, ROLE_CAPF, 0 }, { mfg, ROLE_TVS, 0 } };
	size_t len, outlen;
	uint8_t *want = vec_read(file, &len), *out = NULL;
	char err[ERRLEN];

	assert_int_equal(itl_decode(&f, want, len, err, sizeof err), 0);
	itl_build_opts_default(&o);
	o.names = ITL_NAMES_RFC4514;
	o.hash_alg = hash_alg;
	o.timestamp = f.hdr.timestamp;
	itl_free(&f);
	if (itl_build(&o, sast, key, e, 3, &out, &outlen, err, sizeof err) < 0)
		fail_msg("%s", err);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, want, len);
	free(out);
	/* vendor names: same records, ';'-separated, still verifies */
	o.names = ITL_NAMES_VENDOR;
	assert_int_equal(itl_build(&o, sast, key, e, 3, &out, &outlen, err, sizeof err), 0);
	assert_int_equal(itl_decode(&f, out, outlen, err, sizeof err), 0);
	{
		char subject[256];
		assert_int_equal(itl_record_subject(&f.records[1], subject, sizeof subject), 0);
		assert_string_equal(subject, "CN=CAPF-0a1b2c3d;OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ");
	}
	assert_int_equal(pki_itl_verify(&f, NULL, err, sizeof err), 0);
	itl_free(&f);
	free(out);
	/* a signer key that does not belong to the signer certificate is refused */
	assert_int_equal(itl_build(&o, capf, key, e, 3, &out, &outlen, err, sizeof err), -1);
	free(want);
	X509_free(sast);
	X509_free(capf);
	X509_free(mfg);
	EVP_PKEY_free(key);
}

static void test_vectors_rebuild(void **state)
{
	(void)state;
	check_rebuild("ITLFile-sha1.tlv", ITL_HASH_SHA1);
	check_rebuild("ITLFile-sha512.tlv", ITL_HASH_SHA512);
}

/* ---- files that must not verify ---- */

static void expect_failure(const uint8_t *data, size_t len, const char *reason)
{
	char *text = NULL, err[ERRLEN];

	assert_int_equal(show(data, len, &text, err, sizeof err), -1);
	if (!strstr(err, reason) || !strstr(text, "Verification of the ITL file failed: "))
		fail_msg("wanted '%s', got '%s' in:\n%s", reason, err, text);
	assert_null(strstr(text, "verified successfully"));
	free(text);
}

static void test_bad_files(void **state)
{
	size_t len;
	uint8_t *good = vec_read("ITLFile-sha1.tlv", &len), *bad = malloc(len);

	(void)state;
	/* truncated in the last record */
	expect_failure(good, len - 100, "truncated record at byte 3840");
	/* a byte of the CAPF certificate changed */
	memcpy(bad, good, len);
	bad[3000] ^= 1;
	expect_failure(bad, len, "bad signature");
	/* a byte of the signature changed */
	memcpy(bad, good, len);
	bad[300] ^= 0x80;
	expect_failure(bad, len, "bad signature");
	/* the header names another signer serial */
	memcpy(bad, good, len);
	bad[0xa1] ^= 1;
	expect_failure(bad, len, "no SAST record matches the header's signer serial number 63:4B:B2");
	/* an unknown tag in record 2 (the CAPF record's ISSUER_NAME tag) */
	memcpy(bad, good, len);
	assert_int_equal(bad[2241], 5);
	bad[2241] = 0x2a;
	expect_failure(bad, len, "unknown tag 0x2a at byte 2241 in record 2");
	/* the SAST role moved to the CAPF record: nothing signs */
	memcpy(bad, good, len);
	bad[652] = 4;
	expect_failure(bad, len, "no SAST record matches");
	/* garbage */
	expect_failure((const uint8_t *)"\x01\x00\x02", 3, "truncated header");
	free(bad);
	free(good);
}

static void test_hash_only_records(void **state)
{
	struct itl_build_opts o;
	struct itl_file f;
	X509 *sast = vec_cert("keys/sast.crt"), *capf = vec_cert("keys/capf.crt"), *mfg = vec_cert("keys/mfg.crt");
	EVP_PKEY *key = vec_key("keys/sast.key");
	struct itl_entry e[] = { { sast, ROLE_SAST, 0 }, { capf, ROLE_CAPF, 1 }, { mfg, ROLE_TVS, 1 },
				 { sast, ROLE_TFTP, 0 } };
	uint8_t *out = NULL, *der = NULL;
	size_t outlen;
	int derlen;
	char err[ERRLEN], *text = NULL;

	(void)state;
	itl_build_opts_default(&o);
	o.version_minor = 1;
	o.hash_alg = ITL_HASH_SHA256;
	assert_int_equal(itl_build(&o, sast, key, e, 4, &out, &outlen, err, sizeof err), 0);
	assert_int_equal(itl_decode(&f, out, outlen, err, sizeof err), 0);
	assert_int_equal(f.nrecords, 4);
	assert_int_equal(f.hdr.signer_version_minor, 1);
	assert_null(itl_record_find(&f.records[1], ITL_R_CERTIFICATE));
	derlen = i2d_X509(capf, &der);
	assert_int_equal(pki_itl_record_matches(&f.records[1], der, (size_t)derlen), 1);
	assert_int_equal(pki_itl_record_matches(&f.records[2], der, (size_t)derlen), 0);
	assert_int_equal(pki_itl_record_matches(&f.records[0], der, (size_t)derlen), 0);
	OPENSSL_free(der);
	itl_free(&f);
	assert_int_equal(show(out, outlen, &text, err, sizeof err), 0);
	expect_line(text, "28       SIGNERVERSION    2       1.1\n");
	expect_line(text, "11       CERTHASH         20      47 D7 EA 2B 2A 6C 38 2A F8 19 81 A0 BC 7D 7E 71 74 C3 89 BA\n");
	expect_line(text, "12       HASH ALGORITHM   1       SHA1\n");
	expect_line(text, "3        SUBJECTNAME      67      CN=ITLRECOVERY_example;OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ\n");
	expect_line(text, "4        FUNCTION         2       TFTP\n");
	free(text);
	free(out);
	/* a signer whose SAST record carries only a hash cannot be checked */
	e[0].hash_only = 1;
	assert_int_equal(itl_build(&o, sast, key, e, 4, &out, &outlen, err, sizeof err), -1);
	assert_non_null(strstr(err, "carries no certificate"));
	X509_free(sast);
	X509_free(capf);
	X509_free(mfg);
	EVP_PKEY_free(key);
}

/* ---- from a state ---- */

struct fixture {
	char tmp[64];
	char dir[128];
};

static int state_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);
	struct capf_ca_params p = { .kind = PKI_KEY_RSA, .bits = 2048, .days = 365, .lsc_days = 365 };
	struct capf_ca_summary sum;
	char err[ERRLEN];

	snprintf(fx->tmp, sizeof fx->tmp, "/tmp/opencapf-itl-test.XXXXXX");
	if (!mkdtemp(fx->tmp))
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/state", fx->tmp);
	if (pki_org_parse("O=Example,OU=Voice,L=Wellington,ST=WGN,C=NZ", &p.org, err, sizeof err) < 0 ||
	    capf_ca_create_state(fx->dir, &p, "test", &sum, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int state_teardown(void **state)
{
	struct fixture *fx = *state;

	remove_tree(fx->tmp);
	free(fx);
	return 0;
}

static int count_rows(const struct tvs_cert_row *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 0;
}

static void read_itl(const char *path, struct itl_file *f, uint8_t **data)
{
	size_t len;
	char err[ERRLEN];

	assert_int_equal(read_file(path, ITL_MAX_FILE, data, &len, err, sizeof err), 0);
	assert_int_equal(itl_decode(f, *data, len, err, sizeof err), 0);
	if (pki_itl_verify(f, NULL, err, sizeof err) < 0)
		fail_msg("%s", err);
}

static void test_state_itl(void **state)
{
	struct fixture *fx = *state;
	struct store *st;
	struct itl_file f;
	uint8_t *data = NULL;
	char err[ERRLEN], path[512], text[512], serial1[128];
	uint16_t role;
	int n = 0;

	snprintf(path, sizeof path, "%s/tftp/ITLFile.tlv", fx->dir);
	read_itl(path, &f, &data);
	assert_int_equal(f.nrecords, 4);
	for (size_t i = 0; i < 4; i++) {
		static const uint16_t want[] = { ROLE_SAST, ROLE_CAPF, ROLE_TVS, ROLE_TFTP };
		assert_int_equal(itl_record_role(&f.records[i], &role), 0);
		assert_int_equal(role, want[i]);
		assert_non_null(itl_record_find(&f.records[i], ITL_R_CERTIFICATE));
	}
	assert_int_equal(itl_text(&f.hdr.signer_name, text, sizeof text), 0);
	assert_true(strncmp(text, "CN=ITLRECOVERY_", 15) == 0);
	assert_non_null(strstr(text, ";OU=Voice;O=Example;L=Wellington;ST=WGN;C=NZ"));
	assert_int_equal(f.hdr.hash_alg, ITL_HASH_SHA1);
	hex_encode(f.hdr.serial.p, f.hdr.serial.len, serial1);
	itl_free(&f);
	free(data);

	assert_int_equal(store_open(fx->dir, STORE_OPEN_EXISTING, &st, err, sizeof err), 0);
	assert_int_equal(store_tvs_each(st, count_rows, &n), 0);
	assert_int_equal(n, 3); /* CAPF, TVS, SAST/TFTP */

	/* another folder, then a new signer: the ITL follows */
	snprintf(path, sizeof path, "%s/www/phones", fx->tmp);
	assert_int_equal(store_setting_set(st, ITL_SETTING_TFTP_DIR, path), 0);
	assert_int_equal(service_cert_renew(st, SERVICE_SAST, 30, "test", err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/www/phones/ITLFile.tlv", fx->tmp);
	read_itl(path, &f, &data);
	hex_encode(f.hdr.serial.p, f.hdr.serial.len, text);
	assert_string_not_equal(text, serial1);
	itl_free(&f);
	free(data);
	n = 0;
	assert_int_equal(store_tvs_each(st, count_rows, &n), 0);
	assert_int_equal(n, 4); /* the new signer too */

	/* a CTL with a CCM record */
	{
		struct itl_build_opts o;
		X509 *ccm = vec_cert("keys/capf.crt");
		struct itl_entry extra = { ccm, ROLE_CCM, 0 };
		uint8_t *out;
		size_t len;
		char fname[64];

		itl_build_opts_default(&o);
		o.kind = ITL_KIND_CTL;
		o.extra = &extra;
		o.nextra = 1;
		o.hash_alg = ITL_HASH_SHA512;
		assert_int_equal(itl_build_from_state(st, &o, &out, &len, err, sizeof err), 0);
		assert_int_equal(itl_decode(&f, out, len, err, sizeof err), 0);
		assert_int_equal(f.nrecords, 4);
		assert_int_equal(itl_text(&f.hdr.filename, fname, sizeof fname), 0);
		assert_string_equal(fname, "CTLFile.tlv");
		for (size_t i = 0; i < 4; i++) {
			static const uint16_t want[] = { ROLE_SAST, ROLE_CCM, ROLE_TFTP, ROLE_CAPF };
			assert_int_equal(itl_record_role(&f.records[i], &role), 0);
			assert_int_equal(role, want[i]);
		}
		itl_free(&f);
		free(out);
		/* leaving CAPF out of an ITL */
		itl_build_opts_default(&o);
		o.omit_roles = 1u << ROLE_CAPF;
		assert_int_equal(itl_build_from_state(st, &o, &out, &len, err, sizeof err), 0);
		assert_int_equal(itl_decode(&f, out, len, err, sizeof err), 0);
		assert_int_equal(f.nrecords, 3);
		for (size_t i = 0; i < 3; i++)
			assert_false(itl_record_has_role(&f.records[i], ROLE_CAPF));
		itl_free(&f);
		free(out);
		X509_free(ccm);
	}
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_show),
		cmocka_unit_test(test_vectors_rebuild),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_hash_only_records),
		cmocka_unit_test_setup_teardown(test_state_itl, state_setup, state_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
