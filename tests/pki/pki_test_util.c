/*
 * pki_test_util.c: see pki_test_util.h.
 */
#include "pki_test_util.h"
#include "pki/pki.h"
#include "common/util.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *vec_path(const char *rel)
{
	static char path[4096];
	const char *dir = getenv("VECTORS_DIR");

	if (!dir)
		dir = "tests/vectors";
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return path;
}

X509 *vec_cert(const char *rel)
{
	char err[ERRLEN] = "";
	STACK_OF(X509) *sk = pki_certs_load(vec_path(rel), err, sizeof err);
	X509 *x;

	if (!sk)
		fail_msg("loading %s: %s", rel, err);
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return x;
}

EVP_PKEY *vec_key(const char *rel)
{
	char err[ERRLEN] = "";
	EVP_PKEY *k = pki_key_load(vec_path(rel), err, sizeof err);

	if (!k)
		fail_msg("loading %s: %s", rel, err);
	return k;
}

json_t *vec_sessions(void)
{
	json_error_t je;
	json_t *root = json_load_file(vec_path("capf-sessions.json"), 0, &je);

	if (!root)
		fail_msg("capf-sessions.json: %s (line %d)", je.text, je.line);
	return root;
}

json_t *vec_case(json_t *root, const char *title_prefix)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(root, "cases"), i, c) {
		const char *t = json_string_value(json_object_get(c, "title"));
		if (t && strncmp(t, title_prefix, strlen(title_prefix)) == 0)
			return c;
	}
	fail_msg("no vector case starting \"%s\"", title_prefix);
	return NULL;
}

int tmsg_from_hex(const char *hex, struct tmsg *m)
{
	size_t n = strlen(hex) / 2;
	ssize_t got;

	memset(m, 0, sizeof *m);
	m->data = malloc(n ? n : 1);
	assert_non_null(m->data);
	got = hex_decode(hex, m->data, n);
	assert_int_equal(got, (ssize_t)n);
	m->len = n;
	assert_true(m->len >= 8);
	assert_int_equal(m->data[0], 0x55);
	m->command = m->data[1];
	m->session = get_u32(m->data + 2);
	assert_int_equal(get_u16(m->data + 6), m->len - 8);
	return 0;
}

void tmsg_free(struct tmsg *m)
{
	free(m->data);
	m->data = NULL;
}

int tmsg_find(json_t *c, int command, struct tmsg *m)
{
	size_t i;
	json_t *msg;

	json_array_foreach(json_object_get(c, "messages"), i, msg) {
		const char *hex = json_string_value(json_object_get(msg, "hex"));
		assert_non_null(hex);
		tmsg_from_hex(hex, m);
		if (m->command == command)
			return 0;
		tmsg_free(m);
	}
	return -1;
}

int tmsg_elem(const struct tmsg *m, int tag, const uint8_t **val, size_t *len)
{
	size_t off = 8;

	while (off < m->len) {
		size_t l;

		assert_true(off + 3 <= m->len);
		l = get_u16(m->data + off + 1);
		assert_true(off + 3 + l <= m->len);
		if (m->data[off] == tag) {
			*val = m->data + off + 3;
			*len = l;
			return 0;
		}
		off += 3 + l;
	}
	return -1;
}

void unwrap_cert(const uint8_t *val, size_t len, const uint8_t **der, size_t *derlen)
{
	assert_true(len > 5);
	assert_int_equal(val[0], 0x01);
	assert_int_equal(get_u16(val + 1), len - 5 + 2);
	assert_int_equal(val[3], 0x00);
	assert_true(val[4] == 1 || val[4] == 2);
	*der = val + 5;
	*derlen = len - 5;
}

char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/pki-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

void remove_tmpdir(char *dir)
{
	if (dir)
		remove_tree(dir);
	free(dir);
}

void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

int ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

int64_t cert_time(const ASN1_TIME *t)
{
	struct tm tm;

	assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
	return (int64_t)timegm(&tm);
}

void check_serial16(X509 *x)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *d = ASN1_STRING_get0_data(sn);

	assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER); /* not V_ASN1_NEG_INTEGER */
	/* OpenSSL keeps the magnitude; DER adds a 00 when its top bit is set */
	assert_int_equal(ASN1_STRING_length(sn), 16);
	assert_true(d[0] != 0 && d[0] < 0x80);
	assert_int_equal(i2d_ASN1_INTEGER(sn, NULL), 2 + 16);
}

static int has_oid(EXTENDED_KEY_USAGE *eku, int nid)
{
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid)
			return 1;
	return 0;
}

void check_lsc(X509 *lsc, const char *devname, X509 *capf, int ours)
{
	char text[512], want[512], cn[128], org[400];
	BASIC_CONSTRAINTS *bc;
	EXTENDED_KEY_USAGE *eku;
	GENERAL_NAMES *san;
	const GENERAL_NAME *gn;
	int crit = -1;

	assert_int_equal(X509_get_version(lsc), X509_VERSION_3);
	/* subject: CN = device name, then the CAPF subject minus its CN, same order */
	assert_int_equal(pki_name_text(X509_get_subject_name(capf), PKI_NAME_RFC4514, text, sizeof text), 0);
	assert_int_equal(pki_name_entry(X509_get_subject_name(capf), NID_commonName, cn, sizeof cn), 0);
	assert_int_equal(strncmp(text, "CN=", 3), 0);
	snprintf(org, sizeof org, "%s", text + 3 + strlen(cn));
	snprintf(want, sizeof want, "CN=%s%s", devname, org);
	assert_int_equal(pki_name_text(X509_get_subject_name(lsc), PKI_NAME_RFC4514, text, sizeof text), 0);
	assert_string_equal(text, want);
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(lsc), X509_get_subject_name(capf)), 0);
	if (ours) {
		check_serial16(lsc);
	} else {
		/* the recording implementation: 16 random bytes, top bit not cleared */
		const ASN1_INTEGER *sn = X509_get0_serialNumber(lsc);
		assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
		assert_true(ASN1_STRING_length(sn) >= 8 && ASN1_STRING_length(sn) <= 16);
	}
	assert_int_equal(X509_get_signature_nid(lsc), EVP_PKEY_get_base_id(X509_get0_pubkey(capf)) == EVP_PKEY_EC
			 ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption);
	assert_int_equal(X509_verify(lsc, X509_get0_pubkey(capf)), 1);

	bc = X509_get_ext_d2i(lsc, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);

	assert_int_equal(ext_critical(lsc, NID_key_usage), 1);
	assert_int_equal(X509_get_key_usage(lsc), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);

	eku = X509_get_ext_d2i(lsc, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 3);
	assert_true(has_oid(eku, NID_server_auth));
	assert_true(has_oid(eku, NID_client_auth));
	assert_true(has_oid(eku, NID_ipsecEndSystem)); /* 1.3.6.1.5.5.7.3.5 */
	assert_int_equal(OBJ_txt2nid("1.3.6.1.5.5.7.3.5"), NID_ipsecEndSystem);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);

	san = X509_get_ext_d2i(lsc, NID_subject_alt_name, &crit, NULL);
	assert_non_null(san);
	assert_int_equal(sk_GENERAL_NAME_num(san), 1);
	gn = sk_GENERAL_NAME_value(san, 0);
	assert_int_equal(gn->type, GEN_URI);
	assert_int_equal(ASN1_STRING_length(gn->d.uniformResourceIdentifier), (int)strlen(devname));
	assert_memory_equal(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier), devname, strlen(devname));
	GENERAL_NAMES_free(san);

	if (ours) {
		const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(lsc);
		const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(capf);

		assert_non_null(akid);
		assert_non_null(skid);
		assert_int_equal(ASN1_OCTET_STRING_cmp(akid, skid), 0);
		assert_int_equal(ext_critical(lsc, NID_authority_key_identifier), 0);
	}
}
